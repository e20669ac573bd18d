"""Operational counters shared by every process, for the system status page.

What is counted, per minute: HTTP responses and the server errors (5xx) among
them (:func:`response_record`, from :mod:`pymetrics.common.middleware`), and the
time from receiving an event batch to having it stored, as a histogram
(:func:`ingest_record`, from ``events_ingest``). And, per process, the sockets open
now by consumer (:func:`socket_opened` / :func:`socket_closed`).

Cheap on the hot paths: recording is an increment in this process's memory, under a
lock, with no I/O. A daemon thread adds the pending counts to the shared store
once a second in one pipelined round trip, so neither a response nor an event
batch ever waits for Redis (measured: a few microseconds per call; see
docs/operations.md). A reader flushes its own process first, so what it shows is
at most a second behind the other processes.

Bounded: counts live in per-minute keys that expire after :data:`RETENTION_S`;
ingestion times are a fixed-bucket histogram per minute, never a list of samples;
open sockets are one entry per process holding its current counts and the time it
was written, rewritten on every change and every :data:`SOCKETS_REFRESH_S` while
it has sockets. Readers ignore (and delete) entries older than
:data:`SOCKETS_STALE_S`, so the sockets of a process that died drop out within a
minute.

Store: the default cache's Redis server (raw keys ``<KEY_PREFIX>:ops:...``) when
the cache is Redis; otherwise (the embedded default) this process's memory, which
is right there because one process serves everything. Best effort, like the
analytics cache statistics: counts that cannot be written (Redis unreachable) are
dropped, never retried into an unbounded backlog.
"""

from __future__ import annotations

import atexit
import bisect
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)

#: Seconds between a process's writes of its pending counts.
FLUSH_EVERY_S = 1.0
#: Per-minute counts are kept this long (the page reads the last hour).
RETENTION_S = 2 * 3600
#: A process with open sockets rewrites its entry this often...
SOCKETS_REFRESH_S = 15.0
#: ...and an entry not rewritten for this long belongs to a process that is gone.
SOCKETS_STALE_S = 60.0
#: Upper bounds (ms) of the ingestion-time histogram buckets; one more bucket
#: counts the batches above the last bound.
INGEST_BOUNDS_MS: tuple[float, ...] = (
    1,
    2,
    5,
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10000,
)
INGEST_BUCKETS = len(INGEST_BOUNDS_MS) + 1
#: The socket consumers counted (pymetrics.realtime).
CONSUMERS = ("play", "dashboard", "traits")


def _bucket(ms: float) -> int:
    """The first bound at or above ``ms`` (``len(INGEST_BOUNDS_MS)``: the overflow)."""
    return bisect.bisect_left(INGEST_BOUNDS_MS, ms)


@dataclass(frozen=True)
class MinuteCounts:
    """One minute's shared counts; ``minute`` is minutes since the Unix epoch (UTC)."""

    minute: int
    responses: int
    server_errors: int
    #: batches per bucket of :data:`INGEST_BOUNDS_MS` (and the overflow bucket last)
    ingest: tuple[int, ...]

    @property
    def batches(self) -> int:
        return sum(self.ingest)


@dataclass(frozen=True)
class OpenSockets:
    """Sockets open now, by consumer, summed over the live processes that hold any."""

    by_consumer: dict[str, int]
    processes: int

    @property
    def total(self) -> int:
        return sum(self.by_consumer.values())


class _Store(Protocol):
    def add(
        self,
        *,
        responses: dict[int, int],
        errors: dict[int, int],
        ingest: dict[tuple[int, int], int],
        sockets: dict[str, int] | None,
        process: str,
        now: float,
    ) -> None: ...

    def minutes(self, minutes: list[int]) -> list[MinuteCounts]: ...

    def sockets(self, now: float) -> list[dict[str, Any]]: ...

    def clear(self) -> None: ...


def _socket_entry(sockets: dict[str, int], now: float) -> dict[str, Any]:
    return {"at": now, **sockets}


def _stale_processes(entries: Iterable[tuple[str, dict[str, Any]]], now: float) -> list[str]:
    """The processes of ``entries`` whose entry was not rewritten for too long: gone."""
    return [process for process, entry in entries if now - entry["at"] > SOCKETS_STALE_S]


class _RedisStore:
    """Per-minute keys on the default cache's Redis server, one pipeline per call."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}:ops:" if prefix else "ops:"

    def _key(self, kind: str, minute: int | None = None) -> str:
        return f"{self.prefix}{kind}" if minute is None else f"{self.prefix}{kind}:{minute}"

    def add(
        self,
        *,
        responses: dict[int, int],
        errors: dict[int, int],
        ingest: dict[tuple[int, int], int],
        sockets: dict[str, int] | None,
        process: str,
        now: float,
    ) -> None:
        pipe = self.client.pipeline(transaction=False)
        for kind, counts in (("responses", responses), ("5xx", errors)):
            for minute, count in counts.items():
                key = self._key(kind, minute)
                pipe.incrby(key, count)
                pipe.expire(key, RETENTION_S)
        touched = set()
        for (minute, bucket), count in ingest.items():
            key = self._key("ingest", minute)
            pipe.hincrby(key, str(bucket), count)
            touched.add(key)
        for key in touched:
            pipe.expire(key, RETENTION_S)
        if sockets is not None:
            key = self._key("sockets")
            pipe.hset(key, process, json.dumps(_socket_entry(sockets, now)))
            pipe.expire(key, RETENTION_S)
        pipe.execute()

    def minutes(self, minutes: list[int]) -> list[MinuteCounts]:
        pipe = self.client.pipeline(transaction=False)
        for minute in minutes:
            pipe.get(self._key("responses", minute))
            pipe.get(self._key("5xx", minute))
            pipe.hgetall(self._key("ingest", minute))
        found = pipe.execute()
        result = []
        for index, minute in enumerate(minutes):
            responses, errors, histogram = found[3 * index : 3 * index + 3]
            buckets = [0] * INGEST_BUCKETS
            for bucket, count in histogram.items():
                position = int(bucket)
                if 0 <= position < INGEST_BUCKETS:
                    buckets[position] = int(count)
            result.append(
                MinuteCounts(
                    minute=minute,
                    responses=int(responses or 0),
                    server_errors=int(errors or 0),
                    ingest=tuple(buckets),
                )
            )
        return result

    def sockets(self, now: float) -> list[dict[str, Any]]:
        key = self._key("sockets")
        entries = [
            (field.decode() if isinstance(field, bytes) else str(field), json.loads(value))
            for field, value in self.client.hgetall(key).items()
        ]
        stale = _stale_processes(entries, now)
        if stale:
            self.client.hdel(key, *stale)
        return [entry for process, entry in entries if process not in stale]

    def clear(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=500))
        if keys:
            self.client.delete(*keys)


class _LocalStore:
    """This process's memory: the embedded default, where one process serves everything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._responses: dict[int, int] = {}
        self._errors: dict[int, int] = {}
        self._ingest: dict[int, list[int]] = {}
        self._sockets: dict[str, dict[str, Any]] = {}

    def add(
        self,
        *,
        responses: dict[int, int],
        errors: dict[int, int],
        ingest: dict[tuple[int, int], int],
        sockets: dict[str, int] | None,
        process: str,
        now: float,
    ) -> None:
        oldest = int(now // 60) - RETENTION_S // 60
        with self._lock:
            for minute, count in responses.items():
                self._responses[minute] = self._responses.get(minute, 0) + count
            for minute, count in errors.items():
                self._errors[minute] = self._errors.get(minute, 0) + count
            for (minute, bucket), count in ingest.items():
                self._ingest.setdefault(minute, [0] * INGEST_BUCKETS)[bucket] += count
            if sockets is not None:
                self._sockets[process] = _socket_entry(sockets, now)
            for counts in (self._responses, self._errors, self._ingest):
                for minute in [m for m in counts if m < oldest]:
                    del counts[minute]

    def minutes(self, minutes: list[int]) -> list[MinuteCounts]:
        with self._lock:
            return [
                MinuteCounts(
                    minute=minute,
                    responses=self._responses.get(minute, 0),
                    server_errors=self._errors.get(minute, 0),
                    ingest=tuple(self._ingest.get(minute, [0] * INGEST_BUCKETS)),
                )
                for minute in minutes
            ]

    def sockets(self, now: float) -> list[dict[str, Any]]:
        with self._lock:
            for process in _stale_processes(self._sockets.items(), now):
                del self._sockets[process]
            return [dict(entry) for entry in self._sockets.values()]

    def clear(self) -> None:
        with self._lock:
            self._responses.clear()
            self._errors.clear()
            self._ingest.clear()
            self._sockets.clear()


_LOCAL_STORE = _LocalStore()


def _store() -> _Store:
    """Redis when the default cache is Redis (shared by every process), else memory."""
    cache_settings = settings.CACHES["default"]
    if "redis" in str(cache_settings.get("BACKEND", "")).lower():
        from django_redis import get_redis_connection

        return _RedisStore(
            get_redis_connection("default"), str(cache_settings.get("KEY_PREFIX", ""))
        )
    return _LOCAL_STORE


def _process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Recorder:
    """This process's counts not yet written to the store, and its open sockets."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._responses: dict[int, int] = {}
        self._errors: dict[int, int] = {}
        self._ingest: dict[tuple[int, int], int] = {}
        self._sockets = dict.fromkeys(CONSUMERS, 0)
        self._sockets_changed = False
        self._sockets_written_at = 0.0
        self._thread: threading.Thread | None = None

    def after_fork(self) -> None:
        """A forked child owns nothing of its parent's: no counts, sockets, locks or thread."""
        self._reset()

    # --- the hot paths: memory only ---------------------------------------------------

    def response(self, status: int, now: float) -> None:
        minute = int(now // 60)
        with self._lock:
            self._responses[minute] = self._responses.get(minute, 0) + 1
            if status >= 500:
                self._errors[minute] = self._errors.get(minute, 0) + 1
            if self._thread is None:
                self._start()

    def ingest(self, ms: float, now: float) -> None:
        key = (int(now // 60), _bucket(ms))
        with self._lock:
            self._ingest[key] = self._ingest.get(key, 0) + 1
            if self._thread is None:
                self._start()

    def socket(self, consumer: str, change: int) -> None:
        with self._lock:
            self._sockets[consumer] = max(0, self._sockets.get(consumer, 0) + change)
            self._sockets_changed = True
            if self._thread is None:
                self._start()

    def drop_pending(self) -> None:
        """Forget the counts not written yet; open sockets stay (they are still open)
        and are written again at the next flush."""
        with self._flush_lock, self._lock:
            self._responses.clear()
            self._errors.clear()
            self._ingest.clear()
            self._sockets_changed = True

    def local_sockets(self) -> dict[str, int]:
        with self._lock:
            return dict(self._sockets)

    # --- writing ------------------------------------------------------------------------

    def _start(self) -> None:
        """Start the flushing thread (called with the lock held, once per process)."""
        thread = threading.Thread(target=self._run, name="opsstats-flush", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: readers still flush, and counting goes on
            logger.warning("operational counters: no flushing thread", exc_info=True)
        self._thread = thread

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY_S)
            self.flush()

    def flush(self) -> None:
        """Write the pending counts (and the sockets, when due) in one round trip."""
        with self._flush_lock:
            with self._lock:
                responses, self._responses = self._responses, {}
                errors, self._errors = self._errors, {}
                ingest, self._ingest = self._ingest, {}
                sockets = None
                due = time.monotonic() - self._sockets_written_at >= SOCKETS_REFRESH_S
                if self._sockets_changed or (due and any(self._sockets.values())):
                    sockets = dict(self._sockets)
                    self._sockets_changed = False
                    self._sockets_written_at = time.monotonic()
            if not (responses or errors or ingest or sockets is not None):
                return
            try:
                _store().add(
                    responses=responses,
                    errors=errors,
                    ingest=ingest,
                    sockets=sockets,
                    process=_process_name(),
                    now=time.time(),
                )
            except Exception:  # operational counts are best effort
                logger.debug("could not write operational counters", exc_info=True)


RECORDER = _Recorder()
os.register_at_fork(after_in_child=RECORDER.after_fork)
# a short-lived process (a management command) writes what it counted before it exits
atexit.register(RECORDER.flush)


def response_record(status: int, *, now: float | None = None) -> None:
    """Count one HTTP response with status ``status`` (hot path: memory only)."""
    RECORDER.response(status, time.time() if now is None else now)


def ingest_record(ms: float, *, now: float | None = None) -> None:
    """Count one event batch that took ``ms`` from received to stored (memory only)."""
    RECORDER.ingest(ms, time.time() if now is None else now)


def socket_opened(consumer: str) -> None:
    """A socket of ``consumer`` (``play``, ``dashboard``, ``traits``) was accepted."""
    RECORDER.socket(consumer, +1)


def socket_closed(consumer: str) -> None:
    """A socket counted by :func:`socket_opened` closed."""
    RECORDER.socket(consumer, -1)


def minutes_read(*, last: int, now: float | None = None) -> list[MinuteCounts]:
    """The shared counts of the last ``last`` minutes, oldest first, this minute last."""
    RECORDER.flush()
    current = int((time.time() if now is None else now) // 60)
    return _store().minutes(list(range(current - last + 1, current + 1)))


def open_sockets() -> OpenSockets:
    """Sockets open now in every live process, by consumer."""
    RECORDER.flush()
    entries = _store().sockets(time.time())
    by_consumer = dict.fromkeys(CONSUMERS, 0)
    processes = 0
    for entry in entries:
        counts = {name: int(entry.get(name, 0)) for name in CONSUMERS}
        if any(counts.values()):
            processes += 1
        for name, count in counts.items():
            by_consumer[name] += count
    return OpenSockets(by_consumer=by_consumer, processes=processes)


def opsstats_clear() -> None:
    """Forget every shared count and this process's pending ones (tests, a fresh start)."""
    RECORDER.drop_pending()
    _store().clear()
