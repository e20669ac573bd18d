"""The candidate's feedback report: where they sit between each trait's two poles, in plain words.

Every trait is bi-directional and neither pole is better (SCIENCE.md section 2), so
the report never speaks of high or low, strong or weak: it places the candidate
on a scale between two named ways of going about things, with the 90% interval
as a band, and says in words which pole they are closer to.

* :func:`position_sentence` turns a percentile and its interval into that sentence:
  about midway (within :data:`MIDDLE_MARGIN` of 50), *slightly* closer to one pole
  (the interval still reaches the middle), or closer to it (the whole interval lies
  on that side).
* :func:`scale_geometry` places the position and the band on the drawn scale.
* :func:`feedback_report_context` is everything the template
  ``reports/documents/feedback.html`` shows, HTML and PDF alike.

The scale runs from the trait's second pole (left, percentile 0) to its first
(right, percentile 100), as the staff profile draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import gettext as _

from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.psychometrics import Trait
from pymetrics.reports.documents.labels import pole_meaning
from pymetrics.reports.documents.selectors import FeedbackRead
from pymetrics.scoring.labels import pole_label, trait_label
from pymetrics.scoring.models import NormTable, TraitScore

#: Percentile points either side of the middle (50) read as "about midway".
MIDDLE_MARGIN = 5.0
#: The drawn scale, in SVG user units: its width, and the margin at each end.
SCALE_WIDTH = 400.0
SCALE_MARGIN = 12.0


@dataclass(frozen=True)
class ScaleGeometry:
    """Where the candidate's position and interval band go on the drawn scale."""

    marker_x: float
    band_x: float
    band_width: float


def scale_x(percentile: float) -> float:
    """A percentile's x on the scale (clamped to 0..100), rounded to a tenth of a unit."""
    share = min(max(percentile, 0.0), 100.0) / 100.0
    return round(SCALE_MARGIN + share * (SCALE_WIDTH - 2 * SCALE_MARGIN), 1)


def scale_geometry(percentile: float, low: float | None, high: float | None) -> ScaleGeometry:
    """The marker at ``percentile`` and the band from ``low`` to ``high`` (the marker alone
    when the interval is missing)."""
    marker = scale_x(percentile)
    band_low = scale_x(low if low is not None else percentile)
    band_high = scale_x(high if high is not None else percentile)
    return ScaleGeometry(
        marker_x=marker, band_x=band_low, band_width=round(band_high - band_low, 1)
    )


def position_sentence(
    *,
    left: str,
    right: str,
    percentile: float,
    percentile_low: float | None,
    percentile_high: float | None,
) -> str:
    """Where the candidate sits between the ``left`` (percentile 0) and ``right`` pole.

    "Slightly" while the 90% interval still reaches the middle: the data cannot
    tell the candidate apart from the middle of the group with confidence.
    """
    if abs(percentile - 50.0) <= MIDDLE_MARGIN:
        return _("Your results place you about midway between %(left)s and %(right)s.") % {
            "left": left,
            "right": right,
        }
    near, far = (right, left) if percentile > 50.0 else (left, right)
    reaches_middle = (
        percentile_low is None
        or percentile_high is None
        or percentile_low <= 50.0 <= percentile_high
    )
    if reaches_middle:
        return _("Your results place you slightly closer to %(near)s than to %(far)s.") % {
            "near": near,
            "far": far,
        }
    return _("Your results place you closer to %(near)s than to %(far)s.") % {
        "near": near,
        "far": far,
    }


def whole(value: float) -> str:
    """A percentile as the candidate reads it: a whole number (half up), localised."""
    return str(floatformat(value, 0))


def _game_title(key: str) -> str:
    try:
        return _(get_game(key).title)
    except UnknownGameError:
        return key


def _games_of(trait: Trait, played: list[str]) -> list[str]:
    """The games the candidate played that go into ``trait``, in the order played."""
    wanted = {metric.game for metric in trait.metrics}
    return [key for key in played if key in wanted]


def trait_view(trait: Trait, score: TraitScore | None, played: list[str]) -> dict[str, Any]:
    """One trait as the report shows it: its poles, the scale, the sentence, or why none."""
    right_key, left_key = trait.poles
    left, right = pole_label(left_key), pole_label(right_key)
    games = _games_of(trait, played)
    view: dict[str, Any] = {
        "key": trait.name,
        "label": trait_label(trait.name),
        "left": {"key": left_key, "label": left, "meaning": pole_meaning(left_key)},
        "right": {"key": right_key, "label": right, "meaning": pole_meaning(right_key)},
        "based_on": ", ".join(_game_title(key) for key in games),
        "scored": bool(score and score.scored and score.percentile is not None),
    }
    if not view["scored"] or score is None or score.percentile is None:
        view["unscored_text"] = (
            _("Too few of the results behind this trait could be measured, so it has no position.")
            if games
            else _(
                "Your assessment did not include the games behind this trait, "
                "so it has no position."
            )
        )
        return view
    low, high = score.percentile_low, score.percentile_high
    numbers = {
        "position": whole(score.percentile),
        "left": left,
        "right": right,
    }
    view.update(
        {
            "sentence": position_sentence(
                left=left,
                right=right,
                percentile=score.percentile,
                percentile_low=low,
                percentile_high=high,
            ),
            "position": numbers["position"],
            "numbers_text": (
                _(
                    "Position %(position)s on a scale from 0 (%(left)s) to 100 (%(right)s), "
                    "most likely between %(low)s and %(high)s."
                )
                % {**numbers, "low": whole(low), "high": whole(high)}
                if low is not None and high is not None
                else _("Position %(position)s on a scale from 0 (%(left)s) to 100 (%(right)s).")
                % numbers
            ),
            "scale": scale_geometry(score.percentile, low, high),
        }
    )
    return view


def comparison_text(table: NormTable, organization_name: str) -> str:
    """Who the candidate is compared with, in words."""
    if table.is_simulated:
        return _(
            "Positions compare your results with a simulated reference group: %(n)s runs of "
            "the same games played by computer programs, not by people. Read them as an "
            "illustration; 50 is the middle of that group."
        ) % {"n": table.n_attempts}
    return _(
        "Positions compare your results with %(n)s people who played the same games for "
        "%(organization)s; 50 is the middle of that group."
    ) % {"n": table.n_attempts, "organization": organization_name}


def game_view(session: GameSession) -> dict[str, Any]:
    """A game the candidate played: its title and what it measured."""
    try:
        game = get_game(session.game)
        title, measured = _(game.title), (_(game.measured) if game.measured else "")
    except UnknownGameError:
        title, measured = session.game, ""
    return {
        "key": session.game,
        "title": title,
        "measured": measured,
        "failed": session.state == GameSessionState.FAILED,
    }


def feedback_report_context(
    read: FeedbackRead, *, invite_token: str, generated_at: datetime, pdf: bool
) -> dict[str, Any]:
    """What ``reports/documents/feedback.html`` shows, for a read whose gate is open."""
    if read.gate is not None or read.trait_map is None or read.norm_table is None:
        raise ValueError("the feedback report of an attempt that has none")
    attempt = read.attempt
    organization_name = attempt.assessment.organization.name
    played = [session.game for session in read.game_sessions]
    scores = read.scores or {}
    return {
        "organization_name": organization_name,
        "assessment_name": attempt.assessment.name,
        "is_simulated": attempt.candidate.is_simulated,
        "norms_simulated": read.norm_table.is_simulated,
        "traits": [
            trait_view(trait, scores.get(trait.name), played) for trait in read.trait_map.traits
        ],
        "games": [game_view(session) for session in read.game_sessions],
        "comparison_text": comparison_text(read.norm_table, organization_name),
        "generated_at": generated_at,
        "pdf": pdf,
        "pdf_url": reverse("candidate-report:pdf", args=[invite_token]),
        "scale": {
            "width": SCALE_WIDTH,
            "left": scale_x(0.0),
            "middle": scale_x(50.0),
            "right": scale_x(100.0),
        },
    }
