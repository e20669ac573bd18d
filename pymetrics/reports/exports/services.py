"""Writes of exports: request a job, run it (the Celery task), open its file, purge old files.

``export_job_request`` validates what is asked (dataset, format, the scope's
assessment, state, dates and game, the member's role), stores a queued job, audits
the request and queues ``reports.export_run`` after commit. ``export_job_run``
counts the source records first, then streams the dataset's batches into the
format's writer in a temporary file, writing the job's progress after every
batch, and saves the file to the ``exports`` storage under an unguessable name.
A finished job (succeeded, failed, expired) is never run again. Files are deleted
``PYMETRICS_EXPORT_KEEP_DAYS`` days (7 unless set) after they were made, by the
hourly ``reports.purge_expired_exports``; the job stays, marked expired.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import DatabaseError, transaction
from django.utils import timezone

from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment, AttemptState
from pymetrics.common.errors import Conflict, Gone, PermissionDenied, ValidationFailed
from pymetrics.games.registry import game_keys
from pymetrics.reports.exports.datasets import DATASETS, Batch, ExportScope
from pymetrics.reports.exports.selectors import (
    FINISHED_STATES,
    datasets_for_role,
    export_download_name,
    export_job_get,
    exports_storage,
)
from pymetrics.reports.exports.writers import FORMATS
from pymetrics.reports.models import ExportDataset, ExportJob, ExportState

logger = logging.getLogger(__name__)

#: Days a finished export's file is kept unless PYMETRICS_EXPORT_KEEP_DAYS says otherwise.
DEFAULT_KEEP_DAYS = 7
#: Jobs an organisation may have queued or running at once (a double click is not two).
MAX_PENDING_PER_ORGANIZATION = 5
#: A job queued or running this long after it was asked for is failed by the purge.
STALE_AFTER_HOURS = 24


def keep_days() -> int:
    return int(getattr(settings, "PYMETRICS_EXPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS))


def _audit(actor: Actor | None, job: ExportJob, action: str, **details: Any) -> None:
    audit_log_record(
        actor=actor,
        organization=job.organization,
        action=action,
        object_type="exportjob",
        object_id=job.pk,
        details={"dataset": job.dataset, "format": job.format, **details},
    )


def require_dataset_allowed(actor: Actor, dataset: str) -> None:
    if dataset not in datasets_for_role(actor.role):
        raise PermissionDenied(
            "only an owner, an admin or an analyst may export raw events"
            if dataset == ExportDataset.EVENTS
            else f"your role may not export {dataset}"
        )


# --- request -----------------------------------------------------------------------------


def _validated_scope(
    *,
    actor: Actor,
    dataset: str,
    assessment_id: int | None,
    attempt_state: str | None,
    completed_from: date | None,
    completed_to: date | None,
    game: str | None,
    include_simulated: bool,
) -> ExportScope:
    if assessment_id is not None and not (
        Assessment.objects.filter(organization=actor.organization, pk=assessment_id).exists()
    ):
        raise ValidationFailed(
            f"assessment {assessment_id} not found in your organisation",
            details={"assessment_id": assessment_id},
        )
    if attempt_state and attempt_state not in AttemptState.values:
        raise ValidationFailed(
            f"unknown attempt state {attempt_state!r}: one of {', '.join(AttemptState.values)}",
            details={"attempt_state": attempt_state},
        )
    if completed_from and completed_to and completed_from > completed_to:
        raise ValidationFailed(
            "completed_from is after completed_to",
            details={"completed_from": str(completed_from), "completed_to": str(completed_to)},
        )
    if (completed_from or completed_to) and attempt_state not in (None, "", "completed"):
        raise ValidationFailed(
            "completed-between dates keep only completed attempts: leave the state empty "
            "or choose completed",
            details={"attempt_state": attempt_state},
        )
    if game:
        if game not in game_keys():
            raise ValidationFailed(f"unknown game {game!r}", details={"game": game})
        if not DATASETS[dataset].by_game:
            raise ValidationFailed(
                "the game filter applies to metrics and events only", details={"game": game}
            )
    return ExportScope(
        organization_id=actor.organization.pk,
        assessment_id=assessment_id,
        attempt_state=attempt_state or None,
        completed_from=completed_from,
        completed_to=completed_to,
        game=game or None,
        include_simulated=include_simulated,
    )


@transaction.atomic
def export_job_request(
    *,
    actor: Actor,
    dataset: str,
    file_format: str,
    assessment_id: int | None = None,
    attempt_state: str | None = None,
    completed_from: date | None = None,
    completed_to: date | None = None,
    game: str | None = None,
    include_simulated: bool = True,
    queue: bool = True,
) -> ExportJob:
    """Ask for an export; a Celery task writes it (``queue``), or the caller runs
    :func:`export_job_run` itself."""
    from pymetrics.reports.exports.tasks import export_run

    if dataset not in DATASETS:
        raise ValidationFailed(
            f"unknown dataset {dataset!r}: one of {', '.join(DATASETS)}",
            details={"dataset": dataset},
        )
    if file_format not in FORMATS:
        raise ValidationFailed(
            f"unknown format {file_format!r}: one of {', '.join(FORMATS)}",
            details={"format": file_format},
        )
    require_dataset_allowed(actor, dataset)
    scope = _validated_scope(
        actor=actor,
        dataset=dataset,
        assessment_id=assessment_id,
        attempt_state=attempt_state,
        completed_from=completed_from,
        completed_to=completed_to,
        game=game,
        include_simulated=include_simulated,
    )
    pending = ExportJob.objects.filter(
        organization=actor.organization, state__in=(ExportState.QUEUED, ExportState.RUNNING)
    ).count()
    if pending >= MAX_PENDING_PER_ORGANIZATION:
        raise Conflict(
            f"your organisation has {pending} exports queued or running: wait for one to finish",
            details={"pending": pending},
        )
    job = ExportJob.objects.create(
        organization=actor.organization,
        requested_by=actor.user,
        dataset=dataset,
        format=file_format,
        scope=scope.to_json(),
    )
    _audit(actor, job, "export.request", scope=job.scope)
    if queue:
        transaction.on_commit(lambda: export_run.delay(job.pk))
    return job


# --- run -----------------------------------------------------------------------------------


def _share(done: int, total: int | None) -> float:
    return min(round(done / total, 4), 1.0) if total else 0.0


def _with_progress(
    batches: Iterable[Batch], export_job_id: int, total: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The batches' rows, writing the job's progress once the writer has taken each."""
    done = rows = 0
    for batch in batches:
        yield batch.rows
        done += batch.units
        rows += len(batch.rows)
        ExportJob.objects.filter(pk=export_job_id).update(progress=_share(done, total), rows=rows)


class _WrittenFile(File):
    """A finished temporary file: a file-system storage moves it instead of copying it."""

    def temporary_file_path(self) -> str:
        return str(self.name)


def _storage_name(job: ExportJob, extension: str) -> str:
    return f"{job.organization_id}/{secrets.token_urlsafe(24)}.{extension}"


def export_job_run(*, export_job_id: int) -> ExportJob:
    """Write the job's file. Idempotent: a finished job is returned as it is.

    A job found running (its worker died) is written again from the start. A
    database or storage outage propagates, for the task to retry; any other error
    fails the job with a message for the person who asked.
    """
    job = ExportJob.objects.select_related("organization").get(pk=export_job_id)
    if job.state in FINISHED_STATES:
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.RUNNING, started_at=timezone.now(), progress=0.0, rows=0, error=""
    )
    dataset = DATASETS[job.dataset]
    write, extension, _ = FORMATS[job.format]
    scope = ExportScope.from_json(job.organization_id, job.scope)
    storage = exports_storage()
    try:
        total = dataset.count(scope)
        ExportJob.objects.filter(pk=job.pk).update(total=total)
        with tempfile.TemporaryDirectory(prefix="pymetrics-export-") as folder:
            path = os.path.join(folder, f"{dataset.key}.{extension}")
            rows = write(
                path,
                dataset.columns,
                _with_progress(dataset.batches(scope), job.pk, total),
                title=dataset.key,
            )
            size = os.path.getsize(path)
            with open(path, "rb") as handle:
                name = storage.save(_storage_name(job, extension), _WrittenFile(handle, name=path))
    except (DatabaseError, OSError):
        raise
    except Exception as error:
        logger.exception("export %s failed", job.pk)
        return export_job_fail(
            export_job_id=job.pk, error=f"the export failed ({type(error).__name__})"
        )
    finished = timezone.now()
    updated = ExportJob.objects.filter(pk=job.pk, state=ExportState.RUNNING).update(
        state=ExportState.SUCCEEDED,
        progress=1.0,
        rows=rows,
        size=size,
        file_name=name,
        finished_at=finished,
        expires_at=finished + timedelta(days=keep_days()),
    )
    job.refresh_from_db()
    if not updated:  # finished meanwhile by another delivery of the task: keep its file
        storage.delete(name)
        return job
    _audit(None, job, "export.complete", rows=rows, size=size)
    return job


def export_job_fail(*, export_job_id: int, error: str) -> ExportJob:
    """Mark an unfinished job failed with ``error`` (what the person who asked reads)."""
    ExportJob.objects.filter(
        pk=export_job_id, state__in=(ExportState.QUEUED, ExportState.RUNNING)
    ).update(state=ExportState.FAILED, error=error[:2000], finished_at=timezone.now())
    return ExportJob.objects.select_related("organization").get(pk=export_job_id)


# --- download ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportDownload:
    job: ExportJob
    file: IO[bytes]
    file_name: str
    content_type: str


def export_download_open(*, actor: Actor, export_job_id: int) -> ExportDownload:
    """The job's file, opened for the actor (audited), or why not.

    NotFound for another organisation's job; PermissionDenied when the actor's role
    may not export its dataset; Gone when its file was deleted; Conflict while it
    is not finished.
    """
    job = export_job_get(organization_id=actor.organization.pk, export_job_id=export_job_id)
    require_dataset_allowed(actor, job.dataset)
    if job.state == ExportState.EXPIRED:
        raise Gone(
            f"the file of export {job.pk} was deleted {keep_days()} days after it was made: "
            "request the export again"
        )
    if job.state != ExportState.SUCCEEDED or not job.file_name:
        raise Conflict(f"export {job.pk} is not ready: it is {job.state}")
    try:
        handle = exports_storage().open(job.file_name, "rb")
    except FileNotFoundError:
        raise Gone(f"the file of export {job.pk} is no longer stored") from None
    _audit(actor, job, "export.download", rows=job.rows, size=job.size)
    return ExportDownload(
        job=job,
        file=handle,
        file_name=export_download_name(job),
        content_type=FORMATS[job.format][2],
    )


# --- purge -----------------------------------------------------------------------------------


def export_files_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the files of succeeded jobs past ``expires_at``; the jobs stay, expired.

    Jobs still queued or running a day after they were asked for (their message or
    their worker was lost) are failed on the way, so they stop counting against
    the organisation's pending exports.
    """
    now = now or timezone.now()
    ExportJob.objects.filter(
        state__in=(ExportState.QUEUED, ExportState.RUNNING),
        created_at__lt=now - timedelta(hours=STALE_AFTER_HOURS),
    ).update(
        state=ExportState.FAILED,
        error=f"the export did not finish within {STALE_AFTER_HOURS} hours: request it again",
        finished_at=now,
    )
    storage = exports_storage()
    due = list(
        ExportJob.objects.filter(state=ExportState.SUCCEEDED, expires_at__lte=now)
        .select_related("organization")
        .order_by("pk")
    )
    for job in due:
        if job.file_name:
            storage.delete(job.file_name)
        ExportJob.objects.filter(pk=job.pk, state=ExportState.SUCCEEDED).update(
            state=ExportState.EXPIRED
        )
        _audit(None, job, "export.expire", rows=job.rows)
    return len(due)
