"""Writes of candidates' data rights: data archives, erasure, consent withdrawal,
retention, and the organisation's privacy settings.

Each write is one transaction. Files in the exports storage are written before the
transaction that records them and deleted after the one that forgets them has
committed: a rolled-back erasure never loses a file it still refers to, and an
archive that finishes after its candidate was erased deletes itself.

Only owners and admins request archives, erase candidates, record a withdrawal of
consent or change the settings (:func:`require_privacy_manager`); ``actor=None``
is the platform itself (the retention job).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from django.apps import apps
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from pymetrics.accounts.models import Organization, Role
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.assessments.services import consent_withdraw
from pymetrics.common.errors import Gone, NotFound, PermissionDenied, ValidationFailed
from pymetrics.common.versions import assessment_scope, bump, candidate_scope, organization_scope
from pymetrics.privacy.archive import write_candidate_archive
from pymetrics.privacy.models import ArchiveState, CandidateArchive, ErasureReason, ErasureRecord
from pymetrics.privacy.selectors import (
    candidates_inactive_since,
    organizations_with_retention,
    retention_cutoff,
)

logger = logging.getLogger(__name__)

#: Roles that may export, erase, record withdrawals and change the privacy settings.
PRIVACY_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
#: The exports storage's folder of data archives: ``<folder>/<organisation>/<candidate>/``.
ARCHIVE_FOLDER = "data-archives"
#: How long a finished archive can be downloaded before its file is deleted.
ARCHIVE_TTL = timedelta(days=7)
#: A job writes its progress at most this often (the profile panel polls it).
PROGRESS_EVERY_S = 0.5
#: Candidates looked at per query, and erased at most per run, by the retention job
#: (the next run goes on where this one stopped).
RETENTION_BATCH = 100
RETENTION_MAX_PER_RUN = 2000
#: The longest retention period accepted (a hundred years).
MAX_RETENTION_DAYS = 36_500


@dataclass(frozen=True)
class ErasureRule:
    """How erasure removes one model's rows: those whose ``lookup`` is the candidate's id."""

    model: str
    lookup: str


#: Every model that holds rows about a candidate, directly or through an attempt or a
#: game session, deleted in this order (dependants first). A model added later with
#: a relation to any of them needs a rule here: test_erasure walks the model graph
#: and fails until it has one.
ERASURE_RULES: tuple[ErasureRule, ...] = (
    ErasureRule("events.Event", "game_session__attempt__candidate"),
    ErasureRule("scoring.MetricSet", "game_session__attempt__candidate"),
    ErasureRule("fitmodels.SessionReview", "game_session__attempt__candidate"),
    ErasureRule("scoring.TraitScore", "attempt__candidate"),
    ErasureRule("fitmodels.FitScore", "attempt__candidate"),
    ErasureRule("assessments.ConsentRecord", "candidate"),
    ErasureRule("assessments.GameSession", "attempt__candidate"),
    ErasureRule("assessments.Attempt", "candidate"),
    ErasureRule("fitmodels.Incumbent", "candidate"),
    ErasureRule("fitmodels.CandidateGroups", "candidate"),
    ErasureRule("fitmodels.CandidateOutcome", "candidate"),
    ErasureRule("privacy.CandidateArchive", "candidate"),
    ErasureRule("assessments.Candidate", "pk"),
)


def require_privacy_manager(actor: Actor | None, what: str) -> None:
    if actor is not None and actor.role not in PRIVACY_MANAGERS:
        raise PermissionDenied(f"only an owner or an admin may {what}")


def _check_organization(actor: Actor | None, candidate: Candidate) -> None:
    """Another organisation's candidate is not found, exactly like an unknown one."""
    if actor is not None and candidate.organization_id != actor.organization.pk:
        raise NotFound(f"candidate {candidate.pk} not found")


def _storage() -> Storage:
    return storages["exports"]


def archive_folder(*, organization_id: int, candidate_id: int) -> str:
    return f"{ARCHIVE_FOLDER}/{organization_id}/{candidate_id}"


def _delete_files(storage: Storage, folder: str, *, prefix: str = "") -> int:
    """Delete the files of ``folder`` whose names start with ``prefix``; how many."""
    try:
        _, names = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    removed = 0
    for name in names:
        if name.startswith(prefix):
            storage.delete(f"{folder}/{name}")
            removed += 1
    if not prefix:
        _remove_empty_folder(storage, folder)
    return removed


def _remove_empty_folder(storage: Storage, folder: str) -> None:
    """On a file system, the candidate's emptied folder goes too (other backends have none)."""
    with contextlib.suppress(NotImplementedError, OSError):
        os.rmdir(storage.path(folder))


# --- data archives ---------------------------------------------------------------------------


def candidate_archive_request(*, actor: Actor, candidate: Candidate) -> CandidateArchive:
    """Queue the building of the candidate's data archive (an owner's or admin's request).

    A request while one is queued or being built returns that one. The request is
    audit-logged either way; the task is queued once the request is committed.
    """
    from pymetrics.privacy.tasks import candidate_archive_build

    require_privacy_manager(actor, "export a candidate's data")
    _check_organization(actor, candidate)
    with transaction.atomic():
        archive = (
            CandidateArchive.objects.select_for_update()
            .filter(candidate=candidate, state__in=(ArchiveState.QUEUED, ArchiveState.RUNNING))
            .first()
        )
        queued = archive is None
        if archive is None:
            archive = CandidateArchive.objects.create(
                organization_id=candidate.organization_id,
                candidate=candidate,
                requested_by=actor.user,
            )
        audit_log_record(
            actor=actor,
            action="candidate.data_export.request",
            object_type="candidate",
            object_id=candidate.pk,
            details={"archive": archive.pk},
        )
        if queued:
            archive_id = archive.pk
            transaction.on_commit(lambda: candidate_archive_build.delay(archive_id))
    return archive


class _Progress:
    """Writes an archive job's progress, at most every PROGRESS_EVERY_S seconds."""

    def __init__(self, archive_id: int) -> None:
        self.archive_id = archive_id
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and fraction < 1.0:
            return
        self.last = now
        CandidateArchive.objects.filter(pk=self.archive_id, state=ArchiveState.RUNNING).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:200]
        )


def _file_digest(file: IO[bytes]) -> tuple[int, str]:
    """Size and SHA-256 of an open file, read in chunks from its start."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return size, digest.hexdigest()


def candidate_archive_write(*, archive_id: int) -> CandidateArchive | None:
    """Build a requested archive into the exports storage (the Celery task's work).

    Idempotent: a finished, failed or expired archive is returned as it is; a build
    interrupted midway starts again (leaving no file of the interrupted run). The
    zip is written to a temporary file, then copied to the storage: memory stays
    flat whatever the candidate's number of events. None when the archive (its
    candidate) was erased before or while it was built; its file is then deleted.
    """
    archive = (
        CandidateArchive.objects.select_related("candidate__organization")
        .filter(pk=archive_id)
        .first()
    )
    if archive is None:
        return None
    if archive.state not in (ArchiveState.QUEUED, ArchiveState.RUNNING):
        return archive
    storage = _storage()
    folder = archive_folder(
        organization_id=archive.organization_id, candidate_id=archive.candidate_id
    )
    _delete_files(storage, folder, prefix=f"{archive.pk}-")
    CandidateArchive.objects.filter(pk=archive.pk).update(
        state=ArchiveState.RUNNING, started_at=timezone.now(), progress=0.0, message="starting"
    )
    with tempfile.TemporaryFile() as scratch:
        try:
            contents = write_candidate_archive(
                candidate=archive.candidate,
                archive_id=archive.pk,
                target=scratch,
                progress=_Progress(archive.pk),
            )
        except (DatabaseError, OSError):
            raise  # an outage: the task retries it
        except Exception as error:
            CandidateArchive.objects.filter(pk=archive.pk).update(
                state=ArchiveState.FAILED,
                error=f"{type(error).__name__}: {error}"[:2000],
                finished_at=timezone.now(),
            )
            raise
        size, sha256 = _file_digest(scratch)
        name = storage.save(f"{folder}/{archive.pk}-{secrets.token_hex(8)}.zip", File(scratch))
    now = timezone.now()
    with transaction.atomic():
        if not CandidateArchive.objects.select_for_update().filter(pk=archive.pk).exists():
            transaction.on_commit(lambda: storage.delete(name))
            return None
        CandidateArchive.objects.filter(pk=archive.pk).update(
            state=ArchiveState.READY,
            progress=1.0,
            message=f"{contents.counts.get('events.jsonl', 0)} events, "
            f"{len(contents.counts)} files",
            file_name=name,
            size_bytes=size,
            sha256=sha256,
            finished_at=now,
            expires_at=now + ARCHIVE_TTL,
        )
    archive.refresh_from_db()
    return archive


def candidate_archive_open(*, actor: Actor, archive: CandidateArchive) -> IO[bytes]:
    """Open a ready archive for download by an owner or admin of its organisation.

    Audit-logged. Only those who may request archives may open them: an archive holds
    what other members never see (the groups a candidate reported, every event). Gone
    once the archive expired (its file deleted) or when it is not ready yet.
    """
    if archive.organization_id != actor.organization.pk:
        raise NotFound(f"data export {archive.pk} not found")
    require_privacy_manager(actor, "download a candidate's data export")
    if archive.state != ArchiveState.READY or not archive.file_name:
        raise Gone(
            f"data export {archive.pk} is not available ({archive.state})",
            code="export_unavailable",
        )
    if archive.expires_at is not None and archive.expires_at <= timezone.now():
        raise Gone(f"data export {archive.pk} has expired", code="export_expired")
    file = _storage().open(archive.file_name, "rb")
    CandidateArchive.objects.filter(pk=archive.pk).update(downloads=F("downloads") + 1)
    audit_log_record(
        actor=actor,
        action="candidate.data_export.download",
        object_type="candidate",
        object_id=archive.candidate_id,
        details={"archive": archive.pk},
    )
    return file


def candidate_archives_expire(*, now: datetime | None = None) -> int:
    """Delete the files of archives past their download window; returns how many.

    The rows stay (expired) as the record that an archive was made and downloaded.
    """
    now = now or timezone.now()
    storage = _storage()
    expired = 0
    due = CandidateArchive.objects.filter(
        state=ArchiveState.READY, expires_at__lte=now
    ).values_list("pk", flat=True)
    for archive_id in list(due):
        with transaction.atomic():
            archive = (
                CandidateArchive.objects.select_for_update()
                .filter(pk=archive_id, state=ArchiveState.READY)
                .first()
            )
            if archive is None:
                continue
            name = archive.file_name
            CandidateArchive.objects.filter(pk=archive_id).update(
                state=ArchiveState.EXPIRED, file_name=""
            )
            if name:
                transaction.on_commit(lambda name=name: storage.delete(name))  # type: ignore[misc]
            expired += 1
    return expired


# --- erasure ------------------------------------------------------------------------------------

_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud safely


def _new_reference() -> str:
    while True:
        body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))
        reference = f"ER-{body[:5]}-{body[5:]}"
        if not ErasureRecord.objects.filter(reference=reference).exists():
            return reference


def _delete_admin_history(
    *, candidate_id: int, attempt_ids: list[int], session_ids: list[int]
) -> dict[str, int]:
    """The Django admin's change history of the candidate's rows (it quotes their text)."""
    if not apps.is_installed("django.contrib.admin"):
        return {}
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    removed: dict[str, int] = {}
    for model, ids in (
        (Candidate, [candidate_id]),
        (Attempt, attempt_ids),
        (GameSession, session_ids),
    ):
        if not ids:
            continue
        _, counts = LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(i) for i in ids],
        ).delete()
        for label, count in counts.items():
            removed[label] = removed.get(label, 0) + count
    return removed


def candidate_erase(*, actor: Actor | None, candidate: Candidate, reason: str) -> ErasureRecord:
    """Erase every row of personal data about a candidate, in one transaction.

    Removed (:data:`ERASURE_RULES`): the candidate, their attempts, game sessions,
    events, metric sets, trait scores, fit scores, incumbent links, reported groups,
    outcome, session reviews, consent records and data archives (rows and files);
    the admin's change history of those rows; and free text in the audit entries
    about them. Kept: norm tables (n, mean, SD and percentiles per metric and trait,
    and each trait's sorted raw scores: no ids, no row per person), trained models,
    and the audit log (ids, no names). An
    :class:`ErasureRecord` without personal data is kept as proof. NotFound when the
    candidate is already gone (the retention job may race a person).
    """
    require_privacy_manager(actor, "erase a candidate")
    _check_organization(actor, candidate)
    if reason not in ErasureReason.values:
        raise ValidationFailed(
            f"unknown reason {reason!r}; known: {', '.join(ErasureReason.values)}",
            details={"reason": [f"must be one of {', '.join(ErasureReason.values)}"]},
        )
    candidate_id, organization_id = candidate.pk, candidate.organization_id
    with transaction.atomic():
        if not Candidate.objects.select_for_update().filter(pk=candidate_id).exists():
            raise NotFound(f"candidate {candidate_id} not found")
        attempts = list(
            Attempt.objects.select_for_update()
            .filter(candidate_id=candidate_id)
            .values_list("pk", "assessment_id")
        )
        attempt_ids = [pk for pk, _ in attempts]
        # locked first: ingestion writes a session's events under its row lock, so
        # no event can arrive between their deletion and the session's
        session_ids = list(
            GameSession.objects.select_for_update()
            .filter(attempt_id__in=attempt_ids)
            .values_list("pk", flat=True)
        )
        files = list(
            CandidateArchive.objects.select_for_update()
            .filter(candidate_id=candidate_id)
            .exclude(file_name="")
            .values_list("file_name", flat=True)
        )
        removed: Counter[str] = Counter(
            _delete_admin_history(
                candidate_id=candidate_id, attempt_ids=attempt_ids, session_ids=session_ids
            )
        )
        for rule in ERASURE_RULES:
            model = apps.get_model(rule.model)
            _, counts = model.objects.filter(**{rule.lookup: candidate_id}).delete()
            removed.update(counts)
        rows_removed = {label: count for label, count in sorted(removed.items()) if count}
        record = ErasureRecord.objects.create(
            organization_id=organization_id,
            reference=_new_reference(),
            reason=reason,
            rows_removed=rows_removed,
            # the append-only audit log holds ids, never text about the candidate: nothing
            # in it is redacted (kept in the record for erasures made before that rule)
            rows_redacted={},
            files_removed=len(files),
            erased_by=actor.user if actor else None,
        )
        audit_log_record(
            actor=actor,
            organization=candidate.organization,
            action="candidate.erase",
            object_type="candidate",
            object_id=candidate_id,
            details={
                "reference": record.reference,
                "reason": reason,
                "rows": sum(rows_removed.values()),
            },
        )
        bump(
            organization_scope(organization_id),
            *sorted({assessment_scope(assessment_id) for _, assessment_id in attempts}),
            candidate_scope(candidate_id),
        )
        folder = archive_folder(organization_id=organization_id, candidate_id=candidate_id)
        transaction.on_commit(lambda: _delete_files(_storage(), folder))
    return record


# --- consent ------------------------------------------------------------------------------------


def candidate_consent_withdraw(*, actor: Actor, candidate: Candidate) -> int:
    """Record that the candidate withdrew their consent (told to the organisation).

    Their consent records get ``withdrawn_at``, their unfinished invitations are
    withdrawn; their data stays until they are erased. Returns how many records
    were still in force.
    """
    require_privacy_manager(actor, "record a withdrawal of consent")
    _check_organization(actor, candidate)
    with transaction.atomic():
        withdrawn = consent_withdraw(candidate=candidate)
        audit_log_record(
            actor=actor,
            action="candidate.consent.withdraw",
            object_type="candidate",
            object_id=candidate.pk,
            details={"records": withdrawn},
        )
    return withdrawn


# --- retention ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionSummary:
    """What one run of the retention job did."""

    organizations: int
    erased: int
    references: list[str]
    archives_expired: int


def retention_enforce(
    *,
    now: datetime | None = None,
    batch: int = RETENTION_BATCH,
    limit: int = RETENTION_MAX_PER_RUN,
) -> RetentionSummary:
    """Erase the candidates past their organisation's retention period; expire archives.

    A candidate is past it when their last activity (see
    :func:`~pymetrics.privacy.selectors.candidates_inactive_since`) is more than
    ``retention_days`` ago. Candidates are found ``batch`` at a time and erased one
    transaction each, with the platform as the actor; at most ``limit`` per run, the
    next run goes on. Running it again erases nothing more (idempotent).
    """
    now = now or timezone.now()
    references: list[str] = []
    organizations = list(organizations_with_retention())
    for organization in organizations:
        cutoff = retention_cutoff(organization=organization, now=now)
        if cutoff is None:
            continue
        after_id = 0
        while len(references) < limit:
            due = candidates_inactive_since(
                organization=organization,
                cutoff=cutoff,
                after_id=after_id,
                limit=min(batch, limit - len(references)),
            )
            if not due:
                break
            for candidate in (
                Candidate.objects.filter(pk__in=due).select_related("organization").order_by("pk")
            ):
                try:
                    record = candidate_erase(
                        actor=None, candidate=candidate, reason=ErasureReason.RETENTION
                    )
                except NotFound:
                    continue  # erased by someone else meanwhile
                references.append(record.reference)
            after_id = due[-1]
    expired = candidate_archives_expire(now=now)
    if references or expired:
        logger.info(
            "retention: %d candidates erased in %d organisations, %d archives expired",
            len(references),
            len(organizations),
            expired,
        )
    return RetentionSummary(
        organizations=len(organizations),
        erased=len(references),
        references=references,
        archives_expired=expired,
    )


# --- settings -----------------------------------------------------------------------------------


def organization_privacy_settings_update(
    *, actor: Actor, retention_days: Any, feedback_reports_enabled: bool
) -> Organization:
    """Change the retention period (None: keep data) and whether candidates may open
    their feedback report; audit-logged with what changed (owners and admins)."""
    require_privacy_manager(actor, "change the organisation's privacy settings")
    if retention_days is not None:
        if isinstance(retention_days, bool) or not isinstance(retention_days, int):
            raise ValidationFailed(
                "retention_days must be a whole number of days, or empty to keep data",
                details={"retention_days": ["must be a whole number of days"]},
            )
        if not 1 <= retention_days <= MAX_RETENTION_DAYS:
            raise ValidationFailed(
                f"retention_days must be between 1 and {MAX_RETENTION_DAYS}",
                details={"retention_days": [f"must be between 1 and {MAX_RETENTION_DAYS}"]},
            )
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=actor.organization.pk)
        changes: dict[str, object] = {}
        if organization.retention_days != retention_days:
            changes["retention_days"] = {"from": organization.retention_days, "to": retention_days}
            organization.retention_days = retention_days
        if organization.feedback_reports_enabled != bool(feedback_reports_enabled):
            changes["feedback_reports_enabled"] = {
                "from": organization.feedback_reports_enabled,
                "to": bool(feedback_reports_enabled),
            }
            organization.feedback_reports_enabled = bool(feedback_reports_enabled)
        if changes:
            organization.save(update_fields=["retention_days", "feedback_reports_enabled"])
            audit_log_record(
                actor=actor,
                action="organization.privacy_settings.update",
                object_type="organization",
                object_id=organization.pk,
                details=changes,
            )
            bump(organization_scope(organization.pk))
    return organization
