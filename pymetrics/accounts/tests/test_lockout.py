"""Log-in lockout (django-axes): N failures per e-mail and IP address, then a cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import user_create

PASSWORD = "correct horse battery"


@pytest.fixture
def analyst(organization):
    return user_create(
        email="ann@acme.example", password=PASSWORD, organization=organization, role=Role.ANALYST
    )


def _attempt(client, email, password, ip="198.51.100.7"):
    return client.post(
        reverse("staff:login"), {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def test_the_defaults_lock_out_a_pair_after_five_failures_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_CLIENT_IP_CALLABLE == "pymetrics.accounts.permissions.client_ip"


def test_the_fifth_failure_answers_the_lockout_page_and_is_audited(client, analyst):
    for _ in range(4):
        response = _attempt(client, "ann@acme.example", "wrong password")
        assert response.status_code == 200
        assert "Please enter a correct" in response.content.decode()

    locked = _attempt(client, "ann@acme.example", "wrong password")

    assert locked.status_code == 429
    # the login form was rendered first; axes' middleware answers the lockout page instead
    assert "staff/security/lockout.html" in [t.name for t in locked.templates]
    assert "Staff log in" not in locked.content.decode()
    assert locked["Retry-After"] == "900"
    text = locked.content.decode()
    assert "blocked for 15 minutes after 5 failed attempts" in text
    assert "ann@acme.example" not in text
    # axes' own tables hold the count and each failure
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        "ann@acme.example",
        "198.51.100.7",
        5,
    )
    assert AccessFailureLog.objects.filter(username="ann@acme.example").count() == 5
    # the audit log names the user by id, never the e-mail address
    [entry] = AuditLog.objects.filter(action="auth.lockout")
    assert (entry.object_type, entry.object_id, entry.organization_id) == (
        "user",
        str(analyst.pk),
        analyst.memberships.get().organization_id,
    )
    assert entry.details == {"failure_limit": 5, "cooloff_s": 900}


def test_a_locked_out_pair_is_refused_even_with_the_right_password(client, analyst):
    for _ in range(5):
        _attempt(client, "ann@acme.example", "wrong password")

    response = _attempt(client, "ann@acme.example", PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_email_and_ip_address(client, analyst):
    for _ in range(5):
        _attempt(client, "ann@acme.example", "wrong password")

    # the same person from another network, and another address from this one, log in
    elsewhere = Client()
    assert _attempt(elsewhere, "ann@acme.example", PASSWORD, ip="192.0.2.44").status_code == 302
    user_create(
        email="rob@acme.example",
        password=PASSWORD,
        organization=analyst.memberships.get().organization,
        role=Role.RECRUITER,
    )
    assert _attempt(Client(), "rob@acme.example", PASSWORD).status_code == 302


def test_after_the_cool_off_the_right_password_works_and_clears_the_count(client, analyst):
    for _ in range(5):
        _attempt(client, "ann@acme.example", "wrong password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = _attempt(client, "ann@acme.example", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("staff:assessment-list")
    assert not AccessAttempt.objects.exists()  # AXES_RESET_ON_SUCCESS


def test_failures_of_an_unknown_address_lock_out_without_naming_anyone(client, db):
    for _ in range(5):
        response = _attempt(client, "nobody@acme.example", "guess")

    assert response.status_code == 429
    [entry] = AuditLog.objects.filter(action="auth.lockout")
    assert (entry.object_type, entry.object_id, entry.actor_id, entry.organization_id) == (
        "login",
        "",
        None,
        None,
    )


def test_the_client_ip_is_the_projects_own(client, analyst, monkeypatch):
    """Axes asks pymetrics.accounts.permissions.client_ip, like the rest of the platform."""
    seen = []
    from pymetrics.accounts import permissions

    real = permissions.client_ip

    def spy(request):
        seen.append(real(request))
        return real(request)

    monkeypatch.setattr(permissions, "client_ip", spy)
    _attempt(client, "ann@acme.example", "wrong password", ip="203.0.113.5")

    assert "203.0.113.5" in seen
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"


def test_authenticate_needs_the_request_under_axes(analyst):
    """Code that checks a password must pass the request (the test client's login() does not)."""
    request = RequestFactory().post("/staff/login/", REMOTE_ADDR="198.51.100.7")

    assert authenticate(request, username="ann@acme.example", password=PASSWORD) == analyst
