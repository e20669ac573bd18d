"""A role's world for the job-fit tests: candidates with trait scores, built in bulk.

Trait z-scores are drawn (seeded) and stored as trait scores against a norm table
of the organisation, so the features the services read are exactly the drawn
values. ``planted`` shifts one trait by group in the baseline and makes the
incumbents high on it: a model trained on them leans on that trait and passes
group B far less often (the planted bias).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.fitmodels.models import CandidateGroups
from pymetrics.games.registry import get_game
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create

#: the legitimate signal: incumbents are this much higher on attention (z units)
ATTENTION_SHIFT = 1.0
#: the planted trait: group A +PLANT, group B -PLANT in the baseline; incumbents +2 PLANT
PLANTED_TRAIT = "fairness"
PLANT = 0.9


@dataclass(frozen=True)
class RoleWorld:
    norm_table: NormTable
    applicants: Assessment
    incumbent_candidates: list[Candidate]
    applicant_candidates: list[Candidate]
    groups: list[str]


def _candidates(
    organization: Organization,
    assessment: Assessment,
    label: str,
    z: np.ndarray,
    traits: list[str],
    norm_table: NormTable,
) -> list[Candidate]:
    now = timezone.now()
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(organization=organization, external_id=f"{label}-{i:04d}")
            for i in range(len(z))
        ]
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=now + timedelta(days=1),
                started_at=now,
                completed_at=now,
            )
            for candidate in candidates
        ]
    )
    TraitScore.objects.bulk_create(
        [
            TraitScore(
                attempt=attempt,
                trait=trait,
                norm_table=norm_table,
                trait_map=norm_table.trait_map,
                scored=True,
                raw=float(z[row, column]),
                z=float(z[row, column]),
                percentile=50.0,
                z_low=float(z[row, column]) - 0.9,
                z_high=float(z[row, column]) + 0.9,
                percentile_low=20.0,
                percentile_high=80.0,
                metrics_present=2,
                metrics_total=2,
                reliability=0.7,
            )
            for row, attempt in enumerate(attempts)
            for column, trait in enumerate(traits)
        ]
    )
    return candidates


def build_role_world(
    organization: Organization,
    *,
    incumbents: int = 200,
    applicants: int = 600,
    planted: bool = True,
    seed: int = 7,
) -> RoleWorld:
    rng = np.random.default_rng(seed)
    trait_map_row = trait_map_version_get_or_create(version=1)
    traits = [trait.name for trait in TraitMap.from_dict(trait_map_row.definition).traits]
    norm_table = NormTable.objects.create(
        organization=organization,
        name="Role test norms",
        version=1,
        population=NormPopulation.ORGANISATION,
        trait_map=trait_map_row,
        n_attempts=applicants,
        data={},
    )
    attention, planted_column = traits.index("attention"), traits.index(PLANTED_TRAIT)
    groups = ["A" if i % 2 == 0 else "B" for i in range(applicants)]
    applicant_z = rng.normal(0.0, 1.0, size=(applicants, len(traits)))
    if planted:
        applicant_z[:, planted_column] += np.where(np.array(groups) == "A", PLANT, -PLANT)
    incumbent_z = rng.normal(0.0, 1.0, size=(incumbents, len(traits)))
    incumbent_z[:, attention] += ATTENTION_SHIFT
    if planted:
        incumbent_z[:, planted_column] += 2 * PLANT
    staff = Assessment.objects.create(
        organization=organization, name="Incumbents", games=["balloons"]
    )
    pool = Assessment.objects.create(
        organization=organization, name="Applicants", games=["balloons"]
    )
    incumbent_candidates = _candidates(
        organization, staff, "staff", incumbent_z, traits, norm_table
    )
    applicant_candidates = _candidates(
        organization, pool, "applicant", applicant_z, traits, norm_table
    )
    CandidateGroups.objects.bulk_create(
        [
            CandidateGroups(candidate=candidate, groups=json.dumps({"group": group}))
            for candidate, group in zip(applicant_candidates, groups, strict=True)
        ]
    )
    return RoleWorld(
        norm_table=norm_table,
        applicants=pool,
        incumbent_candidates=incumbent_candidates,
        applicant_candidates=applicant_candidates,
        groups=groups,
    )


def build_scored_sessions(
    organization: Organization,
    *,
    game: str,
    people: int,
    machines: int,
    seed: int,
    played_at: datetime | None = None,
) -> dict[str, GameSession]:
    """Scored sessions of one game for an anomaly scan: people's and machines'.

    Each session belongs to a new candidate (external id ``person-<i>`` or
    ``machine-<i>``, the key of the returned dict) with a completed attempt. The
    metrics and quality flags are those of the game's bots
    (:func:`pymetrics.fitmodels.science.tests.test_anomalies.simulated_sessions`);
    the machines answer with constant reaction times.
    """
    from pymetrics.fitmodels.science.tests.test_anomalies import simulated_sessions

    rng = np.random.default_rng(seed)
    normal, normal_flags = simulated_sessions(game, people, rng)
    bots, bot_flags = simulated_sessions(game, machines, rng, ("constant",) * machines)
    played_at = played_at or timezone.now()
    assessment = Assessment.objects.create(
        organization=organization, name=f"{game} sessions", games=[game]
    )
    version = get_game(game).extractor_version
    sessions: dict[str, GameSession] = {}
    for label, metrics, flags in (("person", normal, normal_flags), ("machine", bots, bot_flags)):
        for index, (key, row) in enumerate(metrics.iterrows()):
            candidate = Candidate.objects.create(
                organization=organization, external_id=f"{label}-{index}"
            )
            attempt = Attempt.objects.create(
                candidate=candidate,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=played_at + timedelta(days=1),
                completed_at=played_at,
            )
            session = GameSession.objects.create(
                attempt=attempt,
                game=game,
                position=1,
                seed=index,
                state=GameSessionState.SCORED,
                completed_at=played_at,
            )
            MetricSet.objects.create(
                game_session=session,
                game=game,
                extractor_version=version,
                values={k: float(v) for k, v in row.items() if not np.isnan(v)},
                quality_flags=sorted(flags.get(key, [])),
            )
            sessions[f"{label}-{index}"] = session
    return sessions


def structured_metrics(trait_map: TraitMap, people: int, seed: int) -> pd.DataFrame:
    """Metric values with the map's structure: each trait a latent normal factor, each
    of its metrics ``sign x 0.7 x factor`` plus noise (unit variance in all)."""
    rng = np.random.default_rng(seed)
    columns = {}
    for trait in trait_map.traits:
        factor = rng.normal(size=people)
        for metric in trait.metrics:
            columns[metric.key] = metric.sign * 0.7 * factor + rng.normal(
                scale=np.sqrt(0.51), size=people
            )
    return pd.DataFrame(columns)


def store_metric_population(
    organization: Organization, metrics: pd.DataFrame, *, simulated: int = 0
) -> list[Candidate]:
    """One completed candidate per row of ``metrics`` (``game.metric`` columns), each
    with a scored session of every game holding its values; the first ``simulated``
    are bots. Stored in bulk (a few queries whatever the size)."""
    assessment = Assessment.objects.create(
        organization=organization, name="Metric population", games=["arrows"]
    )
    now = timezone.now()
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(organization=organization, external_id=f"p-{i}", is_simulated=i < simulated)
            for i in range(len(metrics))
        ]
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=now + timedelta(days=1),
                completed_at=now,
            )
            for candidate in candidates
        ]
    )
    games = sorted({key.split(".")[0] for key in metrics.columns})
    sessions = GameSession.objects.bulk_create(
        [
            GameSession(
                attempt=attempt,
                game=game,
                position=position,
                seed=0,
                state=GameSessionState.SCORED,
                completed_at=now,
            )
            for attempt in attempts
            for position, game in enumerate(games, start=1)
        ]
    )
    values = metrics.to_numpy(dtype="float64")
    MetricSet.objects.bulk_create(
        [
            MetricSet(
                game_session=session,
                game=session.game,
                extractor_version=get_game(session.game).extractor_version,
                values={
                    key.split(".", 1)[1]: float(values[index // len(games), column])
                    for column, key in enumerate(metrics.columns)
                    if key.startswith(session.game + ".")
                },
            )
            for index, session in enumerate(sessions)
        ]
    )
    return candidates
