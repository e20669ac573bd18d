"""Staff page: system status, platform-wide operational figures for operators.

``staff:system`` renders the page; ``staff:system-data`` answers the same figures
as JSON, which the page polls every :data:`POLL_S` seconds. Every staff member of
an organisation may look: the figures are the platform's (services, workers,
queues, times, error rates, sockets), never an organisation's data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.analytics.selectors.system import CHART_MINUTES, system_status
from pymetrics.staff.charts import chart, colour

#: Seconds between the page's refreshes.
POLL_S = 10


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _minute_labels(minutes: list[str]) -> list[str]:
    return [
        timezone.localtime(datetime.fromisoformat(minute)).strftime("%H:%M") for minute in minutes
    ]


def _line(label: str, data: list[Any], index: int) -> dict[str, Any]:
    return {
        "label": label,
        "data": data,
        "borderColor": colour(index),
        "backgroundColor": colour(index),
        "pointRadius": 2,
        "borderWidth": 2,
    }


def _time_axis(unit: str) -> dict[str, Any]:
    return {
        "scales": {
            "x": {"title": {"display": True, "text": timezone.get_current_timezone_name()}},
            "y": {"beginAtZero": True, "title": {"display": True, "text": unit}},
        }
    }


def system_charts(series: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's three charts, each with its table: ingestion, scoring, responses per minute."""
    labels = _minute_labels(series["minutes"])
    minute_column = _("Minute (%(zone)s)") % {"zone": timezone.get_current_timezone_name()}
    ingest = series["ingest"]
    scoring = series["scoring"]
    responses = series["responses"]
    ingest_p50 = [_rounded(v) for v in ingest["p50_ms"]]
    ingest_p95 = [_rounded(v) for v in ingest["p95_ms"]]
    scoring_p50 = [_rounded(v) for v in scoring["p50_s"]]
    scoring_p95 = [_rounded(v) for v in scoring["p95_s"]]
    shares = [
        None if total == 0 else round(errors / total, 4)
        for total, errors in zip(responses["responses"], responses["server_errors"], strict=True)
    ]
    return [
        chart(
            "ingest-lag",
            kind="line",
            title=_("Event ingestion: batch received → stored (ms), last hour"),
            summary=_("Median and 95th percentile per minute, every process."),
            labels=labels,
            datasets=[
                _line(_("p50 (ms)"), ingest_p50, 0),
                _line(_("p95 (ms)"), ingest_p95, 1),
            ],
            columns=[minute_column, _("Batches"), _("p50 (ms)"), _("p95 (ms)")],
            rows=[
                [labels[i], ingest["batches"][i], ingest_p50[i], ingest_p95[i]]
                for i in range(len(labels))
                if ingest["batches"][i]
            ],
            options=_time_axis(_("ms")),
        ),
        chart(
            "scoring-lag",
            kind="line",
            title=_("Scoring: game completed → scored (s), last hour"),
            summary=_(
                "Median and 95th percentile per minute of completion; games still waiting "
                "count with their wait so far."
            ),
            labels=labels,
            datasets=[
                _line(_("p50 (s)"), scoring_p50, 2),
                _line(_("p95 (s)"), scoring_p95, 5),
            ],
            columns=[
                minute_column,
                _("Games completed"),
                _("Still waiting"),
                _("p50 (s)"),
                _("p95 (s)"),
            ],
            rows=[
                [
                    labels[i],
                    scoring["games"][i],
                    scoring["waiting"][i],
                    scoring_p50[i],
                    scoring_p95[i],
                ]
                for i in range(len(labels))
                if scoring["games"][i]
            ],
            options=_time_axis(_("s")),
        ),
        chart(
            "responses",
            kind="bar",
            title=_("HTTP responses and server errors per minute, last hour"),
            summary=_("Every response of every process; server errors are statuses 500-599."),
            labels=labels,
            datasets=[
                {
                    "label": _("Responses"),
                    "data": responses["responses"],
                    "backgroundColor": colour(0),
                },
                {
                    "label": _("Server errors (5xx)"),
                    "data": responses["server_errors"],
                    "backgroundColor": colour(5),
                },
            ],
            columns=[minute_column, _("Responses"), _("Server errors (5xx)"), _("5xx share")],
            rows=[
                [labels[i], responses["responses"][i], responses["server_errors"][i], shares[i]]
                for i in range(len(labels))
                if responses["responses"][i]
            ],
            options=_time_axis(_("responses")),
        ),
    ]


@never_cache
@login_required
@require_safe
def page(request: HttpRequest, **kwargs: int) -> HttpResponse:
    """The page (``staff:system``) or its JSON (``staff:system-data``)."""
    wants_data = (
        request.resolver_match is not None and request.resolver_match.url_name == "system-data"
    )
    actor = actor_for_request(request)
    if actor is None:
        if wants_data:
            return JsonResponse(
                {
                    "error": {
                        "code": "no_organization",
                        "message": _("Your account is not a member of any organisation yet."),
                        "details": {},
                    }
                },
                status=403,
            )
        return render(request, "staff/no_organization.html", status=403)
    status = system_status()
    charts = system_charts(status["series"])
    if wants_data:
        return JsonResponse({**status, "charts": charts}, encoder=DjangoJSONEncoder)
    return render(
        request,
        "staff/system.html",
        {
            "organization": actor.organization,
            "nav": "system",
            "status": status,
            "charts": charts,
            "chart_minutes": CHART_MINUTES,
            "system_config": {"url": reverse("staff:system-data"), "poll_s": POLL_S},
        },
    )
