"""Celery tasks of exports: ids in, idempotent, retried with backoff on outages."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from pymetrics.common.tasks import RETRY_ON_OUTAGES
from pymetrics.reports.exports.services import (
    export_files_purge_expired,
    export_job_fail,
    export_job_run,
)


@shared_task(name="reports.export_run", bind=True, acks_late=True, **RETRY_ON_OUTAGES)
def export_run(self: Any, export_job_id: int) -> dict[str, Any]:
    """Write an export job's file (a finished job is not written again)."""
    try:
        job = export_job_run(export_job_id=export_job_id)
    except (DatabaseError, OSError) as error:
        if self.request.retries >= self.max_retries:
            export_job_fail(
                export_job_id=export_job_id,
                error=f"the export failed: {type(error).__name__} after "
                f"{self.max_retries} retries (the database or the file storage was unavailable)",
            )
        raise
    return {"state": job.state, "rows": job.rows}


@shared_task(name="reports.purge_expired_exports", **RETRY_ON_OUTAGES)
def purge_expired_exports() -> dict[str, int]:
    """Delete export files past their expiry (Celery beat, hourly)."""
    return {"expired": export_files_purge_expired()}
