"""Celery tasks of the scoring pipeline: ids in, idempotent, retried with backoff."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from pymetrics.scoring.services import metric_sets_extract


@shared_task(
    name="scoring.extract_game_session_metrics",
    autoretry_for=(DatabaseError, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
)
def extract_game_session_metrics(game_session_id: int) -> dict[str, int]:
    """Extract the metrics of one completed game session (again, if already done)."""
    summary = metric_sets_extract(game_session_ids=[game_session_id])
    return {"extracted": summary.extracted, "skipped": summary.skipped}
