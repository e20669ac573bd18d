"""Reads of export jobs, always within one organisation, and who may export what.

Owners, admins and analysts export every dataset. Recruiters export metrics,
traits and fit scores but not raw events: events are every key press and click of
a candidate, for research and quality checks, not for hiring decisions. A viewer
sees (in lists) and reaches (by id) only jobs of the datasets they may export.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.files.storage import Storage, storages
from django.db.models import QuerySet

from pymetrics.accounts.models import Role
from pymetrics.common.errors import NotFound
from pymetrics.reports.exports.datasets import DATASETS
from pymetrics.reports.exports.writers import FORMATS
from pymetrics.reports.models import ExportDataset, ExportJob, ExportState

#: Roles that may export raw events (every role may export the other datasets).
EVENT_EXPORTERS = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})
#: Jobs a list shows (newest first).
JOBS_LISTED = 50

FINISHED_STATES = frozenset({ExportState.SUCCEEDED, ExportState.FAILED, ExportState.EXPIRED})


def exports_storage() -> Storage:
    """Where finished exports are kept (``STORAGES["exports"]``); never served as static."""
    return storages["exports"]


def datasets_for_role(role: str) -> list[str]:
    """The datasets a member with ``role`` may export, in the catalogue's order."""
    if role in Role.values:
        return [key for key in DATASETS if key != ExportDataset.EVENTS or role in EVENT_EXPORTERS]
    return []


def export_job_get(
    *, organization_id: int, export_job_id: int, datasets: Iterable[str] | None = None
) -> ExportJob:
    """The organisation's job (of one of ``datasets``), or NotFound (also for another
    organisation's id)."""
    jobs = ExportJob.objects.filter(organization_id=organization_id, pk=export_job_id)
    if datasets is not None:
        jobs = jobs.filter(dataset__in=list(datasets))
    job = jobs.select_related("organization").first()
    if job is None:
        raise NotFound(f"export {export_job_id} not found")
    return job


def export_jobs_list(
    *, organization_id: int, datasets: Iterable[str], limit: int = JOBS_LISTED
) -> QuerySet[ExportJob]:
    """The organisation's newest jobs of ``datasets``."""
    return (
        ExportJob.objects.filter(organization_id=organization_id, dataset__in=list(datasets))
        .select_related("organization")
        .order_by("-created_at", "-pk")[:limit]
    )


def export_download_name(job: ExportJob) -> str:
    """The file name a download is saved as: ``<organisation>-<dataset>-<job>-<date>.<ext>``."""
    extension = FORMATS[job.format][1]
    day = (job.finished_at or job.created_at).strftime("%Y%m%d")
    return f"{job.organization.slug}-{job.dataset.replace('_', '-')}-{job.pk}-{day}.{extension}"


def export_job_summary(job: ExportJob) -> dict[str, Any]:
    """A job as the API and the pages' JSON route give it (JSON types; no link)."""
    return {
        "id": job.pk,
        "dataset": job.dataset,
        "format": job.format,
        "scope": dict(job.scope),
        "state": job.state,
        "progress": job.progress,
        "total": job.total,
        "rows": job.rows,
        "size": job.size,
        "error": job.error,
        "file_name": export_download_name(job) if job.state == ExportState.SUCCEEDED else None,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "expires_at": job.expires_at.isoformat() if job.expires_at else None,
        "finished": job.state in FINISHED_STATES,
    }
