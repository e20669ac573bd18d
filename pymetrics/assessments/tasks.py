"""Periodic upkeep of attempts (run by Celery beat)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from pymetrics.assessments.services import attempts_expire_stale


@shared_task(
    name="assessments.expire_stale_invitations",
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    max_retries=3,
)
def expire_stale_invitations() -> int:
    """Mark unstarted invitations past their expiry as expired."""
    return attempts_expire_stale()
