"""Shapes of candidate results shared by the staff API and the staff pages."""

from __future__ import annotations

from typing import Any

from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.scoring.selectors import latest_metric_set


def game_session_summary(game_session: GameSession) -> dict[str, Any]:
    metric_set = latest_metric_set(game_session)
    return {
        "id": game_session.pk,
        "game": game_session.game,
        "status": game_session.state,
        "source": game_session.source,
        "acked_seq": game_session.acked_seq,
        "event_count": game_session.event_count,
        "started_at": game_session.started_at,
        "completed_at": game_session.completed_at,
        "metrics": None
        if metric_set is None
        else {
            "extractor_version": metric_set.extractor_version,
            "values": metric_set.values,
            "quality_flags": [
                {"code": code, "reason": FLAG_DESCRIPTIONS.get(code, code)}
                for code in metric_set.quality_flags
            ],
            "computed_at": metric_set.computed_at,
        },
    }


def candidate_detail(candidate: Candidate, attempts: list[Attempt]) -> dict[str, Any]:
    latest = attempts[-1] if attempts else None
    return {
        "id": candidate.pk,
        "external_id": candidate.external_id,
        "name": candidate.name,
        "email": candidate.email,
        "is_simulated": candidate.is_simulated,
        "consent_at": candidate.consent_at,
        "status": latest.state if latest else None,
        "attempts": [
            {
                "id": attempt.pk,
                "assessment": {"id": attempt.assessment_id, "name": attempt.assessment.name},
                "status": attempt.state,
                "invited_at": attempt.created_at,
                "started_at": attempt.started_at,
                "completed_at": attempt.completed_at,
                "game_sessions": [game_session_summary(gs) for gs in attempt.game_sessions.all()],
            }
            for attempt in attempts
        ],
        # Trait inference and job-fit scoring are separate pipeline stages; until they
        # have run for this candidate there is nothing to show, and nothing is invented.
        "traits": [],
        "fit": None,
    }
