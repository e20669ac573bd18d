"""Signed download links: they stream the file to a member of the job's organisation until
they expire; tampered, expired, foreign or forbidden requests get a clear refusal."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import Actor, api_key_create, user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.reports.exports.links import (
    LinkExpired,
    LinkInvalid,
    download_path,
    export_job_id_from_token,
)
from pymetrics.reports.exports.selectors import exports_storage
from pymetrics.reports.exports.services import (
    export_files_purge_expired,
    export_job_request,
    export_job_run,
)
from pymetrics.reports.models import ExportJob
from pymetrics.reports.tests.test_exports_world import build_export_world

HOUR = 3600


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
def analyst(organization):
    return user_create(
        email="ann@acme.example", password=None, organization=organization, role=Role.ANALYST
    )


def _browser(user) -> Client:
    browser = Client()
    login_verified(browser, user)
    return browser


def _export(user, organization, dataset="traits", file_format="csv") -> ExportJob:
    actor = Actor(user=user, organization=organization, role=user.memberships.get().role)
    job = export_job_request(actor=actor, dataset=dataset, file_format=file_format, queue=False)
    return export_job_run(export_job_id=job.pk)


@pytest.fixture
def job(organization, other_organization, analyst):
    build_export_world(organization, other_organization)
    return _export(analyst, organization)


def _made_ago(monkeypatch, seconds: int, job_id: int) -> str:
    """A link signed ``seconds`` ago (the signer's clock moved back while it signs)."""
    real = signing.TimestampSigner.timestamp
    monkeypatch.setattr(
        signing.TimestampSigner,
        "timestamp",
        lambda self: signing.b62_encode(int(time.time()) - seconds),
    )
    path = download_path(job_id)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", real)
    return path


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_fresh_link_streams_the_file_with_its_name_and_type(job, analyst, organization):
    browser = _browser(analyst)

    response = browser.get(download_path(job.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = job.finished_at.strftime("%Y%m%d")
    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-traits-{job.pk}-{day}.csv"'
    )
    assert response["Cache-Control"] == "private, no-store"
    with exports_storage().open(job.file_name, "rb") as stored:
        assert _body(response) == stored.read()
    entry = AuditLog.objects.get(action="export.download")
    assert (entry.actor_id, entry.organization_id, entry.object_id) == (
        analyst.pk,
        organization.pk,
        str(job.pk),
    )
    assert entry.details == {"dataset": "traits", "format": "csv", "rows": 3, "size": job.size}


@pytest.mark.parametrize(
    ("file_format", "content_type"),
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("jsonl", "application/x-ndjson"),
        ("parquet", "application/vnd.apache.parquet"),
    ],
)
def test_each_format_has_its_content_type(job, analyst, organization, file_format, content_type):
    other = _export(analyst, organization, file_format=file_format)

    response = _browser(analyst).get(download_path(other.pk))

    assert (response.status_code, response["Content-Type"]) == (200, content_type)
    assert response["Content-Disposition"].endswith(f'.{file_format}"')


@pytest.mark.parametrize(
    ("age", "status"),
    [
        pytest.param(HOUR - 5, 200, id="made-59-minutes-ago"),
        pytest.param(HOUR + 1, 410, id="made-an-hour-and-a-second-ago"),
    ],
)
def test_a_link_works_for_an_hour(job, analyst, monkeypatch, age, status):
    path = _made_ago(monkeypatch, age, job.pk)

    response = _browser(analyst).get(path)

    assert response.status_code == status
    if status == 410:
        page = response.content.decode()
        assert "This link has expired" in page
        assert "Download links work for 60 minutes after they are shown." in page
        assert not AuditLog.objects.filter(action="export.download").exists()


def test_the_lifetime_is_a_setting(job, analyst, monkeypatch, settings):
    settings.PYMETRICS_EXPORT_LINK_MAX_AGE_S = 60
    path = _made_ago(monkeypatch, 61, job.pk)

    assert _browser(analyst).get(path).status_code == 410
    with pytest.raises(LinkExpired):
        export_job_id_from_token(path.split("/")[-2])


def test_a_tampered_link_is_refused(job, analyst, organization):
    token = download_path(job.pk).split("/")[-2]
    other = _export(analyst, organization, file_format="jsonl")
    # the other job's id in place of this one's, the signature kept
    forged = str(other.pk) + token[len(str(job.pk)) :]

    response = _browser(analyst).get(reverse("exports:download", args=[forged]))

    assert response.status_code == 403
    assert "This link is not valid" in response.content.decode()
    with pytest.raises(LinkInvalid):
        export_job_id_from_token(forged)
    # a value signed for another purpose (the salt differs) is no link either
    with pytest.raises(LinkInvalid):
        export_job_id_from_token(signing.TimestampSigner().sign(str(job.pk)))


def test_the_link_alone_is_not_enough(job):
    path = download_path(job.pk)

    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('staff:login')}?{urlencode({'next': path}, safe='/')}"


def test_another_organisations_member_gets_not_found(job, other_organization):
    stranger = user_create(
        email="gina@globex.example",
        password=None,
        organization=other_organization,
        role=Role.OWNER,
    )

    response = _browser(stranger).get(download_path(job.pk))

    assert response.status_code == 404
    assert "There is no export with that id in your organisation." in response.content.decode()
    assert not AuditLog.objects.filter(action="export.download").exists()


def test_a_recruiter_may_not_download_raw_events(job, analyst, organization, recruiter):
    events = _export(analyst, organization, dataset="events")

    refused = _browser(recruiter).get(download_path(events.pk))
    allowed = _browser(recruiter).get(download_path(job.pk))

    assert refused.status_code == 403
    assert "only an owner, an admin or an analyst may export raw events" in (
        refused.content.decode()
    )
    assert allowed.status_code == 200


def test_an_expired_file_is_gone(job, analyst):
    ExportJob.objects.filter(pk=job.pk).update(expires_at=job.finished_at)
    export_files_purge_expired()

    response = _browser(analyst).get(download_path(job.pk))

    assert response.status_code == 410
    assert "request the export again" in response.content.decode()


def test_an_api_client_downloads_with_its_key(job, analyst, organization):
    key = api_key_create(user=analyst, organization=organization, scopes=["export"]).plaintext

    ok = Client().get(download_path(job.pk), HTTP_AUTHORIZATION=f"Token {key}")
    wrong = Client().get(download_path(job.pk), HTTP_AUTHORIZATION="Token pmk_nope_nope")

    assert ok.status_code == 200
    with exports_storage().open(job.file_name, "rb") as stored:
        assert _body(ok) == stored.read()
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "not_authenticated")
    entry = AuditLog.objects.get(action="export.download")
    assert entry.api_key_id is not None
