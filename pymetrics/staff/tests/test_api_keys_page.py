"""The API keys page: list, create (the key shown once), revoke; who sees and revokes what."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import ApiKey, AuditLog
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.staff.pages.apikeys import SESSION_NEW_KEY

URL = reverse("staff:api-keys")
CREATED = reverse("staff:api-key-created")


def _row_ids(html: str) -> list[int]:
    return [
        int(found) for found in re.findall(r'data-testid="api-key-row" data-key-id="(\d+)"', html)
    ]


def _shown_key(html: str) -> str:
    match = re.search(r'value="(pmk_[^"]+)"[^>]*data-testid="new-api-key"', html)
    assert match is not None
    return match.group(1)


def test_a_member_makes_a_key_and_sees_it_exactly_once(recruiter_browser, recruiter, assessment):
    response = recruiter_browser.post(URL, {"name": "ATS sync", "scopes": ["read", "export"]})

    assert (response.status_code, response["Location"]) == (302, CREATED)
    shown = recruiter_browser.get(CREATED)
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    plaintext = _shown_key(shown.content.decode())
    api_key = ApiKey.objects.get(user=recruiter)
    assert plaintext.startswith(f"pmk_{api_key.prefix}_")
    assert (api_key.name, api_key.scopes) == ("ATS sync", ["read", "export"])
    # gone from the session once shown; a second visit shows nothing
    assert SESSION_NEW_KEY not in recruiter_browser.session
    again = recruiter_browser.get(CREATED)
    assert (again.status_code, again["Location"]) == (302, URL)
    assert plaintext not in recruiter_browser.get(URL).content.decode()
    # and the key works with its scopes
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert client.get("/api/v1/assessments/").status_code == 200
    assert client.post("/api/v1/assessments/", {}, format="json").status_code == 403
    entry = AuditLog.objects.get(action="api_key.created")
    assert (entry.actor_id, entry.details["scopes"]) == (recruiter.pk, ["read", "export"])


def test_read_is_checked_by_default_and_a_key_needs_a_name_and_a_scope(recruiter_browser):
    page = recruiter_browser.get(URL).content.decode()
    refused = recruiter_browser.post(URL, {"name": ""})

    assert re.search(r'<input type="checkbox" name="scopes" value="read"[^>]*checked', page)
    assert not re.search(r'<input type="checkbox" name="scopes" value="write"[^>]*checked', page)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'data-testid="name-errors"' in html
    assert "Choose at least one scope." in html
    assert ApiKey.objects.count() == 0


def test_members_see_their_own_keys_and_managers_every_key(
    recruiter_browser, admin_browser, recruiter, admin, analyst, organization, other_organization
):
    ritas = api_key_create(user=recruiter, name="rita's").api_key
    anns = api_key_create(user=analyst, name="ann's").api_key
    adas = api_key_create(user=admin, name="ada's").api_key

    as_recruiter = recruiter_browser.get(URL).content.decode()
    as_admin = admin_browser.get(URL).content.decode()

    assert _row_ids(as_recruiter) == [ritas.pk]
    assert _row_ids(as_admin) == [adas.pk, anns.pk, ritas.pk]
    assert "The organisation's keys" in as_admin
    assert f"pmk_{anns.prefix}_…" in as_admin


def test_a_member_revokes_their_own_key_but_not_another_s(recruiter_browser, recruiter, analyst):
    ritas = api_key_create(user=recruiter).api_key
    anns = api_key_create(user=analyst).api_key

    own = recruiter_browser.post(reverse("staff:api-key-revoke", args=[ritas.pk]))
    other = recruiter_browser.post(reverse("staff:api-key-revoke", args=[anns.pk]))

    assert (own.status_code, own["Location"]) == (302, URL)
    assert other.status_code == 403
    assert ApiKey.objects.get(pk=ritas.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=anns.pk).revoked_at is None
    assert list(
        AuditLog.objects.filter(action="api_key.revoked").values_list("object_id", flat=True)
    ) == [str(ritas.pk)]


def test_an_admin_revokes_any_key_of_the_organisation_only(
    admin_browser, analyst, other_organization
):
    anns = api_key_create(user=analyst).api_key
    stranger = user_create(
        email="gina@globex.example", password=None, organization=other_organization
    )
    foreign = api_key_create(user=stranger).api_key

    revoked = admin_browser.post(reverse("staff:api-key-revoke", args=[anns.pk]))
    missing = admin_browser.post(reverse("staff:api-key-revoke", args=[foreign.pk]))
    twice = admin_browser.post(reverse("staff:api-key-revoke", args=[anns.pk]), follow=True)

    assert revoked.status_code == 302
    assert missing.status_code == 404
    assert "That key was already revoked." in twice.content.decode()
    assert ApiKey.objects.get(pk=foreign.pk).revoked_at is None
    page = admin_browser.get(URL).content.decode()
    assert 'data-testid="api-key-revoke"' not in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_pages_need_a_login(method):
    response = getattr(Client(), method)(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:login"))


def test_a_key_made_in_one_session_is_not_shown_in_another(recruiter, organization):
    first, second = Client(), Client()
    login_verified(first, recruiter)
    login_verified(second, recruiter)

    first.post(URL, {"name": "one", "scopes": ["read"]})

    assert second.get(CREATED).status_code == 302
    assert first.get(CREATED).status_code == 200
