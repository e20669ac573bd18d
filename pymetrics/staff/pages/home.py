"""Staff page: the organisation's home, its assessments with their counts and activity.

Everything comes from :func:`~pymetrics.analytics.selectors.home.organization_home`
(cached under the organisation's scope). Each assessment's row carries a sparkline
of its completions per day, drawn here as a small SVG (thirty points do not need a
chart library); the organisation's completions per day are one chart with its table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.analytics.selectors.home import ACTIVITY_DAYS, organization_home
from pymetrics.staff.charts import chart, colour

#: The sparkline's drawing box (the CSS class ``sparkline`` sizes it on the page).
SPARK_WIDTH = 120
SPARK_HEIGHT = 28
_SPARK_PAD = 2


@dataclass(frozen=True)
class Sparkline:
    points: str
    label: str
    total: int


@dataclass(frozen=True)
class AssessmentRow:
    """One assessment on the home page (attribute names as the assessment list had them)."""

    pk: int
    name: str
    games: int
    created_at: datetime
    invited_count: int
    started_count: int
    completed_count: int
    flagged_count: int
    simulated_count: int
    sparkline: Sparkline


def sparkline(counts: list[int]) -> Sparkline:
    """Polyline points for ``counts`` (oldest first) and a label saying what they show."""
    peak = max(counts, default=0)
    step = SPARK_WIDTH / max(len(counts) - 1, 1)
    usable = SPARK_HEIGHT - 2 * _SPARK_PAD
    bottom = SPARK_HEIGHT - _SPARK_PAD
    points = " ".join(
        f"{index * step:.1f},{bottom - (count / peak if peak else 0) * usable:.1f}"
        for index, count in enumerate(counts)
    )
    total = sum(counts)
    label = _(
        "Completions per day over the last %(days)s days: %(total)s in all, at most %(peak)s "
        "in one day."
    ) % {"days": len(counts), "total": total, "peak": peak}
    return Sparkline(points=points, label=label, total=total)


def _activity_chart(home: dict[str, Any]) -> dict[str, Any]:
    days = [date.fromisoformat(day) for day in home["days"]]
    counts = home["completions_per_day"]
    total = sum(counts)
    return chart(
        "activity",
        kind="bar",
        title=_("Completions per day, all assessments (last %(days)s days)")
        % {"days": ACTIVITY_DAYS},
        summary=_("%(total)s candidates completed an assessment in the last %(days)s days.")
        % {"total": total, "days": ACTIVITY_DAYS},
        labels=[day.strftime("%d %b") for day in days],
        datasets=[{"label": _("Completions"), "data": counts, "backgroundColor": colour(0)}],
        options={"scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}},
        columns=[_("Date"), _("Completions")],
        rows=[[day.isoformat(), count] for day, count in zip(days, counts, strict=True)],
        simulated=bool(home["candidates_simulated"]),
        size="small",
    )


@login_required
@require_safe
def page(request: HttpRequest) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return render(request, "staff/no_organization.html", status=403)
    home = organization_home(organization=actor.organization)
    rows = [
        AssessmentRow(
            pk=item["id"],
            name=item["name"],
            games=len(item["games"]),
            created_at=datetime.fromisoformat(item["created_at"]),
            invited_count=item["invited"],
            started_count=item["started"],
            completed_count=item["completed"],
            flagged_count=item["flagged"],
            simulated_count=item["simulated"],
            sparkline=sparkline(item["completions_per_day"]),
        )
        for item in home["assessments"]
    ]
    return render(
        request,
        "staff/home.html",
        {
            "organization": actor.organization,
            "assessments": rows,
            "activity_chart": _activity_chart(home),
            "activity_days": ACTIVITY_DAYS,
            "spark_width": SPARK_WIDTH,
            "spark_height": SPARK_HEIGHT,
            "nav": "home",
        },
    )
