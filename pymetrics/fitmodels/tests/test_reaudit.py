"""Scheduled re-audits: an active model is audited again on the people who applied since.

A fair role (``build_role_world`` seed 7 without the planted trait) is trained,
passes its audit and is activated. Then the groups the applicants reported change
so that group B is the half with the lowest fit scores (as a new sourcing channel
might bring): the daily re-audit finds the 4/5ths rule failing, keeps the version
active and says so, and a second run on the same day does nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pymetrics.accounts.models import AuditLog
from pymetrics.accounts.services import Actor
from pymetrics.fitmodels.models import CandidateGroups, FitModelVersion, FitScore, ModelStatus
from pymetrics.fitmodels.services import (
    fit_model_activate,
    incumbents_add,
    job_profile_create,
    training_job_request,
    training_job_run,
)
from pymetrics.fitmodels.tasks import reaudit_active_models
from pymetrics.fitmodels.tests.world import build_role_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_version(organization, recruiter, django_capture_on_commit_callbacks):
    world = build_role_world(organization, incumbents=150, applicants=400, planted=False)
    actor = Actor(user=recruiter, organization=organization, role="admin")
    profile = job_profile_create(
        actor=actor,
        name="Analyst",
        assessments=[world.applicants],
        baseline_assessment=world.applicants,
    )
    incumbents_add(
        actor=actor, job_profile=profile, candidates=world.incumbent_candidates, successful=True
    )
    job = training_job_request(actor=actor, job_profile=profile, queue=False)
    version = training_job_run(training_job_id=job.pk)
    assert version is not None
    assert version.audit_passed is True
    with django_capture_on_commit_callbacks(execute=True):
        fit_model_activate(actor=actor, model_version=version)
    return world, version


def _age_the_audit(version: FitModelVersion, days: int) -> None:
    FitModelVersion.objects.filter(pk=version.pk).update(
        audited_at=timezone.now() - timedelta(days=days)
    )


def test_a_recent_audit_is_not_run_again(active_version, settings):
    _world, version = active_version
    settings.PYMETRICS_REAUDIT_INTERVAL_DAYS = 7
    _age_the_audit(version, 6)

    assert reaudit_active_models() == {"audited": [], "newly_failing": [], "skipped": {}}


def test_a_model_that_became_unfair_is_flagged_and_keeps_scoring(active_version, settings):
    world, version = active_version
    settings.PYMETRICS_REAUDIT_INTERVAL_DAYS = 7
    # the applicants' fit scores, lowest first: the lower half now reports group B
    scores = dict(
        FitScore.objects.filter(
            model_version=version, attempt__candidate__in=world.applicant_candidates
        ).values_list("attempt__candidate_id", "score")
    )
    assert len(scores) == 400
    ranked = sorted(scores, key=lambda candidate: (scores[candidate], candidate))
    new_group = {c: ("B" if rank < 200 else "A") for rank, c in enumerate(ranked)}
    for record in CandidateGroups.objects.filter(candidate_id__in=scores):
        record.groups = json.dumps({"group": new_group[record.candidate_id]})
        record.save(update_fields=["groups"])
    _age_the_audit(version, 8)

    result = reaudit_active_models()

    assert result == {"audited": [version.pk], "newly_failing": [version.pk], "skipped": {}}
    version.refresh_from_db()
    assert version.status == ModelStatus.ACTIVE
    assert version.audit_passed is False
    # the stored report holds the impact ratio computed by hand from the live scores
    passes = {
        group: sum(1 for c, g in new_group.items() if g == group and scores[c] >= version.threshold)
        for group in ("A", "B")
    }
    assert passes["A"] > 0
    groups = version.audit_report["attributes"]["group"]["groups"]
    assert groups["B"]["n"] == groups["A"]["n"] == 200
    assert groups["B"]["passes"] == passes["B"]
    assert groups["B"]["impact_ratio"] == pytest.approx(passes["B"] / passes["A"])
    assert version.audit_report["attributes"]["group"]["four_fifths_pass"] is False
    entry = AuditLog.objects.filter(action="fit_model.audit", object_id=str(version.pk)).latest(
        "pk"
    )
    assert entry.actor_id is None
    assert entry.details == {"passed": False, "people": 400}
    # run again the same day: nothing is due
    assert reaudit_active_models()["audited"] == []


def test_without_reported_groups_the_re_audit_is_skipped_with_its_reason(active_version, settings):
    _world, version = active_version
    CandidateGroups.objects.all().delete()
    _age_the_audit(version, 30)

    result = reaudit_active_models()

    assert result == {
        "audited": [],
        "newly_failing": [],
        "skipped": {
            str(version.pk): (
                "nobody in this organisation has reported groups: the audit has no one to look at"
            )
        },
    }
    version.refresh_from_db()
    assert version.audit_passed is True
