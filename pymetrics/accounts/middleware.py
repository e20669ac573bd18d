"""Staff session rules applied to every request: lifetime, idle timeout, two-factor.

``StaffSessionLifetimeMiddleware`` ends a logged-in session that has been unused for
``PYMETRICS_SESSION_IDLE_S`` seconds or that started more than ``SESSION_COOKIE_AGE``
seconds ago (saving the session on activity would otherwise push the cookie's own
expiry forward for ever). ``TwoFactorRequiredMiddleware`` keeps a session that still
owes its two-factor step (:mod:`pymetrics.accounts.twofactor`) away from everything
but that step: pages redirect to it, JSON endpoints answer 403 with the code
``two_factor_required``. Candidate pages (``/play/``, the play API) use signed
tokens, not staff sessions, and are never touched; neither are API requests
authenticated with an API key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.twofactor import (
    NEEDS_CODE,
    NEEDS_ENROLMENT,
    NEEDS_NOTHING,
    session_requirement,
)
from pymetrics.common.api import error_body

#: Session keys: when the user logged in, and (to the minute) when they were last seen.
AUTH_AT_SESSION_KEY = "pymetrics_auth_at"
SEEN_AT_SESSION_KEY = "pymetrics_seen_at"
#: The last-seen time is written at most this often (not a session save per request).
SEEN_GRANULARITY_S = 60

#: The pages of the two-factor step, reachable before it is done.
VERIFY_URL_NAME = "staff:two-factor-verify"
ENROL_URL_NAME = "staff:two-factor-enrol"
_OPEN_URL_NAMES = ("staff:login", "staff:logout", VERIFY_URL_NAME, ENROL_URL_NAME)
#: Paths that never carry a staff action: candidate pages and APIs, static files,
#: health checks, translations.
_OPEN_PREFIXES = (
    "/play/",
    "/api/v1/play/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/favicon.ico",
    "/jsi18n/",
    "/i18n/",
)

Handler = Callable[[HttpRequest], HttpResponse]


def session_started(request: HttpRequest) -> None:
    """Mark the session's log-in time (the start of its absolute lifetime)."""
    now = int(time.time())
    request.session[AUTH_AT_SESSION_KEY] = now
    request.session[SEEN_AT_SESSION_KEY] = now


class StaffSessionLifetimeMiddleware:
    """Log a staff session out after its idle timeout or its absolute lifetime."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> None:
        session = request.session
        now = int(time.time())
        auth_at = session.get(AUTH_AT_SESSION_KEY)
        seen_at = session.get(SEEN_AT_SESSION_KEY)
        if not isinstance(auth_at, int) or not isinstance(seen_at, int):
            session_started(request)  # a session from before these rules: starts now
            return
        idle_s: int = settings.PYMETRICS_SESSION_IDLE_S
        if now - auth_at >= settings.SESSION_COOKIE_AGE:
            logout(request)
            messages.info(request, _("Your session has ended. Please log in again."))
        elif now - seen_at >= idle_s:
            logout(request)
            messages.info(
                request,
                _("You were logged out after %(minutes)d minutes without activity.")
                % {"minutes": max(1, idle_s // 60)},
            )
        elif now - seen_at >= SEEN_GRANULARITY_S:
            session[SEEN_AT_SESSION_KEY] = now


def _wants_json(request: HttpRequest) -> bool:
    path = request.path_info
    if path.startswith("/api/") or path.endswith(".json"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _is_open(request: HttpRequest) -> bool:
    path = request.path_info
    if path.startswith(_OPEN_PREFIXES) or path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    if path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Token "):
        return True  # an API key: scoped credential, never asked for a code
    return path in {reverse(name) for name in _OPEN_URL_NAMES}


class TwoFactorRequiredMiddleware:
    """Hold a session that owes its two-factor step at that step (after OTPMiddleware)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not _is_open(request):
            verified = bool(getattr(user, "is_verified", lambda: False)())
            need = NEEDS_NOTHING
            if not verified:
                # the actor is cached on the request: the view reuses it, no extra query
                actor = actor_for_request(request)
                need = session_requirement(user, verified=False, role=actor.role if actor else None)
            if need != NEEDS_NOTHING:
                return self._refuse(request, need)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, need: str) -> HttpResponse:
        if _wants_json(request):
            message = (
                _("Enter your two-factor code on the staff pages first.")
                if need == NEEDS_CODE
                else _(
                    "Your role requires two-factor authentication: set it up on the "
                    "staff pages first."
                )
            )
            return JsonResponse(error_body("two_factor_required", message), status=403)
        target = reverse(VERIFY_URL_NAME if need == NEEDS_CODE else ENROL_URL_NAME)
        if request.method in ("GET", "HEAD"):
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


__all__ = [
    "AUTH_AT_SESSION_KEY",
    "NEEDS_ENROLMENT",
    "SEEN_AT_SESSION_KEY",
    "StaffSessionLifetimeMiddleware",
    "TwoFactorRequiredMiddleware",
    "session_started",
]
