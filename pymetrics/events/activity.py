"""Live event activity for dashboards, aggregated so that ingestion stays cheap.

Every stored batch adds its count to a shared counter of its assessment for the
current 250 ms window (one Redis round trip per batch, pipelined; never one per
event). The
first batch of an assessment in a new window publishes the previous window's total
to the assessment's dashboard group: at most four channel messages per second per
assessment, however many candidates play. A window followed by silence is not
published; dashboards read the absence of messages as a rate falling to zero.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

from django.core.cache import cache

from pymetrics.assessments.models import Attempt
from pymetrics.common.live import live_publish

logger = logging.getLogger(__name__)

WINDOW_MS = 250
#: Counters outlive their window briefly, long enough for the next one to read them.
_COUNTER_TTL_S = 10


@lru_cache(maxsize=65536)
def _assessment_of(attempt_id: int) -> int | None:
    """An attempt's assessment never changes: remember it in the process."""
    return Attempt.objects.filter(pk=attempt_id).values_list("assessment_id", flat=True).first()


def _redis() -> Any | None:
    """The raw Redis client behind the cache, when there is one (one round trip per batch)."""
    try:
        from django_redis import get_redis_connection

        return get_redis_connection("default")
    except Exception:  # not a django-redis cache: the embedded default
        return None


def _count(assessment_id: int, window: int, events: int) -> tuple[bool, int]:
    """Add ``events`` to the window's counter; (first batch of the window?, previous total)."""
    counter = f"pymetrics:activity:{assessment_id}:{window}"
    previous_key = f"pymetrics:activity:{assessment_id}:{window - 1}"
    client = _redis()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.incrby(counter, events)
        pipe.expire(counter, _COUNTER_TTL_S)
        pipe.set(f"{counter}:opened", 1, nx=True, ex=_COUNTER_TTL_S)
        pipe.get(previous_key)
        _, _, opened, previous = pipe.execute()
        return bool(opened), int(previous or 0)
    cache.add(counter, 0, _COUNTER_TTL_S)
    cache.incr(counter, events)
    opened = cache.add(f"{counter}:opened", 1, _COUNTER_TTL_S)
    return bool(opened), int(cache.get(previous_key) or 0)


def window_total(assessment_id: int, window: int) -> int:
    """Events counted so far in one window (for tests and diagnostics)."""
    counter = f"pymetrics:activity:{assessment_id}:{window}"
    client = _redis()
    if client is not None:
        return int(client.get(counter) or 0)
    return int(cache.get(counter) or 0)


def activity_record(*, attempt_id: int, events: int, now_ms: float | None = None) -> bool:
    """Count ``events`` stored for the attempt's assessment; True when a window was published.

    Failures of the cache or of the live notice are logged and swallowed: the events
    are stored already, and only the live rate is affected.
    """
    if events <= 0:
        return False
    try:
        assessment_id = _assessment_of(attempt_id)
        if assessment_id is None:
            return False
        window = int((time.time() * 1000 if now_ms is None else now_ms) // WINDOW_MS)
        opened, previous = _count(assessment_id, window, events)
        if not opened or not previous:
            return False
        return live_publish(
            f"dashboard.{assessment_id}",
            {
                "type": "events.activity",
                "assessment_id": assessment_id,
                "events": previous,
                "window_ms": WINDOW_MS,
                "events_per_s": previous * 1000 / WINDOW_MS,
            },
        )
    except Exception:
        logger.warning("could not record live event activity", exc_info=True)
        return False
