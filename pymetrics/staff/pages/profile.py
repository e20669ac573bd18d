"""A candidate's profile: traits against the benchmark, every metric's norm standing, timelines.

``staff:candidate-profile`` renders the page; ``staff:candidate-profile-data`` (the
same view, told apart by the route's name) answers the same profile as JSON, which
the page fetches again when one of the candidate's games changes state or new
trait scores land. Both reads are audit-logged. The page's outcome section (what
became of the candidate, and the form that records it) is
:func:`pymetrics.staff.pages.abtests.outcome_panel`. The profile itself is computed and
cached by :func:`pymetrics.analytics.selectors.profile.candidate_profile`; this
module only turns it into words, chart specifications and a template.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.analytics.selectors.profile import candidate_profile
from pymetrics.analytics.stats.profiles import trait_bars
from pymetrics.assessments.models import AttemptState, Candidate, GameSessionState
from pymetrics.assessments.selectors import candidate_get
from pymetrics.common.errors import DomainError
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.scoring.labels import pole_label, trait_label
from pymetrics.staff.charts import chart, colour
from pymetrics.staff.pages.abtests import OutcomeForm, outcome_panel

TRAITS_CHART_ID = "profile-traits"

# --- the trait bars --------------------------------------------------------------------


def traits_chart(profile: dict[str, Any]) -> dict[str, Any]:
    """The nine traits as bars from the benchmark's centre (z = 0) to the candidate's z.

    Each row has its two poles at its ends (low pole left, high pole right), the
    90% interval as a thin bar over the z bar, and a dashed line at the norm
    table's centre.
    """
    traits = profile["traits"]
    bars = trait_bars([t if t["scored"] else None for t in traits])
    limit = bars["limit"]
    labels = [trait_label(t["trait"]) for t in traits]
    low_poles = [pole_label(t["poles"][1]) for t in traits]
    high_poles = [pole_label(t["poles"][0]) for t in traits]
    table = profile["norm_table"]
    benchmark = (
        _("Benchmark: centre of %(name)s v%(version)s (z = 0)")
        % {"name": table["name"], "version": table["version"]}
        if table
        else _("Benchmark (z = 0)")
    )
    rows = [
        [
            label,
            low,
            high,
            t["z"],
            t["z_low"],
            t["z_high"],
            t["percentile"],
            t["percentile_low"],
            t["percentile_high"],
            "" if t["scored"] else t["reason"],
        ]
        for label, low, high, t in zip(labels, low_poles, high_poles, traits, strict=True)
    ]
    return chart(
        TRAITS_CHART_ID,
        kind="bar",
        title=_("Traits against the benchmark"),
        summary=_(
            "Each bar runs from the benchmark's centre (z = 0, the norm population's mean) to "
            "the candidate's z, towards the pole named at that end; the thin dark bar is the "
            "90% interval. No bar: too few of the trait's games were played."
        ),
        labels=labels,
        datasets=[
            {
                "type": "bar",
                "label": _("Candidate (z)"),
                "data": bars["values"],
                "backgroundColor": colour(0, 0.65),
                "borderColor": colour(0),
                "borderWidth": 1,
                "grouped": False,
                "barPercentage": 0.75,
                "order": 2,
            },
            {
                "type": "bar",
                "label": _("90% interval"),
                "data": bars["intervals"],
                "backgroundColor": "rgba(31, 41, 51, 0.85)",
                "grouped": False,
                "barPercentage": 0.14,
                "order": 1,
            },
            {
                "type": "line",
                "label": benchmark,
                "data": [0] * len(traits),
                "borderColor": colour(5),
                "borderDash": [6, 4],
                "borderWidth": 2,
                "pointRadius": 0,
                "order": 0,
            },
        ],
        columns=[
            _("Trait"),
            _("Low pole (left)"),
            _("High pole (right)"),
            _("z"),
            _("90% interval, low (z)"),
            _("90% interval, high (z)"),
            _("Percentile"),
            _("90% interval, low (percentile)"),
            _("90% interval, high (percentile)"),
            _("Not scored because"),
        ],
        rows=rows,
        options={
            "indexAxis": "y",
            "scales": {
                "x": {
                    "min": -limit,
                    "max": limit,
                    "title": {"display": True, "text": _("z against the benchmark")},
                },
                "y": {
                    "labels": [
                        [label, f"← {low}"] for label, low in zip(labels, low_poles, strict=True)
                    ],
                    "ticks": {"autoSkip": False},
                },
                "y2": {
                    "type": "category",
                    "position": "right",
                    "labels": [f"{high} →" for high in high_poles],
                    "display": True,
                    "grid": {"drawOnChartArea": False},
                    "ticks": {"autoSkip": False},
                },
            },
        },
        simulated=bool(profile["is_simulated"] or (table and table["simulated"])),
        size="tall",
    )


# --- game timelines ----------------------------------------------------------------------

SERIES_LABELS = {
    "collected": gettext_lazy("Collected (pumps)"),
    "burst": gettext_lazy("Burst (pumps)"),
    "ssd_ms": gettext_lazy("Stop-signal delay, stop trials (ms)"),
    "go_rt_ms": gettext_lazy("Go RT (ms)"),
    "deck": gettext_lazy("Deck chosen"),
    "net_score": gettext_lazy("Running net score"),
    "congruent": gettext_lazy("Congruent"),
    "incongruent": gettext_lazy("Incongruent"),
    "forward_correct": gettext_lazy("Forward, right"),
    "forward_wrong": gettext_lazy("Forward, wrong"),
    "backward_correct": gettext_lazy("Backward, right"),
    "backward_wrong": gettext_lazy("Backward, wrong"),
    "trial": gettext_lazy("Trial %(trial)s (%(hand)s)"),
    "hard_completed": gettext_lazy("Hard, completed"),
    "hard_not_completed": gettext_lazy("Hard, not completed"),
    "easy_completed": gettext_lazy("Easy, completed"),
    "easy_not_completed": gettext_lazy("Easy, not completed"),
    "rich_accuracy": gettext_lazy("Rich length, accuracy"),
    "lean_accuracy": gettext_lazy("Lean length, accuracy"),
    "moves_solved": gettext_lazy("Moves (solved)"),
    "moves_unsolved": gettext_lazy("Moves (not solved)"),
    "min_moves": gettext_lazy("Minimum moves"),
    "intensity": gettext_lazy("Intensity %(intensity)s"),
    "sent": gettext_lazy("Sent"),
    "returned": gettext_lazy("Returned"),
    "received": gettext_lazy("Received"),
    "accepted": gettext_lazy("Offer accepted (responder)"),
    "rejected": gettext_lazy("Offer rejected (responder)"),
    "proposed": gettext_lazy("Offer made (proposer)"),
    "given": gettext_lazy("Given (dictator)"),
}
HAND_LABELS = {
    "dominant": gettext_lazy("writing hand"),
    "non_dominant": gettext_lazy("other hand"),
}
COLUMN_LABELS = {
    "balloon": gettext_lazy("Balloon"),
    "pumps": gettext_lazy("Pumps"),
    "burst": gettext_lazy("Burst"),
    "trial": gettext_lazy("Trial"),
    "stop": gettext_lazy("Stop trial"),
    "ssd_ms": gettext_lazy("SSD (ms)"),
    "rt_ms": gettext_lazy("RT (ms)"),
    "correct": gettext_lazy("Correct"),
    "choice": gettext_lazy("Choice"),
    "deck": gettext_lazy("Deck"),
    "gain": gettext_lazy("Gain"),
    "loss": gettext_lazy("Loss"),
    "net_score": gettext_lazy("Net score so far"),
    "congruent": gettext_lazy("Congruent"),
    "rule": gettext_lazy("Rule"),
    "transition": gettext_lazy("Rule change"),
    "direction": gettext_lazy("Direction"),
    "length": gettext_lazy("Length"),
    "hand": gettext_lazy("Hand"),
    "tap": gettext_lazy("Tap"),
    "t_ms": gettext_lazy("Time in trial (ms)"),
    "iti_ms": gettext_lazy("Inter-tap interval (ms)"),
    "probability": gettext_lazy("Win probability"),
    "reward": gettext_lazy("Hard reward offered"),
    "completed": gettext_lazy("Completed"),
    "block": gettext_lazy("Block"),
    "rich_trials": gettext_lazy("Rich trials answered"),
    "rich_accuracy": gettext_lazy("Rich accuracy"),
    "lean_trials": gettext_lazy("Lean trials answered"),
    "lean_accuracy": gettext_lazy("Lean accuracy"),
    "problem": gettext_lazy("Problem"),
    "min_moves": gettext_lazy("Minimum moves"),
    "moves": gettext_lazy("Moves"),
    "solved": gettext_lazy("Solved"),
    "first_move_ms": gettext_lazy("First move (ms)"),
    "total_ms": gettext_lazy("Total time (ms)"),
    "emotion": gettext_lazy("Expression"),
    "intensity": gettext_lazy("Intensity"),
    "trials": gettext_lazy("Trials"),
    "accuracy": gettext_lazy("Accuracy"),
    "round": gettext_lazy("Round"),
    "role": gettext_lazy("Role"),
    "endowment": gettext_lazy("Endowment"),
    "sent": gettext_lazy("Sent"),
    "received": gettext_lazy("Received"),
    "returned": gettext_lazy("Returned"),
    "total": gettext_lazy("Total"),
    "offer": gettext_lazy("Offer"),
    "share": gettext_lazy("Share of the total"),
    "accepted": gettext_lazy("Accepted"),
    "time_s": gettext_lazy("Time in trial (s)"),
}

#: Per game: the chart's title, axis titles, and a sentence on how to read it.
TIMELINE_TEXT = {
    "balloons": (
        gettext_lazy("Pumps per balloon"),
        gettext_lazy("Balloon"),
        gettext_lazy("Pumps"),
        None,
        gettext_lazy("Blue: the candidate collected; orange-red: the balloon burst."),
    ),
    "stop": (
        gettext_lazy("Stop-signal delay staircase and go RT"),
        gettext_lazy("Trial"),
        gettext_lazy("Milliseconds"),
        None,
        gettext_lazy(
            "The staircase steps up 50 ms after a stop (circle) and down after a response "
            "to the stop signal (cross); dots are go trials' RTs."
        ),
    ),
    "cards": (
        gettext_lazy("Deck choices and running net score"),
        gettext_lazy("Choice"),
        gettext_lazy("Deck"),
        gettext_lazy("Net score so far"),
        gettext_lazy(
            "Decks C and D pay off over time, A and B lose; the line adds one per C or D "
            "choice and takes one away per A or B choice."
        ),
    ),
    "arrows": (
        gettext_lazy("RT per trial by congruency and rule switch"),
        gettext_lazy("Trial"),
        gettext_lazy("RT (ms)"),
        None,
        gettext_lazy("Triangles: the rule switched from the trial before; crosses: wrong answers."),
    ),
    "digits": (
        gettext_lazy("Span per sequence"),
        gettext_lazy("Sequence"),
        gettext_lazy("Length (digits)"),
        None,
        gettext_lazy("Forward sequences first, then backward; each point is one sequence."),
    ),
    "keypresses": (
        gettext_lazy("Taps over time"),
        gettext_lazy("Time in trial (s)"),
        gettext_lazy("Inter-tap interval (ms)"),
        None,
        gettext_lazy("Each point is a tap, at the time since the tap before it in its trial."),
    ),
    "easy_or_hard": (
        gettext_lazy("Choices and completion per trial"),
        gettext_lazy("Trial"),
        gettext_lazy("Hard reward offered"),
        None,
        gettext_lazy("Each point is a trial, at the reward the hard task offered."),
    ),
    "lengths": (
        gettext_lazy("Accuracy by block, rich and lean"),
        gettext_lazy("Block"),
        gettext_lazy("Accuracy"),
        None,
        gettext_lazy("A growing gap between rich and lean accuracy is a growing response bias."),
    ),
    "tower": (
        gettext_lazy("Moves against the minimum per problem"),
        gettext_lazy("Problem"),
        gettext_lazy("Moves"),
        None,
        gettext_lazy("Bars above the line are moves beyond the fewest possible."),
    ),
    "faces": (
        gettext_lazy("Accuracy by expression and intensity"),
        gettext_lazy("Expression"),
        gettext_lazy("Accuracy"),
        None,
        gettext_lazy("Neutral faces have no intensity (0)."),
    ),
    "money_exchange_1": (
        gettext_lazy("Amounts sent and returned per round"),
        gettext_lazy("Round"),
        gettext_lazy("Amount"),
        None,
        gettext_lazy(
            "First as investor (sending), then as trustee (returning part of what was received)."
        ),
    ),
    "money_exchange_2": (
        gettext_lazy("Offers and responses per round"),
        gettext_lazy("Round"),
        gettext_lazy("Offer as a share of the total"),
        None,
        gettext_lazy(
            "As responder, accepted or rejected offers; as proposer and dictator, what was given."
        ),
    ),
}
#: The colour of each series (an index into the chart palette).
SERIES_COLOURS = {
    "burst": 5,
    "moves_unsolved": 5,
    "min_moves": 7,
    "rejected": 5,
    "received": 7,
    "net_score": 1,
    "forward_wrong": 5,
    "backward_correct": 2,
    "backward_wrong": 3,
    "hard_not_completed": 5,
    "easy_completed": 2,
    "easy_not_completed": 3,
    "lean_accuracy": 1,
    "incongruent": 1,
    "returned": 1,
    "proposed": 2,
    "given": 3,
}
MARKER_STYLES = {"switch": "triangle", "error": "crossRot", "failed_stop": "crossRot"}


def _series_label(series: dict[str, Any]) -> str:
    params = dict(series.get("params") or {})
    if series["key"] == "intensity" and params.get("intensity") == 0:
        return _("Neutral (no intensity)")
    template = str(SERIES_LABELS.get(series["key"], series["key"]))
    if "hand" in params:
        params["hand"] = str(HAND_LABELS.get(params["hand"], params["hand"]))
    return template % params if params else template


def _dataset(series: dict[str, Any], index: int) -> dict[str, Any]:
    kind = series["kind"]
    key = series["key"]
    shade = SERIES_COLOURS.get(key, index) if key not in ("trial", "intensity") else index
    dataset: dict[str, Any] = {
        "label": _series_label(series),
        "data": series["values"],
        "borderColor": colour(shade),
        "backgroundColor": colour(shade, 0.75 if kind == "bar" else 1.0),
    }
    if kind == "bar":
        dataset.update({"type": "bar", "skipNull": True, "order": 2})
    elif kind == "line":
        dense = len(series["values"]) > 40
        dataset.update(
            {"type": "line", "pointRadius": 0 if dense else 2, "borderWidth": 2, "spanGaps": True}
        )
    elif kind == "step":
        dataset.update({"type": "line", "stepped": True, "spanGaps": True, "pointRadius": 4})
    elif kind == "point":
        dataset.update({"type": "line", "showLine": False, "pointRadius": 3})
    else:  # xy
        dataset.update({"type": "scatter", "showLine": False, "pointRadius": 2})
    if series.get("markers"):
        styles = [MARKER_STYLES.get(marker, "circle") for marker in series["markers"]]
        dataset["pointStyle"] = styles
        dataset["pointRadius"] = [5 if style != "circle" else 3 for style in styles]
    if series.get("axis") == "y2":
        dataset["yAxisID"] = "y2"
    return dataset


def timeline_chart(game: dict[str, Any]) -> dict[str, Any]:
    """One game session's timeline as a chart (empty, saying so, until it has events)."""
    key = game["game"]
    title, x_title, y_title, y2_title, summary = TIMELINE_TEXT.get(
        key, (_("Trials"), _("Trial"), "", None, "")
    )
    timeline = game.get("timeline")
    chart_id = f"timeline-{key}"
    if not timeline:
        return chart(chart_id, kind="bar", title=str(title), columns=[_("Trial")], rows=[])
    xy = any(series["kind"] == "xy" for series in timeline["series"])
    has_bars = any(series["kind"] == "bar" for series in timeline["series"])
    scales: dict[str, Any] = {
        "x": {"title": {"display": True, "text": str(x_title)}},
        "y": {"title": {"display": True, "text": str(y_title)}},
    }
    if xy:
        scales["x"]["type"] = "linear"
    if key == "cards":
        scales["y"].update({"type": "category", "labels": ["A", "B", "C", "D"], "offset": True})
    if y2_title:
        scales["y2"] = {
            "position": "right",
            "title": {"display": True, "text": str(y2_title)},
            "grid": {"drawOnChartArea": False},
        }
    if key in ("lengths", "faces"):
        scales["y"].update({"min": 0, "max": 1})
    if key in ("digits", "tower", "balloons"):
        scales["y"]["ticks"] = {"precision": 0}
    return chart(
        chart_id,
        kind="scatter" if xy else ("bar" if has_bars else "line"),
        title=str(title),
        summary=str(summary),
        labels=timeline["x"],
        datasets=[_dataset(series, i) for i, series in enumerate(timeline["series"])],
        columns=[str(COLUMN_LABELS.get(c, c)) for c in timeline["columns"]],
        rows=timeline["rows"],
        options={"scales": scales},
        zoom=len(timeline["x"]) > 40 or xy,
    )


# --- metrics and games -------------------------------------------------------------------


def _number(value: float | None, digits: int = -2) -> str:
    return "—" if value is None else str(floatformat(value, digits))


def percentile_text(percentile: float | None, beyond: int | None) -> str:
    """A norm percentile as read: below the 1st or above the 99th said as such."""
    if percentile is None:
        return "—"
    if beyond == -1:
        return "<1"
    if beyond == 1:
        return ">99"
    return str(floatformat(percentile, 0))


def metric_rows(game: dict[str, Any]) -> list[dict[str, Any]]:
    """A game's metrics with their values, z and norm percentiles as the table shows them."""
    return [
        {
            "name": metric["name"],
            "description": metric["description"],
            "value": metric["value"],
            "percentile": metric["percentile"],
            "value_text": _number(metric["value"]),
            "z_text": _number(metric["z"], 2),
            "percentile_text": percentile_text(metric["percentile"], metric["beyond"]),
            "note": ""
            if metric["value"] is None or metric["normed"]
            else _("not in the norm table"),
            "absent": metric["value"] is None,
        }
        for metric in game["metrics"]
    ]


def _state_label(state: str) -> str:
    try:
        return str(GameSessionState(state).label)
    except ValueError:
        return state


def _game_title(key: str) -> str:
    try:
        return _(get_game(key).title)
    except UnknownGameError:
        return key


def game_views(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Each game of the latest attempt: state, flags with reasons, metric rows, timeline."""
    return [
        {
            "game": game["game"],
            "title": _game_title(game["game"]),
            "session_id": game["session_id"],
            "state": game["state"],
            "state_label": _state_label(game["state"]),
            "source": game["source"],
            "flags": [
                {"code": code, "reason": _(FLAG_DESCRIPTIONS.get(code, code))}
                for code in game["flags"]
            ],
            "metrics": metric_rows(game),
            "chart": timeline_chart(game),
            "has_events": game["event_count"] > 0,
        }
        for game in profile["games"]
    ]


def norm_note(profile: dict[str, Any]) -> dict[str, Any]:
    """Which norm table the numbers are read against, in words."""
    table = profile["norm_table"]
    if table is None:
        return {
            "text": _(
                "No norm table applies to this organisation yet, so traits and percentiles "
                "are not scored."
            ),
            "simulated": False,
        }
    return {
        "text": _(
            "Benchmark: %(name)s v%(version)s (%(n)s people), trait map v%(map)s. "
            "Percentiles and z are read against this norm table."
        )
        % {
            "name": table["name"],
            "version": table["version"],
            "n": table["n"],
            "map": table["trait_map"],
        },
        "simulated": table["simulated"],
    }


def profile_payload(profile: dict[str, Any]) -> dict[str, Any]:
    """What the page's script needs to redraw everything (the JSON of the profile)."""
    attempt = profile["attempt"]
    return {
        "candidate_id": profile["candidate_id"],
        "attempt_id": attempt["id"] if attempt else None,
        "assessment_id": attempt["assessment_id"] if attempt else None,
        "norm_note": norm_note(profile),
        "traits_chart": traits_chart(profile),
        "games": game_views(profile),
        "profile": profile,
    }


def _attempt_label(state: str) -> str:
    try:
        return str(AttemptState(state).label)
    except ValueError:
        return state


@login_required
@require_safe
def page(request: HttpRequest, candidate_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return render(request, "staff/no_organization.html", status=403)
    try:
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
    except DomainError:
        return render(
            request, "staff/not_found.html", {"organization": actor.organization}, status=404
        )
    as_json = bool(
        request.resolver_match and request.resolver_match.url_name == "candidate-profile-data"
    )
    return profile_response(request, actor, candidate, as_json=as_json)


def profile_response(
    request: HttpRequest,
    actor: Actor,
    candidate: Candidate,
    *,
    as_json: bool = False,
    outcome_form: OutcomeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The profile (page or JSON) of a candidate of ``actor``'s organisation, read and logged;
    the outcome form's view renders it again with the form's errors."""
    profile = candidate_profile(candidate=candidate)
    audit_log_record(
        actor=actor,
        action="candidate.read",
        object_type="candidate",
        object_id=candidate.pk,
        details={"view": "profile.json" if as_json else "profile"},
    )
    payload = profile_payload(profile)
    if as_json:
        return JsonResponse(payload)
    attempt = profile["attempt"]
    return render(
        request,
        "staff/profile.html",
        {
            "organization": actor.organization,
            "nav": "home",
            "candidate": candidate,
            "profile": profile,
            "attempt": attempt,
            "attempt_state": _attempt_label(attempt["state"]) if attempt else "",
            "attempts": [
                {
                    **item,
                    "state_label": _attempt_label(item["state"]),
                    "latest": item["id"] == attempt["id"],
                }
                for item in profile["attempts"]
            ],
            "norm_note": payload["norm_note"],
            "traits_chart": payload["traits_chart"],
            "games": payload["games"],
            "outcome": outcome_panel(actor=actor, candidate=candidate, form=outcome_form),
            "live_config": {
                "dataUrl": reverse("staff:candidate-profile-data", args=[candidate.pk]),
                "traitsSocket": f"/ws/traits/{candidate.pk}/",
                "dashboardSocket": f"/ws/dashboard/{attempt['assessment_id']}/"
                if attempt
                else None,
                "candidateId": candidate.pk,
                "attemptId": attempt["id"] if attempt else None,
                "traitKeys": [t["trait"] for t in profile["traits"]],
                "sessionIds": [g["session_id"] for g in profile["games"]],
            },
        },
        status=status,
    )
