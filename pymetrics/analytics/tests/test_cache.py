"""Versioned analytics caching: fresh after every bump, computed once under a stampede."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache

from pymetrics.analytics import cache as analytics_cache
from pymetrics.analytics.cache import Read, cached, cached_reads, cached_value, hit_rate
from pymetrics.common.versions import bump, versions


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_bump_makes_the_next_read_compute_again(db, django_capture_on_commit_callbacks):
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cached("summary:1", ["assessment:1"], compute) == 1
    assert cached("summary:1", ["assessment:1"], compute) == 1  # a hit
    # a bump of another scope changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        bump("assessment:2")
    assert cached("summary:1", ["assessment:1"], compute) == 1
    # a bump of its own scope, once committed, does
    with django_capture_on_commit_callbacks(execute=True):
        bump("assessment:1")
    assert versions(["assessment:1", "assessment:2"]) == "1.1"
    assert cached("summary:1", ["assessment:1"], compute) == 2
    assert computed == [1, 1]


def test_a_bump_waits_for_the_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bump("org:5", "assessment:9")
    assert versions(["org:5", "assessment:9"]) == "0.0"
    for callback in callbacks:
        callback()
    assert versions(["org:5", "assessment:9"]) == "1.1"


def test_many_readers_of_a_missing_value_compute_it_once():
    calls: list[float] = []
    results: list[str] = []

    def slow() -> str:
        calls.append(time.monotonic())
        time.sleep(0.3)
        return "aggregate"

    readers = [
        threading.Thread(target=lambda: results.append(cached("heavy", ["org:1"], slow)))
        for _ in range(8)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(10)

    assert results == ["aggregate"] * 8
    assert len(calls) == 1


def test_a_reader_that_missed_just_before_the_value_was_stored_does_not_compute_it(monkeypatch):
    # given a value stored by another reader right after this one's lookup missed
    key = analytics_cache.cache_key("late", ["org:1"])
    cache.set(key, "stored by the other reader")
    monkeypatch.setattr(
        analytics_cache._LOOKUP, "lookup", lambda reads: [(key, analytics_cache._MISSING)]
    )

    value = cached("late", ["org:1"], lambda: "computed again")

    assert value == "stored by the other reader"


def test_reads_looked_up_together_see_their_own_versions(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        bump("assessment:7")
        bump("assessment:7", "org:2")
    reads = [
        Read("summary:7", ["assessment:7", "org:2"], lambda: "summary"),
        Read("playing:7", ["assessment:7"], lambda: "playing"),
        Read("empty", [], lambda: "no scopes"),
    ]

    assert cached_reads(reads) == ["summary", "playing", "no scopes"]
    assert cached_value("summary:7", ["assessment:7", "org:2"]) == "summary"
    assert analytics_cache.cache_key("summary:7", ["assessment:7", "org:2"]).endswith(":v2.1")
    assert cached_reads([Read(r.name, r.scopes, lambda: "again") for r in reads]) == [
        "summary",
        "playing",
        "no scopes",
    ]


def test_a_reader_computes_itself_when_the_lock_holder_is_gone(monkeypatch):
    # given a lock left behind by a reader that died while computing
    cache.add(analytics_cache.cache_key("orphan", ["org:1"]) + ":computing", 1, timeout=30)

    started = time.monotonic()
    value = cached("orphan", ["org:1"], lambda: "mine", wait_s=0.2)

    assert value == "mine"
    assert 0.2 <= time.monotonic() - started < 2


def test_hits_and_misses_are_counted_across_reads():
    before_hits, before_misses = hit_rate()

    cached("counted", ["org:1"], lambda: 1)
    cached("counted", ["org:1"], lambda: 1)
    cached("counted", ["org:1"], lambda: 1)

    hits, misses = hit_rate()
    assert (hits - before_hits, misses - before_misses) == (2, 1)
