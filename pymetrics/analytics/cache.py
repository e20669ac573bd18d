"""Cached analytics reads: versioned keys, one computation per miss, a hit rate.

:func:`cached` stores a computed value under a key made of its name and the
current versions of the scopes it depends on (:mod:`pymetrics.common.versions`):
a write that bumps a scope makes every read of it compute afresh, so a dashboard
is never stale after a score lands.

An expensive aggregate that misses while many people load the page at once is
computed once (stampede protection): the first reader takes a short lock and
computes; the others wait for its result, polling, and compute it themselves only
if the lock holder takes longer than ``wait_s`` (it may have died).

Hits and misses are counted per process (Prometheus, ``/metrics``) and added up
across processes in the cache every few seconds for the system status page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from prometheus_client import Counter

from pymetrics.common.telemetry import REGISTRY
from pymetrics.common.versions import versions

T = TypeVar("T")
logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 600
#: How long one reader may hold the right to compute a missing value.
LOCK_TTL_S = 30
WAIT_S = 10.0
POLL_S = 0.02
#: Counts are added to the shared totals at most this often per process.
FLUSH_EVERY_S = 5.0

_MISSING = object()
STATS_KEYS = {"hit": "analytics:stats:hits", "miss": "analytics:stats:misses"}

CACHE_READS = Counter(
    "pymetrics_cache_reads_total",
    "Cached analytics reads, by outcome (hit or miss)",
    ["outcome"],
    registry=REGISTRY,
)


class _Tally:
    """Hits and misses of this process not yet added to the shared totals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = {"hit": 0, "miss": 0}
        self._flushed_at = time.monotonic()

    def count(self, outcome: str) -> None:
        CACHE_READS.labels(outcome=outcome).inc()
        with self._lock:
            self._pending[outcome] += 1
            if time.monotonic() - self._flushed_at < FLUSH_EVERY_S:
                return
            pending, self._pending = self._pending, {"hit": 0, "miss": 0}
            self._flushed_at = time.monotonic()
        self._add(pending)

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {"hit": 0, "miss": 0}
            self._flushed_at = time.monotonic()
        self._add(pending)

    @staticmethod
    def _add(pending: dict[str, int]) -> None:
        for outcome, count in pending.items():
            if not count:
                continue
            key = STATS_KEYS[outcome]
            try:
                try:
                    cache.incr(key, count)
                except ValueError:
                    if not cache.add(key, count, timeout=None):
                        cache.incr(key, count)
            except Exception:  # statistics are best effort
                logger.debug("could not add cache statistics", exc_info=True)


TALLY = _Tally()


def hit_rate() -> tuple[int, int]:
    """``(hits, misses)`` of cached analytics reads across processes, since the cache started."""
    TALLY.flush()
    found = cache.get_many(list(STATS_KEYS.values()))
    return int(found.get(STATS_KEYS["hit"], 0)), int(found.get(STATS_KEYS["miss"], 0))


def cache_key(name: str, scopes: Iterable[str]) -> str:
    return f"analytics:{name}:v{versions(scopes)}"


def cached(
    name: str,
    scopes: Iterable[str],
    compute: Callable[[], T],
    *,
    ttl_s: int = DEFAULT_TTL_S,
    wait_s: float = WAIT_S,
) -> T:
    """``compute()``'s value, from the cache while no scope it depends on has changed.

    ``name`` identifies the read and its arguments (e.g. ``"dashboard:12"``);
    ``scopes`` are what it shows (e.g. ``["assessment:12", "org:3"]``).
    """
    key = cache_key(name, scopes)
    value = cache.get(key, _MISSING)
    if value is not _MISSING:
        TALLY.count("hit")
        return value
    TALLY.count("miss")
    lock = f"{key}:computing"
    deadline = time.monotonic() + wait_s
    while True:
        if cache.add(lock, 1, timeout=LOCK_TTL_S):
            try:
                # Another reader may have stored it between our miss and the lock.
                value = cache.get(key, _MISSING)
                if value is _MISSING:
                    value = compute()
                    cache.set(key, value, timeout=ttl_s)
            finally:
                cache.delete(lock)
            return value
        while time.monotonic() < deadline:
            time.sleep(POLL_S)
            value = cache.get(key, _MISSING)
            if value is not _MISSING:
                return value
            if cache.get(lock) is None:  # released: stored since, or the holder failed
                break
        else:
            return compute()  # the holder is taking too long (it may have died)


def cached_value(name: str, scopes: Iterable[str]) -> Any:
    """What :func:`cached` holds for ``name`` now, or None (for tests and diagnostics)."""
    value = cache.get(cache_key(name, scopes), _MISSING)
    return None if value is _MISSING else value
