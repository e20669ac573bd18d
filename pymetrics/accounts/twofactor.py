"""Two-factor authentication of staff users: TOTP devices (django-otp), who needs one.

A staff session is *verified* once its user typed a current code of their confirmed
TOTP device (:func:`django_otp.login` keeps the device's id in the session). Owners
and admins of the organisation they act in must have a device and a verified
session before they reach anything; analysts and recruiters may enrol, and once
they have, their sessions are verified the same way. API keys are scoped
credentials and are never asked for a code.

Every enrolment, removal, reset and wrong code is audit-logged, with ids and flags
only (never the secret, the code or an e-mail address).
"""

from __future__ import annotations

import math
from base64 import b32encode
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from pymetrics.accounts.models import Membership, Role, User
from pymetrics.accounts.permissions import SESSION_ORGANIZATION_KEY
from pymetrics.accounts.selectors import membership_for_user
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.common.errors import NotFound, PermissionDenied, ValidationFailed

#: Roles that must use two-factor authentication in the organisation they act in.
MANDATORY_ROLES = frozenset({Role.OWNER.value, Role.ADMIN.value})
#: The name given to every staff TOTP device (one per user).
DEVICE_NAME = "Authenticator app"

# What a session still needs before its user may reach the staff side.
NEEDS_NOTHING = ""
NEEDS_CODE = "code"
NEEDS_ENROLMENT = "enrolment"


class CodeThrottled(ValidationFailed):
    """Too many wrong codes lately: django-otp refuses to check one before ``wait_s``."""

    code = "two_factor_throttled"

    def __init__(self, wait_s: int) -> None:
        super().__init__(
            f"Too many wrong codes: wait {wait_s} s before trying again.",
            details={"wait_s": wait_s},
        )
        self.wait_s = wait_s


def two_factor_required(role: str | None) -> bool:
    """Whether a member of ``role`` must have two-factor authentication."""
    return role in MANDATORY_ROLES


def confirmed_device(user: User) -> TOTPDevice | None:
    """The user's confirmed TOTP device, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def acting_role(user: User, session: Mapping[str, Any] | None) -> str | None:
    """The user's role in the organisation the session acts in (None: no organisation)."""
    organization_id = session.get(SESSION_ORGANIZATION_KEY) if session is not None else None
    membership = membership_for_user(user=user, organization_id=organization_id)
    return membership.role if membership is not None else None


def session_device_id(session: Mapping[str, Any] | None) -> str | None:
    value = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
    return value if isinstance(value, str) else None


def session_requirement(user: User, *, verified: bool, role: str | None) -> str:
    """What the session of ``user`` still needs: NEEDS_NOTHING, NEEDS_CODE or NEEDS_ENROLMENT.

    ``verified`` is django-otp's answer for the session (``request.user.is_verified()``),
    ``role`` the user's role in the organisation the session acts in. A user with a
    device must type a code whatever their role; an owner or admin without one must
    enrol first, and so must an operator (``is_staff``: the Django admin shows every
    organisation's data, decrypted).
    """
    if verified:
        return NEEDS_NOTHING
    if confirmed_device(user) is not None:
        return NEEDS_CODE
    if two_factor_required(role) or user.is_staff:
        return NEEDS_ENROLMENT
    return NEEDS_NOTHING


def session_is_verified(user: User, session: Mapping[str, Any] | None) -> bool:
    """Whether ``session`` was verified with a confirmed device of ``user``.

    The check OTPMiddleware makes, for callers without a Django request (sockets).
    """
    device_id = session_device_id(session)
    if not device_id:
        return False
    device = Device.from_persistent_id(device_id)
    return isinstance(device, TOTPDevice) and device.user_id == user.pk and bool(device.confirmed)


def session_satisfies_two_factor(
    user: User, session: Mapping[str, Any] | None, *, role: str | None
) -> bool:
    """True when a session user owes no two-factor step (the staff sockets' check).

    ``role``: the user's role in the organisation the session acts in.
    """
    verified = session_is_verified(user, session)
    return session_requirement(user, verified=verified, role=role) == NEEDS_NOTHING


# --- enrolment ------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """A device waiting for its first code: what the enrolment page shows."""

    device: TOTPDevice
    #: the ``otpauth://`` URL the QR code holds
    config_url: str
    #: the secret in base32, grouped by four for typing it in by hand
    secret: str


def enrolment_start(user: User) -> Enrolment:
    """The user's unconfirmed device (made on first call, kept across page loads)."""
    if confirmed_device(user) is not None:
        raise ValidationFailed(
            "Two-factor authentication is already set up for this account.",
            code="two_factor_enrolled",
        )
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    secret = b32encode(device.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Enrolment(device=device, config_url=device.config_url, secret=grouped)


def _clean(token: str) -> str:
    return "".join(token.split())


def _check(device: TOTPDevice, token: str) -> bool:
    """Verify ``token`` on ``device`` under django-otp's throttling; CodeThrottled if waiting."""
    allowed, data = device.verify_is_allowed()
    if not allowed:
        raise CodeThrottled(_wait_seconds(data))
    with transaction.atomic():
        # lock the row: two requests racing must not both pass with one code
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        verified = bool(locked.verify_token(_clean(token)))
    device.refresh_from_db()
    return verified


def _wait_seconds(data: Mapping[str, Any] | None) -> int:
    until = (data or {}).get("locked_until")
    if until is None:
        return 1
    return max(1, math.ceil((until - timezone.now()).total_seconds()))


def _audit_failure(actor: Actor | None, user: User, *, step: str, throttled: bool) -> None:
    audit_log_record(
        actor=actor,
        action="two_factor.failed",
        object_type="user",
        object_id=user.pk,
        details={"step": step, "throttled": throttled},
    )


def enrolment_confirm(*, user: User, token: str, actor: Actor | None) -> TOTPDevice:
    """Confirm the pending device with its first code; the caller then verifies the session."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        raise ValidationFailed(
            "Start the set-up again: no authenticator is waiting for a code.",
            code="two_factor_not_started",
        )
    try:
        verified = _check(device, token)
    except CodeThrottled:
        _audit_failure(actor, user, step="enrol", throttled=True)
        raise
    if not verified:
        _audit_failure(actor, user, step="enrol", throttled=False)
        raise ValidationFailed(
            "That code is not right. Enter the current 6-digit code from your app.",
            code="two_factor_wrong_code",
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # a user has one device: drop any other half-made one
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        audit_log_record(
            actor=actor,
            action="two_factor.enrolled",
            object_type="user",
            object_id=user.pk,
            details={"device_id": device.pk},
        )
    return device


# --- the log-in step ---------------------------------------------------------------


def code_verify(*, user: User, token: str, actor: Actor | None) -> TOTPDevice:
    """The device that accepts ``token`` (the log-in's second step), else ValidationFailed."""
    return _device_accepting(user=user, token=token, actor=actor, step="login")


def _device_accepting(*, user: User, token: str, actor: Actor | None, step: str) -> TOTPDevice:
    """The user's confirmed device if it accepts ``token``; a wrong code is audited."""
    device = confirmed_device(user)
    if device is None:
        raise ValidationFailed(
            "This account has no authenticator set up.", code="two_factor_not_enrolled"
        )
    try:
        verified = _check(device, token)
    except CodeThrottled:
        _audit_failure(actor, user, step=step, throttled=True)
        raise
    if not verified:
        _audit_failure(actor, user, step=step, throttled=False)
        raise ValidationFailed(
            "That code is not right. Enter the current 6-digit code from your app.",
            code="two_factor_wrong_code",
        )
    return device


# --- removal and reset ---------------------------------------------------------------


def two_factor_remove(*, user: User, token: str, actor: Actor | None) -> int:
    """The user removes their own device, proving they still hold it with a current code.

    An owner or admin may do it too (to replace a phone): their session is then
    unverified and they must enrol a new device before anything else.
    Returns the number of devices removed.
    """
    _device_accepting(user=user, token=token, actor=actor, step="remove")
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_log_record(
            actor=actor,
            action="two_factor.removed",
            object_type="user",
            object_id=user.pk,
            details={"devices_removed": removed},
        )
    return removed


def two_factor_reset(actor: Actor, user: User) -> int:
    """An owner or admin clears another member's two-factor set-up (a lost phone).

    The member's verified sessions stop being verified at once (their device is
    gone); at their next request they are asked to enrol again if their role
    requires it. Owners may reset anyone in their organisation, admins anyone but
    owners; nobody resets their own (the Account security page does that, with a
    code). A user outside the actor's organisation is not found. Returns the number
    of devices removed (0 when the member had none, which is still logged).
    """
    if actor.api_key is not None:
        raise PermissionDenied("Two-factor set-ups are reset from the staff pages, not the API.")
    if actor.role not in MANDATORY_ROLES:
        raise PermissionDenied("Only owners and admins may reset a member's two-factor set-up.")
    membership = (
        Membership.objects.filter(user=user, organization=actor.organization).only("role").first()
    )
    if membership is None:
        raise NotFound("No such member in this organisation.")
    if actor.user is not None and actor.user.pk == user.pk:
        raise PermissionDenied(
            "Reset your own two-factor set-up from the Account security page.",
            code="two_factor_self_reset",
        )
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner may reset an owner's two-factor set-up.")
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit_log_record(
            actor=actor,
            action="two_factor.reset",
            object_type="user",
            object_id=user.pk,
            details={"devices_removed": removed, "member_role": membership.role},
        )
    return removed
