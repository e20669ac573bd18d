"""Stored state of reports: export jobs (one request to export a dataset, and its file).

An *export job* names a dataset (metrics, traits, fit scores or raw events), a file
format and a scope (one assessment, or the organisation with a filter). A Celery
task writes the file to the ``exports`` storage under an unguessable name, writing
its progress as it goes; the file is downloaded through signed links that expire,
and deleted ``PYMETRICS_EXPORT_KEEP_DAYS`` after it was made (the row stays, marked
expired, as the record of what was exported).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from pymetrics.accounts.models import Organization


class ExportDataset(models.TextChoices):
    METRICS = "metrics", "Metrics"
    TRAITS = "traits", "Traits"
    FIT_SCORES = "fit_scores", "Fit scores"
    EVENTS = "events", "Raw events"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    JSONL = "jsonl", "JSON lines"
    PARQUET = "parquet", "Parquet"


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Ready"
    FAILED = "failed", "Failed"
    #: succeeded, and its file has since been deleted (past ``expires_at``)
    EXPIRED = "expired", "Expired"


class ExportJob(models.Model):
    """One export: what was asked for, by whom, how far it got, and the file it made."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="export_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dataset = models.CharField(max_length=16, choices=ExportDataset.choices)
    format = models.CharField(max_length=16, choices=ExportFormat.choices)
    #: the scope and filter, as validated: assessment id, attempt state, completed
    #: between (ISO dates), game, include simulated (ids and keys only, never names)
    scope = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=ExportState.choices, default=ExportState.QUEUED, db_index=True
    )
    #: 0..1: the share of the counted source records written so far
    progress = models.FloatField(default=0.0)
    #: source records counted before writing (what ``progress`` is a share of)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    #: rows written (the header not counted)
    rows = models.PositiveBigIntegerField(default=0)
    #: the file's name in the ``exports`` storage (unguessable; empty until written)
    file_name = models.CharField(max_length=255, blank=True)
    #: the file's size in bytes
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: when the file is deleted (set when it is written)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("organization", "-created_at"), name="export_job_org_created"),
            models.Index(fields=("state", "expires_at"), name="export_job_expiry"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk}: {self.dataset} as {self.format} ({self.state})"
