"""Candidates for the report tests, each with numbers written out by hand.

:func:`pipeline_candidate`: the hand-made balloons session of ``pymetrics.conftest``
(``HAND_PLAN``: adjusted pumps 1.5), played through the candidate API, extracted,
and scored against the hand-made simulated norms of the profile tests (adjusted
pumps 1..5, and the easy-or-hard rates 0.1, 0.3, 0.2, 0.5, 0.4). Its one scored
trait, risk tolerance, by hand:

* metric z = (1.5 - 3) / sqrt(2.5) = -0.949, the only one of its two metrics present;
* the population's raw scores (means of its two metric z) are -1.265, -0.316,
  -0.316, 0.949, 0.949: mean 0, SD sqrt(3.6 / 4) = 0.949, so trait z = -1.00;
* one of five raw scores lies below -0.949: percentile 100 x 1 / 5 = 20;
* SEM = sqrt(1 - 0.7) = 0.548, z +/- 1.645 SEM = -1.90 .. -0.10; as raw scores
  -1.80 (none below: percentile 0) and -0.09 (three below: percentile 60).

:func:`seeded_candidate`: a completed attempt at four games whose trait scores are
stored as given in :data:`SEEDED_SCORES` (no pipeline), against a real (not
simulated) norm table of Acme's 250 candidates, for the report's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymetrics.accounts.models import Organization
from pymetrics.analytics.tests.test_profile import hand_norm_table
from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_start,
    candidate_invite,
    game_session_mark_completed,
    game_session_mark_scored,
)
from pymetrics.fitmodels.models import FitModelVersion, FitScore, JobProfile, ModelStatus
from pymetrics.psychometrics import TraitMap
from pymetrics.scoring.models import NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create, traits_infer

#: Risk tolerance of the pipeline candidate, as stored (see the module's docstring).
PIPELINE_RISK = {
    "z": -1.0,
    "z_low": -1.901,
    "z_high": -0.099,
    "percentile": 20.0,
    "percentile_low": 0.0,
    "percentile_high": 60.0,
}

SEEDED_GAMES = ["balloons", "easy_or_hard", "money_exchange_1", "money_exchange_2"]
#: The seeded candidate's scored traits: percentile, its 90% interval, and z with its own.
SEEDED_SCORES: dict[str, dict[str, float]] = {
    # the whole interval above the middle: closer to risk-seeking
    "risk_tolerance": {
        "percentile": 82.5,
        "percentile_low": 61.0,
        "percentile_high": 95.0,
        "z": 0.93,
        "z_low": 0.03,
        "z_high": 1.83,
    },
    # below the middle, the interval reaching across it: slightly closer to self-focused
    "generosity": {
        "percentile": 30.0,
        "percentile_low": 10.0,
        "percentile_high": 70.0,
        "z": -0.52,
        "z_low": -1.42,
        "z_high": 0.38,
    },
    # within 5 of the middle: about midway
    "fairness": {
        "percentile": 47.5,
        "percentile_low": 20.0,
        "percentile_high": 75.0,
        "z": -0.06,
        "z_low": -0.96,
        "z_high": 0.84,
    },
}
SCORED_AT = datetime(2026, 3, 11, 8, 15, tzinfo=UTC)


@dataclass(frozen=True)
class ReportedCandidate:
    candidate: Candidate
    attempt: Attempt
    invite_token: str
    norm_table: NormTable


def pipeline_candidate(scored_play: Any, capture: Any) -> ReportedCandidate:
    """``scored_play`` (the ``pymetrics.conftest`` fixture) scored against the hand norms."""
    table = hand_norm_table()
    with capture(execute=True):
        traits_infer(attempt_ids=[scored_play.attempt_id])
    attempt = Attempt.objects.select_related("candidate").get(pk=scored_play.attempt_id)
    return ReportedCandidate(
        candidate=attempt.candidate,
        attempt=attempt,
        invite_token=scored_play.invite_token,
        norm_table=table,
    )


def acme_norm_table(organization: Organization) -> NormTable:
    """A norm table of the organisation's own (real) candidates: only its name and size
    matter here, the scores are stored as given."""
    return NormTable.objects.create(
        organization=organization,
        name="Acme candidates 2026",
        version=3,
        population=NormPopulation.ORGANISATION,
        is_simulated=False,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=250,
        data={"metrics": {}, "traits": {}},
        reliabilities={},
    )


def seeded_candidate(
    organization: Organization,
    *,
    is_simulated: bool = False,
    norm_table: NormTable | None = None,
    external_id: str = "seed-001",
) -> ReportedCandidate:
    """A completed, scored attempt at :data:`SEEDED_GAMES` with :data:`SEEDED_SCORES`.

    The other traits are stored unscored: effort (easy or hard was played: too few
    of its results), and the five whose games the assessment did not include.
    """
    assessment = assessment_create(
        organization=organization, name="Seeded battery", games=SEEDED_GAMES
    )
    invitation = candidate_invite(
        assessment=assessment,
        email="sam@example.org",
        name="Sam Seeded",
        external_id=external_id,
        is_simulated=is_simulated,
    )
    attempt_start(attempt=invitation.attempt)
    sessions = list(GameSession.objects.filter(attempt=invitation.attempt).order_by("position"))
    for session in sessions:
        game_session_mark_completed(game_session_id=session.pk)
    game_session_mark_scored(game_session_ids=[s.pk for s in sessions])
    table = norm_table or acme_norm_table(organization)
    trait_map = TraitMap.from_dict(table.trait_map.definition)
    for trait in trait_map.traits:
        numbers = SEEDED_SCORES.get(trait.name)
        TraitScore.objects.create(
            attempt=invitation.attempt,
            trait=trait.name,
            norm_table=table,
            trait_map=table.trait_map,
            scored=numbers is not None,
            raw=numbers["z"] if numbers else None,
            metrics_present=len(trait.metrics) if numbers else 0,
            metrics_total=len(trait.metrics),
            reliability=0.7,
            reason="" if numbers else f"too few of {trait.name}'s metrics present",
            extractor_versions={m.game: 1 for m in trait.metrics} if numbers else {},
            computed_at=SCORED_AT,
            **(numbers or {}),
        )
    attempt = Attempt.objects.select_related("candidate").get(pk=invitation.attempt.pk)
    return ReportedCandidate(
        candidate=attempt.candidate,
        attempt=attempt,
        invite_token=invitation.invite_token,
        norm_table=table,
    )


def active_fit(reported: ReportedCandidate, *, score: float, simulated: bool) -> FitScore:
    """A fit score of the candidate's attempt by the active version 2 of a role "Analyst"."""
    organization = reported.candidate.organization
    role = JobProfile.objects.create(organization=organization, name="Analyst", threshold=60.0)
    version = FitModelVersion.objects.create(
        job_profile=role,
        version=2,
        algorithm="logistic_regression",
        status=ModelStatus.ACTIVE,
        feature_names=["trait:risk_tolerance"],
        artefact=b"",
        fingerprint="0" * 64,
        n_successful=40,
        n_baseline=120,
        threshold=60.0,
        cv_report={"auc": 0.71, "simulated_rows": 160 if simulated else 0},
        feature_weights={},
        audit_passed=True,
    )
    return FitScore.objects.create(
        attempt=reported.attempt,
        model_version=version,
        score=score,
        passed=score >= 60.0,
        computed_at=SCORED_AT,
    )
