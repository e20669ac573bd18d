"""A candidate's data archive: every file read back and compared with the database;
built by the Celery task, downloaded through a signed link that expires, audited."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import signing
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from pymetrics.accounts.models import AuditLog
from pymetrics.conftest import HAND_METRICS, HAND_PLAN, _balloon_events
from pymetrics.fitmodels.models import FitScore
from pymetrics.privacy import services
from pymetrics.privacy.links import LINK_TTL, archive_download_path
from pymetrics.privacy.models import ArchiveState, CandidateArchive
from pymetrics.privacy.services import (
    ARCHIVE_TTL,
    candidate_archive_request,
    candidate_archive_write,
    candidate_archives_expire,
    candidate_erase,
)
from pymetrics.privacy.tests.conftest import (
    ERIN_EMAIL,
    ERIN_NAME,
    REVIEW_NOTE,
    actor_of,
    api_client_of,
    browser_of,
)
from pymetrics.scoring.models import TraitScore

FILES = [
    "README.txt",
    "candidate.json",
    "attempts.json",
    "events.jsonl",
    "metrics.json",
    "traits.json",
    "fit_scores.json",
    "reported_groups.json",
    "outcome.json",
    "roles.json",
    "consent_records.json",
    "session_reviews.json",
    "audit_log.json",
]


def _open(archive: CandidateArchive) -> zipfile.ZipFile:
    with storages["exports"].open(archive.file_name, "rb") as file:
        return zipfile.ZipFile(io.BytesIO(file.read()))


def _json(zipped: zipfile.ZipFile, name: str) -> Any:
    return json.loads(zipped.read(name))


def test_the_archive_holds_everything_about_the_candidate_as_stored(history) -> None:
    # given Erin's complete history, archived by the task
    archive = history.archive
    erin, attempt = history.erin, history.erin_attempt

    zipped = _open(archive)

    # then every file is there, README first
    assert zipped.namelist() == FILES
    readme = zipped.read("README.txt").decode()
    for name in FILES[1:]:
        assert name in readme
    candidate = _json(zipped, "candidate.json")
    assert candidate["candidate"] == {
        "id": erin.pk,
        "external_id": "ext-erin",
        "name": ERIN_NAME,
        "email": ERIN_EMAIL,
        "is_simulated": False,
        "created_at": erin.created_at.isoformat(),
        "consent_at": erin.consent_at.isoformat(),
    }
    assert candidate["organization"] == {"name": "Acme Hiring", "slug": "acme"}
    (attempt_out,) = _json(zipped, "attempts.json")
    assert attempt_out["id"] == attempt.pk
    assert attempt_out["assessment"] == {"id": history.assessment.pk, "name": "Risk battery"}
    assert attempt_out["accommodations"] == {
        "extended_time": False,
        "reduced_motion": True,
        "colour_safe": False,
    }
    assert [(s["game"], s["position"]) for s in attempt_out["game_sessions"]] == [
        ("balloons", 1),
        ("easy_or_hard", 2),
    ]
    # the events, line by line, as the browser sent them
    lines = zipped.read("events.jsonl").decode().splitlines()
    events = [json.loads(line) for line in lines]
    sent = _balloon_events(HAND_PLAN)
    assert [(e["seq"], e["t"], e["type"], e["data"]) for e in events] == [
        (e["seq"], e["t"], e["type"], e["data"]) for e in sent
    ]
    assert {e["game_session_id"] for e in events} == {history.erin_balloons.pk}
    metrics = {m["game"]: m for m in _json(zipped, "metrics.json")}
    assert metrics["balloons"]["values"] == pytest.approx(HAND_METRICS)
    assert metrics["easy_or_hard"]["values"] == {
        "hard_choice_rate_p12": 0.0,
        "hard_choice_rate": 0.5,
    }
    traits = _json(zipped, "traits.json")
    stored = {t.trait: t for t in TraitScore.objects.filter(attempt=attempt)}
    assert len(traits) == len(stored) == 9
    for trait in traits:
        row = stored[trait["trait"]]
        assert (trait["z"], trait["percentile"], trait["z_low"], trait["z_high"]) == (
            row.z,
            row.percentile,
            row.z_low,
            row.z_high,
        )
        assert trait["versions"]["trait_map"] == 1
        assert trait["versions"]["norm_table"]["name"] == "Acme norms"
        assert trait["versions"]["norm_table"]["version"] == history.norm_table.version
    fit = FitScore.objects.get(attempt=attempt)
    assert _json(zipped, "fit_scores.json") == [
        {
            "attempt_id": attempt.pk,
            "role": "Analysts",
            "model_version": 1,
            "score": 40.0,
            "passed": False,
            "arm": None,
            "computed_at": fit.computed_at.isoformat(),
        }
    ]
    assert _json(zipped, "reported_groups.json")["groups"] == {"gender": "female"}
    outcome = _json(zipped, "outcome.json")
    assert (outcome["hired"], outcome["performance"]) == (True, 4.0)
    assert [(r["role"], r["successful"]) for r in _json(zipped, "roles.json")] == [
        ("Analysts", True)
    ]
    consents = _json(zipped, "consent_records.json")
    assert sorted(c["purpose"] for c in consents) == ["participation", "results"]
    assert {(c["channel"], c["text_version"], c["language"]) for c in consents} == {
        ("invite_pages", "1", "en")
    }
    (review,) = _json(zipped, "session_reviews.json")
    assert (review["game"], review["state"], review["note"]) == (
        "balloons",
        "accepted",
        REVIEW_NOTE,
    )
    audit = _json(zipped, "audit_log.json")
    actions = [entry["action"] for entry in audit]
    assert actions[:1] == ["candidate.invite"]
    assert {
        "candidate.groups.record",
        "candidate.outcome.record",
        "session_review.accept",
        "candidate.data_export.request",
    } <= set(actions)
    assert {entry["by"] for entry in audit} <= {"staff member", "the platform"}
    # the stored size and checksum are the file's
    assert archive.size_bytes == storages["exports"].size(archive.file_name)
    assert archive.expires_at == archive.finished_at + ARCHIVE_TTL


def test_a_request_while_one_is_pending_returns_it_and_each_request_is_audited(
    make_invitation, admin
) -> None:
    invitation = make_invitation(external_id="pending")
    actor = actor_of(admin)

    # (no commit callbacks run: the task is not queued, the archive stays queued)
    first = candidate_archive_request(actor=actor, candidate=invitation.candidate)
    second = candidate_archive_request(actor=actor, candidate=invitation.candidate)

    assert second.pk == first.pk
    assert CandidateArchive.objects.count() == 1
    entries = AuditLog.objects.filter(action="candidate.data_export.request")
    assert [(e.object_id, e.details) for e in entries] == [
        (str(invitation.candidate.pk), {"archive": first.pk})
    ] * 2


def test_building_again_is_idempotent_and_an_erasure_removes_the_files_and_folder(
    make_invitation, admin, exports_storage, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="again")
    actor = actor_of(admin)
    archive = candidate_archive_request(actor=actor, candidate=invitation.candidate)
    built = candidate_archive_write(archive_id=archive.pk)
    assert built is not None
    assert built.state == ArchiveState.READY
    again = candidate_archive_write(archive_id=archive.pk)
    assert again is not None
    assert again.file_name == built.file_name
    folder = exports_storage / built.file_name.rsplit("/", 1)[0]
    assert [p.name for p in folder.iterdir()] == [built.file_name.rsplit("/", 1)[1]]

    with django_capture_on_commit_callbacks(execute=True):
        candidate_erase(actor=actor, candidate=invitation.candidate, reason="organisation")

    assert not folder.exists()
    assert candidate_archive_write(archive_id=archive.pk) is None


def test_an_archive_finished_after_its_candidate_was_erased_deletes_itself(
    make_invitation, admin, exports_storage, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="race")
    archive = candidate_archive_request(actor=actor_of(admin), candidate=invitation.candidate)
    real_write = services.write_candidate_archive

    def erased_while_writing(**kwargs: Any) -> Any:
        written = real_write(**kwargs)
        CandidateArchive.objects.filter(pk=archive.pk).delete()  # the erasure commits meanwhile
        return written

    monkeypatch.setattr(services, "write_candidate_archive", erased_while_writing)

    with django_capture_on_commit_callbacks(execute=True):
        assert candidate_archive_write(archive_id=archive.pk) is None

    assert [p for p in exports_storage.rglob("*") if p.is_file()] == []


def test_the_signed_link_downloads_the_zip_for_an_owner_and_is_audited(
    history, owner, analyst
) -> None:
    url = archive_download_path(history.archive)

    response = browser_of(owner).get(url)
    refused = browser_of(analyst).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == FILES
    # an analyst never sees the groups a candidate reported: nor their archive
    assert refused.status_code == 403
    entry = AuditLog.objects.get(action="candidate.data_export.download")
    assert (entry.actor_id, entry.object_id, entry.details) == (
        owner.pk,
        str(history.erin.pk),
        {"archive": history.archive.pk},
    )
    assert CandidateArchive.objects.get(pk=history.archive.pk).downloads == 1


def test_the_link_works_with_the_api_key_of_a_member_too(history, admin) -> None:
    client = api_client_of(admin)

    response = client.get(archive_download_path(history.archive))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_the_link_needs_a_login_of_the_same_organisation(history, other_owner, client) -> None:
    url = archive_download_path(history.archive)

    anonymous = client.get(url)
    stranger = browser_of(other_owner).get(url)
    forged = browser_of(history.admin).get(url[:-3] + "xx/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("staff:login"))
    assert stranger.status_code == 404
    assert forged.status_code == 404
    assert not AuditLog.objects.filter(action="candidate.data_export.download").exists()


def test_an_expired_link_or_archive_answers_gone(
    history, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    url = archive_download_path(history.archive)
    browser = browser_of(history.admin)
    later = timezone.now() + LINK_TTL + timedelta(minutes=1)
    # signing reads the clock through its module's time.time
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=later.timestamp))

    expired_link = browser.get(url)

    monkeypatch.undo()
    assert expired_link.status_code == 410
    assert b"Download not available" in expired_link.content
    # the archive's own window: the retention job deletes its file, the row stays expired
    with django_capture_on_commit_callbacks(execute=True):
        assert candidate_archives_expire(now=history.archive.expires_at) == 1
    archive = CandidateArchive.objects.get(pk=history.archive.pk)
    assert (archive.state, archive.file_name) == (ArchiveState.EXPIRED, "")
    assert not storages["exports"].exists(history.archive.file_name)
    assert browser.get(url).status_code == 410
    assert candidate_archives_expire(now=history.archive.expires_at) == 0
