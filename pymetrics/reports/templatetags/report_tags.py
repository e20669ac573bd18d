"""Template tags of the reports: the feedback report's link on the candidate's thank-you page.

``{% load report_tags %}{% feedback_report_link %}`` in ``play/thanks.html`` reads
the invite token of the page's own URL (the thank-you view stays as it is) and
shows a link to the candidate's feedback report when it is ready, a note while
their games are still being scored, and nothing when the organisation does not
offer reports.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from pymetrics.assessments.selectors import attempt_by_invite_token
from pymetrics.common.errors import DomainError
from pymetrics.reports.documents.selectors import FeedbackGate, feedback_report_read

register = template.Library()


@register.inclusion_tag("reports/documents/thanks_link.html", takes_context=True)
def feedback_report_link(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    invite_token = match.kwargs.get("invite_token") if match is not None else None
    if not invite_token:
        return {"state": None}
    try:
        attempt = attempt_by_invite_token(invite_token=invite_token)
    except DomainError:
        return {"state": None}
    read = feedback_report_read(attempt=attempt)
    url = reverse("candidate-report:report", args=[invite_token])
    if read.gate is None:
        return {"state": "ready", "url": url}
    if read.gate == FeedbackGate.PREPARING:
        return {"state": "preparing", "url": url}
    return {"state": None}
