"""Job-fit services end to end on stored trait scores: train, audit, refuse, debias, activate."""

from __future__ import annotations

import numpy as np
import pytest

from pymetrics.accounts.models import AuditLog
from pymetrics.accounts.services import Actor
from pymetrics.common.errors import Conflict, ValidationFailed
from pymetrics.fitmodels.models import FitModelVersion, FitScore, ModelStatus, TrainingJob
from pymetrics.fitmodels.science.training import load_model
from pymetrics.fitmodels.selectors import attempt_features, latest_completed_attempts, training_set
from pymetrics.fitmodels.services import (
    fit_model_activate,
    fit_model_audit,
    incumbents_add,
    incumbents_import,
    job_profile_create,
    training_job_request,
    training_job_run,
)
from pymetrics.fitmodels.tests.world import PLANTED_TRAIT, build_role_world

TRAITS = [
    "attention",
    "decision_making",
    "effort",
    "emotion",
    "fairness",
    "focus",
    "generosity",
    "learning",
    "risk_tolerance",
]


@pytest.fixture
def actor(organization, recruiter):
    return Actor(user=recruiter, organization=organization, role="admin")


@pytest.fixture
def role(organization, actor):
    world = build_role_world(organization)
    profile = job_profile_create(
        actor=actor,
        name="Analyst",
        assessments=[world.applicants],
        baseline_assessment=world.applicants,
    )
    incumbents_add(
        actor=actor, job_profile=profile, candidates=world.incumbent_candidates, successful=True
    )
    return profile, world


def _train(actor, profile, *, debias):
    job = training_job_request(
        actor=actor, job_profile=profile, debias_if_needed=debias, queue=False
    )
    version = training_job_run(training_job_id=job.pk)
    job.refresh_from_db()
    return job, version


def test_the_training_set_is_the_incumbents_against_the_baseline(role):
    profile, world = role

    data = training_set(job_profile=profile)

    assert (data.n_successful, data.n_baseline, data.simulated) == (200, 600, 0)
    assert list(data.features.columns) == [f"trait:{name}" for name in TRAITS]
    # the first incumbent's row holds exactly its stored trait z-scores
    first = world.incumbent_candidates[0]
    attempt_id = latest_completed_attempts(candidate_ids=[first.pk])[first.pk]
    stored = attempt_features(
        attempt_ids=[attempt_id], norm_table=world.norm_table, feature_set="traits"
    )
    assert data.rows[0].startswith("incumbent:")
    np.testing.assert_array_equal(data.features.iloc[0].to_numpy(), stored.iloc[0].to_numpy())


def test_planted_bias_fails_the_audit_blocks_activation_and_debiasing_removes_it(
    role, actor, django_capture_on_commit_callbacks
):
    profile, world = role

    # when a model is trained without the debiasing loop
    job, biased = _train(actor, profile, debias=False)

    # then it leans on the planted trait, and its audit fails the 4/5ths rule
    assert (job.state, job.progress) == ("succeeded", 1.0)
    assert (biased.version, biased.status, biased.audit_passed) == (1, ModelStatus.DRAFT, False)
    group = biased.audit_report["attributes"]["group"]
    assert group["four_fifths_pass"] is False
    assert group["lowest_group"] == "B"
    assert group["min_impact_ratio"] < 0.8
    assert biased.cv_report["auc"] > 0.75
    # and it cannot be activated
    with pytest.raises(Conflict) as refused:
        fit_model_activate(actor=actor, model_version=biased)
    assert refused.value.code == "audit_not_passed"
    assert "4/5ths" in refused.value.message
    biased.refresh_from_db()
    assert biased.status == ModelStatus.DRAFT

    # when it is trained with the debiasing loop
    _, fair = _train(actor, profile, debias=True)

    # then the planted trait was removed first, the audit passes, and every step is kept
    assert (fair.version, fair.status, fair.audit_passed) == (2, ModelStatus.AUDITED, True)
    assert f"trait:{PLANTED_TRAIT}" not in fair.feature_names
    steps = fair.debias_history
    assert len(steps) == 2
    assert [(s["action"], s["changed_feature"], s["audit_passed"]) for s in steps] == [
        ("trained", None, False),
        ("removed", f"trait:{PLANTED_TRAIT}", True),
    ]
    assert fair.audit_report["attributes"]["group"]["min_impact_ratio"] >= 0.8
    # the legitimate signal (attention) still separates incumbents from the baseline
    assert fair.cv_report["auc"] > 0.65

    # when it is activated
    with django_capture_on_commit_callbacks(execute=True):
        active = fit_model_activate(actor=actor, model_version=fair)

    # then every applicant has a fit score from it, as the stored model computes it
    assert active.status == ModelStatus.ACTIVE
    scores = FitScore.objects.filter(model_version=fair)
    assert scores.count() == 600
    assert all(0 <= s.score <= 100 and s.passed == (s.score >= 50.0) for s in scores)
    model = load_model(bytes(fair.artefact))
    first = scores.order_by("attempt_id").first()
    assert first is not None
    features = attempt_features(
        attempt_ids=[first.attempt_id], norm_table=world.norm_table, feature_set="traits"
    )
    assert first.score == pytest.approx(float(model.fit_scores(features)[0]), abs=1e-9)
    actions = list(
        AuditLog.objects.filter(object_type="fitmodelversion")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["fit_model.train", "fit_model.train", "fit_model.activate"]


def test_activating_a_new_version_retires_the_old_one(role, actor):
    profile, _ = role
    _, first = _train(actor, profile, debias=True)
    fit_model_activate(actor=actor, model_version=first)
    _, second = _train(actor, profile, debias=True)

    fit_model_activate(actor=actor, model_version=second)

    statuses = dict(FitModelVersion.objects.values_list("version", "status"))
    assert statuses == {1: ModelStatus.RETIRED, 2: ModelStatus.ACTIVE}


def test_a_re_audit_stores_its_report(role, actor):
    profile, _ = role
    _, version = _train(actor, profile, debias=False)

    report = fit_model_audit(actor=actor, model_version=version)

    version.refresh_from_db()
    assert report.passed is False
    # (compared field by field: PostgreSQL's jsonb reads a huge float back as an integer)
    stored, fresh = version.audit_report, report.to_dict()
    assert stored["passed"] is fresh["passed"] is False
    assert stored["attributes"]["group"]["groups"] == fresh["attributes"]["group"]["groups"]
    assert stored["attributes"]["group"]["fisher_p"] == fresh["attributes"]["group"]["fisher_p"]
    assert AuditLog.objects.filter(action="fit_model.audit", object_id=str(version.pk)).count() == 1


def test_training_without_incumbents_fails_with_the_reason(organization, actor):
    world = build_role_world(organization, incumbents=0, applicants=60)
    profile = job_profile_create(
        actor=actor, name="Empty role", baseline_assessment=world.applicants
    )

    job, version = _train(actor, profile, debias=True)

    assert version is None
    assert job.state == "failed"
    assert job.error == "the role has no successful incumbents with scores to learn from"
    # running it again does nothing more
    assert training_job_run(training_job_id=job.pk) is None
    assert TrainingJob.objects.get(pk=job.pk).state == "failed"


def test_imported_incumbents_bring_their_scores(organization, actor):
    profile = job_profile_create(actor=actor, name="Imported role")

    count = incumbents_import(
        actor=actor,
        job_profile=profile,
        rows=[
            {"external_id": "emp-1", "successful": "1", "trait:attention": "1.25"},
            {"external_id": "emp-2", "successful": "false", "trait:attention": "-0.5"},
        ],
    )

    assert count == 2
    stored = list(
        profile.incumbents.order_by("external_id").values_list(
            "external_id", "successful", "features"
        )
    )
    assert stored == [
        ("emp-1", True, {"trait:attention": 1.25}),
        ("emp-2", False, {"trait:attention": -0.5}),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"successful": "1"}, "row 1: external_id is required"),
        (
            {"external_id": "x", "successful": "maybe"},
            "row 1: successful must be true/false or 1/0",
        ),
        (
            {"external_id": "x", "successful": "1", "salary": "3"},
            "row 1: column 'salary' is not a feature (trait:... or metric:...)",
        ),
        (
            {"external_id": "x", "successful": "1", "trait:focus": "high"},
            "row 1: trait:focus is not a number",
        ),
    ],
    ids=["no-id", "bad-label", "unknown-column", "not-a-number"],
)
def test_a_bad_import_row_is_refused_whole(organization, actor, row, message):
    profile = job_profile_create(actor=actor, name="Imported role")

    with pytest.raises(ValidationFailed) as refused:
        incumbents_import(actor=actor, job_profile=profile, rows=[row])

    assert refused.value.message == message
    assert profile.incumbents.count() == 0


def test_new_trait_scores_are_followed_by_the_active_model_s_fit_score(
    role, actor, django_capture_on_commit_callbacks
):
    from pymetrics.scoring.tasks import _after_traits

    profile, world = role
    _, version = _train(actor, profile, debias=True)
    fit_model_activate(actor=actor, model_version=version)  # scoring on commit: not run here
    applicant = world.applicant_candidates[0]
    attempt_id = latest_completed_attempts(candidate_ids=[applicant.pk])[applicant.pk]
    assert not FitScore.objects.filter(attempt_id=attempt_id).exists()

    # when the scoring pipeline has stored an attempt's traits, the next stage runs
    with django_capture_on_commit_callbacks(execute=True):
        _after_traits([attempt_id])

    fit = FitScore.objects.get(attempt_id=attempt_id)
    assert fit.model_version == version


def test_the_candidate_detail_shows_the_active_model_s_fit(
    role, actor, staff_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    profile, world = role
    _, version = _train(actor, profile, debias=True)
    applicant = world.applicant_candidates[3]
    url = reverse("api:candidate-detail", args=[applicant.pk])
    assert staff_client.get(url).json()["fit"] == []  # cached now, before any model

    with django_capture_on_commit_callbacks(execute=True):
        fit_model_activate(actor=actor, model_version=version)

    stored = FitScore.objects.get(attempt__candidate=applicant, model_version=version)
    assert staff_client.get(url).json()["fit"] == [
        {
            "job_profile": {"id": profile.pk, "name": "Analyst"},
            "model_version": {
                "id": version.pk,
                "version": 1,
                "label": "Analyst v1",
                "simulated_training": False,
            },
            "score": stored.score,
            "passed": stored.score >= 50.0,
            "threshold": 50.0,
            "arm": None,
            "computed_at": stored.computed_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_a_model_no_better_than_chance_is_not_activated_even_when_its_audit_passed(
    organization, actor
):
    profile = job_profile_create(actor=actor, name="Chance role")
    version = FitModelVersion.objects.create(
        job_profile=profile,
        version=1,
        algorithm="logistic_regression",
        status=ModelStatus.AUDITED,
        feature_names=["trait:effort"],
        artefact=b"",
        fingerprint="0" * 64,
        n_successful=120,
        n_baseline=300,
        threshold=50.0,
        cv_report={"auc": 0.501, "auc_ci": {"low": 0.433, "high": 0.567}},
        feature_weights={},
        audit_passed=True,
    )

    with pytest.raises(Conflict) as refused:
        fit_model_activate(actor=actor, model_version=version)

    assert refused.value.code == "no_validity"
    assert refused.value.message == (
        "Chance role v1 cannot be activated: its cross-validated AUC (0.501, 95% CI from "
        "0.433) is no better than chance"
    )
