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
from datetime import timedelta

import numpy as np
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Assessment, Attempt, AttemptState, Candidate
from pymetrics.fitmodels.models import CandidateGroups
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import NormPopulation, NormTable, TraitScore
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
