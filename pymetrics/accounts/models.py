"""Organisations, staff users, their roles, API keys and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class Organization(models.Model):
    """A hiring team or research lab: the boundary of every piece of data."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    #: candidates may open their own feedback report from their invite link
    feedback_reports_enabled = models.BooleanField(default=False)
    #: days after a candidate's last activity before their data is erased (None: kept)
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("a user needs an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # Log-in looks users up here: people type their e-mail address in any case.
        return self.get(email__iexact=username)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member; logs in with an e-mail address."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    #: may open the Django admin (operators), not the same as organisation roles
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ANALYST = "analyst", "Analyst"
    RECRUITER = "recruiter", "Recruiter"


class Membership(models.Model):
    """A user's role in one organisation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "organization"), name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.organization}"


class ApiScope(models.TextChoices):
    """What an API key may do; a key holds one or more."""

    READ = "read", "Read"
    WRITE = "write", "Write"
    EXPORT = "export", "Export"


def all_api_scopes() -> list[str]:
    return [scope.value for scope in ApiScope]


class ApiKey(models.Model):
    """A programmatic credential of one user in one organisation.

    Only a SHA-256 hash of the secret is stored: the key is shown once, when made.
    The public ``prefix`` finds the row without scanning hashes.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    #: what the key may do (:class:`ApiScope` values)
    scopes = models.JSONField(default=all_api_scopes)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pmk_{self.prefix}_… ({self.user})"


class AuditLogIsAppendOnly(Exception):
    """An attempt to delete an audit entry, or to change one other than by sealing it."""


#: The columns sealing fills in once; nothing else of an entry may ever change.
AUDIT_SEAL_FIELDS = frozenset({"chain_seq", "prev_hash", "entry_hash"})


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    """Refuses deletes and edits in the application (the database refuses them too)."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("the audit log is append-only: entries cannot be deleted")

    def update(self, **kwargs: Any) -> int:
        if not set(kwargs) <= AUDIT_SEAL_FIELDS:
            raise AuditLogIsAppendOnly("the audit log is append-only: entries cannot be changed")
        return super().update(**kwargs)


class AuditLog(models.Model):
    """Who read or changed what, when: every access to candidate data lands here.

    Append-only: the database refuses to delete a row or to change one, except to
    seal it once (:mod:`pymetrics.accounts.audit_chain`): the sealer gives each
    entry its place in the hash chain (``chain_seq``), the hash of the entry
    before it and its own hash, so that ``verify_audit_log`` finds any later edit
    or deletion. The people, keys and organisations named are kept as bare ids
    (no foreign key constraint): deleting a user or an organisation must not
    rewrite the history of what they did.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    #: the entry's place in the hash chain, given when it is sealed (None until then)
    chain_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    #: the hash of the entry sealed before this one ("" for the first)
    prev_hash = models.CharField(max_length=64, blank=True)
    #: SHA-256 of ``prev_hash`` and this entry's canonical form
    entry_hash = models.CharField(max_length=64, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ("-at",)
        indexes = [
            models.Index(fields=("object_type", "object_id"), name="audit_object_idx"),
            # the sealer's queue: entries not yet in the chain, oldest first
            models.Index(
                fields=("id",), name="audit_unsealed_idx", condition=models.Q(chain_seq=None)
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.actor_id}" if self.actor_id else "system"
        if self.api_key_id:
            who += f" (API key {self.api_key_id})"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("the audit log is append-only: entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("the audit log is append-only: entries cannot be deleted")
