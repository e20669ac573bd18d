"""``{% privacy_panel %}``: the candidate profile's data-rights panel.

Consent records (for every member); for owners and admins also the candidate's
data export (its state, kept up to date by ``privacy/archive.js``, and the link
when ready), recording a withdrawal of consent, and erasure behind a confirmation
page. Takes the profile page's ``candidate`` and ``request`` from the context.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.urls import reverse

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.assessments.models import Candidate
from pymetrics.privacy.models import ArchiveState
from pymetrics.privacy.presenters import (
    CHANNEL_LABELS,
    PURPOSE_LABELS,
    archive_payload,
    label,
)
from pymetrics.privacy.selectors import (
    candidate_archive_latest,
    candidate_last_activity,
    consent_records_for_candidate,
)
from pymetrics.privacy.services import PRIVACY_MANAGERS

register = template.Library()

#: How often the panel asks for a running export's state.
POLL_MS = 1500


@register.inclusion_tag("privacy/_panel.html", takes_context=True)
def privacy_panel(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    candidate = context.get("candidate")
    actor = actor_for_request(request) if request is not None else None
    if actor is None or not isinstance(candidate, Candidate):
        return {"show": False}
    if candidate.organization_id != actor.organization.pk:
        return {"show": False}
    records = [
        {
            "purpose": label(PURPOSE_LABELS, record.purpose),
            "assessment": record.attempt.assessment.name,
            "channel": label(CHANNEL_LABELS, record.channel),
            "text_version": record.text_version,
            "text_sha256": record.text_sha256,
            "language": record.language,
            "given_at": record.given_at,
            "withdrawn_at": record.withdrawn_at,
        }
        for record in consent_records_for_candidate(candidate=candidate)
    ]
    manager = actor.role in PRIVACY_MANAGERS
    archive = candidate_archive_latest(candidate=candidate) if manager else None
    payload = archive_payload(archive) if archive else None
    retention_days = actor.organization.retention_days
    return {
        "show": True,
        "csrf_token": context.get("csrf_token"),
        "candidate": candidate,
        "consents": records,
        "consent_in_force": any(r["withdrawn_at"] is None for r in records),
        "can_manage": manager,
        "archive": payload,
        "archive_config": {
            "url": reverse("privacy:archive-data", args=[archive.pk]),
            "poll_ms": POLL_MS,
            "running": archive.state in (ArchiveState.QUEUED, ArchiveState.RUNNING),
        }
        if archive
        else None,
        "retention_days": retention_days,
        "erase_after": candidate_last_activity(candidate=candidate) + timedelta(days=retention_days)
        if retention_days
        else None,
    }
