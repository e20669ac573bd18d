"""Writes for organisations, users, memberships, API keys and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from pymetrics.accounts.models import ApiKey, AuditLog, Membership, Organization, Role, User

API_KEY_PREFIX = "pmk"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user in one organisation, maybe through an API key."""

    user: User | None
    organization: Organization
    role: str
    api_key: ApiKey | None = None
    ip_address: str | None = None

    @property
    def label(self) -> str:
        return str(self.user) if self.user else "system"


def organization_create(*, name: str, slug: str | None = None) -> Organization:
    return Organization.objects.create(name=name, slug=slug or slugify(name)[:64])


def organization_get_or_create(*, slug: str, name: str | None = None) -> Organization:
    organization, _ = Organization.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").title()}
    )
    return organization


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    organization: Organization,
    role: str = Role.RECRUITER,
    full_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """A staff user with a membership; ``password=None`` leaves login disabled."""
    user = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    Membership.objects.create(user=user, organization=organization, role=role)
    return user


def _hash_secret(secret: str) -> str:
    # API keys are 256-bit random values, so a fast hash is enough (no brute force).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    #: the full key, shown to the user exactly once
    plaintext: str


def api_key_create(
    *, user: User, organization: Organization | None = None, name: str = ""
) -> IssuedApiKey:
    """Issue a key for ``user`` in one of their organisations (their first when not given)."""
    if organization is None:
        membership = user.memberships.select_related("organization").order_by("created_at").first()
        if membership is None:
            raise ValueError(f"{user.email} belongs to no organisation")
        organization = membership.organization
    elif not user.memberships.filter(organization=organization).exists():
        raise ValueError(f"{user.email} is not a member of {organization.slug}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        user=user,
        organization=organization,
        name=name,
        prefix=prefix,
        key_hash=_hash_secret(secret),
    )
    return IssuedApiKey(api_key=api_key, plaintext=f"{API_KEY_PREFIX}_{prefix}_{secret}")


def api_key_authenticate(*, plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or None; records when it was last used."""
    try:
        marker, prefix, secret = plaintext.split("_", 2)
    except ValueError:
        return None
    if marker != API_KEY_PREFIX:
        return None
    api_key = (
        ApiKey.objects.select_related("user", "organization")
        .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None or not secrets.compare_digest(api_key.key_hash, _hash_secret(secret)):
        return None
    now = timezone.now()
    # Write at most once a minute per key: hot API paths must not write on every call.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def audit_log_record(
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: object = "",
    organization: Organization | None = None,
    details: dict[str, object] | None = None,
) -> AuditLog:
    """Append one entry: who (``actor``; None = the platform itself) did ``action`` to what."""
    return AuditLog.objects.create(
        organization=actor.organization if actor else organization,
        actor=actor.user if actor else None,
        api_key=actor.api_key if actor else None,
        ip_address=actor.ip_address if actor else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
    )
