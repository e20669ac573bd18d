"""Writes for organisations, users, memberships, API keys and the audit log."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, OuterRef, Subquery
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.text import slugify

from pymetrics.accounts.models import (
    ApiKey,
    ApiScope,
    AuditLog,
    Membership,
    Organization,
    Role,
    User,
)
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

API_KEY_PREFIX = "pmk"
#: Roles that see and revoke every key of their organisation, and manage its members.
MEMBER_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


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


# --- memberships: who belongs to an organisation, in which role ----------------------------


@dataclass(frozen=True)
class MembershipAdded:
    membership: Membership
    #: a user was created for the e-mail address (no usable password yet)
    user_created: bool
    #: the user cannot log in until they set a password (through a welcome link)
    needs_password: bool


def _require_member_manager(actor: Actor, doing: str) -> None:
    if actor.role not in MEMBER_MANAGERS:
        raise PermissionDenied(f"only an owner or an admin may {doing}")


def _role_clean(role: str) -> str:
    if role not in Role.values:
        raise ValidationFailed(
            f"unknown role {role!r} (known: {', '.join(Role.values)})",
            code="invalid_role",
            details={"role": ["unknown"]},
        )
    return role


def _membership_locked(actor: Actor, membership_id: int) -> Membership:
    """The membership in the actor's organisation, locked (another organisation's: not found)."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, organization=actor.organization)
        .first()
    )
    if membership is None:
        raise NotFound("there is no member with that id in your organisation")
    return membership


def _owner_count(organization: Organization) -> int:
    # locked: two owners demoting each other at once must not leave none
    return len(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Role.OWNER)
        .values_list("pk", flat=True)
    )


def _permission_audit(
    actor: Actor, action: str, membership: Membership, details: dict[str, object]
) -> None:
    audit_log_record(
        actor=actor,
        action=action,
        object_type="membership",
        object_id=membership.pk,
        details={"kind": "permission_change", "member_user_id": membership.user_id, **details},
    )


@transaction.atomic
def membership_add(*, actor: Actor, email: str, role: str) -> MembershipAdded:
    """Add the person with ``email`` to the actor's organisation in ``role``.

    An existing user gets a membership; for a new address a user is created
    without a usable password (they set one through a welcome link). Owners and
    admins only; an admin may not make owners.
    """
    _require_member_manager(actor, "add members")
    role = _role_clean(role)
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied("only an owner may make someone an owner", code="owner_only")
    address = (email or "").strip()
    try:
        validate_email(address)
    except DjangoValidationError:
        raise ValidationFailed(
            "enter a valid e-mail address", details={"email": ["invalid"]}
        ) from None
    user = User.objects.filter(email__iexact=address).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(email=address, password=None)
    elif Membership.objects.filter(user=user, organization=actor.organization).exists():
        raise Conflict("this person is already a member of the organisation", code="already_member")
    membership = Membership.objects.create(user=user, organization=actor.organization, role=role)
    _permission_audit(
        actor, "membership.added", membership, {"new_role": role, "user_created": created}
    )
    return MembershipAdded(
        membership=membership,
        user_created=created,
        needs_password=not user.has_usable_password(),
    )


@transaction.atomic
def membership_role_change(*, actor: Actor, membership_id: int, role: str) -> Membership:
    """Give a member another role; the organisation always keeps an owner.

    Owners and admins only; an admin may neither change an owner's role nor make
    anyone an owner. The same role again changes nothing (and is not logged).
    """
    membership = _membership_locked(actor, membership_id)
    _require_member_manager(actor, "change members' roles")
    role = _role_clean(role)
    old_role = membership.role
    if actor.role != Role.OWNER and Role.OWNER in (old_role, role):
        raise PermissionDenied(
            "only an owner may change an owner's role or make an owner", code="owner_only"
        )
    if old_role == role:
        return membership
    if old_role == Role.OWNER and _owner_count(actor.organization) <= 1:
        raise Conflict(
            "the organisation's last owner cannot stop being an owner", code="last_owner"
        )
    membership.role = role
    membership.save(update_fields=["role"])
    _permission_audit(
        actor, "membership.role_changed", membership, {"old_role": old_role, "new_role": role}
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership_id: int) -> int:
    """Remove a member from the actor's organisation; answers how many keys were revoked.

    Owners and admins only, never themselves; an admin may not remove an owner and
    the last owner stays. The member's API keys of the organisation are revoked;
    the user and their other memberships remain.
    """
    membership = _membership_locked(actor, membership_id)
    _require_member_manager(actor, "remove members")
    if actor.user is not None and membership.user_id == actor.user.pk:
        raise PermissionDenied(
            "you cannot remove yourself from the organisation", code="cannot_remove_self"
        )
    if membership.role == Role.OWNER:
        if actor.role != Role.OWNER:
            raise PermissionDenied("only an owner may remove an owner", code="owner_only")
        if _owner_count(actor.organization) <= 1:
            raise Conflict("the organisation's last owner cannot be removed", code="last_owner")
    keys = list(
        ApiKey.objects.select_related("organization").filter(
            user_id=membership.user_id, organization=actor.organization, revoked_at__isnull=True
        )
    )
    revoked = sum(api_key_revoke(api_key=api_key, actor=actor) for api_key in keys)
    _permission_audit(
        actor,
        "membership.removed",
        membership,
        {"old_role": membership.role, "api_keys_revoked": revoked},
    )
    membership.delete()
    return revoked


def _hash_secret(secret: str) -> str:
    # API keys are 256-bit random values, so a fast hash is enough (no brute force).
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    #: the full key, shown to the user exactly once
    plaintext: str


#: Scopes a new key gets when none are asked for: least privilege.
DEFAULT_API_SCOPES: tuple[str, ...] = (ApiScope.READ,)


def api_scopes_clean(scopes: Iterable[str]) -> list[str]:
    """Known scopes, each once, in :class:`ApiScope` order; at least one."""
    wanted = {str(scope).strip().lower() for scope in scopes}
    unknown = sorted(wanted - set(ApiScope.values))
    if unknown:
        raise ValidationFailed(
            f"unknown API scope: {', '.join(unknown)} (known: {', '.join(ApiScope.values)})",
            code="invalid_scope",
            details={"scopes": unknown},
        )
    if not wanted:
        raise ValidationFailed("an API key needs at least one scope", code="invalid_scope")
    return [scope for scope in ApiScope.values if scope in wanted]


def api_key_create(
    *,
    user: User,
    organization: Organization | None = None,
    name: str = "",
    scopes: Iterable[str] = DEFAULT_API_SCOPES,
    actor: Actor | None = None,
) -> IssuedApiKey:
    """Issue a key for ``user`` in one of their organisations (their first when not given).

    The key may do what its ``scopes`` allow (read by default) within the role of
    its user. The creation is audit-logged (``actor`` None: the platform, such as
    ``manage.py create_api_key``) with the scopes, never the secret or the name.
    """
    cleaned = api_scopes_clean(scopes)
    if organization is None:
        membership = user.memberships.select_related("organization").order_by("created_at").first()
        if membership is None:
            raise ValueError(f"{user.email} belongs to no organisation")
        organization = membership.organization
    elif not user.memberships.filter(organization=organization).exists():
        raise ValueError(f"{user.email} is not a member of {organization.slug}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            user=user,
            organization=organization,
            name=name.strip()[: ApiKey._meta.get_field("name").max_length],
            prefix=prefix,
            key_hash=_hash_secret(secret),
            scopes=cleaned,
        )
        audit_log_record(
            actor=actor,
            action="api_key.created",
            object_type="api_key",
            object_id=api_key.pk,
            organization=organization,
            details={"key_user_id": user.pk, "prefix": prefix, "scopes": cleaned},
        )
    return IssuedApiKey(api_key=api_key, plaintext=f"{API_KEY_PREFIX}_{prefix}_{secret}")


#: How long a server process trusts an API key it has checked before checking it
#: again: a key revoked in another process, or a user deactivated or removed from
#: the key's organisation, is refused by every process within this many seconds
#: (a key revoked through :func:`api_key_revoke` at once by the revoking process).
#: A check is a query (key, user, organisation and role together); made on every
#: request, the lookups took most of a cached read's time.
API_KEY_RECHECK_S = 5.0
#: keys remembered per process; beyond that the expired ones go, then all
_TRUSTED_KEYS_MAX = 4096


@dataclass(frozen=True)
class _TrustedKey:
    api_key: ApiKey
    until: float


class _TrustedKeys:
    """API keys this process checked lately, by the SHA-256 of the whole presented key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, _TrustedKey] = {}

    def get(self, digest: str, now: float) -> ApiKey | None:
        trusted = self._keys.get(digest)
        return trusted.api_key if trusted is not None and trusted.until > now else None

    def remember(self, digest: str, api_key: ApiKey, until: float) -> None:
        with self._lock:
            if len(self._keys) >= _TRUSTED_KEYS_MAX:
                now = time.monotonic()
                self._keys = {d: t for d, t in self._keys.items() if t.until > now}
                if len(self._keys) >= _TRUSTED_KEYS_MAX:
                    self._keys = {}
            self._keys[digest] = _TrustedKey(api_key, until)

    def forget(self, *, api_key_id: int) -> None:
        with self._lock:
            self._keys = {d: t for d, t in self._keys.items() if t.api_key.pk != api_key_id}

    def clear(self) -> None:
        with self._lock:
            self._keys = {}


TRUSTED_KEYS = _TrustedKeys()


def _api_key_lookup(plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext`` with its user, organisation and ``member_role``."""
    try:
        marker, prefix, secret = plaintext.split("_", 2)
    except ValueError:
        return None
    if marker != API_KEY_PREFIX:
        return None
    role = Membership.objects.filter(
        user_id=OuterRef("user_id"), organization_id=OuterRef("organization_id")
    ).values("role")[:1]
    api_key = (
        ApiKey.objects.select_related("user", "organization")
        .annotate(member_role=Subquery(role))
        .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_key is None or not secrets.compare_digest(api_key.key_hash, _hash_secret(secret)):
        return None
    return api_key


ModelT = TypeVar("ModelT", bound=Model)


def _private_copy(api_key: ApiKey) -> ApiKey:
    """A copy of a remembered key (and its user and organisation) for one request.

    Shallow copies of the instances' fields: what a request sets on them stays its
    own. Built directly rather than by ``copy.copy`` (pickling machinery), which
    took a tenth of a cached API read.
    """
    user, organization = _clone(api_key.user), _clone(api_key.organization)
    mine = _clone(api_key)
    mine._state.fields_cache = {"user": user, "organization": organization}
    return mine


def _clone(instance: ModelT) -> ModelT:
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    state = ModelState()
    state.db, state.adding = instance._state.db, instance._state.adding
    clone._state = state
    return clone


def api_key_authenticate(*, plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or None; records when it was last used.

    The key comes with its user and organisation loaded, and ``member_role``: the
    user's role in the key's organisation, None when they are no longer a member
    (one query). A process remembers a key it checked for :data:`API_KEY_RECHECK_S`
    seconds; an unknown or revoked key is looked up every time.
    """
    digest = _hash_secret(plaintext)
    now = time.monotonic()
    api_key = TRUSTED_KEYS.get(digest, now)
    if api_key is None:
        api_key = _api_key_lookup(plaintext)
        if api_key is None:
            return None
        TRUSTED_KEYS.remember(digest, api_key, now + API_KEY_RECHECK_S)
    moment = timezone.now()
    # Write at most once a minute per key: hot API paths must not write on every call.
    last_used_at = api_key.last_used_at
    if last_used_at is None or (moment - last_used_at).total_seconds() > 60:
        api_key.last_used_at = moment  # the remembered key too: one write per minute
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=moment)
    return _private_copy(api_key)


def api_key_revoke(*, api_key: ApiKey, actor: Actor | None = None) -> bool:
    """Revoke a key at once (False: it already was); audit-logged when it was live."""
    moment = timezone.now()
    with transaction.atomic():
        revoked = bool(
            ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=moment)
        )
        if revoked:
            api_key.revoked_at = moment
            audit_log_record(
                actor=actor,
                action="api_key.revoked",
                object_type="api_key",
                object_id=api_key.pk,
                organization=api_key.organization,
                details={"key_user_id": api_key.user_id, "prefix": api_key.prefix},
            )
    TRUSTED_KEYS.forget(api_key_id=api_key.pk)
    return revoked


def api_key_revoke_by(*, actor: Actor, api_key_id: int) -> ApiKey:
    """Revoke a key of the actor's organisation: their own, or any for an owner or admin.

    Another organisation's key is not found; another member's key is refused (403)
    unless the actor manages the organisation's members.
    """
    api_key = (
        ApiKey.objects.select_related("organization")
        .filter(pk=api_key_id, organization=actor.organization)
        .first()
    )
    if api_key is None:
        raise NotFound("there is no API key with that id in your organisation")
    own = actor.user is not None and api_key.user_id == actor.user.pk
    if not own and actor.role not in MEMBER_MANAGERS:
        raise PermissionDenied("only an owner or an admin may revoke another member's API key")
    if not api_key_revoke(api_key=api_key, actor=actor):
        raise Conflict("this API key was already revoked")
    return api_key


def audit_log_record(
    *,
    actor: Actor | None,
    action: str,
    object_type: str,
    object_id: object = "",
    organization: Organization | None = None,
    details: dict[str, object] | None = None,
) -> AuditLog:
    """Append one entry: who (``actor``; None = the platform itself) did ``action`` to what.

    The entry is written at once, in the caller's transaction if there is one (so
    outside one it is committed before the caller answers). Reads of candidate data
    are audited on every request, so the statement is built once per process
    instead of by the ORM on every call (a tenth of a cached read's time); the row
    is the one ``AuditLog.objects.create`` would write (no signals here).
    """
    entry = AuditLog(
        organization=actor.organization if actor else organization,
        actor=actor.user if actor else None,
        api_key=actor.api_key if actor else None,
        ip_address=actor.ip_address if actor else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
    )
    _AUDIT_INSERT.insert(entry)
    return entry


class _AuditInsert:
    """``INSERT INTO <audit log> (...) VALUES (...)``, per database, made once.

    With it, how each column's value is prepared: text and foreign keys go as they
    are (what ``get_db_prep_save`` would return for them), the rest (JSON, IP
    address, times, and any field added later) through ``get_db_prep_save``.
    """

    def __init__(self) -> None:
        self._plans: dict[str, _AuditInsertPlan] = {}

    def insert(self, entry: AuditLog) -> None:
        database = connections[router.db_for_write(AuditLog)]
        plan = self._plans.get(database.alias) or self._plan(database)
        values = [
            getattr(entry, attname) if prepare is None else prepare(entry)
            for attname, prepare in plan.columns
        ]
        with _insert_cursor(database) as cursor:
            cursor.execute(plan.statement, values)
            entry.pk = cursor.fetchone()[0] if plan.returns else cursor.lastrowid
        entry._state.adding = False
        entry._state.db = database.alias

    def _plan(self, database: BaseDatabaseWrapper) -> _AuditInsertPlan:
        fields = [field for field in AuditLog._meta.concrete_fields if not field.primary_key]
        quote = database.ops.quote_name
        returns = bool(database.features.can_return_columns_from_insert)
        statement = (
            f"INSERT INTO {quote(AuditLog._meta.db_table)} "  # noqa: S608 - names from the model  # nosec B608
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
            + (f" RETURNING {quote(AuditLog._meta.pk.column)}" if returns else "")
        )
        columns = []
        for field in fields:
            plain = type(field) in (models.CharField, models.ForeignKey)
            columns.append((field.attname, None if plain else _preparer(field, database)))
        plan = _AuditInsertPlan(statement, returns, columns)
        self._plans[database.alias] = plan
        return plan


def _preparer(field: Any, database: BaseDatabaseWrapper) -> Callable[[AuditLog], Any]:
    def prepare(entry: AuditLog) -> Any:
        return field.get_db_prep_save(field.pre_save(entry, True), connection=database)

    return prepare


@dataclass(frozen=True)
class _AuditInsertPlan:
    statement: str
    returns: bool
    #: (attribute, how to prepare its value or None when it goes as it is), per column
    columns: list[tuple[str, Callable[[AuditLog], Any] | None]]


_AUDIT_INSERT = _AuditInsert()


def _insert_cursor(database: BaseDatabaseWrapper) -> Any:
    """A cursor for the audit insert: on PostgreSQL one that binds on the server.

    Django's PostgreSQL cursors bind parameters in Python (parsing the statement on
    every call); this one sends them apart, so psycopg prepares the statement on
    each connection after a few uses (``prepare_threshold``, config/env.py) and
    PostgreSQL neither parses nor plans it again. While queries are logged (DEBUG,
    tests that count them) the ordinary cursor is used: its log shows the statement.
    """
    if database.vendor != "postgresql" or database.queries_logged:
        return database.cursor()
    database.close_if_health_check_failed()
    database.ensure_connection()
    database.validate_thread_sharing()
    with database.wrap_database_errors:
        cursor = psycopg.Cursor(database.connection)
    return database.make_cursor(cursor)  # type: ignore[arg-type] # (stubs: the wrapper's type)
