"""The demo's job-fit role: incumbents chosen by their bots' latent planning and memory.

A role needs incumbents and candidates who reported groups before a model can be
trained, audited and activated; the demo has neither, since its candidates are bots.
So the demo defines them from what only a simulation knows, and says so: the
incumbents are the completed bots whose *latent* planning depth (tower) and
backward span (digits) are, together, in the top quarter, and every demo candidate
gets a simulated group, A or B, at random. The model then has to find those latent
abilities in the measured traits, which it can only partly do: its AUC says how
well the games recover them. Its pages say it was trained on simulated candidates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import transaction

from pymetrics.accounts.models import Role, User
from pymetrics.accounts.services import Actor
from pymetrics.assessments.models import Assessment, AttemptState, Candidate
from pymetrics.fitmodels.models import FitModelVersion, JobProfile
from pymetrics.fitmodels.services import (
    candidate_groups_record,
    fit_model_activate,
    incumbents_add,
    job_profile_create,
    training_job_request,
    training_job_run,
)
from pymetrics.ops.simulation import SimulatedCandidate

DEMO_ROLE = "Planner (simulated incumbents)"
DEMO_ROLE_DESCRIPTION = (
    "A demonstration on bots: the incumbents are the simulated candidates whose latent "
    "planning depth and backward span are together in the top quarter. Groups A and B "
    "were assigned to the simulated candidates at random, so the audit has someone to "
    "look at. Not a real role; its numbers show how the method behaves."
)
#: The latent parameters the incumbents are chosen on, and the share chosen.
INCUMBENT_LATENTS = (("tower", "planning_depth"), ("digits", "span_backward"))
INCUMBENT_SHARE = 0.25
#: The simulated group attribute every demo candidate "reported".
GROUP_ATTRIBUTE = "simulated group"


def latent_ability(simulated: Sequence[SimulatedCandidate]) -> dict[int, float]:
    """Each bot's mean z-score over :data:`INCUMBENT_LATENTS` (bots that played both)."""
    eligible = [c for c in simulated if all(game in c.latents for game, _ in INCUMBENT_LATENTS)]
    if not eligible:
        return {}
    columns = np.array(
        [[c.latents[game][name] for game, name in INCUMBENT_LATENTS] for c in eligible],
        dtype="float64",
    )
    z = (columns - columns.mean(axis=0)) / columns.std(axis=0, ddof=1)
    return {c.candidate_id: float(value) for c, value in zip(eligible, z.mean(axis=1), strict=True)}


def demo_role_seed(
    *,
    owner: User,
    assessment: Assessment,
    simulated: Sequence[SimulatedCandidate],
    seed: int,
) -> FitModelVersion | None:
    """Define, train, audit and (if its audit passes) activate the demo role, once.

    Returns the trained version, or None when the role exists already or the bots
    are too few to train on (fewer than 40 completed).
    """
    organization = assessment.organization
    if JobProfile.objects.filter(organization=organization, name=DEMO_ROLE).exists():
        return None
    completed = set(
        Candidate.objects.filter(
            pk__in=[c.candidate_id for c in simulated],
            attempts__assessment=assessment,
            attempts__state=AttemptState.COMPLETED,
        ).values_list("pk", flat=True)
    )
    ability = {c: v for c, v in latent_ability(simulated).items() if c in completed}
    if len(ability) < 40:
        return None
    cut = float(np.quantile(list(ability.values()), 1.0 - INCUMBENT_SHARE))
    incumbent_ids = sorted(c for c, value in ability.items() if value >= cut)
    actor = Actor(user=owner, organization=organization, role=Role.OWNER)
    rng = np.random.default_rng([seed, 8])
    candidates = list(Candidate.objects.filter(pk__in=sorted(completed)).order_by("pk"))
    with transaction.atomic():
        profile = job_profile_create(
            actor=actor,
            name=DEMO_ROLE,
            description=DEMO_ROLE_DESCRIPTION,
            assessments=[assessment],
            baseline_assessment=assessment,
        )
        incumbents_add(
            actor=actor,
            job_profile=profile,
            candidates=[c for c in candidates if c.pk in set(incumbent_ids)],
            successful=True,
        )
        for candidate, group in zip(
            candidates, rng.choice(["A", "B"], size=len(candidates)), strict=True
        ):
            candidate_groups_record(
                actor=actor, candidate=candidate, groups={GROUP_ATTRIBUTE: str(group)}
            )
    job = training_job_request(actor=actor, job_profile=profile, seed=seed, queue=False)
    version = training_job_run(training_job_id=job.pk)
    if version is not None and version.audit_passed:
        fit_model_activate(actor=actor, model_version=version)
    return version
