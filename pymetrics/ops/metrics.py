"""Figures computed when Prometheus scrapes: queue depth, scoring lag, cache hit rate.

The same figures as the system status page (:mod:`pymetrics.analytics.selectors.system`),
read from shared sources: the broker's queues, the database and the cache. Every
process answers the same values, so they are reported as they are (aggregate
them over targets with ``max``, never ``sum``). Computed at most once per
:data:`CACHE_S` per process: two Prometheus servers scraping do not query the
database twice. A source that cannot be read leaves its metric without samples
(the scrape still succeeds; the status page and ``/readyz`` say why).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pymetrics.analytics.cache import hit_rate
from pymetrics.analytics.selectors import system
from pymetrics.analytics.stats import thresholds

logger = logging.getLogger(__name__)

#: Seconds a process reuses the figures it computed for a scrape.
CACHE_S = 5.0


@dataclass(frozen=True)
class Figures:
    #: messages waiting per broker queue (empty when tasks run in-process)
    queues: dict[str, int] = field(default_factory=dict)
    #: p95 of game completed -> scored over the status page's window (s); None: no game
    scoring_p95_s: float | None = None
    #: the longest a game waiting now has waited (s); 0 when none waits
    oldest_wait_s: float | None = None
    waiting_games: int | None = None
    #: cached analytics reads served from the cache, every process; None: no read yet
    cache_hit_ratio: float | None = None


def _queues() -> dict[str, int]:
    found = system.broker_queues()
    return {
        str(queue["name"]): int(queue["waiting"])
        for queue in found["queues"]
        if queue["waiting"] is not None
    }


def _scoring() -> tuple[float | None, float, int]:
    now = timezone.now()
    scoring = system.scoring_times(now)
    # the status page's row: games completed in its lag window, waiting ones with their wait
    cutoff = now.timestamp() - system.LAG_WINDOW_MIN * 60
    lags = [game["lag_s"] for game in scoring["games"] if game["completed"] >= cutoff]
    return (
        thresholds.sample_quantile(lags, 0.95),
        float(scoring["oldest_wait_s"] or 0.0),
        int(scoring["waiting"]),
    )


def _cache_hit_ratio() -> float | None:
    hits, misses = hit_rate()
    return hits / (hits + misses) if hits + misses else None


def compute_figures() -> Figures:
    """Every figure, each source on its own: one that fails leaves only its own empty."""
    queues: dict[str, int] = {}
    scoring: tuple[float | None, float | None, int | None] = (None, None, None)
    ratio = None
    try:
        queues = _queues()
    except Exception:
        logger.warning("metrics: the queue depths could not be read", exc_info=True)
    try:
        scoring = _scoring()
    except Exception:
        logger.warning("metrics: the scoring lag could not be read", exc_info=True)
    try:
        ratio = _cache_hit_ratio()
    except Exception:
        logger.warning("metrics: the cache hit rate could not be read", exc_info=True)
    p95, oldest, waiting = scoring
    return Figures(
        queues=queues,
        scoring_p95_s=p95,
        oldest_wait_s=oldest,
        waiting_games=waiting,
        cache_hit_ratio=ratio,
    )


class OperationsCollector(Collector):
    """The scrape-time gauges, from figures at most :data:`CACHE_S` old."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._figures: Figures | None = None
        self._at = 0.0

    def figures(self) -> Figures:
        with self._lock:
            if self._figures is None or time.monotonic() - self._at >= CACHE_S:
                self._figures = compute_figures()
                self._at = time.monotonic()
            return self._figures

    def forget(self) -> None:
        """Compute afresh at the next scrape."""
        with self._lock:
            self._figures = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        figures = self.figures()
        queues = GaugeMetricFamily(
            "pymetrics_queue_depth",
            "Messages waiting in each broker queue (none when tasks run in-process)",
            labels=["queue"],
        )
        for name, waiting in sorted(figures.queues.items()):
            queues.add_metric([name], waiting)
        yield queues
        yield _gauge(
            "pymetrics_scoring_lag_p95_seconds",
            "Game completed -> scored, 95th percentile over the last "
            f"{system.LAG_WINDOW_MIN} minutes' games (waiting ones count with their wait)",
            figures.scoring_p95_s,
        )
        yield _gauge(
            "pymetrics_scoring_oldest_wait_seconds",
            "The longest a completed game waiting to be scored now has waited (0: none waits)",
            figures.oldest_wait_s,
        )
        yield _gauge(
            "pymetrics_scoring_waiting_games",
            "Completed games waiting to be scored now",
            figures.waiting_games,
        )
        yield _gauge(
            "pymetrics_analytics_cache_hit_ratio",
            "Share of cached analytics reads served from the cache, every process, "
            "since the cache started",
            figures.cache_hit_ratio,
        )


def _gauge(name: str, documentation: str, value: float | None) -> GaugeMetricFamily:
    """A gauge with one sample, or none when there is no value (never a made-up zero)."""
    if value is None:
        return GaugeMetricFamily(name, documentation)
    return GaugeMetricFamily(name, documentation, value=value)


COLLECTOR = OperationsCollector()
