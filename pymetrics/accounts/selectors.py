"""Reads for accounts: who a request acts as."""

from __future__ import annotations

from pymetrics.accounts.models import Membership, Organization, User


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
