"""Shapes of candidate results shared by the staff API and the staff pages."""

from __future__ import annotations

from typing import Any

from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.psychometrics import TraitMap
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.selectors import latest_metric_set, trait_scores_of_candidate


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


#: Trait intervals are 90% intervals (z +/- 1.645 SEM, SCIENCE.md section 2).
INTERVAL_LEVEL = 0.90


def trait_score_summary(score: TraitScore, trait_map: TraitMap) -> dict[str, Any]:
    """A trait score with its interval, reasons and every version behind it."""
    table = score.norm_table
    return {
        "trait": score.trait,
        "poles": list(trait_map.trait(score.trait).poles),
        "scored": score.scored,
        "score": score.z,
        "percentile": score.percentile,
        "interval": None
        if not score.scored
        else {
            "level": INTERVAL_LEVEL,
            "z_low": score.z_low,
            "z_high": score.z_high,
            "percentile_low": score.percentile_low,
            "percentile_high": score.percentile_high,
        },
        "reliability": score.reliability,
        "metrics_present": score.metrics_present,
        "metrics_total": score.metrics_total,
        "reason": score.reason,
        "quality_flags": [
            {"code": code, "reason": FLAG_DESCRIPTIONS.get(code, code)}
            for code in score.quality_flags
        ],
        "versions": {
            "norm_table": {
                "id": table.pk,
                "name": table.name,
                "version": table.version,
                "population": table.population,
                "simulated": table.is_simulated,
            },
            "trait_map": score.trait_map.version,
            "extractors": score.extractor_versions,
        },
        "computed_at": score.computed_at,
    }


def _traits_by_attempt(
    candidate: Candidate, attempts: list[Attempt]
) -> dict[int, list[dict[str, Any]]]:
    maps: dict[int, TraitMap] = {}
    traits: dict[int, list[dict[str, Any]]] = {attempt.pk: [] for attempt in attempts}
    for score in trait_scores_of_candidate(candidate=candidate):
        if score.attempt_id not in traits:
            continue
        if score.trait_map_id not in maps:
            maps[score.trait_map_id] = TraitMap.from_dict(score.trait_map.definition)
        traits[score.attempt_id].append(trait_score_summary(score, maps[score.trait_map_id]))
    return traits


def candidate_detail(candidate: Candidate, attempts: list[Attempt]) -> dict[str, Any]:
    latest = attempts[-1] if attempts else None
    traits = _traits_by_attempt(candidate, attempts)
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
                "traits": traits[attempt.pk],
            }
            for attempt in attempts
        ],
        "traits": traits[latest.pk] if latest else [],
        # Job-fit scoring is a later pipeline stage; until a model has scored this
        # candidate there is nothing to show, and nothing is invented.
        "fit": None,
    }
