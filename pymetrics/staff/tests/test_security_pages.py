"""The log-in's two-factor step, set-up and removal pages, and the staff session rules."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from pymetrics.accounts.middleware import AUTH_AT_SESSION_KEY, SEEN_AT_SESSION_KEY
from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.accounts.tests.helpers import confirmed_totp_device, current_code, login_verified

PASSWORD = "correct horse battery"
HOME = reverse("staff:assessment-list")
ENROL = reverse("staff:two-factor-enrol")
VERIFY = reverse("staff:two-factor-verify")
SECURITY = reverse("staff:account-security")


@pytest.fixture
def owner(organization):
    return user_create(
        email="olga@acme.example", password=PASSWORD, organization=organization, role=Role.OWNER
    )


@pytest.fixture
def analyst(organization):
    return user_create(
        email="ann@acme.example", password=PASSWORD, organization=organization, role=Role.ANALYST
    )


def _log_in(client: Client, email: str, next_url: str = ""):
    data = {"username": email, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("staff:login"), data)


def _unthrottle(device):
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1), last_t=-1
    )
    device.refresh_from_db()


# --- owners and admins without a device: set-up first ---------------------------------


def test_an_owner_without_a_device_is_sent_to_set_one_up_with_a_new_session_key(client, owner):
    client.get(reverse("staff:login"))
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else ""

    response = _log_in(client, "olga@acme.example", next_url="/staff/trends/")

    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fstaff%2Ftrends%2F"
    assert client.session[SESSION_KEY] == str(owner.pk)
    assert client.session.session_key != before
    assert DEVICE_ID_SESSION_KEY not in client.session


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_before_set_up_owners_and_admins_reach_nothing_else(client, organization, role):
    user = user_create(
        email="boss@acme.example", password=PASSWORD, organization=organization, role=role
    )
    _log_in(client, "boss@acme.example")

    page = client.get(reverse("staff:trends"))
    api = client.get(reverse("api:assessments"))
    data = client.get(reverse("staff:system-data"))
    security = client.get(SECURITY)

    assert (page.status_code, page["Location"]) == (302, f"{ENROL}?next=%2Fstaff%2Ftrends%2F")
    assert security["Location"].startswith(ENROL)
    for refused in (api, data):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "two_factor_required"
        assert "set it up" in refused.json()["error"]["message"]
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_an_operator_must_set_up_two_factor_before_the_django_admin(client, organization):
    # a recruiter of the organisation, but an operator too: the admin shows every
    # organisation's data, decrypted
    user_create(
        email="otto@acme.example",
        password=PASSWORD,
        organization=organization,
        role=Role.RECRUITER,
        is_staff=True,
    )
    _log_in(client, "otto@acme.example")

    response = client.get("/admin/assessments/candidate/")

    assert (response.status_code, response["Location"]) == (
        302,
        f"{ENROL}?next=%2Fadmin%2Fassessments%2Fcandidate%2F",
    )


def test_the_set_up_page_draws_the_qr_code_on_the_server(client, owner):
    _log_in(client, "olga@acme.example")

    response = client.get(ENROL)

    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user=owner)
    assert device.confirmed is False
    assert '<svg role="img" aria-label="QR code for your authenticator app"' in html
    assert response.context["secret"].replace(" ", "") in html.replace(" ", "")
    assert 'data-testid="two-factor-mandatory"' in html
    assert "<script" not in html.split("<main", 1)[1]
    assert "style=" not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_confirming_the_set_up_verifies_the_session_and_opens_the_pages(client, owner):
    _log_in(client, "olga@acme.example")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=owner)
    key_before = client.session.session_key

    wrong = client.post(ENROL, {"otp_token": "000000", "next": "/staff/trends/"})
    _unthrottle(device)
    right = client.post(ENROL, {"otp_token": current_code(device), "next": "/staff/trends/"})

    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    assert (right.status_code, right["Location"]) == (302, "/staff/trends/")
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.session.session_key != key_before
    assert client.get(HOME).status_code == 200
    assert client.get(reverse("api:assessments")).status_code == 200
    assert [e.action for e in AuditLog.objects.filter(object_type="user").order_by("id")] == [
        "two_factor.failed",
        "two_factor.enrolled",
    ]


def test_the_set_up_page_refuses_a_next_of_another_site(client, owner):
    _log_in(client, "olga@acme.example")
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=owner)

    response = client.post(ENROL, {"otp_token": current_code(device), "next": "https://evil.test/"})

    assert response["Location"] == SECURITY


# --- users with a device: the code step -------------------------------------------------


def test_a_user_with_a_device_types_a_code_after_the_password(client, owner):
    device = confirmed_totp_device(owner)

    response = _log_in(client, "olga@acme.example")
    held = client.get(HOME)
    form = client.get(VERIFY)

    assert response["Location"] == f"{VERIFY}?next=%2Fstaff%2F"
    assert held["Location"] == f"{VERIFY}?next=%2Fstaff%2F"
    assert form.status_code == 200
    assert 'autocomplete="one-time-code"' in form.content.decode()
    verified = client.post(VERIFY, {"otp_token": current_code(device), "next": "/staff/"})
    assert (verified.status_code, verified["Location"]) == (302, "/staff/")
    assert client.get(HOME).status_code == 200


def test_the_code_step_is_throttled(client, analyst):
    device = confirmed_totp_device(analyst)
    _log_in(client, "ann@acme.example")

    wrong = client.post(VERIFY, {"otp_token": "111111"})
    throttled = client.post(VERIFY, {"otp_token": current_code(device)})

    assert wrong.status_code == 400
    assert throttled.status_code == 400
    assert "Too many wrong codes: wait 1 s before trying again." in throttled.content.decode()
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(HOME)["Location"].startswith(VERIFY)
    assert [e.details for e in AuditLog.objects.filter(action="two_factor.failed")] == [
        {"step": "login", "throttled": True},
        {"step": "login", "throttled": False},
    ]  # newest first
    _unthrottle(device)
    assert client.post(VERIFY, {"otp_token": current_code(device)}).status_code == 302
    assert client.get(HOME).status_code == 200


def test_candidate_pages_ignore_a_session_that_owes_its_code(client, owner, invitation):
    _log_in(client, "olga@acme.example")  # an owner with no device yet

    response = client.get(reverse("play:invite", args=[invitation.invite_token]))

    assert response.status_code == 200


def test_api_keys_are_not_asked_for_a_code(owner, organization):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=owner).plaintext}")

    assert api.get(reverse("api:assessments")).status_code == 200


# --- the Account security page --------------------------------------------------------


def test_an_analyst_logs_in_with_the_password_alone_and_may_turn_two_factor_on(client, analyst):
    assert _log_in(client, "ann@acme.example")["Location"] == HOME

    page = client.get(SECURITY)
    assert page.status_code == 200
    assert "Off: your password alone logs you in." in page.content.decode()
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=analyst)
    done = client.post(ENROL, {"otp_token": current_code(device)})

    assert done["Location"] == SECURITY
    assert "On: you enter a code" in client.get(SECURITY).content.decode()


def test_an_analyst_turns_two_factor_off_with_a_current_code(client, analyst):
    device = login_verified(client, analyst)

    refused = client.post(reverse("staff:two-factor-remove"), {"otp_token": "222222"})
    assert refused["Location"] == SECURITY
    assert TOTPDevice.objects.filter(user=analyst).exists()
    _unthrottle(device)
    removed = client.post(reverse("staff:two-factor-remove"), {"otp_token": current_code(device)})

    assert removed["Location"] == SECURITY
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    assert client.get(HOME).status_code == 200
    assert AuditLog.objects.filter(action="two_factor.removed").count() == 1


def test_an_owner_who_removes_the_device_must_set_up_another_at_once(client, owner):
    device = login_verified(client, owner)

    response = client.post(reverse("staff:two-factor-remove"), {"otp_token": current_code(device)})

    assert response["Location"] == ENROL
    assert client.get(HOME)["Location"].startswith(ENROL)


def test_a_reset_ends_the_members_verified_sessions(client, owner, organization):
    admin = user_create(
        email="ada@acme.example", password=PASSWORD, organization=organization, role=Role.ADMIN
    )
    login_verified(client, admin)
    assert client.get(HOME).status_code == 200
    from pymetrics.accounts.services import Actor
    from pymetrics.accounts.twofactor import two_factor_reset

    two_factor_reset(Actor(user=owner, organization=organization, role=Role.OWNER), admin)

    assert client.get(HOME)["Location"].startswith(ENROL)


# --- session lifetime ----------------------------------------------------------------


def _age_session(client: Client, *, auth_ago: int, seen_ago: int) -> None:
    session = client.session
    now = int(time.time())
    session[AUTH_AT_SESSION_KEY] = now - auth_ago
    session[SEEN_AT_SESSION_KEY] = now - seen_ago
    session.save()


def test_the_defaults_are_a_thirty_minute_idle_timeout_and_twelve_hours_at_most(settings):
    assert settings.PYMETRICS_SESSION_IDLE_S == 1800
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_an_idle_session_is_logged_out(client, analyst):
    login_verified(client, analyst)
    assert client.get(HOME).status_code == 200
    _age_session(client, auth_ago=3600, seen_ago=1801)

    response = client.get(HOME, follow=True)

    assert response.redirect_chain[0] == (f"{reverse('staff:login')}?next=/staff/", 302)
    assert "logged out after 30 minutes without activity" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_activity_keeps_a_session_until_its_absolute_lifetime(client, analyst):
    login_verified(client, analyst)
    client.get(HOME)
    _age_session(client, auth_ago=11 * 3600, seen_ago=120)

    assert client.get(HOME).status_code == 200
    assert int(time.time()) - client.session[SEEN_AT_SESSION_KEY] < 5  # seen again
    _age_session(client, auth_ago=12 * 3600, seen_ago=10)
    ended = client.get(HOME)

    assert ended.status_code == 302
    assert ended["Location"].startswith(reverse("staff:login"))


def test_a_password_change_logs_the_other_sessions_out(analyst):
    laptop, phone = Client(), Client()
    login_verified(laptop, analyst)
    login_verified(phone, analyst)
    assert phone.get(HOME).status_code == 200

    analyst.set_password("a brand new horse battery")
    analyst.save()

    assert phone.get(HOME)["Location"].startswith(reverse("staff:login"))


def test_logging_in_records_the_start_of_the_session(client, analyst):
    before = int(time.time())
    _log_in(client, "ann@acme.example")

    started = client.session[AUTH_AT_SESSION_KEY]
    assert before <= started <= int(time.time())
    assert client.session[SEEN_AT_SESSION_KEY] == started


def test_the_lockout_page_is_a_staff_page(client, analyst):
    for _ in range(5):
        response = _log_in_wrong(client)

    html = response.content.decode()
    assert response.status_code == 429
    assert re.search(r"Try again after \d\d:\d\d \(UTC\)", html)
    assert 'href="/static/staff/staff.css"' in html or "staff/staff.css" in html


def _log_in_wrong(client: Client):
    return client.post(
        reverse("staff:login"), {"username": "ann@acme.example", "password": "not it"}
    )
