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
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django_redis.client import DefaultClient
from prometheus_client import Counter

from pymetrics.common.telemetry import REGISTRY
from pymetrics.common.versions import VERSION_KEY_PREFIX, versions

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
    return _key(name, versions(scopes))


def _key(name: str, version: str) -> str:
    return f"analytics:{name}:v{version}"


@dataclass(frozen=True)
class Read(Generic[T]):
    """One cached read for :func:`cached_reads`: what :func:`cached` takes, as a value."""

    name: str
    scopes: Sequence[str]
    compute: Callable[[], T]
    ttl_s: int = DEFAULT_TTL_S


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
    [value] = cached_reads([Read(name, list(scopes), compute, ttl_s)], wait_s=wait_s)
    return value


def cached_reads(reads: Sequence[Read[Any]], *, wait_s: float = WAIT_S) -> list[Any]:
    """Several :func:`cached` reads, looked up together: one cache round trip when all hit."""
    found = _LOOKUP.lookup([(read.name, read.scopes) for read in reads])
    values = []
    for read, (key, value) in zip(reads, found, strict=True):
        if value is _MISSING:
            TALLY.count("miss")
            value = _fill(key, read.compute, ttl_s=read.ttl_s, wait_s=wait_s)
        else:
            TALLY.count("hit")
        values.append(value)
    return values


def _fill(key: str, compute: Callable[[], T], *, ttl_s: int, wait_s: float) -> T:
    """Compute a value that missed and store it, once however many readers missed it."""
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


#: Reads every version a lookup needs and then the entries they name, in Redis: one
#: round trip instead of two (the entry's key is known only once its versions are).
#: KEYS: the version counters, entry after entry; ARGV: per entry its key up to the
#: versions and how many of KEYS are its versions. Answers version, entry, version,
#: entry...; an entry not there is nil.
_LOOKUP_SCRIPT = """
local answer = {}
local next_key = 1
for i = 1, #ARGV, 2 do
  local parts = {}
  for j = 1, tonumber(ARGV[i + 1]) do
    parts[j] = redis.call('GET', KEYS[next_key]) or '0'
    next_key = next_key + 1
  end
  local version = table.concat(parts, '.')
  answer[#answer + 1] = version
  answer[#answer + 1] = redis.call('GET', ARGV[i] .. version) or false
end
return answer
"""


class _Lookup:
    """Finds cached entries by name and scopes: by script on Redis, else in two steps.

    The script is used with django-redis's default client only, whose keys are
    ``prefix:version:key`` (so an entry's key is its stored key up to the versions,
    then the versions) and whose values it can decode. Entry keys are built inside
    the script, which a Redis Cluster would refuse; that client does not do Cluster.
    """

    def __init__(self) -> None:
        #: per cache backend (one per thread): (django-redis client, script) or None
        self._redis: weakref.WeakKeyDictionary[Any, tuple[Any, Any] | None] = (
            weakref.WeakKeyDictionary()
        )

    def lookup(self, reads: Sequence[tuple[str, Sequence[str]]]) -> list[tuple[str, Any]]:
        redis = self._redis_of(caches[DEFAULT_CACHE_ALIAS])
        if redis is None:
            found = []
            for name, scopes in reads:
                key = cache_key(name, scopes)
                found.append((key, cache.get(key, _MISSING)))
            return found
        client, script = redis
        keys: list[str] = []
        arguments: list[str | int] = []
        for name, scopes in reads:
            keys.extend(client.make_key(VERSION_KEY_PREFIX + scope) for scope in scopes)
            arguments.extend((client.make_key(_key(name, "")), len(scopes)))
        answer = script(keys=keys, args=arguments, client=client.get_client(write=False))
        found = []
        for (name, _scopes), version, raw in zip(reads, answer[::2], answer[1::2], strict=True):
            entry = _key(name, version.decode())
            found.append((entry, _MISSING if raw is None else client.decode(raw)))
        return found

    def _redis_of(self, backend: Any) -> tuple[Any, Any] | None:
        """django-redis's default client behind ``backend`` and the script, or None."""
        try:
            return self._redis[backend]
        except KeyError:
            pass
        redis = None
        client = getattr(backend, "client", None)
        if type(client) is DefaultClient and client.make_key("analytics:x").endswith(
            ":analytics:x"
        ):
            redis = (client, client.get_client(write=False).register_script(_LOOKUP_SCRIPT))
        self._redis[backend] = redis
        return redis


_LOOKUP = _Lookup()


def cached_value(name: str, scopes: Iterable[str]) -> Any:
    """What :func:`cached` holds for ``name`` now, or None (for tests and diagnostics)."""
    value = cache.get(cache_key(name, scopes), _MISSING)
    return None if value is _MISSING else value
