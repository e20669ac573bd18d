"""Staff pages of candidates' data rights.

``privacy:settings`` shows and (owners and admins) changes the organisation's
retention period and whether candidates may open their feedback report, with the
latest erasures; the candidate profile's privacy panel (``privacy_panel`` tag)
posts to ``privacy:archive-request`` (build the candidate's data archive; the
panel's ``privacy/archive.js`` follows it through ``privacy:archive-data``),
``privacy:consent-withdraw`` and ``privacy:erase`` (a confirmation page, then the
erasure). Archives download through ``privacy:archive-download``: a signed link
that expires, for a logged-in owner or admin of the organisation (or their API key).

Everything is read within the viewer's organisation: another organisation's id
answers the not-found page (404), exactly like an unknown one. Only owners and
admins change anything; a POST of anyone else is refused with 403.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Sum
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.models import ApiScope
from pymetrics.accounts.permissions import actor_for_request, api_key_scope_refusal
from pymetrics.accounts.services import Actor, api_key_authenticate, audit_log_record
from pymetrics.assessments.models import Candidate, GameSession
from pymetrics.assessments.selectors import candidate_get
from pymetrics.common import ratelimit
from pymetrics.common.api import error_body
from pymetrics.common.errors import DomainError, NotFound, PermissionDenied
from pymetrics.privacy.links import archive_id_from_token
from pymetrics.privacy.models import ErasureReason
from pymetrics.privacy.presenters import REASON_LABELS, archive_payload, label
from pymetrics.privacy.selectors import candidate_archive_get, erasure_records
from pymetrics.privacy.services import (
    MAX_RETENTION_DAYS,
    PRIVACY_MANAGERS,
    candidate_archive_open,
    candidate_archive_request,
    candidate_consent_withdraw,
    candidate_erase,
    organization_privacy_settings_update,
)

# --- access --------------------------------------------------------------------------------------


def _no_organization(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/no_organization.html", status=403)


def _not_found(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "staff/not_found.html", {"organization": actor.organization}, status=404)


def _forbidden(request: HttpRequest, actor: Actor, message: str = "") -> HttpResponse:
    return render(
        request,
        "privacy/forbidden.html",
        {
            "organization": actor.organization,
            "message": message or _("Only an owner or an admin of the organisation may do this."),
        },
        status=403,
    )


def is_privacy_manager(actor: Actor) -> bool:
    return actor.role in PRIVACY_MANAGERS


def _candidate(request: HttpRequest, candidate_id: int) -> tuple[Actor, Candidate] | HttpResponse:
    """The viewer and their organisation's candidate, or the page to answer instead."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        return actor, candidate_get(organization=actor.organization, candidate_id=candidate_id)
    except DomainError:
        return _not_found(request, actor)


def _profile_url(candidate_id: int) -> str:
    return reverse("staff:candidate-profile", args=[candidate_id]) + "#privacy"


# --- settings -----------------------------------------------------------------------------------


class PrivacySettingsForm(forms.Form):
    retention_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        label=gettext_lazy("Erase a candidate's data after this many days without activity"),
        help_text=gettext_lazy(
            "Leave empty to keep data until it is erased by hand. Activity is an "
            "invitation, consent, a game started or played, or results. Invitation links "
            "stay valid for 30 days: a shorter period can erase candidates who have not "
            "started yet."
        ),
    )
    feedback_reports_enabled = forms.BooleanField(
        required=False,
        label=gettext_lazy("Candidates may open their feedback report from their invitation link"),
    )


def _erasure_rows(actor: Actor) -> list[dict[str, Any]]:
    return [
        {
            "reference": record.reference,
            "erased_at": record.erased_at,
            "reason": label(REASON_LABELS, record.reason),
            "by": (record.erased_by.full_name or record.erased_by.email)
            if record.erased_by
            else _("the platform"),
            "rows": sum(int(count) for count in record.rows_removed.values()),
            "files": record.files_removed,
        }
        for record in erasure_records(organization=actor.organization)
    ]


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The organisation's retention period and feedback-report switch; latest erasures."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    manager = is_privacy_manager(actor)
    status = 200
    if request.method == "POST":
        if not manager:
            return _forbidden(request, actor)
        form = PrivacySettingsForm(request.POST)
        if form.is_valid():
            try:
                organization_privacy_settings_update(
                    actor=actor,
                    retention_days=form.cleaned_data["retention_days"],
                    feedback_reports_enabled=form.cleaned_data["feedback_reports_enabled"],
                )
            except PermissionDenied as error:
                return _forbidden(request, actor, error.message)
            except DomainError as error:
                form.add_error("retention_days", error.message)
            else:
                messages.success(request, _("Privacy settings saved."))
                return redirect("privacy:settings")
        status = 400
    elif request.method in ("GET", "HEAD"):
        organization = actor.organization
        organization.refresh_from_db(fields=["retention_days", "feedback_reports_enabled"])
        form = PrivacySettingsForm(
            initial={
                "retention_days": organization.retention_days,
                "feedback_reports_enabled": organization.feedback_reports_enabled,
            }
        )
    else:
        return HttpResponse(status=405)
    if not manager:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "privacy/settings.html",
        {
            "organization": actor.organization,
            "nav": "privacy",
            "form": form,
            "can_manage": manager,
            "erasures": _erasure_rows(actor),
        },
        status=status,
    )


# --- data archives ------------------------------------------------------------------------------


@login_required
@require_POST
def archive_request(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Ask for the candidate's data archive (built by a Celery worker)."""
    found = _candidate(request, candidate_id)
    if isinstance(found, HttpResponse):
        return found
    actor, candidate = found
    if not is_privacy_manager(actor):
        return _forbidden(request, actor)
    try:
        ratelimit.enforce_member("archives", user=actor.user, organization_id=actor.organization.pk)
    except ratelimit.RateLimited as error:
        return ratelimit.too_many_requests_page(request, error)
    try:
        candidate_archive_request(actor=actor, candidate=candidate)
    except PermissionDenied as error:
        return _forbidden(request, actor, error.message)
    messages.success(
        request, _("The data export is being prepared: its link appears on this page.")
    )
    return redirect(_profile_url(candidate.pk))


@login_required
@require_safe
def archive_data(request: HttpRequest, archive_id: int) -> JsonResponse:
    """An archive job's state and progress (and link once ready), for the panel's script."""
    actor = actor_for_request(request)
    if actor is None:
        return JsonResponse(
            error_body("permission_denied", "not a member of any organisation"), status=403
        )
    # looked up first: another organisation's archive is not found, whatever the role
    try:
        archive = candidate_archive_get(
            organization_id=actor.organization.pk, archive_id=archive_id
        )
    except NotFound as error:
        return JsonResponse(error_body(error.code, error.message), status=404)
    if not is_privacy_manager(actor):
        return JsonResponse(
            error_body("permission_denied", "only an owner or an admin may export data"),
            status=403,
        )
    return JsonResponse(archive_payload(archive))


def _api_key_user(request: HttpRequest) -> HttpResponse | None:
    """Let an ``Authorization: Token <key>`` client download like a logged-in user."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, credential = header.partition(" ")
    if scheme != "Token":
        return None
    api_key = api_key_authenticate(plaintext=credential.strip())
    if api_key is None:
        return JsonResponse(
            error_body("not_authenticated", "invalid or revoked API key"), status=401
        )
    refused = api_key_scope_refusal(api_key, ApiScope.EXPORT)
    if refused is not None:
        return refused
    request.user = api_key.user
    request.auth = api_key  # type: ignore[attr-defined]
    return None


@require_safe
def archive_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Download an archive through its signed link: an owner or admin of its organisation."""
    refused = _api_key_user(request)
    if refused is not None:
        return refused
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    try:
        archive = candidate_archive_get(
            organization_id=actor.organization.pk,
            archive_id=archive_id_from_token(token, organization_id=actor.organization.pk),
        )
        file = candidate_archive_open(actor=actor, archive=archive)
    except NotFound:
        return _not_found(request, actor)
    except PermissionDenied as error:
        return _forbidden(request, actor, error.message)
    except DomainError as error:
        return render(
            request,
            "privacy/link_gone.html",
            {"organization": actor.organization, "code": error.code},
            status=error.status,
        )
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"candidate-{archive.candidate_id}-data-{archive.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- consent ------------------------------------------------------------------------------------


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Record that the candidate withdrew their consent (they told the organisation)."""
    found = _candidate(request, candidate_id)
    if isinstance(found, HttpResponse):
        return found
    actor, candidate = found
    if not is_privacy_manager(actor):
        return _forbidden(request, actor)
    try:
        withdrawn = candidate_consent_withdraw(actor=actor, candidate=candidate)
    except PermissionDenied as error:
        return _forbidden(request, actor, error.message)
    if withdrawn:
        messages.success(
            request,
            _(
                "The withdrawal of consent is recorded; unfinished invitations are withdrawn. "
                "The candidate's data stays until it is erased."
            ),
        )
    else:
        messages.info(request, _("No consent of this candidate was still in force."))
    return redirect(_profile_url(candidate.pk))


# --- erasure ------------------------------------------------------------------------------------


class ErasureForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why is the candidate erased?"),
        choices=[
            (reason, REASON_LABELS[reason])
            for reason in (
                ErasureReason.CANDIDATE_REQUEST,
                ErasureReason.CONSENT_WITHDRAWN,
                ErasureReason.ORGANISATION,
            )
        ],
        widget=forms.RadioSelect,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that the candidate's data is deleted for good."),
        error_messages={"required": gettext_lazy("Tick this box to erase the candidate.")},
    )


def _erase_summary(candidate: Candidate) -> dict[str, int]:
    sessions = GameSession.objects.filter(attempt__candidate=candidate)
    return {
        "attempts": candidate.attempts.count(),
        "sessions": sessions.count(),
        "events": int(sessions.aggregate(total=Sum("event_count"))["total"] or 0),
    }


@login_required
def erase_page(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Confirm, then erase the candidate; the organisation's home names the reference."""
    found = _candidate(request, candidate_id)
    if isinstance(found, HttpResponse):
        return found
    actor, candidate = found
    if not is_privacy_manager(actor):
        return _forbidden(request, actor)
    status = 200
    if request.method == "POST":
        form = ErasureForm(request.POST)
        if form.is_valid():
            try:
                record = candidate_erase(
                    actor=actor, candidate=candidate, reason=form.cleaned_data["reason"]
                )
            except PermissionDenied as error:
                return _forbidden(request, actor, error.message)
            except NotFound:
                return _not_found(request, actor)
            messages.success(
                request,
                _(
                    "The candidate's data is erased. Erasure reference: %(reference)s "
                    "(give it to the candidate if they asked)."
                )
                % {"reference": record.reference},
            )
            return redirect("staff:assessment-list")
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = ErasureForm()
    else:
        return HttpResponse(status=405)
    audit_log_record(
        actor=actor,
        action="candidate.read",
        object_type="candidate",
        object_id=candidate.pk,
        details={"view": "erase-confirm"},
    )
    return render(
        request,
        "privacy/erase_confirm.html",
        {
            "organization": actor.organization,
            "candidate": candidate,
            "summary": _erase_summary(candidate),
            "form": form,
            "profile_url": reverse("staff:candidate-profile", args=[candidate.pk]),
        },
        status=status,
    )
