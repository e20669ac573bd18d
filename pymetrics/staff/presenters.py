"""Shapes of candidate results shared by the staff API and the staff pages."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import connection

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.assessments.selectors import attempts_for_candidate, candidate_get
from pymetrics.common.db import read_snapshot
from pymetrics.common.versions import NORMS_SCOPE, candidate_scope, organization_norms_scope
from pymetrics.fitmodels.selectors import attempt_fit_summaries
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.psychometrics import TraitMap
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.selectors import (
    current_norm_table,
    latest_metric_set,
    trait_scores_by_attempt,
)


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
    """Each attempt's trait scores under the organisation's current norm table (two queries).

    The norm table and its trait map are read once and shared by every score: loading
    them with each score decoded the table's distributions (percentiles of every
    metric and trait, some 185 KB of JSON) nine times per attempt, most of the cost
    of a candidate's detail.
    """
    traits: dict[int, list[dict[str, Any]]] = {attempt.pk: [] for attempt in attempts}
    if not traits:
        return traits
    table = current_norm_table(organization_id=candidate.organization_id)
    if table is None:
        return traits
    maps: dict[int, TraitMap] = {table.trait_map_id: TraitMap.from_dict(table.trait_map.definition)}
    scores = trait_scores_by_attempt(attempt_ids=list(traits), norm_table=table)
    for attempt_id, by_trait in scores.items():
        for score in by_trait.values():
            score.norm_table = table
            if score.trait_map_id == table.trait_map_id:
                score.trait_map = table.trait_map
            elif score.trait_map_id not in maps:
                maps[score.trait_map_id] = TraitMap.from_dict(score.trait_map.definition)
            traits[attempt_id].append(trait_score_summary(score, maps[score.trait_map_id]))
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
        # the latest attempt's fit to each role, by its active model (none: empty)
        "fit": attempt_fit_summaries(attempt_id=latest.pk if latest else None),
    }


def candidate_detail_json(*, organization: Organization, candidate_id: int) -> bytes:
    """The candidate's detail as the API sends it: JSON, rendered once per version of it.

    Cached (:func:`pymetrics.analytics.cache.cached`) under the versions of what it
    shows: the candidate (invitations, starts, consent, sessions, events, metrics,
    trait scores), the organisation (its norm tables, assessment changes) and the
    shared norms. Every write that changes one bumps it after committing, so the
    first read after a write renders afresh. The organisation is part of the
    entry's name: another organisation's id never finds it, misses, and
    :func:`candidate_get` answers NotFound, like an id that does not exist.

    Inside a transaction (rare for a read) the cache is not used either way: that
    transaction may hold writes whose version bumps wait for its commit, so what it
    reads must not be served to anyone else (after a rollback, it never existed),
    and an entry from before its writes would hide them from it.
    """

    def render() -> bytes:
        with read_snapshot():
            candidate = candidate_get(organization=organization, candidate_id=candidate_id)
            detail = candidate_detail(candidate, list(attempts_for_candidate(candidate=candidate)))
        # the encoding DRF's JSON renderer produces (UTC as "Z"), about ten times faster
        return orjson.dumps(detail, option=orjson.OPT_UTC_Z)

    if connection.in_atomic_block:
        return render()
    return cached(
        f"api:candidate:{organization.pk}:{candidate_id}",
        [candidate_scope(candidate_id), organization_norms_scope(organization.pk), NORMS_SCOPE],
        render,
    )
