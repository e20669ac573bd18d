"""Celery tasks of candidates' data rights: ids in, idempotent, retried on outages."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pymetrics.common.tasks import RETRY_ON_OUTAGES
from pymetrics.privacy.services import candidate_archive_write, retention_enforce


@shared_task(name="privacy.candidate_archive_build", acks_late=True, **RETRY_ON_OUTAGES)
def candidate_archive_build(archive_id: int) -> dict[str, Any]:
    """Build a requested data archive into the exports storage."""
    archive = candidate_archive_write(archive_id=archive_id)
    return {"state": archive.state if archive else "erased"}


@shared_task(name="privacy.enforce_retention", **RETRY_ON_OUTAGES)
def enforce_retention() -> dict[str, Any]:
    """Erase candidates past their organisation's retention period (Celery beat)."""
    summary = retention_enforce()
    return {
        "organizations": summary.organizations,
        "erased": summary.erased,
        "archives_expired": summary.archives_expired,
    }
