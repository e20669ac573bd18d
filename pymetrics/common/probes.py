"""Probes of the services the platform depends on (readiness and system status).

Each probe returns quietly when its service answers and raises otherwise. Used by
``/readyz`` (pymetrics.ops.health) and the staff system status page.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from pymetrics.common.live import live_check


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=5)
    if cache.get(key) != "ok":
        raise RuntimeError("the cache did not return a value just written")
    cache.delete(key)


def check_channel_layer() -> None:
    """The transport of live notices to staff sockets (pymetrics.common.live, ADR 0014).

    Still named for the channel layer it replaced, so the readiness contract holds.
    """
    live_check()


def check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # tasks run in-process: there is no broker to reach
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


def run_probes() -> tuple[dict[str, dict[str, object]], list[str]]:
    """Every probe's outcome (``ok`` and ``ms``, or ``error``) and the names that failed."""
    results: dict[str, dict[str, object]] = {}
    failed = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:  # any failure of a dependency makes us not ready
            failed.append(name)
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return results, failed
