"""The probe and scrape endpoints, answered before host validation.

Kubelets and Prometheus reach a pod by its address: ``Host: 10.2.3.4:8000`` is not
one of ``ALLOWED_HOSTS``, and Django would answer 400 from the first middleware that
asks for the host (CommonMiddleware, the HTTPS redirect). Prometheus cannot set a
Host header per scrape, so ``/healthz``, ``/readyz`` and ``/metrics`` are served
here, before those middlewares, whatever the Host. Safe: none of the three builds a
URL or reads a session, which is what host validation protects; ``/metrics`` keeps
its bearer token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from pymetrics.ops import health

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": health.healthz,
    "/readyz": health.readyz,
    "/metrics": health.metrics,
}


class ProbeEndpointsMiddleware:
    """Serve the three operational endpoints for any Host, skipping the rest of the chain.

    Placed after the request id (their log lines carry one) and the Prometheus
    counter of all requests, before SecurityMiddleware. Their URL names stay in
    the URLconf (``reverse("readyz")``, the permission matrix).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        # under ASGI (make run) every other request goes on without a thread hop
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return await sync_to_async(endpoint)(request)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponse]] = self.get_response
        return await get_response(request)
