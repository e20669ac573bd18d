"""The two-factor services: enrolment, the code step, throttling, removal, reset, sockets' check."""

from __future__ import annotations

from base64 import b32decode
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import Actor, user_create
from pymetrics.accounts.tests.helpers import confirmed_totp_device, current_code
from pymetrics.accounts.twofactor import (
    NEEDS_CODE,
    NEEDS_ENROLMENT,
    NEEDS_NOTHING,
    CodeThrottled,
    code_verify,
    enrolment_confirm,
    enrolment_start,
    session_requirement,
    session_satisfies_two_factor,
    two_factor_remove,
    two_factor_required,
    two_factor_reset,
)
from pymetrics.common.errors import NotFound, PermissionDenied, ValidationFailed


def _member(organization, role, email):
    return user_create(email=email, password=None, organization=organization, role=role)


def _actor(user, organization, role):
    return Actor(user=user, organization=organization, role=role, ip_address="203.0.113.9")


def _unthrottle(device):
    """Move the last failure back, as if the throttling delay had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
    )
    device.refresh_from_db()


def _entries(action):
    return list(AuditLog.objects.filter(action=action).order_by("id"))


def test_only_owners_and_admins_must_use_two_factor():
    assert [two_factor_required(role) for role in Role.values] == [True, True, False, False]
    assert two_factor_required(None) is False


def test_what_a_session_still_needs(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    analyst = _member(organization, Role.ANALYST, "ann@acme.example")

    assert session_requirement(owner, verified=False, role=Role.OWNER) == NEEDS_ENROLMENT
    assert session_requirement(analyst, verified=False, role=Role.ANALYST) == NEEDS_NOTHING
    confirmed_totp_device(analyst)
    confirmed_totp_device(owner)
    # a device means a code, whatever the role
    assert session_requirement(analyst, verified=False, role=Role.ANALYST) == NEEDS_CODE
    assert session_requirement(owner, verified=False, role=Role.OWNER) == NEEDS_CODE
    assert session_requirement(owner, verified=True, role=Role.OWNER) == NEEDS_NOTHING


def test_enrolment_keeps_one_pending_secret_until_confirmed(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")

    first = enrolment_start(owner)
    again = enrolment_start(owner)

    assert first.device.pk == again.device.pk
    assert first.device.confirmed is False
    assert first.secret == again.secret
    # the base32 text is the device key, grouped by four for typing
    assert b32decode(first.secret.replace(" ", "")) == first.device.bin_key
    assert first.config_url.startswith("otpauth://totp/Django%20Pymetrics%3Aolga%40acme.example?")
    assert "issuer=Django%20Pymetrics" in first.config_url


def test_a_wrong_code_does_not_confirm_and_is_audited_without_secrets(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    actor = _actor(owner, organization, Role.OWNER)
    device = enrolment_start(owner).device

    with pytest.raises(ValidationFailed) as wrong:
        enrolment_confirm(user=owner, token="000000", actor=actor)

    assert wrong.value.code == "two_factor_wrong_code"
    device.refresh_from_db()
    assert device.confirmed is False
    [entry] = _entries("two_factor.failed")
    assert (entry.actor_id, entry.organization_id, entry.object_type, entry.object_id) == (
        owner.pk,
        organization.pk,
        "user",
        str(owner.pk),
    )
    assert entry.details == {"step": "enrol", "throttled": False}
    assert str(entry.ip_address) == "203.0.113.9"


def test_the_right_code_confirms_the_device_and_is_audited(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    device = enrolment_start(owner).device

    confirmed = enrolment_confirm(
        user=owner, token=current_code(device), actor=_actor(owner, organization, Role.OWNER)
    )

    assert (confirmed.pk, confirmed.confirmed) == (device.pk, True)
    [entry] = _entries("two_factor.enrolled")
    assert (entry.actor_id, entry.object_id, entry.details) == (
        owner.pk,
        str(owner.pk),
        {"device_id": device.pk},
    )
    with pytest.raises(ValidationFailed) as again:
        enrolment_start(owner)
    assert again.value.code == "two_factor_enrolled"


def test_a_code_is_accepted_once_only(organization):
    analyst = _member(organization, Role.ANALYST, "ann@acme.example")
    device = confirmed_totp_device(analyst)
    code = current_code(device)

    assert code_verify(user=analyst, token=code, actor=None).pk == device.pk
    _unthrottle(device)
    with pytest.raises(ValidationFailed):
        code_verify(user=analyst, token=code, actor=None)  # replayed


def test_wrong_codes_are_throttled_by_django_otp(organization):
    analyst = _member(organization, Role.ANALYST, "ann@acme.example")
    device = confirmed_totp_device(analyst)

    with pytest.raises(ValidationFailed) as wrong:
        code_verify(user=analyst, token="123456", actor=None)
    assert wrong.value.code == "two_factor_wrong_code"
    # straight after a failure even the right code waits (1 s, then 2 s, 4 s, ...)
    with pytest.raises(CodeThrottled) as throttled:
        code_verify(user=analyst, token=current_code(device), actor=None)
    assert throttled.value.wait_s == 1
    assert throttled.value.code == "two_factor_throttled"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert [e.details for e in _entries("two_factor.failed")] == [
        {"step": "login", "throttled": False},
        {"step": "login", "throttled": True},
    ]
    # once the delay has passed, the right code works and clears the count
    _unthrottle(device)
    assert code_verify(user=analyst, token=current_code(device), actor=None).pk == device.pk
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_removal_needs_a_current_code(organization):
    analyst = _member(organization, Role.ANALYST, "ann@acme.example")
    actor = _actor(analyst, organization, Role.ANALYST)
    device = confirmed_totp_device(analyst)

    with pytest.raises(ValidationFailed):
        two_factor_remove(user=analyst, token="999999", actor=actor)
    assert TOTPDevice.objects.filter(user=analyst).count() == 1

    _unthrottle(device)
    assert two_factor_remove(user=analyst, token=current_code(device), actor=actor) == 1
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    [entry] = _entries("two_factor.removed")
    assert (entry.actor_id, entry.object_id, entry.details) == (
        analyst.pk,
        str(analyst.pk),
        {"devices_removed": 1},
    )


@pytest.mark.parametrize(
    ("actor_role", "member_role", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.ADMIN, True),
        (Role.ADMIN, Role.ANALYST, True),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.OWNER, False),
        (Role.ANALYST, Role.RECRUITER, False),
        (Role.RECRUITER, Role.RECRUITER, False),
    ],
)
def test_who_may_reset_whom(organization, actor_role, member_role, allowed):
    acting = _member(organization, actor_role, "acting@acme.example")
    member = _member(organization, member_role, "member@acme.example")
    confirmed_totp_device(member)
    actor = _actor(acting, organization, actor_role)

    if allowed:
        assert two_factor_reset(actor, member) == 1
        assert not TOTPDevice.objects.filter(user=member).exists()
        [entry] = _entries("two_factor.reset")
        assert (entry.actor_id, entry.organization_id, entry.object_id, entry.details) == (
            acting.pk,
            organization.pk,
            str(member.pk),
            {"devices_removed": 1, "member_role": member_role.value},
        )
    else:
        with pytest.raises(PermissionDenied):
            two_factor_reset(actor, member)
        assert TOTPDevice.objects.filter(user=member).count() == 1
        assert not _entries("two_factor.reset")


def test_a_reset_of_another_organisations_member_is_not_found(organization, other_organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    stranger = _member(other_organization, Role.ANALYST, "gina@globex.example")
    confirmed_totp_device(stranger)

    with pytest.raises(NotFound):
        two_factor_reset(_actor(owner, organization, Role.OWNER), stranger)
    assert TOTPDevice.objects.filter(user=stranger).count() == 1


def test_nobody_resets_their_own_and_api_keys_reset_nothing(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    admin = _member(organization, Role.ADMIN, "ada@acme.example")
    confirmed_totp_device(owner)

    with pytest.raises(PermissionDenied) as own:
        two_factor_reset(_actor(owner, organization, Role.OWNER), owner)
    assert own.value.code == "two_factor_self_reset"
    from pymetrics.accounts.services import api_key_create

    key = api_key_create(user=owner, organization=organization).api_key
    with pytest.raises(PermissionDenied):
        two_factor_reset(
            Actor(user=owner, organization=organization, role=Role.OWNER, api_key=key), admin
        )


def test_a_reset_of_a_member_without_a_device_is_still_logged(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    recruiter = _member(organization, Role.RECRUITER, "rita@acme.example")

    assert two_factor_reset(_actor(owner, organization, Role.OWNER), recruiter) == 0
    assert [e.details["devices_removed"] for e in _entries("two_factor.reset")] == [0]


def test_the_sockets_check_follows_the_session(organization):
    owner = _member(organization, Role.OWNER, "olga@acme.example")
    device = confirmed_totp_device(owner)
    other = confirmed_totp_device(_member(organization, Role.ADMIN, "ada@acme.example"))

    assert session_satisfies_two_factor(owner, {}, role=Role.OWNER) is False
    verified = {DEVICE_ID_SESSION_KEY: device.persistent_id}
    assert session_satisfies_two_factor(owner, verified, role=Role.OWNER) is True
    # another user's device does not verify this session
    borrowed = {DEVICE_ID_SESSION_KEY: other.persistent_id}
    assert session_satisfies_two_factor(owner, borrowed, role=Role.OWNER) is False
    # a reset device no longer verifies it
    device.delete()
    assert session_satisfies_two_factor(owner, verified, role=Role.OWNER) is False
