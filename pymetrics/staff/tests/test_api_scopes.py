"""The staff API enforces API keys' scopes: read for safe methods, write for the others,
export for exports and candidates' data archives; sessions and candidate tokens unscoped."""

from __future__ import annotations

import json

from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import ApiScope, Role
from pymetrics.accounts.permissions import api_key_scope_refusal
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.assessments.models import Assessment
from pymetrics.reports.models import ExportJob


def _client(user, *scopes):
    client = APIClient()
    key = api_key_create(user=user, scopes=scopes).plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _missing(scope, key_scopes):
    return {
        "error": {
            "code": "missing_scope",
            "message": f"this API key lacks the '{scope}' scope",
            "details": {"required_scope": scope, "key_scopes": key_scopes},
        }
    }


def test_a_read_key_reads_but_may_not_write(recruiter, assessment):
    client = _client(recruiter, "read")

    listed = client.get("/api/v1/assessments/")
    created = client.post("/api/v1/assessments/", {"name": "New", "games": ["balloons"]})

    assert listed.status_code == 200
    assert (created.status_code, created.json()) == (403, _missing("write", ["read"]))
    assert list(Assessment.objects.values_list("name", flat=True)) == ["Graduates 2027"]


def test_a_write_key_writes_but_may_not_read(recruiter, assessment):
    client = _client(recruiter, "write")

    created = client.post(
        "/api/v1/assessments/", {"name": "New", "games": ["balloons"]}, format="json"
    )
    listed = client.get("/api/v1/assessments/")

    assert created.status_code == 201
    assert (listed.status_code, listed.json()) == (403, _missing("read", ["write"]))


def test_exports_need_the_export_scope_whatever_the_method(organization):
    analyst = user_create(
        email="ann@acme.example", password=None, organization=organization, role=Role.ANALYST
    )
    read_write = _client(analyst, "read", "write")
    exporter = _client(analyst, "export")
    url = reverse("api:exports")

    refused_list = read_write.get(url)
    refused_post = read_write.post(url, {"dataset": "traits", "format": "csv"}, format="json")
    listed = exporter.get(url)

    assert (refused_list.status_code, refused_list.json()) == (
        403,
        _missing("export", ["read", "write"]),
    )
    assert (refused_post.status_code, refused_post.json()) == (
        403,
        _missing("export", ["read", "write"]),
    )
    assert (listed.status_code, listed.json()) == (200, [])
    assert ExportJob.objects.count() == 0
    detail = read_write.get(reverse("api:export-detail", args=[12345]))
    assert detail.json()["error"]["code"] == "missing_scope"


def test_a_candidate_s_data_archive_needs_the_export_scope(organization, invitation):
    admin = user_create(
        email="ada@acme.example", password=None, organization=organization, role=Role.ADMIN
    )
    candidate_id = invitation.candidate.pk
    read_write = _client(admin, "read", "write")
    reader = _client(admin, "read")

    archive = read_write.post(reverse("api:candidate-data-export", args=[candidate_id]))
    followed = read_write.get(reverse("api:data-export-detail", args=[1]))
    consents = reader.get(reverse("api:candidate-consents", args=[candidate_id]))
    withdrawn = reader.post(reverse("api:candidate-consents-withdraw", args=[candidate_id]))

    assert (archive.status_code, archive.json()) == (403, _missing("export", ["read", "write"]))
    assert followed.json()["error"]["details"]["required_scope"] == "export"
    assert consents.status_code == 200
    assert (withdrawn.status_code, withdrawn.json()) == (403, _missing("write", ["read"]))


def test_a_logged_in_session_is_not_scoped(recruiter, assessment):
    browser = APIClient()
    login_verified(browser, recruiter)

    created = browser.post(
        "/api/v1/assessments/", {"name": "From the browser", "games": ["balloons"]}, format="json"
    )

    assert created.status_code == 201
    assert Assessment.objects.filter(name="From the browser").exists()


def test_the_candidate_play_api_ignores_staff_scopes(recruiter, invitation):
    # a staff key that may not even read, sent along by mistake, changes nothing there
    client = _client(recruiter, "export")

    started = client.post(reverse("api:play-start", args=[invitation.invite_token]))

    assert started.status_code == 200
    assert "session_token" in started.json()


def test_views_outside_the_api_refuse_a_key_without_the_scope_alike(recruiter):
    reader = api_key_create(user=recruiter, scopes=["read"]).api_key
    exporter = api_key_create(user=recruiter, scopes=["export"]).api_key

    refusal = api_key_scope_refusal(reader, ApiScope.EXPORT)

    assert api_key_scope_refusal(exporter, ApiScope.EXPORT) is None
    assert refusal is not None
    assert refusal.status_code == 403
    assert json.loads(refusal.content) == _missing("export", ["read"])
