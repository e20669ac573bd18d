"""The candidate's feedback report from their invite link: an HTML page and the same as PDF.

The link is resolved as the play pages resolve it
(:func:`~pymetrics.assessments.selectors.attempt_by_invite_token`): an unknown link
answers 404, a withdrawn or expired invitation 410, with the play pages' words.
Then :func:`~pymetrics.reports.documents.selectors.feedback_report_read` decides:
the organisation does not offer reports (403), games are left to play or still
being scored, or no comparison group exists yet (409, saying which and what to
do). Each report shown is audit-logged (``report.feedback.read``, no staff actor).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import client_ip
from pymetrics.accounts.services import audit_log_record
from pymetrics.assessments.models import AttemptState
from pymetrics.assessments.selectors import attempt_by_invite_token, attempt_is_expired
from pymetrics.common import ratelimit
from pymetrics.common.errors import DomainError
from pymetrics.reports.documents.feedback import feedback_report_context
from pymetrics.reports.documents.pdf import pdf_from_html, pdf_response
from pymetrics.reports.documents.selectors import (
    FeedbackGate,
    FeedbackRead,
    feedback_report_read,
)

TEMPLATE = "reports/documents/feedback.html"
UNAVAILABLE_TEMPLATE = "reports/documents/feedback_unavailable.html"
#: The status of each closed gate: refused for good, or not yet.
GATE_STATUS = {
    FeedbackGate.DISABLED: 403,
    FeedbackGate.NOT_COMPLETED: 409,
    FeedbackGate.PREPARING: 409,
    FeedbackGate.NO_NORMS: 409,
}


def _unavailable(
    request: HttpRequest,
    *,
    reason: str,
    title: str,
    message: str,
    status: int,
    organization_name: str = "",
    assessment_name: str = "",
    action: tuple[str, str] | None = None,
) -> HttpResponse:
    return render(
        request,
        UNAVAILABLE_TEMPLATE,
        {
            "reason": reason,
            "title": title,
            "message": message,
            "organization_name": organization_name,
            "assessment_name": assessment_name,
            "action_url": action[0] if action else "",
            "action_text": action[1] if action else "",
        },
        status=status,
    )


def _gate_page(request: HttpRequest, read: FeedbackRead, invite_token: str) -> HttpResponse:
    gate = read.gate
    if gate is None:
        raise ValueError("an open gate has no page")
    organization = read.attempt.assessment.organization.name
    names = {
        "organization_name": organization,
        "assessment_name": read.attempt.assessment.name,
    }
    if gate == FeedbackGate.DISABLED:
        title = gettext("No feedback report")
        message = gettext(
            "%(organization)s does not offer feedback reports for this assessment. If you "
            "have questions about your results, please contact %(organization)s."
        ) % {"organization": organization}
        action = None
    elif gate == FeedbackGate.NOT_COMPLETED:
        title = gettext("Your feedback report is not ready yet")
        message = gettext(
            "Your feedback report becomes available once you have finished all the games."
        )
        action = (reverse("play:lobby", args=[invite_token]), gettext("Back to your games"))
    elif gate == FeedbackGate.PREPARING:
        title = gettext("Your feedback report is being prepared")
        message = gettext(
            "Your games are being scored. This usually takes a minute or two: please "
            "reload this page shortly."
        )
        action = (
            reverse("candidate-report:report", args=[invite_token]),
            gettext("Reload"),
        )
    else:
        title = gettext("Your feedback report is not ready yet")
        message = gettext(
            "Your results are saved, but %(organization)s has not yet set up the comparison "
            "group the report needs. Please come back later, or contact %(organization)s."
        ) % {"organization": organization}
        action = None
    return _unavailable(
        request,
        reason=str(gate),
        title=title,
        message=message,
        status=GATE_STATUS[gate],
        action=action,
        **names,
    )


def _open(request: HttpRequest, invite_token: str) -> FeedbackRead | HttpResponse:
    """The report behind the link, or the page that says why there is none."""
    try:
        attempt = ratelimit.invite_lookup(
            client_ip(request), lambda: attempt_by_invite_token(invite_token=invite_token)
        )
    except ratelimit.RateLimited as error:
        return _too_many(request, error)
    except DomainError:
        return _unavailable(
            request,
            reason="not_found",
            title=gettext("Invitation not found"),
            message=gettext(
                "This invitation link is not valid. Please check that you copied the whole "
                "link from your e-mail, or contact the organisation that invited you."
            ),
            status=404,
        )
    if attempt.state == AttemptState.WITHDRAWN:
        return _unavailable(
            request,
            reason="withdrawn",
            title=gettext("Invitation withdrawn"),
            message=gettext("This invitation is no longer active."),
            status=410,
        )
    if attempt_is_expired(attempt):
        return _unavailable(
            request,
            reason="expired",
            title=gettext("Invitation expired"),
            message=gettext(
                "This invitation has expired. Please contact the organisation that invited "
                "you for a new link."
            ),
            status=410,
        )
    read = feedback_report_read(attempt=attempt)
    if read.gate is not None:
        return _gate_page(request, read, invite_token)
    return read


def _too_many(request: HttpRequest, error: ratelimit.RateLimited) -> HttpResponse:
    return ratelimit.too_many_requests_page(
        request, error, template=UNAVAILABLE_TEMPLATE, context={"reason": "rate_limited"}
    )


def _record_read(read: FeedbackRead, report_format: str) -> None:
    attempt = read.attempt
    audit_log_record(
        actor=None,
        organization=attempt.assessment.organization,
        action="report.feedback.read",
        object_type="candidate",
        object_id=attempt.candidate_id,
        details={"format": report_format, "attempt": attempt.pk},
    )


@never_cache
@require_safe
def feedback_report(request: HttpRequest, invite_token: str) -> HttpResponse:
    read = _open(request, invite_token)
    if isinstance(read, HttpResponse):
        return read
    context = feedback_report_context(
        read, invite_token=invite_token, generated_at=timezone.now(), pdf=False
    )
    _record_read(read, "html")
    return render(request, TEMPLATE, context)


@never_cache
@require_safe
def feedback_report_pdf(request: HttpRequest, invite_token: str) -> HttpResponse:
    try:
        # rendering a PDF costs about half a second of CPU
        ratelimit.enforce_all(
            ("report_pdf_token", invite_token), ("report_pdf_ip", client_ip(request))
        )
    except ratelimit.RateLimited as error:
        return _too_many(request, error)
    read = _open(request, invite_token)
    if isinstance(read, HttpResponse):
        return read
    context = feedback_report_context(
        read, invite_token=invite_token, generated_at=timezone.now(), pdf=True
    )
    content = pdf_from_html(render_to_string(TEMPLATE, context, request=request))
    _record_read(read, "pdf")
    return pdf_response(content, filename="feedback-report.pdf")
