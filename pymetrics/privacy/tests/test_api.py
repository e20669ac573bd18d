"""The data-rights API: exports (202 + job, then a signed link), erasure, consent
records and withdrawal; roles, organisation scoping, the OpenAPI schema."""

from __future__ import annotations

import io
import zipfile

import yaml
from django.core.management import call_command
from django.urls import reverse

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Candidate, ConsentRecord
from pymetrics.assessments.services import attempt_consent
from pymetrics.privacy.models import CandidateArchive, ErasureRecord
from pymetrics.privacy.tests.conftest import api_client_of


def test_an_export_is_accepted_then_polled_until_its_link_downloads(
    make_invitation, admin, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="api-export")
    client = api_client_of(admin)
    assert reverse("api:candidate-data-export", args=[invitation.candidate.pk]) == (
        f"/api/v1/candidates/{invitation.candidate.pk}/data-export/"
    )

    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(f"/api/v1/candidates/{invitation.candidate.pk}/data-export/")
    job = accepted.json()
    polled = client.get(f"/api/v1/data-exports/{job['id']}/").json()
    download = client.get(polled["download_url"])

    assert accepted.status_code == 202
    assert (job["state"], job["candidate_id"], job["download_url"]) == (
        "queued",
        invitation.candidate.pk,
        None,
    )
    assert (polled["state"], polled["finished"], polled["progress"]) == ("ready", True, 1.0)
    assert polled["download_url"].startswith("http://testserver/staff/privacy/data-exports/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert names[0] == "README.txt"
    assert "events.jsonl" in names
    assert polled["size_bytes"] == len(body)


def test_erasure_through_the_api_answers_the_reference(
    make_invitation, owner, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="api-erase")
    client = api_client_of(owner)

    bad = client.post(
        f"/api/v1/candidates/{invitation.candidate.pk}/erase/", {"reason": "why not"}, format="json"
    )
    with django_capture_on_commit_callbacks(execute=True):
        erased = client.post(
            f"/api/v1/candidates/{invitation.candidate.pk}/erase/",
            {"reason": "candidate_request"},
            format="json",
        )

    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid"
    assert erased.status_code == 200
    body = erased.json()
    record = ErasureRecord.objects.get()
    assert body["reference"] == record.reference
    assert body["reason"] == "candidate_request"
    assert body["rows_removed"] == {"assessments.Attempt": 1, "assessments.Candidate": 1}
    assert (body["rows_redacted"], body["files_removed"]) == ({}, 0)
    assert not Candidate.objects.filter(pk=invitation.candidate.pk).exists()
    again = client.post(
        f"/api/v1/candidates/{invitation.candidate.pk}/erase/",
        {"reason": "candidate_request"},
        format="json",
    )
    assert again.status_code == 404


def test_consent_records_are_listed_and_reading_them_is_audited(
    make_invitation, staff_client, recruiter
) -> None:
    invitation = make_invitation(external_id="api-consent")
    attempt_consent(attempt=invitation.attempt, accommodations={})
    records = {r.purpose: r for r in ConsentRecord.objects.all()}

    response = staff_client.get(f"/api/v1/candidates/{invitation.candidate.pk}/consents/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": records[purpose].pk,
            "attempt_id": invitation.attempt.pk,
            "assessment": "Graduates 2027",
            "purpose": purpose,
            "channel": "invite_pages",
            "text_version": "1",
            "text_sha256": records[purpose].text_sha256,
            "language": "en",
            "given_at": records[purpose].given_at.isoformat().replace("+00:00", "Z"),
            "withdrawn_at": None,
        }
        for purpose in sorted(records, key=lambda p: records[p].pk)
    ]
    entry = AuditLog.objects.get(action="candidate.consents.read")
    assert (entry.actor_id, entry.object_id) == (recruiter.pk, str(invitation.candidate.pk))


def test_withdrawal_through_the_api(make_invitation, admin) -> None:
    invitation = make_invitation(external_id="api-withdraw")
    attempt_consent(attempt=invitation.attempt, accommodations={})

    response = api_client_of(admin).post(
        f"/api/v1/candidates/{invitation.candidate.pk}/consents/withdraw/"
    )

    assert (response.status_code, response.json()) == (200, {"withdrawn": 2})


def test_recruiters_may_not_export_follow_exports_erase_or_withdraw(
    make_invitation, staff_client
) -> None:
    candidate = make_invitation(external_id="api-roles").candidate
    archive = CandidateArchive.objects.create(
        organization_id=candidate.organization_id, candidate=candidate
    )

    answers = [
        staff_client.post(f"/api/v1/candidates/{candidate.pk}/data-export/"),
        staff_client.get(f"/api/v1/data-exports/{archive.pk}/"),
        staff_client.post(
            f"/api/v1/candidates/{candidate.pk}/erase/", {"reason": "organisation"}, format="json"
        ),
        staff_client.post(f"/api/v1/candidates/{candidate.pk}/consents/withdraw/"),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert {a.json()["error"]["code"] for a in answers} == {"permission_denied"}
    assert Candidate.objects.filter(pk=candidate.pk).exists()
    assert CandidateArchive.objects.count() == 1


def test_another_organisation_s_ids_are_not_found(
    history, other_owner, django_capture_on_commit_callbacks
) -> None:
    client = api_client_of(other_owner)
    erin = history.erin.pk

    answers = {
        "export": client.post(f"/api/v1/candidates/{erin}/data-export/"),
        "job": client.get(f"/api/v1/data-exports/{history.archive.pk}/"),
        "erase": client.post(
            f"/api/v1/candidates/{erin}/erase/", {"reason": "organisation"}, format="json"
        ),
        "consents": client.get(f"/api/v1/candidates/{erin}/consents/"),
        "withdraw": client.post(f"/api/v1/candidates/{erin}/consents/withdraw/"),
        # a link of this organisation's export, with the other organisation's key
        "link": client.get(
            api_client_of(history.admin)
            .get(f"/api/v1/data-exports/{history.archive.pk}/")
            .json()["download_url"]
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 404)
    assert Candidate.objects.filter(pk=erin).exists()


def test_the_schema_documents_every_data_rights_endpoint(tmp_path) -> None:
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    paths = yaml.safe_load(path.read_text())["paths"]
    expected = {
        "/api/v1/candidates/{candidate_id}/data-export/": ("post", {"202", "403", "404", "429"}),
        "/api/v1/data-exports/{archive_id}/": ("get", {"200", "403", "404"}),
        "/api/v1/candidates/{candidate_id}/erase/": ("post", {"200", "400", "403", "404"}),
        "/api/v1/candidates/{candidate_id}/consents/": ("get", {"200", "404"}),
        "/api/v1/candidates/{candidate_id}/consents/withdraw/": ("post", {"200", "403", "404"}),
    }
    for route, (method, statuses) in expected.items():
        assert set(paths[route][method]["responses"]) == statuses, route
