"""Liveness, readiness and Prometheus metrics endpoints.

They answer without a session (probes and scrapers have none), so they say no
more than their callers need: readiness names what failed and logs why (the staff
system status page shows the errors); metrics ask for a bearer token when
``PYMETRICS_METRICS_TOKEN`` is set, since the ingress routes every path to the web
servers.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from pymetrics.common.api import error_body
from pymetrics.common.probes import run_probes
from pymetrics.common.telemetry import exposition
from pymetrics.ops.metrics import COLLECTOR

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive and serving (no dependency checked)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Every dependency answers; 503 naming each one that does not."""
    results, failed = run_probes()
    for name in failed:
        # the error names hosts and addresses: for the log, not for anyone who asks
        logger.warning("readyz: %s is not ready: %s", name, results[name].pop("error"))
    body = {"status": "ready" if not failed else "unavailable", "failed": failed, "checks": results}
    return JsonResponse(body, status=200 if not failed else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: every process's metrics (see pymetrics.common.telemetry)
    and the figures computed at scrape time (pymetrics.ops.metrics)."""
    expected: str | None = settings.PYMETRICS_METRICS_TOKEN
    if expected is not None and not _bearer_matches(request, expected):
        response = JsonResponse(
            error_body(
                "not_authenticated",
                "Metrics need the header Authorization: Bearer <PYMETRICS_METRICS_TOKEN>.",
            ),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition([COLLECTOR]), content_type=CONTENT_TYPE_LATEST)


def _bearer_matches(request: HttpRequest, expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), expected.encode()
    )
