"""Reads for accounts: who a request acts as, the team and its API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django_otp.plugins.otp_totp.models import TOTPDevice

from pymetrics.accounts.models import ApiKey, AuditLog, Membership, Organization, Role, User
from pymetrics.common.errors import NotFound


def membership_for_user(*, user: User, organization_id: int | None = None) -> Membership | None:
    """The user's membership in ``organization_id``, else their oldest one."""
    memberships = Membership.objects.select_related("organization").filter(user=user)
    if organization_id is not None:
        chosen = memberships.filter(organization_id=organization_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("created_at", "pk").first()


def organization_by_slug(*, slug: str) -> Organization | None:
    return Organization.objects.filter(slug=slug).first()


def user_by_email(*, email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


@dataclass(frozen=True)
class TeamMember:
    """One row of the team page: a membership, its user and their two-factor state."""

    membership: Membership
    user: User
    #: the user has a confirmed TOTP device
    two_factor: bool


def team_members(*, organization: Organization) -> list[TeamMember]:
    """The organisation's members, owners first, then by e-mail address."""
    order = Case(
        *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
        output_field=IntegerField(),
    )
    memberships = list(
        Membership.objects.select_related("user")
        .filter(organization=organization)
        .order_by(order, "user__email")
    )
    confirmed = set(
        TOTPDevice.objects.filter(
            user_id__in=[m.user_id for m in memberships], confirmed=True
        ).values_list("user_id", flat=True)
    )
    return [
        TeamMember(membership=m, user=m.user, two_factor=m.user_id in confirmed)
        for m in memberships
    ]


def membership_in_organization(*, organization: Organization, membership_id: int) -> Membership:
    """A membership of ``organization`` (another organisation's id: not found)."""
    membership = (
        Membership.objects.select_related("user")
        .filter(pk=membership_id, organization=organization)
        .first()
    )
    if membership is None:
        raise NotFound("there is no member with that id in your organisation")
    return membership


def api_keys_visible(*, organization: Organization, user: User, everyone: bool) -> list[ApiKey]:
    """The organisation's API keys the viewer may see, newest first.

    ``everyone``: every member's keys (owners and admins); else the viewer's own.
    """
    keys = ApiKey.objects.select_related("user").filter(organization=organization)
    if not everyone:
        keys = keys.filter(user=user)
    return list(keys.order_by("-created_at", "-pk"))


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log page narrows the organisation's entries to (empty: no filter)."""

    action: str = ""
    actor_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_entries(*, organization: Organization, chosen: AuditFilter) -> QuerySet[AuditLog]:
    """The organisation's audit entries matching ``chosen``, newest first.

    Only entries written in the organisation: the platform's own entries about
    nobody's data (organisation ``None``) are for operators, in the admin.
    """
    entries = AuditLog.objects.filter(organization_id=organization.pk)
    if chosen.action:
        entries = entries.filter(action=chosen.action)
    if chosen.actor_id is not None:
        entries = entries.filter(actor_id=chosen.actor_id)
    if chosen.object_type:
        entries = entries.filter(object_type=chosen.object_type)
        if chosen.object_id:
            entries = entries.filter(object_id=chosen.object_id)
    if chosen.since is not None:
        entries = entries.filter(at__gte=chosen.since)
    if chosen.until is not None:
        entries = entries.filter(at__lt=chosen.until)
    return entries.order_by("-at", "-pk")


def audit_actions(*, organization: Organization) -> list[str]:
    """The distinct actions recorded in the organisation, for the page's filter."""
    return list(
        AuditLog.objects.filter(organization_id=organization.pk)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )


def audit_object_types(*, organization: Organization) -> list[str]:
    return list(
        AuditLog.objects.filter(organization_id=organization.pk)
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
