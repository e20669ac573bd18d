"""Staff pages of exports: the exports page, a job's JSON state, and the signed download.

``exports:list`` shows a form (dataset, format, assessment, filter) and the
organisation's newest jobs, each with a progress bar that
``reports/exports.js`` keeps up to date from ``exports:job-data`` while the job
is queued or running, and a download link once it is ready. ``exports:download``
serves a finished file through a signed link that expires (``links.py``), to a
logged-in member of the job's organisation whose role may export its dataset (or
an API client with its ``Authorization: Token`` key): a leaked link alone opens
nothing. An expired link answers 410, a tampered one 403, another organisation's
job 404; every download is audit-logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat, floatformat
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_safe

from pymetrics.accounts.models import ApiScope
from pymetrics.accounts.permissions import actor_for_request, api_key_scope_refusal
from pymetrics.accounts.services import Actor, api_key_authenticate
from pymetrics.assessments.models import Assessment
from pymetrics.common import ratelimit
from pymetrics.common.api import error_body
from pymetrics.common.errors import (
    Conflict,
    DomainError,
    Gone,
    NotFound,
    PermissionDenied,
)
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.reports.exports.forms import (
    DATASET_LABELS,
    FORMAT_LABELS,
    ExportRequestForm,
)
from pymetrics.reports.exports.links import (
    LinkExpired,
    LinkInvalid,
    download_path,
    export_job_id_from_token,
    link_max_age_s,
)
from pymetrics.reports.exports.selectors import (
    datasets_for_role,
    export_job_get,
    export_job_summary,
    export_jobs_list,
)
from pymetrics.reports.exports.services import export_download_open, export_job_request, keep_days
from pymetrics.reports.models import ExportJob, ExportState

#: How often the page asks for an unfinished job's progress.
POLL_MS = 1000

STATE_LABELS = {
    ExportState.QUEUED: gettext_lazy("Queued"),
    ExportState.RUNNING: gettext_lazy("Running"),
    ExportState.SUCCEEDED: gettext_lazy("Ready"),
    ExportState.FAILED: gettext_lazy("Failed"),
    ExportState.EXPIRED: gettext_lazy("Expired (file deleted)"),
}
#: An attempt state as a job's scope names it.
STATE_IN_SCOPE = {
    "completed": gettext_lazy("completed attempts"),
    "started": gettext_lazy("started attempts, not finished"),
    "invited": gettext_lazy("invited, not started"),
    "expired": gettext_lazy("expired attempts"),
    "withdrawn": gettext_lazy("withdrawn attempts"),
}
#: Service error details -> the form field they belong to.
FIELD_OF_DETAIL = {
    "dataset": "dataset",
    "format": "format",
    "assessment_id": "assessment",
    "attempt_state": "attempt_state",
    "completed_from": "completed_from",
    "completed_to": "completed_to",
    "game": "game",
}


# --- words -------------------------------------------------------------------------------


def _label(labels: dict[Any, Any], key: str) -> str:
    return str(labels.get(key, key))


def _game_title(key: str) -> str:
    try:
        return _(get_game(key).title)
    except UnknownGameError:
        return key


def scope_text(scope: dict[str, Any], assessment_names: dict[int, str]) -> str:
    """A job's scope in words: "Graduates 2027 · completed 2026-01-01 to 2026-01-31 · ..."."""
    assessment_id = scope.get("assessment_id")
    parts = [
        assessment_names.get(assessment_id, _("assessment %(id)s") % {"id": assessment_id})
        if assessment_id is not None
        else _("every assessment")
    ]
    if scope.get("attempt_state"):
        parts.append(_label(STATE_IN_SCOPE, scope["attempt_state"]))
    start, end = scope.get("completed_from"), scope.get("completed_to")
    if start and end:
        parts.append(_("completed %(start)s to %(end)s") % {"start": start, "end": end})
    elif start:
        parts.append(_("completed from %(start)s") % {"start": start})
    elif end:
        parts.append(_("completed until %(end)s") % {"end": end})
    if scope.get("game"):
        parts.append(_game_title(scope["game"]))
    parts.append(
        _("simulated candidates included")
        if scope.get("include_simulated", True)
        else _("real candidates only")
    )
    return " · ".join(parts)


def job_payload(job: ExportJob) -> dict[str, Any]:
    """A job as the page draws it and its JSON route answers: figures, words, a fresh link."""
    summary = export_job_summary(job)
    ready = job.state == ExportState.SUCCEEDED
    return {
        **summary,
        "state_label": _label(STATE_LABELS, job.state),
        "progress_text": f"{floatformat(100 * job.progress, 0)}%",
        "rows_text": ngettext("%(rows)s row", "%(rows)s rows", job.rows)
        % {"rows": number_format(job.rows, force_grouping=True)},
        "size_text": str(filesizeformat(job.size)) if ready else "",
        "download_url": download_path(job.pk) if ready else None,
        "data_url": reverse("exports:job-data", args=[job.pk]),
    }


def _job_rows(jobs: Sequence[ExportJob]) -> list[dict[str, Any]]:
    assessment_ids = {job.scope.get("assessment_id") for job in jobs} - {None}
    names = dict(
        Assessment.objects.filter(pk__in=assessment_ids).values_list("pk", "name")
        if assessment_ids
        else []
    )
    return [
        {
            **job_payload(job),
            "job": job,
            "dataset_label": _label(DATASET_LABELS, job.dataset),
            "format_label": _label(FORMAT_LABELS, job.format),
            "scope_text": scope_text(job.scope, names),
        }
        for job in jobs
    ]


# --- pages -------------------------------------------------------------------------------


def _problem_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "reports/exports/problem.html",
        {"title": title, "message": message, "nav": "exports"},
        status=status,
    )


def _no_organization(request: HttpRequest) -> HttpResponse:
    return _problem_page(
        request,
        403,
        _("No organisation"),
        _("You are not a member of any organisation, so there is nothing to export."),
    )


def _list_page(
    request: HttpRequest, actor: Actor, form: ExportRequestForm, status: int = 200
) -> HttpResponse:
    datasets = datasets_for_role(actor.role)
    rows = _job_rows(
        list(export_jobs_list(organization_id=actor.organization.pk, datasets=datasets))
    )
    return render(
        request,
        "reports/exports/list.html",
        {
            "organization": actor.organization,
            "nav": "exports",
            "form": form,
            "jobs": rows,
            "may_export_events": "events" in datasets,
            "link_minutes": max(1, link_max_age_s() // 60),
            "keep_days": keep_days(),
            "exports_config": {
                "poll_ms": POLL_MS,
                "jobs": [
                    {"id": row["id"], "url": row["data_url"]} for row in rows if not row["finished"]
                ],
            },
        },
        status=status,
    )


def _form_errors(form: ExportRequestForm, error: DomainError) -> None:
    details = error.details if isinstance(error.details, dict) else {}
    field = next((FIELD_OF_DETAIL[key] for key in details if key in FIELD_OF_DETAIL), None)
    form.add_error(field, error.message)


@login_required
def list_page(request: HttpRequest) -> HttpResponse:
    """The organisation's exports, and the form that asks for a new one."""
    actor = actor_for_request(request)
    if actor is None:
        return _no_organization(request)
    datasets = datasets_for_role(actor.role)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    if request.method != "POST":
        return _list_page(
            request, actor, ExportRequestForm(organization=actor.organization, datasets=datasets)
        )
    form = ExportRequestForm(request.POST, organization=actor.organization, datasets=datasets)
    if form.is_valid():
        data = form.cleaned_data
        try:
            ratelimit.enforce_member(
                "exports", user=actor.user, organization_id=actor.organization.pk
            )
        except ratelimit.RateLimited as error:
            return ratelimit.too_many_requests_page(
                request, error, template="reports/exports/problem.html", context={"nav": "exports"}
            )
        try:
            job = export_job_request(
                actor=actor,
                dataset=data["dataset"],
                file_format=data["format"],
                assessment_id=data["assessment"].pk if data["assessment"] else None,
                attempt_state=data["attempt_state"] or None,
                completed_from=data["completed_from"],
                completed_to=data["completed_to"],
                game=data["game"] or None,
                include_simulated=data["include_simulated"],
            )
        except PermissionDenied as error:
            return _problem_page(request, 403, _("Not allowed"), error.message)
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                _("Export %(id)s requested: its progress is shown below.") % {"id": job.pk},
            )
            return redirect("exports:list")
    return _list_page(request, actor, form, status=400)


@login_required
@require_safe
def job_data(request: HttpRequest, export_job_id: int) -> JsonResponse:
    """A job's state and progress (and a fresh link once it is ready), for the page's bars."""
    actor = actor_for_request(request)
    if actor is None:
        return JsonResponse(
            error_body("permission_denied", "not a member of any organisation"), status=403
        )
    try:
        job = export_job_get(
            organization_id=actor.organization.pk,
            export_job_id=export_job_id,
            datasets=datasets_for_role(actor.role),
        )
    except NotFound as error:
        return JsonResponse(error_body(error.code, error.message), status=404)
    return JsonResponse(job_payload(job))


# --- download --------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "Authorization" in request.headers or "application/json" in request.headers.get(
        "Accept", ""
    )


def _refuse(request: HttpRequest, error: DomainError, title: str, message: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(error.code, error.message), status=error.status)
    return _problem_page(request, error.status, title, message)


def _token_actor(request: HttpRequest) -> Actor | HttpResponse | None:
    """The actor of an ``Authorization: Token <key>`` header (None without one)."""
    scheme, _sep, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Token":
        return None
    api_key = api_key_authenticate(plaintext=credential.strip()) if credential.strip() else None
    if api_key is None:
        return JsonResponse(
            error_body("not_authenticated", "invalid or revoked API key"), status=401
        )
    refused = api_key_scope_refusal(api_key, ApiScope.EXPORT)
    if refused is not None:
        return refused
    request.user = api_key.user
    request.auth = api_key  # type: ignore[attr-defined]
    actor = actor_for_request(request)
    if actor is None:
        return JsonResponse(
            error_body("permission_denied", "not a member of the key's organisation"), status=403
        )
    return actor


@require_GET
def download(request: HttpRequest, token: str) -> HttpResponseBase:
    """Stream a finished export's file through a signed link (see the module docstring)."""
    try:
        export_job_id = export_job_id_from_token(token)
    except LinkExpired:
        return _refuse(
            request,
            Gone("this download link has expired"),
            _("This link has expired"),
            _(
                "Download links work for %(minutes)s minutes after they are shown. Open the "
                "exports page again for a fresh link."
            )
            % {"minutes": max(1, link_max_age_s() // 60)},
        )
    except LinkInvalid:
        return _refuse(
            request,
            PermissionDenied("this download link is not valid"),
            _("This link is not valid"),
            _(
                "The link is incomplete or was changed. Open the exports page and use the "
                "download link shown there."
            ),
        )
    found = _token_actor(request)
    if isinstance(found, HttpResponse):
        return found
    if found is None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        found = actor_for_request(request)
        if found is None:
            return _no_organization(request)
    try:
        opened = export_download_open(actor=found, export_job_id=export_job_id)
    except NotFound as error:
        return _refuse(
            request,
            error,
            _("Not found"),
            _("There is no export with that id in your organisation."),
        )
    except PermissionDenied as error:
        return _refuse(request, error, _("Not allowed"), error.message)
    except Gone as error:
        return _refuse(request, error, _("This file was deleted"), error.message)
    except Conflict as error:
        return _refuse(request, error, _("Not ready yet"), error.message)
    response = FileResponse(
        opened.file,
        as_attachment=True,
        filename=opened.file_name,
        content_type=opened.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
