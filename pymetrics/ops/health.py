"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from pymetrics.common.probes import run_probes
from pymetrics.common.telemetry import exposition
from pymetrics.ops.metrics import COLLECTOR


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
    body = {"status": "ready" if not failed else "unavailable", "failed": failed, "checks": results}
    return JsonResponse(body, status=200 if not failed else 503)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: every process's metrics (see pymetrics.common.telemetry)
    and the figures computed at scrape time (pymetrics.ops.metrics)."""
    return HttpResponse(exposition([COLLECTOR]), content_type=CONTENT_TYPE_LATEST)
