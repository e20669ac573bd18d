"""The exports API: POST 202 with the job, GET its state with a fresh signed link, the list."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.reports.exports.selectors import exports_storage
from pymetrics.reports.models import ExportJob
from pymetrics.reports.tests.test_exports_world import build_export_world


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }


@pytest.fixture
def world(organization, other_organization):
    return build_export_world(organization, other_organization)


@pytest.fixture
def analyst_client(organization):
    user = user_create(
        email="ann@acme.example", password=None, organization=organization, role=Role.ANALYST
    )
    client = APIClient()
    key = api_key_create(user=user, scopes=["export"]).plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_post_answers_202_with_the_job_and_get_gives_a_fresh_link(
    analyst_client, world, django_capture_on_commit_callbacks
):
    # when an analyst asks for the events of Graduates as Parquet
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst_client.post(
            reverse("api:exports"),
            {"dataset": "events", "format": "parquet", "assessment_id": world.graduates.pk},
            format="json",
        )

    # then the job is accepted (queued when the answer was made)
    assert response.status_code == 202
    body = response.json()
    job = ExportJob.objects.get()
    assert body["id"] == job.pk
    assert (body["dataset"], body["format"]) == ("events", "parquet")
    assert body["scope"] == {
        "assessment_id": world.graduates.pk,
        "attempt_state": None,
        "completed_from": None,
        "completed_to": None,
        "game": None,
        "include_simulated": True,
    }
    # and once the worker (here in-process) wrote it, its state holds a signed link
    detail = analyst_client.get(reverse("api:export-detail", args=[job.pk]))
    assert detail.status_code == 200
    state = detail.json()
    assert (state["state"], state["progress"], state["total"], state["rows"]) == (
        "succeeded",
        1.0,
        7,
        7,
    )
    assert state["size"] == exports_storage().size(job.file_name)
    assert state["download_url"].startswith("http://testserver/staff/exports/download/")
    assert state["download_url_expires_at"] is not None
    assert state["file_name"].startswith(f"acme-events-{job.pk}-")
    download = analyst_client.get(state["download_url"])
    assert download.status_code == 200
    with exports_storage().open(job.file_name, "rb") as stored:
        assert b"".join(download.streaming_content) == stored.read()
    actions = list(AuditLog.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["api_key.created", "export.request", "export.complete", "export.download"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"dataset": "people", "format": "csv"},
            'dataset: "people" is not a valid choice.',
            id="dataset",
        ),
        pytest.param(
            {"dataset": "traits", "format": "pdf"}, 'format: "pdf" is not a valid choice.', id="fmt"
        ),
        pytest.param(
            {"dataset": "traits", "format": "csv", "game": "balloons"},
            "the game filter applies to metrics and events only",
            id="game-on-traits",
        ),
    ],
)
def test_bad_input_is_a_clear_400(analyst_client, world, body, message):
    response = analyst_client.post(reverse("api:exports"), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert ExportJob.objects.count() == 0


def test_another_organisations_assessment_is_refused(analyst_client, world, other_organization):
    foreign = other_organization.assessments.get().pk

    response = analyst_client.post(
        reverse("api:exports"),
        {"dataset": "traits", "format": "csv", "assessment_id": foreign},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": f"assessment {foreign} not found in your organisation",
        "details": {"assessment_id": foreign},
    }


def test_a_recruiter_may_not_export_raw_events(staff_client, world):
    response = staff_client.post(
        reverse("api:exports"), {"dataset": "events", "format": "csv"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_the_list_and_detail_stay_in_the_organisation(
    staff_client, other_staff_client, organization, other_organization
):
    ours = ExportJob.objects.create(organization=organization, dataset="metrics", format="csv")
    events = ExportJob.objects.create(organization=organization, dataset="events", format="csv")
    theirs = ExportJob.objects.create(
        organization=other_organization, dataset="metrics", format="csv"
    )

    listed = staff_client.get(reverse("api:exports")).json()
    foreign = staff_client.get(reverse("api:export-detail", args=[theirs.pk]))
    hidden = staff_client.get(reverse("api:export-detail", args=[events.pk]))

    # a recruiter sees the organisation's jobs of the datasets they may export
    assert [job["id"] for job in listed] == [ours.pk]
    assert (listed[0]["state"], listed[0]["download_url"]) == ("queued", None)
    for response, job in ((foreign, theirs), (hidden, events)):
        assert response.status_code == 404
        assert response.json()["error"]["message"] == f"export {job.pk} not found"
    assert other_staff_client.get(reverse("api:export-detail", args=[theirs.pk])).status_code == 200


def test_the_schema_documents_the_export_endpoints(tmp_path, db):
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    paths = yaml.safe_load(path.read_text())["paths"]
    assert set(paths["/api/v1/exports/"]) == {"get", "post"}
    assert set(paths["/api/v1/exports/"]["post"]["responses"]) == {
        "202",
        "400",
        "403",
        "409",
        "429",
    }
    assert set(paths["/api/v1/exports/{export_job_id}/"]) == {"get"}
