"""Celery tasks of accounts: sealing the audit log into its hash chain (beat)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from pymetrics.accounts.audit_chain import audit_log_seal
from pymetrics.common.tasks import RETRY_ON_OUTAGES


@shared_task(name="accounts.seal_audit_log", ignore_result=True, **RETRY_ON_OUTAGES)
def seal_audit_log() -> dict[str, Any]:
    """Seal the entries written since the last run (idempotent: nothing new, nothing done)."""
    result = audit_log_seal()
    return {"sealed": result.sealed, "head": str(result.head) if result.head else None}
