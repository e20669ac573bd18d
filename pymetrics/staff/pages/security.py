"""Staff pages of account security: the log-in's code step, 2FA set-up and removal, lockout.

``staff:two-factor-verify`` asks a user with an authenticator for a current code
after their password; ``staff:two-factor-enrol`` sets one up (a QR code drawn on
the server as inline SVG, and the secret for typing in by hand); the Account
security page (``staff:account-security``) shows the state and removes the
authenticator with a current code. The rules and the audit entries live in
:mod:`pymetrics.accounts.twofactor`; these views only ask and answer.

:func:`lockout` is django-axes' lockout response (``AXES_LOCKOUT_CALLABLE``): the
staff lockout page, saying when to try again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from pymetrics.accounts.models import AuditLog, Organization
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.selectors import membership_for_user, user_by_email
from pymetrics.accounts.services import audit_log_record
from pymetrics.accounts.twofactor import (
    code_verify,
    confirmed_device,
    enrolment_confirm,
    enrolment_start,
    two_factor_remove,
    two_factor_required,
)
from pymetrics.common.errors import DomainError

#: The form field of a one-time code.
CODE_FIELD = "otp_token"


def _next_url(request: HttpRequest, default: str) -> str:
    """The ``next`` the user came for, when it is a page of this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _home() -> str:
    return reverse(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_verified", lambda: False)())


def _mark_verified(request: HttpRequest, device: Any) -> None:
    """The session passed its code step: a new session key, then django-otp's mark."""
    request.session.cycle_key()
    otp_login(request, device)


def qr_svg(config_url: str) -> SafeString:
    """The QR code of ``config_url`` as inline SVG (drawn here: no script, no service)."""
    svg = segno.make(config_url, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code", omitsize=False
    )
    label = _("QR code for your authenticator app")
    # segno builds the markup from the URL's bits only; nothing typed by a person
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))  # noqa: S308  # nosec B308 B703


@never_cache
@sensitive_post_parameters(CODE_FIELD)
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The log-in's second step: a current code of the user's authenticator."""
    user = request.user
    next_url = _next_url(request, _home())
    device = confirmed_device(user)  # type: ignore[arg-type]
    if device is None:
        return redirect(_with_next("staff:two-factor-enrol", next_url))
    if _verified(request):
        return redirect(next_url)
    error = ""
    if request.method == "POST":
        try:
            device = code_verify(
                user=user,  # type: ignore[arg-type]
                token=request.POST.get(CODE_FIELD, ""),
                actor=actor_for_request(request),
            )
        except DomainError as failure:
            error = failure.message
        else:
            _mark_verified(request, device)
            return redirect(next_url)
    return render(
        request,
        "staff/security/verify.html",
        {"error": error, "next": next_url, "code_field": CODE_FIELD},
        status=400 if error else 200,
    )


@never_cache
@sensitive_post_parameters(CODE_FIELD)
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: scan the QR code (or type the secret), confirm with a code."""
    user = request.user
    next_url = _next_url(request, reverse("staff:account-security"))
    if confirmed_device(user) is not None:  # type: ignore[arg-type]
        if not _verified(request):
            return redirect(_with_next("staff:two-factor-verify", next_url))
        messages.info(request, _("Two-factor authentication is already set up."))
        return redirect("staff:account-security")
    actor = actor_for_request(request)
    error = ""
    if request.method == "POST":
        try:
            device = enrolment_confirm(
                user=user,  # type: ignore[arg-type]
                token=request.POST.get(CODE_FIELD, ""),
                actor=actor,
            )
        except DomainError as failure:
            error = failure.message
        else:
            _mark_verified(request, device)
            messages.success(request, _("Two-factor authentication is set up."))
            return redirect(next_url)
    enrolment = enrolment_start(user)  # type: ignore[arg-type]
    return render(
        request,
        "staff/security/enrol.html",
        {
            "qr_svg": qr_svg(enrolment.config_url),
            "secret": enrolment.secret,
            "error": error,
            "next": next_url,
            "code_field": CODE_FIELD,
            "mandatory": two_factor_required(actor.role if actor else None),
            "organization": actor.organization if actor else None,
        },
        status=400 if error else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET"])
def account_security(request: HttpRequest) -> HttpResponse:
    """The user's two-factor state: set it up, or remove it with a current code."""
    actor = actor_for_request(request)
    device = confirmed_device(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "staff/security/account.html",
        {
            "nav": "security",
            "device": device,
            "mandatory": two_factor_required(actor.role if actor else None),
            "organization": actor.organization if actor else None,
            "code_field": CODE_FIELD,
            "idle_minutes": settings.PYMETRICS_SESSION_IDLE_S // 60,
            "max_age_hours": settings.SESSION_COOKIE_AGE // 3600,
        },
    )


@never_cache
@sensitive_post_parameters(CODE_FIELD)
@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    """Remove the user's authenticator, proven with a current code."""
    actor = actor_for_request(request)
    try:
        two_factor_remove(
            user=request.user,  # type: ignore[arg-type]
            token=request.POST.get(CODE_FIELD, ""),
            actor=actor,
        )
    except DomainError as failure:
        messages.error(request, failure.message)
        return redirect("staff:account-security")
    if two_factor_required(actor.role if actor else None):
        messages.info(
            request,
            _("Your authenticator was removed. Your role requires one: set up a new one now."),
        )
        return redirect("staff:two-factor-enrol")
    messages.success(request, _("Two-factor authentication is turned off for your account."))
    return redirect("staff:account-security")


def lockout(
    request: HttpRequest,
    original_response: HttpResponse | dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out log-in: the lockout page (429), audit-logged.

    Every failure during the lockout starts the cool-off again, so the time to try
    again is the cool-off from now. The entry names the user by id when the e-mail
    belongs to one (never the e-mail typed).
    """
    if credentials is None and isinstance(original_response, dict):
        credentials = original_response  # axes' asynchronous path passes them second
    cooloff: timedelta = settings.AXES_COOLOFF_TIME
    retry_at = timezone.now() + cooloff
    typed = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or request.POST.get(
        settings.AXES_USERNAME_FORM_FIELD, ""
    )
    user = user_by_email(email=typed) if isinstance(typed, str) and typed.strip() else None
    membership = membership_for_user(user=user) if user is not None else None
    _audit_lockout(
        user_id=user.pk if user else None,
        organization=membership.organization if membership else None,
        cooloff=cooloff,
    )
    response = render(
        request,
        "staff/security/lockout.html",
        {
            "retry_at": retry_at,
            "cooloff_minutes": max(1, int(cooloff.total_seconds() // 60)),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
        status=429,
    )
    response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response


def _audit_lockout(
    *, user_id: int | None, organization: Organization | None, cooloff: timedelta
) -> AuditLog:
    return audit_log_record(
        actor=None,
        organization=organization,
        action="auth.lockout",
        object_type="user" if user_id is not None else "login",
        object_id=user_id if user_id is not None else "",
        details={
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_s": int(cooloff.total_seconds()),
        },
    )
