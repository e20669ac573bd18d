"""Celery tasks of the job-fit layer: ids in, idempotent, retried with backoff on outages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.common.tasks import RETRY_ON_OUTAGES
from pymetrics.fitmodels.anomaly_services import anomaly_scan
from pymetrics.fitmodels.models import FitModelVersion, JobProfile, ModelStatus
from pymetrics.fitmodels.services import (
    active_models_reaudit,
    attempts_fit_scores_compute,
    fit_scores_compute,
    role_fit_scores_compute,
    training_job_run,
)


@shared_task(name="fitmodels.train_job_profile_model", acks_late=True, **RETRY_ON_OUTAGES)
def train_job_profile_model(training_job_id: int) -> dict[str, Any]:
    """Train (audit, debias) the model a training job asked for."""
    version = training_job_run(training_job_id=training_job_id)
    return {"model_version": version.pk if version else None}


@shared_task(name="fitmodels.score_with_fit_model", **RETRY_ON_OUTAGES)
def score_with_fit_model(model_version_id: int) -> dict[str, int]:
    """Score every candidate of the role with a version that was just activated."""
    version = FitModelVersion.objects.select_related("job_profile").get(pk=model_version_id)
    if version.status != ModelStatus.ACTIVE:
        return {"scored": 0}  # retired again before this ran: nothing to do
    return {"scored": fit_scores_compute(model_version=version)}


@shared_task(name="fitmodels.score_role", **RETRY_ON_OUTAGES)
def score_role(job_profile_id: int) -> dict[str, int]:
    """Score every candidate of a role as it stands (active version, or A/B arms)."""
    profile = JobProfile.objects.get(pk=job_profile_id)
    return {"scored": role_fit_scores_compute(job_profile=profile)}


@shared_task(name="fitmodels.score_attempts_fit", **RETRY_ON_OUTAGES)
def score_attempts_fit(attempt_ids: list[int]) -> dict[str, int]:
    """Attempts' fit to each role whose active model covers them (after their traits)."""
    return {"scored": attempts_fit_scores_compute(attempt_ids=attempt_ids)}


@shared_task(name="fitmodels.scan_anomalies", **RETRY_ON_OUTAGES)
def scan_anomalies(
    organization_id: int, game: str, requested_by_id: int | None = None
) -> dict[str, int]:
    """Scan one game's sessions of an organisation and queue the suspicious ones."""
    organization = Organization.objects.get(pk=organization_id)
    summary = anomaly_scan(organization=organization, game=game, requested_by_id=requested_by_id)
    return {"sessions": summary.sessions, "suspicious": summary.suspicious}


@shared_task(name="fitmodels.reaudit_active_models", **RETRY_ON_OUTAGES)
def reaudit_active_models() -> dict[str, Any]:
    """Audit again the active versions whose last audit is older than the interval (beat)."""
    interval = timedelta(days=settings.PYMETRICS_REAUDIT_INTERVAL_DAYS)
    summary = active_models_reaudit(audited_before=timezone.now() - interval)
    return {
        "audited": summary.audited,
        "newly_failing": summary.newly_failing,
        "skipped": {str(pk): reason for pk, reason in summary.skipped.items()},
    }
