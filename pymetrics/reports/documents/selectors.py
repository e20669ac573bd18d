"""Reads behind the two reports: an attempt's traits for its candidate, a candidate's for staff.

:func:`feedback_report_read` answers, for the attempt an invite link points at,
whether its feedback report may be shown (:class:`FeedbackGate`) and, when it may,
the trait scores, trait map and games behind it: the scores under the
organisation's current norm table, as every staff page reads them.

:func:`recruiter_report_read` is the profile the staff page shows
(:func:`pymetrics.analytics.selectors.profile.candidate_profile`, cached under the
same versions, so the PDF and the page never disagree) plus what only the report
prints: the versions stored with each trait score and the sessions a reviewer
invalidated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymetrics.accounts.models import Organization
from pymetrics.analytics.selectors.profile import candidate_profile
from pymetrics.assessments.models import (
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.assessments.selectors import candidate_get, game_sessions_for_attempt
from pymetrics.psychometrics import TraitMap
from pymetrics.scoring.models import NormTable, TraitScore
from pymetrics.scoring.selectors import current_norm_table, trait_scores_by_attempt

#: Game session states whose results are final: a report shown before every session
#: reached one of them would change under the candidate's eyes.
SETTLED_STATES = frozenset({GameSessionState.SCORED, GameSessionState.FAILED})


class FeedbackGate(StrEnum):
    """Why an attempt's feedback report cannot be shown (yet)."""

    #: the organisation does not offer feedback reports
    DISABLED = "disabled"
    #: the candidate has games left to play
    NOT_COMPLETED = "not_completed"
    #: games are still being scored, or traits inferred
    PREPARING = "preparing"
    #: no norm table applies to the organisation: traits cannot be placed
    NO_NORMS = "no_norms"


@dataclass(frozen=True)
class FeedbackRead:
    """An attempt's feedback report data; ``gate`` is None when it may be shown."""

    attempt: Attempt
    gate: FeedbackGate | None
    game_sessions: list[GameSession]
    norm_table: NormTable | None = None
    trait_map: TraitMap | None = None
    scores: dict[str, TraitScore] | None = None


def feedback_report_read(*, attempt: Attempt) -> FeedbackRead:
    """Whether ``attempt``'s report is available and, if so, what it shows (3 queries).

    ``attempt`` comes from :func:`pymetrics.assessments.selectors.attempt_by_invite_token`
    (its assessment and organisation loaded).
    """
    organization = attempt.assessment.organization
    if not organization.feedback_reports_enabled:
        return FeedbackRead(attempt=attempt, gate=FeedbackGate.DISABLED, game_sessions=[])
    if attempt.state != AttemptState.COMPLETED:
        return FeedbackRead(attempt=attempt, gate=FeedbackGate.NOT_COMPLETED, game_sessions=[])
    sessions = list(game_sessions_for_attempt(attempt_id=attempt.pk))
    if any(session.state not in SETTLED_STATES for session in sessions):
        return FeedbackRead(attempt=attempt, gate=FeedbackGate.PREPARING, game_sessions=sessions)
    table = current_norm_table(organization_id=organization.pk)
    if table is None:
        return FeedbackRead(attempt=attempt, gate=FeedbackGate.NO_NORMS, game_sessions=sessions)
    scores = trait_scores_by_attempt(attempt_ids=[attempt.pk], norm_table=table)[attempt.pk]
    if not scores:
        # the last game is scored; its inference has not stored the traits yet
        return FeedbackRead(attempt=attempt, gate=FeedbackGate.PREPARING, game_sessions=sessions)
    return FeedbackRead(
        attempt=attempt,
        gate=None,
        game_sessions=sessions,
        norm_table=table,
        trait_map=TraitMap.from_dict(table.trait_map.definition),
        scores=scores,
    )


@dataclass(frozen=True)
class TraitVersions:
    """What one stored trait score was computed with."""

    trait_map: int
    norm_table_id: int
    extractors: dict[str, int]
    computed_at: datetime


@dataclass(frozen=True)
class RecruiterRead:
    """A candidate's profile (the staff page's) and the versions the report prints."""

    candidate: Candidate
    profile: dict[str, Any]
    trait_versions: dict[str, TraitVersions]
    #: game session id -> when a reviewer invalidated it (only those invalidated)
    invalidated: dict[int, datetime]


def recruiter_report_read(*, organization: Organization, candidate_id: int) -> RecruiterRead:
    """The organisation's candidate's report data; NotFound for any other id."""
    candidate = candidate_get(organization=organization, candidate_id=candidate_id)
    profile = candidate_profile(candidate=candidate)
    attempt = profile["attempt"]
    table = profile["norm_table"]
    versions: dict[str, TraitVersions] = {}
    if attempt is not None and table is not None:
        rows = TraitScore.objects.filter(
            attempt_id=attempt["id"], norm_table_id=table["id"]
        ).values_list("trait", "trait_map__version", "extractor_versions", "computed_at")
        versions = {
            trait: TraitVersions(
                trait_map=map_version,
                norm_table_id=table["id"],
                extractors={str(k): int(v) for k, v in (extractors or {}).items()},
                computed_at=computed_at,
            )
            for trait, map_version, extractors, computed_at in rows
        }
    session_ids = [game["session_id"] for game in profile["games"]]
    invalidated = {
        session_id: when
        for session_id, when in GameSession.objects.filter(
            pk__in=session_ids, invalidated_at__isnull=False
        ).values_list("pk", "invalidated_at")
        if when is not None
    }
    return RecruiterRead(
        candidate=candidate,
        profile=profile,
        trait_versions=versions,
        invalidated=invalidated,
    )
