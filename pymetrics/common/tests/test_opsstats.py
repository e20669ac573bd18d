"""Operational counters: exact per-minute counts, bounded storage, cheap hot paths.

Run against this process's memory (the embedded default) and, when REDIS_URL is
set, against Redis as every process of a deployment shares it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from pymetrics.common import opsstats
from pymetrics.common.middleware import OpsCountersMiddleware
from pymetrics.common.opsstats import (
    INGEST_BUCKETS,
    ingest_record,
    minutes_read,
    open_sockets,
    opsstats_clear,
    response_record,
    socket_closed,
    socket_opened,
)

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param(
            "redis",
            id="redis",
            marks=pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set"),
        ),
    ]
)
def store(request, settings):
    """Counters on a clean store: this process's memory, or the configured Redis."""
    if request.param == "memory":
        settings.CACHES = LOCMEM
    else:
        assert "redis" in settings.CACHES["default"]["BACKEND"]
    opsstats_clear()
    yield request.param
    opsstats_clear()


def _minute_start(minutes_ago: int) -> float:
    return (int(time.time() // 60) - minutes_ago) * 60.0


def test_responses_and_server_errors_are_counted_per_minute(store):
    three_ago = _minute_start(3)
    # given five responses over two minutes, three of them server errors
    response_record(200, now=three_ago + 5)
    response_record(404, now=three_ago + 10)  # a client error is not a server error
    response_record(500, now=three_ago + 20)
    response_record(503, now=three_ago + 70)  # the next minute
    response_record(599, now=three_ago + 119)
    # when the last five minutes are read
    minutes = minutes_read(last=5, now=three_ago + 3 * 60 + 1)
    # then each minute holds exactly its own counts, oldest first
    first = int(three_ago // 60) - 1
    assert [m.minute for m in minutes] == [first, first + 1, first + 2, first + 3, first + 4]
    assert [(m.responses, m.server_errors) for m in minutes] == [
        (0, 0),
        (3, 1),
        (2, 2),
        (0, 0),
        (0, 0),
    ]


def test_ingestion_times_land_in_their_histogram_buckets(store):
    now = _minute_start(1) + 30
    # bounds 1, 2, 5, 10, ... 10000 ms: 0.5 -> bucket 0, 1.0 -> 0 (on the bound),
    # 3 and 5 -> 2, 40 -> 5 (25 < 40 <= 50), 12,000 -> 13 (above the last bound)
    for ms in (0.5, 1.0, 3.0, 5.0, 40.0, 12_000.0):
        ingest_record(ms, now=now)
    (minute,) = minutes_read(last=1, now=now)
    expected = [0] * INGEST_BUCKETS
    expected[0], expected[2], expected[5], expected[13] = 2, 2, 1, 1
    assert list(minute.ingest) == expected
    assert minute.batches == 6


def test_counts_from_several_flushes_add_up(store):
    now = _minute_start(0) + 1
    for _ in range(3):
        response_record(200, now=now)
    opsstats.RECORDER.flush()
    response_record(502, now=now)
    opsstats.RECORDER.flush()
    (minute,) = minutes_read(last=1, now=now)
    assert (minute.responses, minute.server_errors) == (4, 1)


def test_recording_writes_nothing_until_the_flush(store, monkeypatch):
    writes = []

    class CountingStore:
        def add(self, **counts):
            writes.append(counts)

        def clear(self):
            pass

    monkeypatch.setattr(opsstats, "_store", lambda: CountingStore())
    now = time.time()
    for _ in range(1000):
        response_record(200, now=now)
        ingest_record(12.0, now=now)
    # two thousand recordings: no write of their own (the once-a-second thread may
    # have written at most once meanwhile)
    assert len(writes) <= 1
    opsstats.RECORDER.flush()
    minute = int(now // 60)
    assert sum(w["responses"].get(minute, 0) for w in writes) == 1000
    assert sum(w["ingest"].get((minute, 4), 0) for w in writes) == 1000  # 10 < 12 <= 25


def _plus(before: dict[str, int], **more: int) -> dict[str, int]:
    return {name: count + more.get(name, 0) for name, count in before.items()}


def test_open_sockets_are_counted_by_consumer(store):
    # sockets other tests of this process left open count too: compare with them
    before = opsstats.RECORDER.local_sockets()
    socket_opened("dashboard")
    socket_opened("dashboard")
    socket_opened("play")
    try:
        sockets = open_sockets()
        assert sockets.by_consumer == _plus(before, play=1, dashboard=2)
        assert sockets.processes == 1
        assert sockets.total == sum(before.values()) + 3
        socket_closed("dashboard")
        assert open_sockets().by_consumer == _plus(before, play=1, dashboard=1)
    finally:
        socket_closed("dashboard")
        socket_closed("play")
    assert open_sockets().by_consumer == before


def test_a_close_without_an_open_never_counts_below_zero():
    recorder = opsstats._Recorder()
    recorder._thread = object()  # type: ignore[assignment]  # no flushing thread here
    recorder.socket("traits", -1)
    assert recorder.local_sockets()["traits"] == 0


def test_the_sockets_of_a_process_that_stopped_writing_drop_out(store):
    now = time.time()
    # two other processes: one wrote 30 s ago (alive), one 61 s ago (gone)
    opsstats._store().add(
        responses={},
        errors={},
        ingest={},
        sockets={"play": 4, "dashboard": 0, "traits": 1},
        process="web-a:11",
        now=now - 30,
    )
    opsstats._store().add(
        responses={},
        errors={},
        ingest={},
        sockets={"play": 7, "dashboard": 2, "traits": 0},
        process="web-b:12",
        now=now - opsstats.SOCKETS_STALE_S - 1,
    )
    mine = opsstats.RECORDER.local_sockets()  # this process's, if other tests left any
    sockets = open_sockets()
    assert sockets.by_consumer == _plus(mine, play=4, traits=1)
    assert sockets.processes == 1 + any(mine.values())
    # the stale entry was deleted, not just skipped: even an older "now" no longer sees it
    entries = opsstats._store().sockets(now - opsstats.SOCKETS_STALE_S)
    assert [entry["play"] for entry in entries if entry["play"] == 7] == []


def test_redis_keys_expire(store):
    if store != "redis":
        pytest.skip("expiry is Redis's")
    now = time.time()
    response_record(200, now=now)
    ingest_record(3.0, now=now)
    socket_opened("traits")
    try:
        opsstats.RECORDER.flush()
        redis_store = opsstats._store()
        assert isinstance(redis_store, opsstats._RedisStore)
        minute = int(now // 60)
        for kind in ("responses", "ingest"):
            ttl = redis_store.client.ttl(redis_store._key(kind, minute))
            assert 0 < ttl <= opsstats.RETENTION_S
        assert 0 < redis_store.client.ttl(redis_store._key("sockets")) <= opsstats.RETENTION_S
        entry = json.loads(
            next(iter(redis_store.client.hgetall(redis_store._key("sockets")).values()))
        )
        assert entry["traits"] == 1
    finally:
        socket_closed("traits")


def test_a_forked_child_starts_with_nothing_of_its_parent():
    recorder = opsstats._Recorder()
    recorder._thread = object()  # type: ignore[assignment]  # no flushing thread here
    recorder.response(500, time.time())
    recorder.socket("play", +1)
    recorder.after_fork()
    assert recorder._responses == {}
    assert recorder._errors == {}
    assert recorder.local_sockets() == {"play": 0, "dashboard": 0, "traits": 0}
    assert recorder._thread is None


def test_memory_keeps_only_the_retention_window(settings):
    settings.CACHES = LOCMEM
    opsstats_clear()
    local = opsstats._LOCAL_STORE
    now = time.time()
    old = int(now // 60) - opsstats.RETENTION_S // 60 - 1
    local.add(responses={old: 5}, errors={}, ingest={}, sockets=None, process="p", now=now)
    assert old not in local._responses
    opsstats_clear()


# --- the middleware ---------------------------------------------------------------------


def test_the_middleware_counts_each_response_and_its_status(store):
    factory = RequestFactory()
    statuses = iter([200, 500, 302])
    middleware = OpsCountersMiddleware(lambda request: HttpResponse(status=next(statuses)))
    for _ in range(3):
        middleware(factory.get("/"))
    (minute,) = minutes_read(last=1)
    assert (minute.responses, minute.server_errors) == (3, 1)


def test_the_middleware_works_in_an_async_chain(store):
    async def get_response(request):
        return HttpResponse(status=503)

    middleware = OpsCountersMiddleware(get_response)
    response = asyncio.run(middleware(RequestFactory().get("/")))
    assert response.status_code == 503
    (minute,) = minutes_read(last=1)
    assert (minute.responses, minute.server_errors) == (1, 1)


def test_the_middleware_is_first_and_sees_real_responses(store, client, settings):
    assert settings.MIDDLEWARE[0] == "pymetrics.common.middleware.OpsCountersMiddleware"
    client.get("/healthz")
    client.get("/no-such-page/")
    (minute,) = minutes_read(last=1)
    assert (minute.responses, minute.server_errors) == (2, 0)


def test_the_hot_paths_cost_well_under_a_tenth_of_a_millisecond(store):
    factory = RequestFactory()
    request = factory.get("/")
    response = HttpResponse()
    bare = lambda request: response  # noqa: E731
    middleware = OpsCountersMiddleware(bare)
    calls = 20_000

    def per_call_us(function) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - started) / calls * 1e6

    # the middleware's own cost: the chain with it minus the chain without it
    with_middleware = min(per_call_us(lambda: middleware(request)) for _ in range(3))
    without = min(per_call_us(lambda: bare(request)) for _ in range(3))
    ingest = min(per_call_us(lambda: ingest_record(4.2)) for _ in range(3))
    print(  # shown with -s; docs/operations.md quotes these figures
        f"\nmiddleware {with_middleware - without:.2f} us/response, "
        f"ingest_record {ingest:.2f} us/batch"
    )
    assert with_middleware - without < 100.0
    assert ingest < 100.0
