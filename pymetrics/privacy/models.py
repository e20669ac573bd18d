"""Stored state of candidates' data rights: data archives requested, erasures done.

Consent records live with the invitation flow that writes them
(:class:`pymetrics.assessments.models.ConsentRecord`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Candidate


class ArchiveState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being built"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class CandidateArchive(models.Model):
    """One request for a candidate's data archive: its progress, then its file.

    The zip is written to the ``exports`` storage by a Celery task and downloaded
    through a signed link until ``expires_at``; then the file is deleted and the
    row stays, expired, as the record that an archive was made. Erasing the
    candidate deletes both.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="data_archives")
    state = models.CharField(
        max_length=16, choices=ArchiveState.choices, default=ArchiveState.QUEUED, db_index=True
    )
    #: 0..1, with what the builder is doing now
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    #: the file's name in the exports storage (empty until it is written, and once deleted)
    file_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [models.Index(fields=("state", "expires_at"), name="archive_expiry_idx")]

    def __str__(self) -> str:
        return f"data archive {self.pk} of candidate {self.candidate_id}: {self.state}"


class ErasureReason(models.TextChoices):
    CANDIDATE_REQUEST = "candidate_request", "The candidate asked to be erased"
    CONSENT_WITHDRAWN = "consent_withdrawn", "The candidate withdrew their consent"
    RETENTION = "retention", "The organisation's retention period ended"
    ORGANISATION = "organisation", "The organisation decided to erase the data"


class ErasureRecord(models.Model):
    """Proof that a candidate was erased, holding nothing about who they were.

    The ``reference`` is random (given to the candidate who asked); the counts say
    what was removed, per model. No candidate id, name, e-mail or external id is
    kept here: the candidate's id survives only as the object of audit-log entries,
    where it no longer leads to anyone.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="erasure_records"
    )
    reference = models.CharField(max_length=16, unique=True)
    reason = models.CharField(max_length=24, choices=ErasureReason.choices)
    #: rows deleted per model, e.g. {"events.Event": 1250, "assessments.Candidate": 1}
    rows_removed = models.JSONField(default=dict)
    #: rows kept whose free text about the candidate was removed, per model
    rows_redacted = models.JSONField(default=dict, blank=True)
    files_removed = models.PositiveIntegerField(default=0)
    #: who erased; empty when the platform did (the retention job)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-erased_at", "-pk")

    def __str__(self) -> str:
        return f"erasure {self.reference}"
