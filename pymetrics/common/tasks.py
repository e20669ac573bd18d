"""What every Celery task of the platform shares: how it retries when a service is down.

A database or network outage (``DatabaseError``, ``OSError``) is retried with
exponential backoff and jitter, up to six times over about ten minutes; any other
error is a bug or bad data and fails at once, where the failed-job views show it.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

#: keyword arguments of ``@shared_task`` for tasks that take ids and are idempotent
RETRY_ON_OUTAGES: dict[str, Any] = {
    "autoretry_for": (DatabaseError, OSError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}
