"""Who may call the staff API: members of an organisation, acting within it.

An API key may also do only what its scopes allow (:class:`HasApiKeyScope`):
``read`` for safe methods, ``write`` for the others, and ``export`` (alone) for
the endpoints that hand out candidate data in bulk. Browser sessions are not
scoped: their role decides.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from pymetrics.accounts.models import ApiKey, ApiScope, User
from pymetrics.accounts.selectors import membership_for_user
from pymetrics.accounts.services import Actor
from pymetrics.common.api import error_body
from pymetrics.common.errors import PermissionDenied

SESSION_ORGANIZATION_KEY = "organization_id"
_UNCHECKED = object()


def client_ip(request: HttpRequest | Request) -> str | None:
    """The client's address: the connection's, or behind trusted proxies the one they saw.

    Each of ``PYMETRICS_TRUSTED_PROXY_COUNT`` proxies appends the address it received
    the request from to X-Forwarded-For, so the client is that many entries from the
    end; entries before it were written by the client and prove nothing. A header
    shorter than that (a request that bypassed a proxy) gives the connection's own.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.PYMETRICS_TRUSTED_PROXY_COUNT
    if hops and remote:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return remote


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


#: Staff API routes (``namespace:name``) that need the ``export`` scope whatever the
#: method: export jobs and candidates' data archives. A view may also say so itself
#: with a ``required_api_scope`` attribute.
EXPORT_ROUTES = frozenset(
    {
        "api:exports",
        "api:export-detail",
        "api:candidate-data-export",
        "api:data-export-detail",
    }
)


def required_api_scope(request: HttpRequest | Request, view: Any = None) -> str:
    """The scope an API key needs for this request."""
    declared = getattr(view, "required_api_scope", None)
    if declared:
        return str(declared)
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in EXPORT_ROUTES:
        return ApiScope.EXPORT.value
    return (ApiScope.READ if request.method in SAFE_METHODS else ApiScope.WRITE).value


def api_key_allows(api_key: ApiKey, scope: str) -> bool:
    return scope in (api_key.scopes or [])


class HasApiKeyScope(BasePermission):
    """A request made with an API key needs the scope its method or endpoint asks for.

    Refused with 403, code ``missing_scope``, naming the scope in the message and in
    ``details.required_scope``. Requests without an API key (browser sessions,
    candidate tokens) pass untouched.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        api_key = getattr(request, "auth", None)
        if not isinstance(api_key, ApiKey):
            return True
        scope = required_api_scope(request, view)
        if not api_key_allows(api_key, scope):
            raise missing_scope_error(api_key, scope)
        return True


def missing_scope_error(api_key: ApiKey, scope: str) -> PermissionDenied:
    """The refusal of a request its API key has no scope for (403, ``missing_scope``)."""
    scope = ApiScope(scope).value
    return PermissionDenied(
        f"this API key lacks the {scope!r} scope",
        code="missing_scope",
        details={"required_scope": scope, "key_scopes": list(api_key.scopes or [])},
    )


def api_key_scope_refusal(api_key: ApiKey, scope: str) -> JsonResponse | None:
    """For views outside DRF that take an API key (signed downloads): the 403 to answer.

    None when the key has ``scope``; else the same JSON refusal as the API's.
    """
    if api_key_allows(api_key, scope):
        return None
    error = missing_scope_error(api_key, scope)
    return JsonResponse(error_body(error.code, error.message, error.details), status=error.status)
