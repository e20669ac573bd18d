"""Who may call the staff API: members of an organisation, acting within it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from pymetrics.accounts.models import ApiKey, User
from pymetrics.accounts.selectors import membership_for_user
from pymetrics.accounts.services import Actor

SESSION_ORGANIZATION_KEY = "organization_id"
_UNCHECKED = object()


def client_ip(request: HttpRequest | Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def actor_for_request(request: HttpRequest | Request) -> Actor | None:
    """The Actor of a staff request (API key or logged-in user), cached on the request."""
    cached = getattr(request, "_pymetrics_actor", None)
    if cached is not None:
        return cached
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return None
    auth = getattr(request, "auth", None)
    actor: Actor | None
    if isinstance(auth, ApiKey):
        role = _member_role(user, auth)
        if role is None:
            return None
        actor = Actor(
            user=user,
            organization=auth.organization,
            role=role,
            api_key=auth,
            ip_address=client_ip(request),
        )
    else:
        session = getattr(request, "session", None)
        organization_id = session.get(SESSION_ORGANIZATION_KEY) if session is not None else None
        membership = membership_for_user(user=user, organization_id=organization_id)
        if membership is None:
            return None
        actor = Actor(
            user=user,
            organization=membership.organization,
            role=membership.role,
            ip_address=client_ip(request),
        )
    request._pymetrics_actor = actor  # type: ignore[union-attr]
    return actor


def _member_role(user: User, api_key: ApiKey) -> str | None:
    """The key owner's role in the key's organisation; None when not a member (any more).

    :func:`~pymetrics.accounts.services.api_key_authenticate` brings it with the key
    (``member_role``); a key from elsewhere costs a query.
    """
    role = getattr(api_key, "member_role", _UNCHECKED)
    if role is not _UNCHECKED:
        return role if isinstance(role, str) else None
    membership = membership_for_user(user=user, organization_id=api_key.organization_id)
    if membership is None or membership.organization_id != api_key.organization_id:
        return None
    return membership.role


class IsOrganizationMember(BasePermission):
    message = "you are not a member of any organisation"

    def has_permission(self, request: Request, view: Any) -> bool:
        return actor_for_request(request) is not None
