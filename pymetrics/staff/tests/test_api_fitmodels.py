"""The job-fit API: roles, incumbents, training jobs, model versions, audits, activation."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.fitmodels.models import CandidateGroups, FitModelVersion, ModelStatus
from pymetrics.fitmodels.tests.world import build_role_world


@pytest.fixture
def admin_client(organization):
    admin = user_create(
        email="ada@acme.example", password=None, organization=organization, role=Role.ADMIN
    )
    key = api_key_create(user=admin, organization=organization, scopes=["read", "write"]).plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _role(admin_client, world, name="Analyst"):
    response = admin_client.post(
        reverse("api:job-profiles"),
        {
            "name": name,
            "assessment_ids": [world.applicants.pk],
            "baseline_assessment_id": world.applicants.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    profile_id = response.json()["id"]
    added = admin_client.post(
        reverse("api:job-profile-incumbents", args=[profile_id]),
        {"candidate_ids": [c.pk for c in world.incumbent_candidates], "successful": True},
        format="json",
    )
    assert added.json() == {"added": len(world.incumbent_candidates)}
    return profile_id


def _train(admin_client, profile_id, capture, **body):
    with capture(execute=True):
        response = admin_client.post(
            reverse("api:job-profile-train", args=[profile_id]), body, format="json"
        )
    assert response.status_code == 202
    job = admin_client.get(reverse("api:training-job-detail", args=[response.json()["id"]]))
    return job.json()


def test_an_admin_trains_audits_and_activates_through_the_api(
    organization, admin_client, django_capture_on_commit_callbacks
):
    world = build_role_world(organization, incumbents=150, applicants=400, planted=False)
    profile_id = _role(admin_client, world)

    job = _train(admin_client, profile_id, django_capture_on_commit_callbacks)

    assert (job["state"], job["progress"], job["error"]) == ("succeeded", 1.0, "")
    model = admin_client.get(reverse("api:fit-model-detail", args=[job["model_version_id"]]))
    body = model.json()
    stored = FitModelVersion.objects.get(pk=job["model_version_id"])
    assert (body["label"], body["status"], body["audit_passed"]) == ("Analyst v1", "audited", True)
    assert (body["n_successful"], body["n_baseline"]) == (150, 400)
    assert body["auc"] == stored.cv_report["auc"]
    assert body["audit"]["attributes"]["group"]["four_fifths_pass"] is True

    with django_capture_on_commit_callbacks(execute=True):
        activated = admin_client.post(reverse("api:fit-model-activate", args=[stored.pk]))

    assert activated.status_code == 200
    assert activated.json()["status"] == "active"
    profile = admin_client.get(reverse("api:job-profile-detail", args=[profile_id])).json()
    assert profile["versions"] == [
        {
            "id": stored.pk,
            "version": 1,
            "status": "active",
            "auc": body["auc"],
            "audit_passed": True,
        }
    ]


def test_activating_a_model_whose_audit_failed_is_409_with_the_audit(
    organization, admin_client, django_capture_on_commit_callbacks
):
    world = build_role_world(organization)
    profile_id = _role(admin_client, world)
    job = _train(admin_client, profile_id, django_capture_on_commit_callbacks, debias=False)

    response = admin_client.post(reverse("api:fit-model-activate", args=[job["model_version_id"]]))

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "audit_not_passed"
    assert error["message"] == (
        "Analyst v1 cannot be activated: its bias audit failed the 4/5ths rule"
    )
    assert error["details"]["audit"]["attributes"]["group"]["four_fifths_pass"] is False
    assert FitModelVersion.objects.get().status == ModelStatus.DRAFT


def test_a_recruiter_reads_but_cannot_change_models(
    organization, admin_client, staff_client, django_capture_on_commit_callbacks
):
    world = build_role_world(organization, incumbents=150, applicants=400, planted=False)
    profile_id = _role(admin_client, world)
    job = _train(admin_client, profile_id, django_capture_on_commit_callbacks)
    version_id = job["model_version_id"]

    assert staff_client.get(reverse("api:fit-model-detail", args=[version_id])).status_code == 200
    for url in (
        reverse("api:fit-model-activate", args=[version_id]),
        reverse("api:fit-model-audit", args=[version_id]),
        reverse("api:job-profile-train", args=[profile_id]),
    ):
        refused = staff_client.post(url, {}, format="json")
        assert refused.status_code == 403, url
        assert refused.json()["error"]["code"] == "permission_denied"
    assert FitModelVersion.objects.get().status == ModelStatus.AUDITED


def test_another_organisation_s_roles_and_models_are_404(
    organization, admin_client, other_staff_client, django_capture_on_commit_callbacks
):
    world = build_role_world(organization, incumbents=150, applicants=400, planted=False)
    profile_id = _role(admin_client, world)
    job = _train(admin_client, profile_id, django_capture_on_commit_callbacks)

    for url in (
        reverse("api:job-profile-detail", args=[profile_id]),
        reverse("api:fit-model-detail", args=[job["model_version_id"]]),
        reverse("api:training-job-detail", args=[job["id"]]),
    ):
        assert other_staff_client.get(url).status_code == 404, url
    assert other_staff_client.get(reverse("api:job-profiles")).json() == []


def test_reported_groups_are_stored_encrypted_and_never_logged(
    organization, admin_client, invitation
):
    candidate = invitation.attempt.candidate
    url = reverse("api:candidate-groups", args=[candidate.pk])

    response = admin_client.put(
        url, {"groups": {"gender": "female", "age_40_plus": ""}}, format="json"
    )

    assert response.status_code == 204
    record = CandidateGroups.objects.get(candidate=candidate)
    assert json.loads(record.groups) == {"age_40_plus": None, "gender": "female"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT groups FROM fitmodels_candidategroups")
        (raw,) = cursor.fetchone()
    assert "female" not in raw
    entry = AuditLog.objects.get(action="candidate.groups.record")
    assert entry.details == {"attributes": ["age_40_plus", "gender"]}


def test_the_review_queue_lists_and_decides_through_the_api(organization, admin_client, invitation):
    from pymetrics.assessments.models import GameSession
    from pymetrics.fitmodels.models import SessionReview

    session = GameSession.objects.create(
        attempt=invitation.attempt, game="balloons", position=1, seed=1, state="scored"
    )
    review = SessionReview.objects.create(
        game_session=session,
        game="balloons",
        anomaly_score=0.91,
        reasons=["Rule flag too_uniform: ..."],
        detector_fingerprint="f" * 64,
    )

    listed = admin_client.get(reverse("api:session-reviews"), {"state": "pending"}).json()
    decided = admin_client.post(
        reverse("api:session-review-decide", args=[review.pk]),
        {"decision": "invalidate", "note": "constant reaction times"},
        format="json",
    )

    assert [(r["id"], r["game"], r["anomaly_score"], r["state"]) for r in listed] == [
        (review.pk, "balloons", 0.91, "pending")
    ]
    assert decided.status_code == 200
    assert (decided.json()["state"], decided.json()["note"]) == (
        "invalidated",
        "constant reaction times",
    )
    session.refresh_from_db()
    assert session.invalidated_at is not None
    again = admin_client.post(
        reverse("api:session-review-decide", args=[review.pk]),
        {"decision": "accept"},
        format="json",
    )
    assert again.status_code == 409


def test_an_ab_test_through_the_api(organization, admin_client, django_capture_on_commit_callbacks):
    world = build_role_world(organization, incumbents=150, applicants=400, planted=False)
    profile_id = _role(admin_client, world)
    first = _train(admin_client, profile_id, django_capture_on_commit_callbacks)
    second = _train(
        admin_client, profile_id, django_capture_on_commit_callbacks, algorithm="gradient_boosting"
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post(
            reverse("api:job-profile-ab-tests", args=[profile_id]),
            {"model_a_id": first["model_version_id"], "model_b_id": second["model_version_id"]},
            format="json",
        )
    assert started.status_code == 201
    test_id = started.json()["id"]
    candidate = world.applicant_candidates[0]
    assert (
        admin_client.put(
            reverse("api:candidate-outcome", args=[candidate.pk]),
            {"hired": True, "performance": 4.5},
            format="json",
        ).status_code
        == 204
    )

    report = admin_client.get(reverse("api:ab-test-detail", args=[test_id])).json()

    assert report["assignment"]["n_a"] + report["assignment"]["n_b"] == 400
    assert report["comparison"]["pass_rates"]["n_a"] == report["assignment"]["n_a"]
    assert report["note"] is None
    with django_capture_on_commit_callbacks(execute=True):
        stopped = admin_client.post(
            reverse("api:ab-test-stop", args=[test_id]), {"winner": "A"}, format="json"
        )
    assert stopped.json()["winner"] == "Analyst v1"
    assert FitModelVersion.objects.get(pk=second["model_version_id"]).status == ModelStatus.RETIRED
