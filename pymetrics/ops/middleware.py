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

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        return self.get_response(request)
