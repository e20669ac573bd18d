"""Staff page: an assessment's dashboard, live.

The page shows :func:`~pymetrics.analytics.selectors.dashboard.assessment_dashboard_summary`
as charts: the funnel and where candidates left off, completion times, traits
against the norm table, quality flags; and a live panel (event rate, candidates
playing now). ``staff/dashboard.js`` listens on ``/ws/dashboard/<id>/`` and, when
a game changes state or scores land, fetches the same charts as JSON from the
``assessment-dashboard-data`` route and redraws them in place.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.analytics.selectors.dashboard import assessment_dashboard_summary
from pymetrics.assessments.models import Assessment
from pymetrics.assessments.selectors import assessment_get
from pymetrics.common.api import error_body
from pymetrics.common.errors import DomainError
from pymetrics.scoring.labels import pole_label, trait_label
from pymetrics.staff.charts import chart, colour

DATA_ROUTE = "assessment-dashboard-data"


@login_required
@require_safe
def page(request: HttpRequest, assessment_id: int) -> HttpResponse:
    """The dashboard page, or its charts as JSON on the ``assessment-dashboard-data`` route."""
    wants_data = getattr(request.resolver_match, "url_name", "") == DATA_ROUTE
    actor = actor_for_request(request)
    if actor is None:
        if wants_data:
            return JsonResponse(
                error_body("permission_denied", "not a member of any organisation"), status=403
            )
        return render(request, "staff/no_organization.html", status=403)
    try:
        assessment = assessment_get(organization=actor.organization, assessment_id=assessment_id)
    except DomainError:
        if wants_data:
            return JsonResponse(
                error_body("not_found", f"assessment {assessment_id} not found"), status=404
            )
        return render(
            request, "staff/not_found.html", {"organization": actor.organization}, status=404
        )
    summary = assessment_dashboard_summary(assessment=assessment)
    _audit(actor, assessment, summary)
    charts = dashboard_charts(summary)
    if wants_data:
        return JsonResponse(
            {
                "summary": summary,
                "charts": charts,
                "trait_charts": trait_charts(summary),
                "flagged": _flagged_rows(summary),
            }
        )
    traits = trait_charts(summary)
    selected_trait = _first_scored_trait(summary)
    return render(
        request,
        "staff/dashboard.html",
        {
            "organization": actor.organization,
            "assessment": assessment,
            "nav": "home",
            "summary": summary,
            "computed_at": datetime.fromisoformat(summary["computed_at"]),
            "charts": charts,
            "trait_chart": traits.get(selected_trait) if selected_trait else None,
            "trait_options": [
                {"name": t["trait"], "label": trait_label(t["trait"]), "n": t["n"]}
                for t in summary["traits"]["traits"]
            ],
            "selected_trait": selected_trait,
            "flagged": _flagged_rows(summary),
            "playing_games": _playing_games(summary),
            "playing_window_minutes": summary["playing_now"]["window_s"] // 60,
            "live_config": {
                "assessment_id": assessment.pk,
                "data_url": reverse("staff:assessment-dashboard-data", args=[assessment.pk]),
                "socket_path": f"/ws/dashboard/{assessment.pk}/",
                "selected_trait": selected_trait,
                "trait_charts": traits,
                "game_titles": {g["game"]: _(g["title"]) for g in summary["funnel"]["games"]},
            },
        },
    )


def _audit(actor: Actor, assessment: Assessment, summary: dict[str, Any]) -> None:
    """The dashboard names flagged candidates: record who saw which, as the candidate list does."""
    audit_log_record(
        actor=actor,
        action="assessment.dashboard.read",
        object_type="assessment",
        object_id=assessment.pk,
        details={"candidates": [c["candidate_id"] for c in summary["quality_flags"]["candidates"]]},
    )


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100.0 * share, 1)


#: Between a bin's edges: an en dash, as ranges are written.
EN_DASH = "\u2013"


def _range(low: float, high: float) -> str:
    """A bin as people write it, its edges joined by an en dash (10, 2.5, 0.025 as such)."""
    return f"{low:g}{EN_DASH}{high:g}"


def _first_scored_trait(summary: dict[str, Any]) -> str | None:
    traits = summary["traits"]["traits"]
    for trait in traits:
        if trait["n"]:
            return str(trait["trait"])
    return str(traits[0]["trait"]) if traits else None


def _flagged_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    descriptions = {
        flag["code"]: _(flag["description"]) for flag in summary["quality_flags"]["flags"]
    }
    titles = {g["game"]: _(g["title"]) for g in summary["funnel"]["games"]}
    return [
        {
            **candidate,
            "profile_url": reverse("staff:candidate-profile", args=[candidate["candidate_id"]]),
            "flags": [
                {
                    **flag,
                    "game_title": titles.get(flag["game"], flag["game"]),
                    "description": descriptions.get(flag["code"], flag["code"]),
                }
                for flag in candidate["flags"]
            ],
        }
        for candidate in summary["quality_flags"]["candidates"]
    ]


def _playing_games(summary: dict[str, Any]) -> list[dict[str, Any]]:
    titles = {g["game"]: _(g["title"]) for g in summary["funnel"]["games"]}
    return [
        {"game": g["game"], "title": titles.get(g["game"], g["game"]), "count": g["count"]}
        for g in summary["playing_now"]["games"]
    ]


def dashboard_charts(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chart of the page except the per-trait distributions, by chart id."""
    simulated = bool(summary["candidates_simulated"])
    norm = summary["norm_table"]
    return {
        "funnel": _funnel_chart(summary, simulated),
        "dropoff": _dropoff_chart(summary, simulated),
        "completion_time": _completion_chart(summary, simulated),
        "quality_flags": _flags_chart(summary, simulated),
        "trait_means": _trait_means_chart(summary, simulated or bool(norm and norm["simulated"])),
    }


def _funnel_chart(summary: dict[str, Any], simulated: bool) -> dict[str, Any]:
    names = {"invited": _("Invited"), "started": _("Started"), "completed": _("Completed")}
    stages = summary["funnel"]["stages"]
    invited, started, completed = (stage["count"] for stage in stages)
    return chart(
        "funnel",
        kind="bar",
        title=_("Funnel: invited, started, completed"),
        summary=_("%(invited)s invited, %(started)s started, %(completed)s completed every game.")
        % {"invited": invited, "started": started, "completed": completed},
        labels=[names[stage["stage"]] for stage in stages],
        datasets=[
            {
                "label": _("Candidates"),
                "data": [stage["count"] for stage in stages],
                "backgroundColor": [colour(0), colour(4), colour(2)],
                "maxBarThickness": 48,
            }
        ],
        options={
            "indexAxis": "y",
            "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}},
        },
        columns=[_("Stage"), _("Candidates"), _("% of the stage before"), _("% of invited")],
        rows=[
            [
                names[stage["stage"]],
                stage["count"],
                _percent(stage["of_previous"]),
                _percent(stage["of_first"]),
            ]
            for stage in stages
        ],
        simulated=simulated,
    )


def _dropoff_chart(summary: dict[str, Any], simulated: bool) -> dict[str, Any]:
    games = summary["funnel"]["games"]
    titles = [_(game["title"]) for game in games]
    stopped = sum(game["stopped_here"] for game in games)
    return chart(
        "dropoff",
        kind="bar",
        title=_("Game by game: finished, and where candidates left off"),
        summary=ngettext(
            "Of the candidates who started, %(count)s has not finished every game; each is "
            "counted at the first game they have not finished.",
            "Of the candidates who started, %(count)s have not finished every game; each is "
            "counted at the first game they have not finished.",
            stopped,
        )
        % {"count": stopped},
        labels=titles,
        datasets=[
            {
                "label": _("Finished"),
                "data": [game["finished"] for game in games],
                "backgroundColor": colour(2),
                "stack": "candidates",
            },
            {
                "label": _("Left off here"),
                "data": [game["stopped_here"] for game in games],
                "backgroundColor": colour(1),
                "stack": "candidates",
            },
        ],
        options={
            "scales": {
                "x": {"stacked": True},
                "y": {"stacked": True, "beginAtZero": True, "ticks": {"precision": 0}},
            }
        },
        columns=[_("Game"), _("Reached"), _("Finished"), _("Left off here"), _("% left off")],
        rows=[
            [
                title,
                game["reached"],
                game["finished"],
                game["stopped_here"],
                _percent(game["stop_rate"]),
            ]
            for title, game in zip(titles, games, strict=True)
        ],
        simulated=simulated,
    )


def _completion_chart(summary: dict[str, Any], simulated: bool) -> dict[str, Any]:
    completion = summary["completion_minutes"]
    bins = completion["bins"]
    labels = [_range(b["low"], b["high"]) for b in bins]
    if completion["n"]:
        text = _(
            "%(n)s completed attempts: median %(median).1f minutes, 90th percentile "
            "%(p90).1f minutes, from the first game opened to the last one finished."
        ) % {"n": completion["n"], "median": completion["median"], "p90": completion["p90"]}
    else:
        text = _("Nobody has completed the assessment yet.")
    return chart(
        "completion_time",
        kind="bar",
        title=_("Time to complete (minutes)"),
        summary=text,
        labels=labels,
        datasets=[
            {
                "label": _("Candidates"),
                "data": [b["count"] for b in bins],
                "backgroundColor": colour(0),
                "barPercentage": 1.0,
                "categoryPercentage": 1.0,
            }
        ],
        options={
            "scales": {
                "x": {"title": {"display": True, "text": _("minutes")}},
                "y": {"beginAtZero": True, "ticks": {"precision": 0}},
            }
        },
        columns=[_("Minutes"), _("Candidates")],
        rows=[[label, b["count"]] for label, b in zip(labels, bins, strict=True)],
        simulated=simulated,
    )


def _flags_chart(summary: dict[str, Any], simulated: bool) -> dict[str, Any]:
    flags = summary["quality_flags"]["flags"]
    flagged = summary["counts"]["flagged"]
    return chart(
        "quality_flags",
        kind="bar",
        title=_("Quality flags"),
        summary=ngettext(
            "%(count)s candidate has at least one flagged game. A flagged game is scored but "
            "marked; the table gives each flag's reason.",
            "%(count)s candidates have at least one flagged game. A flagged game is scored but "
            "marked; the table gives each flag's reason.",
            flagged,
        )
        % {"count": flagged},
        labels=[flag["code"] for flag in flags],
        datasets=[
            {
                "label": _("Candidates"),
                "data": [flag["candidates"] for flag in flags],
                "backgroundColor": colour(5),
                "maxBarThickness": 32,
            }
        ],
        options={
            "indexAxis": "y",
            "scales": {"x": {"beginAtZero": True, "ticks": {"precision": 0}}},
        },
        columns=[_("Flag"), _("Candidates"), _("Games flagged"), _("Why")],
        rows=[
            [flag["code"], flag["candidates"], flag["sessions"], _(flag["description"])]
            for flag in flags
        ],
        simulated=simulated,
    )


def _norm_label(summary: dict[str, Any]) -> str:
    norm = summary["norm_table"]
    if norm is None:
        return _("no norm table")
    return f"{norm['name']} v{norm['version']}"


def _trait_means_chart(summary: dict[str, Any], simulated: bool) -> dict[str, Any]:
    traits = summary["traits"]["traits"]
    return chart(
        "trait_means",
        kind="bar",
        title=_("Mean trait z of completed candidates"),
        summary=_(
            "Against %(norm)s, whose mean is 0 and SD 1 on every trait. Neither end of a "
            "trait is better; the poles name its two directions."
        )
        % {"norm": _norm_label(summary)},
        labels=[trait_label(trait["trait"]) for trait in traits],
        datasets=[
            {
                "label": _("Mean z"),
                "data": [trait["mean_z"] for trait in traits],
                "backgroundColor": colour(0),
                "maxBarThickness": 24,
            }
        ],
        options={
            "indexAxis": "y",
            "scales": {"x": {"suggestedMin": -1, "suggestedMax": 1}},
        },
        columns=[_("Trait"), _("Poles"), _("Candidates"), _("Mean z")],
        rows=[
            [
                trait_label(trait["trait"]),
                " / ".join(pole_label(pole) for pole in trait["poles"]),
                trait["n"],
                None if trait["mean_z"] is None else round(trait["mean_z"], 2),
            ]
            for trait in traits
        ],
        simulated=simulated,
    )


def trait_charts(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One percentile distribution chart per trait (the page shows one, chosen in a list)."""
    traits = summary["traits"]
    norm = summary["norm_table"]
    simulated = bool(summary["candidates_simulated"] or (norm and norm["simulated"]))
    edges = traits["edges"]
    labels = [_range(low, high) for low, high in itertools.pairwise(edges)]
    expected = [_percent(share) for share in traits["expected_share"]]
    charts = {}
    for trait in traits["traits"]:
        observed = [_percent(share) for share in trait["shares"]]
        low_pole, high_pole = ([pole_label(p) for p in trait["poles"]] + ["", ""])[:2]
        if trait["n"]:
            text = _(
                "%(n)s completed candidates, mean z %(mean).2f. Percentiles run from "
                "%(low)s (0) to %(high)s (100); candidates like the norm group would put "
                "10%% in each bin."
            ) % {"n": trait["n"], "mean": trait["mean_z"], "low": low_pole, "high": high_pole}
        else:
            text = _("No completed candidate has a score for this trait yet.")
        charts[trait["trait"]] = chart(
            "trait_distribution",
            kind="bar",
            title=_("%(trait)s: percentiles against %(norm)s")
            % {"trait": trait_label(trait["trait"]), "norm": _norm_label(summary)},
            summary=text,
            labels=labels,
            datasets=[
                {
                    "label": _("Candidates (%)"),
                    "data": observed if trait["n"] else [],
                    "backgroundColor": colour(0),
                    "barPercentage": 1.0,
                    "categoryPercentage": 0.9,
                    "order": 2,
                },
                {
                    "type": "line",
                    "label": _("Norm group (%)"),
                    "data": expected,
                    "borderColor": colour(1),
                    "backgroundColor": colour(1),
                    "borderDash": [6, 4],
                    "pointRadius": 0,
                    "order": 1,
                },
            ],
            options={
                "scales": {
                    "x": {"title": {"display": True, "text": _("percentile")}},
                    "y": {"beginAtZero": True, "title": {"display": True, "text": "%"}},
                }
            },
            columns=[_("Percentile"), _("Candidates"), _("Candidates (%)"), _("Norm group (%)")],
            rows=[
                [label, count, share, norm_share]
                for label, count, share, norm_share in zip(
                    labels, trait["counts"], observed, expected, strict=True
                )
            ],
            simulated=simulated,
        )
    return charts
