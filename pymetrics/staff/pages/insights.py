"""Behavioural insights: a metric's histogram against the norms, metric correlations, notes.

``staff:insights`` takes ``?assessment=<id>`` (one of the organisation's
assessments; another organisation's id answers 404, like an unknown one),
``?metric=<game>.<metric>`` (the histogram) and ``?metrics=<key>`` repeated (the
heatmap's metrics, at most 20; one per game by default). The numbers come from
:mod:`pymetrics.analytics.selectors.insights` (cached); this module words the
notes, each with a link to the histogram that shows it, and builds the charts.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.analytics.selectors.insights import (
    MAX_HEATMAP_METRICS,
    insights_correlations,
    insights_histogram,
    insights_notes,
)
from pymetrics.analytics.selectors.trends import (
    default_metrics,
    metric_options,
    scope_games,
    trait_map_of,
)
from pymetrics.assessments.models import Assessment
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.staff.charts import chart, colour
from pymetrics.staff.pages.trends import (
    NotInOrganization,
    assessment_choices,
    assessment_from_request,
    number,
)

HISTOGRAM_CHART_ID = "histogram"
CORRELATIONS_CHART_ID = "correlations"
#: No correlation (too few candidates with both metrics): a light grey cell.
NO_VALUE_COLOUR = "#e4e7eb"


def bin_labels(histogram: dict[str, Any]) -> list[str]:
    edges = histogram["edges"]
    if histogram["discrete"]:
        return [str(round(low + 0.5)) for low in edges[:-1]]
    return [
        f"{number_format(low, 2)}\N{EN DASH}{number_format(high, 2)}"
        for low, high in itertools.pairwise(edges)
    ]


def histogram_chart(histogram: dict[str, Any]) -> dict[str, Any]:
    """Candidates per bin as bars; the norm group's expected count per bin as a line."""
    labels = bin_labels(histogram)
    expected = histogram["norm_expected"]
    table = histogram["norm_table"]
    datasets: list[dict[str, Any]] = [
        {
            "type": "bar",
            "label": _("Candidates"),
            "data": histogram["counts"],
            "backgroundColor": colour(0, 0.7),
            "borderColor": colour(0),
            "borderWidth": 1,
            "order": 2,
        }
    ]
    if expected is not None:
        datasets.append(
            {
                "type": "line",
                "label": _("Norm group: expected count"),
                "data": expected,
                "borderColor": colour(5),
                "backgroundColor": colour(5),
                "borderWidth": 2,
                "pointRadius": 2,
                "fill": False,
                "order": 1,
            }
        )
    if expected is not None and table is not None:
        norm_text = _(
            "The line is how many of them each bin would hold if they were like the norm group "
            "(%(name)s v%(version)s, n = %(n)s), read from its percentiles."
        ) % {"name": table["name"], "version": table["version"], "n": histogram["norm"]["n"]}
    else:
        norm_text = _("The current norm table has no distribution of this metric.")
    unit = f" ({histogram['unit']})" if histogram["unit"] else ""
    return chart(
        HISTOGRAM_CHART_ID,
        kind="bar",
        title=_("%(metric)s: %(n)s completed candidates")
        % {"metric": histogram["key"], "n": histogram["n"]},
        summary=f"{histogram['description']} "
        + _("Mean %(mean)s.") % {"mean": number(histogram["mean"])}
        + f" {norm_text}",
        labels=labels,
        datasets=datasets,
        columns=[_("Bin"), _("Candidates"), _("Norm group (expected)")],
        rows=[
            [label, count, expected[index] if expected is not None else None]
            for index, (label, count) in enumerate(zip(labels, histogram["counts"], strict=True))
        ],
        options={
            "scales": {
                "x": {"title": {"display": True, "text": histogram["name"] + unit}},
                "y": {"beginAtZero": True, "ticks": {"precision": 0}},
            }
        },
        simulated=histogram["simulated"] or bool(table and table["simulated"] and expected),
    )


def rho_colour(rho: float | None) -> str:
    """Blue for positive, orange for negative correlations, stronger for larger |rho|."""
    if rho is None:
        return NO_VALUE_COLOUR
    red, green, blue = (0, 114, 178) if rho >= 0 else (230, 159, 0)
    return f"rgba({red}, {green}, {blue}, {0.08 + 0.92 * min(abs(rho), 1.0):.3f})"


def correlations_chart(correlations: dict[str, Any]) -> dict[str, Any]:
    """A k x k heatmap of Spearman's rho (chartjs-chart-matrix), one cell per pair."""
    keys = correlations["keys"]
    cells = [
        {"x": column, "y": row, "v": correlations["rho"][i][j], "n": correlations["n"][i][j]}
        for i, row in enumerate(keys)
        for j, column in enumerate(keys)
    ]
    axis = {
        "type": "category",
        "labels": keys,
        "offset": True,
        "grid": {"display": False},
        "ticks": {"autoSkip": False},
    }
    return chart(
        CORRELATIONS_CHART_ID,
        kind="matrix",
        title=_("Spearman correlations between metrics"),
        summary=_(
            "Spearman's rho between each pair of metrics over the %(n)s completed candidates "
            "(those with both metrics); blue: positive, orange: negative, stronger colour: "
            "larger correlation; grey: fewer than 3 candidates with both."
        )
        % {"n": correlations["candidates"]},
        datasets=[
            {
                "label": _("Spearman's rho"),
                "data": cells,
                "backgroundColor": [rho_colour(cell["v"]) for cell in cells],
                "borderColor": "#ffffff",
                "borderWidth": 1,
            }
        ],
        columns=[_("Metric"), *keys],
        rows=[[key, *correlations["rho"][i]] for i, key in enumerate(keys)],
        options={
            "plugins": {"legend": {"display": False}},
            "scales": {"x": {**axis, "position": "bottom"}, "y": {**axis, "reverse": False}},
        },
        simulated=correlations["simulated"],
        size="tall",
    )


def note_text(note: dict[str, Any], days: int) -> str:
    """A note in neutral words: higher or lower than the norm group, never better or worse."""
    values = {
        "days": days,
        "metric": note["key"],
        "mean": number(note["mean"]),
        "norm_mean": number(note["norm_mean"]),
        "sd": number(abs(note["difference_sd"])),
        "n": note["n"],
    }
    if note["relative"] is not None:
        values["pct"] = number_format(round(abs(note["relative"]) * 100), 0)
        if note["direction"] == "higher":
            text = _(
                "In the last %(days)s days, candidates' %(metric)s was %(pct)s%% higher than "
                "the norm group's: mean %(mean)s against %(norm_mean)s, %(sd)s SD "
                "(n = %(n)s candidates)."
            )
        else:
            text = _(
                "In the last %(days)s days, candidates' %(metric)s was %(pct)s%% lower than "
                "the norm group's: mean %(mean)s against %(norm_mean)s, %(sd)s SD "
                "(n = %(n)s candidates)."
            )
    elif note["direction"] == "higher":
        text = _(
            "In the last %(days)s days, candidates' %(metric)s was %(sd)s SD higher than the "
            "norm group's: mean %(mean)s against %(norm_mean)s (n = %(n)s candidates)."
        )
    else:
        text = _(
            "In the last %(days)s days, candidates' %(metric)s was %(sd)s SD lower than the "
            "norm group's: mean %(mean)s against %(norm_mean)s (n = %(n)s candidates)."
        )
    return text % values


def insights_url(
    *, assessment: Assessment | None, metric: str, heatmap: list[str] | None, anchor: str = ""
) -> str:
    """The page with these choices in its query string (and an anchor to a chart)."""
    query: list[tuple[str, Any]] = []
    if assessment is not None:
        query.append(("assessment", assessment.pk))
    query.append(("metric", metric))
    query += [("metrics", key) for key in heatmap or []]
    url = f"{reverse('staff:insights')}?{urlencode(query)}"
    return f"{url}#{anchor}" if anchor else url


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
    known = [metric["key"] for group in options for metric in group["metrics"]]
    defaults = default_metrics(
        games, trait_map_of(current_norm_table(organization_id=organization.pk))
    )
    chosen = request.GET.get("metric", "").strip()
    if chosen not in known:
        chosen = defaults[0] if defaults else ""
    asked = [key for key in request.GET.getlist("metrics") if key in known]
    too_many = len(dict.fromkeys(asked)) > MAX_HEATMAP_METRICS
    heatmap = list(dict.fromkeys(asked))[:MAX_HEATMAP_METRICS] or defaults[:MAX_HEATMAP_METRICS]
    histogram = (
        insights_histogram(organization=organization, assessment=assessment, key=chosen)
        if chosen
        else None
    )
    correlations = (
        insights_correlations(organization=organization, assessment=assessment, keys=heatmap)
        if heatmap
        else None
    )
    notes = insights_notes(organization=organization, assessment=assessment)
    worded = [
        {
            **note,
            "text": note_text(note, notes["recent"]["days"]),
            "url": insights_url(
                assessment=assessment,
                metric=note["key"],
                heatmap=asked[:MAX_HEATMAP_METRICS],
                anchor=f"chart-{HISTOGRAM_CHART_ID}",
            ),
        }
        for note in notes["notes"]
    ]
    return render(
        request,
        "staff/insights.html",
        {
            "organization": organization,
            "nav": "insights",
            "assessments": assessment_choices(organization),
            "assessment": assessment,
            "metric_options": options,
            "metric_key": chosen,
            "heatmap_keys": heatmap,
            "heatmap_limit": MAX_HEATMAP_METRICS,
            "heatmap_too_many": too_many,
            "histogram": histogram,
            "correlations": correlations,
            "notes": notes,
            "worded_notes": worded,
            "charts": {
                "histogram": histogram_chart(histogram) if histogram else None,
                "correlations": correlations_chart(correlations) if correlations else None,
            },
        },
    )
