"""The demo's job-fit role: incumbents chosen by latent ability, trained, audited, active."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pymetrics.accounts.models import Role
from pymetrics.accounts.services import user_create
from pymetrics.fitmodels.models import CandidateGroups, Incumbent, JobProfile, ModelStatus
from pymetrics.fitmodels.tests.world import build_role_world
from pymetrics.ops.demo_role import (
    DEMO_ROLE,
    GROUP_ATTRIBUTE,
    demo_role_seed,
    latent_ability,
)
from pymetrics.ops.simulation import SimulatedCandidate
from pymetrics.scoring.models import TraitScore


def _bot(candidate_id: int, depth: float, span: float) -> SimulatedCandidate:
    return SimulatedCandidate(
        candidate_id=candidate_id,
        latents={"tower": {"planning_depth": depth}, "digits": {"span_backward": span}},
    )


def test_latent_ability_is_the_mean_z_of_planning_depth_and_backward_span():
    bots = [_bot(1, 2.0, 4.0), _bot(2, 4.0, 6.0), _bot(3, 6.0, 5.0)]
    bots.append(SimulatedCandidate(candidate_id=4, latents={"tower": {"planning_depth": 9.0}}))

    ability = latent_ability(bots)

    # depth: mean 4, SD 2 -> z -1, 0, 1; span: mean 5, SD 1 -> z -1, 1, 0 (ddof 1);
    # bot 4 did not play digits and is left out
    assert ability == pytest.approx({1: -1.0, 2: 0.5, 3: 0.5})


@pytest.mark.django_db
def test_the_demo_role_is_trained_audited_and_activated_once(organization):
    owner = user_create(
        email="owner@acme.example",
        password="owner horse battery",
        organization=organization,
        role=Role.OWNER,
    )
    world = build_role_world(organization, incumbents=10, applicants=400, planted=False)
    # the bots' latent abilities follow their measured attention, with noise
    attention = {
        candidate: float(z or 0.0)
        for candidate, z in TraitScore.objects.filter(
            trait="attention", attempt__candidate__in=world.applicant_candidates
        ).values_list("attempt__candidate_id", "z")
    }
    rng = np.random.default_rng(4)
    bots = [
        _bot(c.pk, attention[c.pk] + rng.normal(0, 0.5), attention[c.pk] + rng.normal(0, 0.5))
        for c in world.applicant_candidates
    ]
    ability = latent_ability(bots)
    top_quarter = sorted(ability, key=ability.__getitem__)[300:]

    version = demo_role_seed(owner=owner, assessment=world.applicants, simulated=bots, seed=1)

    profile = JobProfile.objects.get(organization=organization, name=DEMO_ROLE)
    assert sorted(
        Incumbent.objects.filter(job_profile=profile).values_list("candidate_id", flat=True)
    ) == sorted(top_quarter)
    groups = [json.loads(g.groups) for g in CandidateGroups.objects.filter(candidate__in=ability)]
    assert len(groups) == 400
    assert {tuple(g) for g in groups} == {(GROUP_ATTRIBUTE,)}
    assert {g[GROUP_ATTRIBUTE] for g in groups} == {"A", "B"}
    assert version is not None
    assert version.cv_report["auc_ci"]["low"] > 0.5  # the games' traits find the latents
    assert (version.audit_passed, version.status) == (True, ModelStatus.ACTIVE)
    # seeding again changes nothing
    assert demo_role_seed(owner=owner, assessment=world.applicants, simulated=bots, seed=1) is None
    assert JobProfile.objects.filter(organization=organization).count() == 1
