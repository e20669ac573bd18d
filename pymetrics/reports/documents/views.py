"""The recruiter report's staff route: a candidate's report as a PDF download.

Every role reads it, as every role reads the profile page it comes from. Another
organisation's candidate answers the not-found page (404), exactly like an id
that does not exist; nothing is logged for either.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.common.errors import DomainError
from pymetrics.reports.documents.pdf import pdf_response
from pymetrics.reports.documents.recruiter import recruiter_report_render


@login_required
@require_safe
def recruiter_report_pdf(request: HttpRequest, candidate_id: int) -> HttpResponse:
    actor = actor_for_request(request)
    if actor is None:
        return render(request, "staff/no_organization.html", status=403)
    try:
        report = recruiter_report_render(actor=actor, candidate_id=candidate_id)
    except DomainError:
        return render(
            request, "staff/not_found.html", {"organization": actor.organization}, status=404
        )
    return pdf_response(report.content, filename=report.filename)
