"""Live event activity for dashboards, aggregated so that ingestion stays cheap.

Every stored batch adds its count to a shared counter of its assessment for the
current 250 ms window (one cache increment per batch, never one per event). The
first batch of an assessment in a new window publishes the previous window's total
to the assessment's dashboard group: at most four channel messages per second per
assessment, however many candidates play. A window followed by silence is not
published; dashboards read the absence of messages as a rate falling to zero.
"""

from __future__ import annotations

import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache

from pymetrics.assessments.models import Attempt

logger = logging.getLogger(__name__)

WINDOW_MS = 250
#: Counters outlive their window briefly, long enough for the next one to read them.
_COUNTER_TTL_S = 10


def _assessment_of(attempt_id: int) -> int | None:
    key = f"activity:attempt:{attempt_id}"
    assessment_id = cache.get(key)
    if assessment_id is None:
        assessment_id = (
            Attempt.objects.filter(pk=attempt_id).values_list("assessment_id", flat=True).first()
        )
        if assessment_id is not None:
            cache.set(key, assessment_id, 3600)
    return assessment_id


def activity_record(*, attempt_id: int, events: int, now_ms: float | None = None) -> bool:
    """Count ``events`` stored for the attempt's assessment; True when a window was published.

    Failures of the cache or the channel layer are logged and swallowed: the events
    are stored already, and only the live rate is affected.
    """
    if events <= 0:
        return False
    try:
        assessment_id = _assessment_of(attempt_id)
        if assessment_id is None:
            return False
        window = int((time.time() * 1000 if now_ms is None else now_ms) // WINDOW_MS)
        counter = f"activity:{assessment_id}:{window}"
        cache.add(counter, 0, _COUNTER_TTL_S)
        cache.incr(counter, events)
        if not cache.add(f"{counter}:opened", 1, _COUNTER_TTL_S):
            return False
        previous = cache.get(f"activity:{assessment_id}:{window - 1}") or 0
        if not previous:
            return False
        layer = get_channel_layer()
        if layer is None:
            return False
        async_to_sync(layer.group_send)(
            f"dashboard.{assessment_id}",
            {
                "type": "events.activity",
                "assessment_id": assessment_id,
                "events": int(previous),
                "window_ms": WINDOW_MS,
                "events_per_s": int(previous) * 1000 / WINDOW_MS,
            },
        )
        return True
    except Exception:
        logger.warning("could not record live event activity", exc_info=True)
        return False
