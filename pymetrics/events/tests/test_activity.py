"""Live activity: one counter increment per batch, at most one message per window."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from pymetrics.events.activity import WINDOW_MS, _assessment_of, activity_record, window_total


@pytest.fixture
def layer(settings: Any, live: Any) -> Any:
    """In-process cache and live notices, whatever the environment configures."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    _assessment_of.cache_clear()  # ids come back between tests; never in production
    return live


def test_a_window_is_published_once_by_the_first_batch_of_the_next(layer, invitation) -> None:
    attempt = invitation.attempt
    notices = layer.listen(f"dashboard.{attempt.assessment_id}")
    window = 1_000_000 * WINDOW_MS  # a window start, in ms

    # two batches (100 + 50 events) in one window publish nothing yet
    assert activity_record(attempt_id=attempt.pk, events=100, now_ms=window + 10) is False
    assert activity_record(attempt_id=attempt.pk, events=50, now_ms=window + 200) is False
    # the first batch of the next window publishes the previous one; the second does not
    assert activity_record(attempt_id=attempt.pk, events=30, now_ms=window + WINDOW_MS) is True
    assert activity_record(attempt_id=attempt.pk, events=5, now_ms=window + WINDOW_MS + 1) is False
    # nothing is counted for an empty batch
    assert activity_record(attempt_id=attempt.pk, events=0, now_ms=window + 2 * WINDOW_MS) is False

    layer.flush()
    assert notices == [
        {
            "type": "events.activity",
            "assessment_id": attempt.assessment_id,
            "events": 150,
            "window_ms": 250,
            "events_per_s": 600.0,
        }
    ]


def test_storing_a_batch_over_http_counts_it_once(
    layer, play, make_balloon_events, monkeypatch
) -> None:
    from types import SimpleNamespace

    from pymetrics.conftest import HAND_PLAN

    now_s = 1_000_000 * WINDOW_MS / 1000
    monkeypatch.setattr("pymetrics.events.activity.time", SimpleNamespace(time=lambda: now_s))
    assessment_id = invitation_assessment(play.attempt_id)

    play.send(make_balloon_events(HAND_PLAN))  # 11 events
    play.send(make_balloon_events(HAND_PLAN))  # the same again: all duplicates, none counted

    assert window_total(assessment_id, 1_000_000) == 11


def invitation_assessment(attempt_id: int) -> int:
    from pymetrics.assessments.models import Attempt

    return int(Attempt.objects.values_list("assessment_id", flat=True).get(pk=attempt_id))
