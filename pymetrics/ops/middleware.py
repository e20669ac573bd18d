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

from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from pymetrics.common.middleware import SyncAndAsyncMiddleware
from pymetrics.ops import health

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": health.healthz,
    "/readyz": health.readyz,
    "/metrics": health.metrics,
}


class ProbeEndpointsMiddleware(SyncAndAsyncMiddleware):
    """Serve the three operational endpoints for any Host, skipping the rest of the chain.

    Placed after the request id (their log lines carry one) and the Prometheus
    counter of all requests, before SecurityMiddleware. Their URL names stay in
    the URLconf (``reverse("readyz")``, the permission matrix).
    """

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        response: HttpResponseBase = self.get_response(request)
        return response

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        # under ASGI (make run) every other request goes on without a thread hop
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return await sync_to_async(endpoint)(request)
        return await self.next_async(request)
