"""Trends: completions, trait means and a metric per ISO week, and drift against the norms.

``staff:trends`` (``?assessment=<id>`` narrows it to one of the organisation's
assessments, ``?metric=<game>.<metric>`` chooses the metric followed over time).
The numbers come from :mod:`pymetrics.analytics.selectors.trends` (cached); this
module turns them into words, chart specifications and the drift table. An
assessment id of another organisation answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from pymetrics.accounts.models import Organization
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.analytics.selectors.trends import (
    default_metrics,
    metric_info,
    metric_options,
    scope_games,
    trait_map_of,
    trends_metric,
    trends_overview,
)
from pymetrics.assessments.models import Assessment
from pymetrics.scoring.labels import trait_label
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.staff.charts import chart, colour

#: Bar colours of the drift readings (Okabe & Ito: green, orange, vermilion; grey).
STATUS_COLOURS = {
    "stable": "#009E73",
    "moderate": "#E69F00",
    "significant": "#D55E00",
    "insufficient": "#9aa5b1",
}
#: The trait chart's scale: mean z from -3 to 3 (wider intervals are cut at its edges).
Z_AXIS_LIMIT = 3
#: CSS classes of the drift table rows and cells (staff.css).
STATUS_CLASSES = {
    "stable": ("", "status-ok"),
    "moderate": ("status-row--amber", "status-amber"),
    "significant": ("status-row--red", "status-red"),
    "insufficient": ("", "muted"),
}


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else number_format(value, digits)


class NotInOrganization(Exception):
    """The requested assessment is not one of the viewer's organisation's."""


def assessment_from_request(request: HttpRequest, organization: Organization) -> Assessment | None:
    """The ``?assessment=`` of the request within the organisation; None for all of them."""
    raw = request.GET.get("assessment", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise NotInOrganization(raw)
    assessment = Assessment.objects.filter(organization=organization, pk=int(raw)).first()
    if assessment is None:
        raise NotInOrganization(raw)
    return assessment


def assessment_choices(organization: Organization) -> list[Assessment]:
    return list(Assessment.objects.filter(organization=organization).order_by("name", "pk"))


def drift_reading(drift: dict[str, Any] | None, min_n: int) -> str:
    """What a drift result says, in words (neutral: a shift is neither good nor bad)."""
    if drift is None:
        return _("no norm for it")
    if drift["n"] == 0:
        return _("no candidates in the window")
    status = drift["status"]
    if status == "insufficient":
        return _("not read: fewer than %(min)s candidates") % {"min": min_n}
    words = {
        "stable": _("stable"),
        "moderate": _("moderate shift"),
        "significant": _("significant shift"),
    }[status]
    if status != "stable" and not drift["beyond_noise"]:
        return _("%(reading)s, within sampling noise") % {"reading": words}
    return words


def drift_rows(overview: dict[str, Any], metric: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per trait (and the chosen metric) for the drift table and chart."""
    min_n = overview["psi"]["min_n"]
    measures = [(trait_label(t["trait"]), t["trait"], t["drift"]) for t in overview["traits"]]
    if metric is not None:
        measures.append((metric["key"], metric["key"], metric["drift"]))
    rows = []
    for label, key, drift in measures:
        status = drift["status"] if drift else "insufficient"
        if drift is not None and drift["n"] == 0:
            status = "insufficient"
        row_class, cell_class = STATUS_CLASSES[status]
        rows.append(
            {
                "label": label,
                "key": key,
                "n": drift["n"] if drift else 0,
                "psi": drift["psi"] if drift else None,
                "psi_text": number(drift["psi"] if drift else None, 3),
                # no noise level where nothing is read: with so few it says nothing more
                "noise_text": number(
                    drift["noise_level"] if drift and status != "insufficient" else None, 3
                ),
                "status": status,
                "reading": drift_reading(drift, min_n),
                "row_class": row_class,
                "cell_class": cell_class,
            }
        )
    return rows


def completions_chart(overview: dict[str, Any]) -> dict[str, Any]:
    weeks = overview["weeks"]
    return chart(
        "weekly-completions",
        kind="bar",
        title=_("Completions per week"),
        summary=_(
            "Attempts whose last game was finished in each ISO week (Monday to Sunday); "
            "%(total)s in all."
        )
        % {"total": overview["completed"]},
        labels=[week["label"] for week in weeks],
        datasets=[
            {
                "label": _("Completed attempts"),
                "data": [week["completions"] for week in weeks],
                "backgroundColor": [colour(0, 0.85 if week["recent"] else 0.45) for week in weeks],
                "borderColor": colour(0),
                "borderWidth": 1,
            }
        ],
        columns=[_("ISO week"), _("Week starting"), _("Completions")],
        rows=[[week["label"], week["start"], week["completions"]] for week in weeks],
        options={"scales": {"y": {"beginAtZero": True, "ticks": {"precision": 0}}}},
        zoom=len(weeks) > 26,
        simulated=overview["simulated"],
    )


def _point_styles(weeks: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Diamonds on the weeks of the drift window, circles elsewhere."""
    return {
        "pointStyle": ["rectRot" if week["recent"] else "circle" for week in weeks],
        "pointRadius": [5 if week["recent"] else 3 for week in weeks],
    }


def traits_chart(overview: dict[str, Any]) -> dict[str, Any]:
    """Mean trait z per week, one line per trait with its 95% band; the legend toggles both."""
    weeks = overview["weeks"]
    min_n = overview["psi"]["min_n"]
    datasets: list[dict[str, Any]] = []
    rows = []
    for index, trait in enumerate(overview["traits"]):
        label = trait_label(trait["trait"])
        drift = trait["drift"]
        legend = label
        if drift is not None and drift["psi"] is not None:
            legend = _("%(trait)s (PSI %(psi)s: %(reading)s)") % {
                "trait": label,
                "psi": number(drift["psi"]),
                "reading": drift_reading(drift, min_n),
            }
        weekly = trait["weekly"]
        line = {
            "label": legend,
            "data": [week["mean"] for week in weekly],
            "borderColor": colour(index),
            "backgroundColor": colour(index),
            "borderWidth": 2,
            "spanGaps": True,
            "pmTrait": trait["trait"],
            **_point_styles(weeks),
        }
        if index >= 8:  # the palette has 8 colours: the ninth line is dashed
            line["borderDash"] = [6, 3]
        band = {
            "borderWidth": 0,
            "pointRadius": 0,
            "pointHitRadius": 0,
            "spanGaps": True,
            "pmTrait": trait["trait"],
            "pmBand": True,
        }
        datasets += [
            line,
            {
                **band,
                "label": _("%(trait)s: 95%% interval, lower") % {"trait": label},
                "data": [week["low"] for week in weekly],
                "fill": False,
            },
            {
                **band,
                "label": _("%(trait)s: 95%% interval, upper") % {"trait": label},
                "data": [week["high"] for week in weekly],
                "fill": "-1",
                "backgroundColor": colour(index, 0.12),
            },
        ]
        rows += [
            [f"{week['label']} · {label}", value["n"], value["mean"], value["low"], value["high"]]
            for week, value in zip(weeks, weekly, strict=True)
            if value["n"]
        ]
    table = overview["norm_table"]
    return chart(
        "trait-means",
        kind="line",
        title=_("Mean trait scores per week"),
        summary=_(
            "Mean trait z of the week's completed candidates against %(norms)s, with its 95%% "
            "interval (Student's t; none for a single candidate; cut at z = -3 and 3). Diamonds "
            "mark the weeks compared with the norms for drift. Click a trait in the legend to "
            "hide or show it."
        )
        % {"norms": f"{table['name']} v{table['version']}" if table else _("the norms")},
        labels=[week["label"] for week in weeks],
        datasets=datasets,
        columns=[_("Week · trait"), _("Candidates"), _("Mean z"), _("95% low"), _("95% high")],
        rows=rows,
        options={
            "interaction": {"mode": "nearest", "intersect": True},
            # a week of two or three candidates has a very wide interval: the scale stays
            # on the means (z from -3 to 3), the bands are cut at its edges
            "scales": {
                "y": {
                    "min": -Z_AXIS_LIMIT,
                    "max": Z_AXIS_LIMIT,
                    "title": {"display": True, "text": _("mean trait z")},
                }
            },
        },
        zoom=len(weeks) > 26,
        simulated=overview["simulated"] or bool(table and table["simulated"]),
        size="tall",
    )


def metric_chart(overview: dict[str, Any], metric: dict[str, Any]) -> dict[str, Any]:
    """The chosen metric's weekly median with its interquartile range as a band."""
    weeks = overview["weeks"]
    by_start = {week["start"]: week for week in metric["weekly"]}
    empty = {"n": 0, "q1": None, "median": None, "q3": None}
    weekly = [by_start.get(week["start"], empty) for week in weeks]
    drift = metric["drift"]
    median_label = _("Median")
    if drift is not None and drift["psi"] is not None:
        median_label = _("Median (PSI %(psi)s: %(reading)s)") % {
            "psi": number(drift["psi"]),
            "reading": drift_reading(drift, overview["psi"]["min_n"]),
        }
    unit = f" ({metric['unit']})" if metric["unit"] else ""
    return chart(
        "metric-weekly",
        kind="line",
        title=_("%(metric)s per week") % {"metric": metric["key"]},
        summary=_(
            "%(description)s Median of the week's completed candidates, and the band from "
            "the 25th to the 75th percentile. Diamonds mark the weeks compared with the norms."
        )
        % {"description": metric["description"]},
        labels=[week["label"] for week in weeks],
        datasets=[
            {
                "label": _("25th percentile"),
                "data": [value["q1"] for value in weekly],
                "borderColor": colour(4, 0.6),
                "borderWidth": 1,
                "pointRadius": 0,
                "spanGaps": True,
                "fill": False,
            },
            {
                "label": _("75th percentile"),
                "data": [value["q3"] for value in weekly],
                "borderColor": colour(4, 0.6),
                "backgroundColor": colour(4, 0.2),
                "borderWidth": 1,
                "pointRadius": 0,
                "spanGaps": True,
                "fill": "-1",
            },
            {
                "label": median_label,
                "data": [value["median"] for value in weekly],
                "borderColor": colour(5),
                "backgroundColor": colour(5),
                "borderWidth": 2,
                "spanGaps": True,
                **_point_styles(weeks),
            },
        ],
        columns=[_("ISO week"), _("Candidates"), _("25th percentile"), _("Median"), _("75th")],
        rows=[
            [week["label"], value["n"], value["q1"], value["median"], value["q3"]]
            for week, value in zip(weeks, weekly, strict=True)
            if value["n"]
        ],
        options={"scales": {"y": {"title": {"display": True, "text": metric["name"] + unit}}}},
        zoom=len(weeks) > 26,
        simulated=overview["simulated"],
    )


def drift_chart(overview: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """PSI per trait and metric as bars coloured by reading, with the two thresholds as lines."""
    psi = overview["psi"]
    labels = [row["label"] for row in rows]
    table = overview["norm_table"]
    return chart(
        "drift",
        kind="bar",
        title=_("Drift of the last %(days)s days against the norms")
        % {"days": overview["recent"]["days"]},
        summary=_(
            "Population stability index of each trait's raw scores (and of the chosen metric) "
            "of the candidates completed in the last %(days)s days, against the deciles of the "
            "norm population. Below %(stable)s: stable; %(stable)s to %(significant)s: moderate "
            "shift; above %(significant)s: significant shift. Grey: fewer than %(min)s "
            "candidates, not read."
        )
        % {
            "days": overview["recent"]["days"],
            "stable": psi["stable_below"],
            "significant": psi["significant_above"],
            "min": psi["min_n"],
        },
        labels=labels,
        datasets=[
            {
                "type": "bar",
                "label": _("PSI"),
                "data": [row["psi"] for row in rows],
                "backgroundColor": [STATUS_COLOURS[row["status"]] for row in rows],
                "order": 2,
            },
            {
                "type": "line",
                "label": _("%(value)s: moderate shift from here") % {"value": psi["stable_below"]},
                "data": [psi["stable_below"]] * len(rows),
                "borderColor": "#8a4b00",
                "borderDash": [6, 4],
                "borderWidth": 1,
                "pointRadius": 0,
                "fill": False,
                "order": 1,
            },
            {
                "type": "line",
                "label": _("%(value)s: significant shift above")
                % {"value": psi["significant_above"]},
                "data": [psi["significant_above"]] * len(rows),
                "borderColor": "#9b1c1c",
                "borderDash": [2, 3],
                "borderWidth": 1,
                "pointRadius": 0,
                "fill": False,
                "order": 1,
            },
        ],
        columns=[_("Measure"), _("Candidates"), _("PSI"), _("Reading"), _("Sampling noise (95%)")],
        rows=[
            [row["label"], row["n"], row["psi"], row["reading"], row["noise_text"]] for row in rows
        ],
        options={"scales": {"y": {"beginAtZero": True, "title": {"display": True, "text": "PSI"}}}},
        simulated=overview["simulated"] or bool(table and table["simulated"]),
    )


@login_required
@require_safe
def page(request: HttpRequest, **kwargs: int) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return render(request, "staff/no_organization.html", status=403)
    organization = actor.organization
    try:
        assessment = assessment_from_request(request, organization)
    except NotInOrganization:
        return render(request, "staff/not_found.html", {"organization": organization}, status=404)
    games = scope_games(organization=organization, assessment=assessment)
    options = metric_options(games)
    known = {metric["key"] for group in options for metric in group["metrics"]}
    chosen = request.GET.get("metric", "").strip()
    if chosen not in known:
        defaults = default_metrics(
            games, trait_map_of(current_norm_table(organization_id=organization.pk))
        )
        chosen = defaults[0] if defaults else ""
    overview = trends_overview(organization=organization, assessment=assessment)
    metric = (
        trends_metric(organization=organization, assessment=assessment, key=chosen)
        if chosen and metric_info(chosen)
        else None
    )
    rows = drift_rows(overview, metric)
    charts = {
        "completions": completions_chart(overview),
        "traits": traits_chart(overview),
        "metric": metric_chart(overview, metric) if metric else None,
        "drift": drift_chart(overview, rows),
    }
    return render(
        request,
        "staff/trends.html",
        {
            "organization": organization,
            "nav": "trends",
            "assessments": assessment_choices(organization),
            "assessment": assessment,
            "metric_options": options,
            "metric_key": chosen,
            "overview": overview,
            "metric": metric,
            "drift_rows": rows,
            "charts": charts,
        },
    )
