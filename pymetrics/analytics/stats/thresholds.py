"""Operational thresholds of the system status page, and the quantiles they judge.

Every limit that turns a row of the page amber or red is defined here, once, so
the page, its alert list, the tests and docs/operations.md ("System status") say
the same thing. Pure: numbers in, levels out (no Django, no I/O).

Levels: ``ok`` (within limits), ``amber`` (look at it soon), ``red`` (broken or
about to be), and ``info`` for rows that are shown but not judged (open sockets,
cache hit rate, the process's own figures).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

OK = "ok"
AMBER = "amber"
RED = "red"
INFO = "info"
_SEVERITY = {INFO: 0, OK: 0, AMBER: 1, RED: 2}


@dataclass(frozen=True)
class Limit:
    """A figure is amber above ``amber`` and red above ``red`` (strictly)."""

    amber: float
    red: float

    def level(self, value: float | None) -> str:
        """The level of ``value``; no value (nothing measured) is ``ok``."""
        if value is None or not math.isfinite(value):
            return OK
        if value > self.red:
            return RED
        if value > self.amber:
            return AMBER
        return OK


#: A probe (database, cache, live notices, broker) that answers slower than this is
#: amber: each is one round trip on a local network, normally a few ms; 100 ms is
#: the point where every page that touches the service is visibly slower. A probe
#: that fails is red whatever its time.
PROBE_MS = Limit(amber=100.0, red=math.inf)
#: Tasks waiting in a broker queue. Scoring one game takes a worker well under a
#: second, so 100 waiting is a backlog of a minute or more for a small pool, and
#: 1,000 one that will not clear by itself before candidates notice.
QUEUE_WAITING = Limit(amber=100, red=1000)
#: Event batch received -> stored, 95th percentile over 15 minutes (ms). A
#: 500-event batch is stored in a few tens of ms; above 250 ms the database or the
#: session row locks queue up, above 1 s acknowledgements fall far behind play
#: (the browser gives an unanswered socket 15 s before reconnecting).
INGEST_P95_MS = Limit(amber=250.0, red=1000.0)
#: Game completed -> metrics stored, 95th percentile over 15 minutes (s). A worker
#: scores a game in about a second; a minute means the queue is backing up, five
#: minutes that staff watching a dashboard wait for results that do not come.
SCORING_P95_S = Limit(amber=60.0, red=300.0)
#: Share of HTTP responses that are server errors (5xx) in a window.
ERROR_SHARE = Limit(amber=0.01, red=0.05)
#: Below this many responses in a window a share says little (one error of three
#: is 33%): such a window is amber if it had any server error, never red.
MIN_RESPONSES = 20


def worst(levels: Iterable[str]) -> str:
    """The most severe of ``levels`` (``ok`` when there are none; ``info`` counts as ok)."""
    found = OK
    for level in levels:
        if _SEVERITY[level] > _SEVERITY[found]:
            found = level
    return found


def probe_level(*, ok: bool, ms: float | None) -> str:
    """A failing probe is red; a slow one amber."""
    if not ok:
        return RED
    return PROBE_MS.level(ms)


def workers_level(*, answering: int | None, in_process: bool) -> str:
    """No worker answering (or the question could not be asked) is red.

    When tasks run in the web process (the embedded default) there is no worker to
    have: that is ``ok``.
    """
    if in_process:
        return OK
    if answering is None or answering < 1:
        return RED
    return OK


def error_share(*, errors: int, responses: int) -> float | None:
    """The share of responses that were server errors; None without responses."""
    if responses <= 0:
        return None
    return errors / responses


def error_level(*, errors: int, responses: int) -> str:
    """The level of one window's server errors (see :data:`MIN_RESPONSES`)."""
    if responses < MIN_RESPONSES:
        return AMBER if errors > 0 else OK
    return ERROR_SHARE.level(error_share(errors=errors, responses=responses))


# --- the quantiles the limits judge ---------------------------------------------------


def bucket_index(bounds: Sequence[float], value: float) -> int:
    """The histogram bucket of ``value``: the first bound at or above it (len = overflow)."""
    return bisect.bisect_left(bounds, value)


def histogram_quantile(bounds: Sequence[float], counts: Sequence[int], q: float) -> float | None:
    """The ``q``-quantile of a histogram, interpolated linearly within its bucket.

    ``counts[i]`` counts values in ``(bounds[i-1], bounds[i]]`` (the first bucket
    starts at 0) and ``counts[len(bounds)]`` those above the last bound; a quantile
    that falls there is reported as the last bound (a lower limit), as Prometheus
    does. None for an empty histogram.
    """
    if len(counts) != len(bounds) + 1:
        raise ValueError("a histogram needs one count per bound and one for the overflow")
    total = sum(counts)
    if total <= 0:
        return None
    rank = q * total
    below = 0
    for index, count in enumerate(counts):
        if count and below + count >= rank:
            if index == len(bounds):
                return float(bounds[-1])
            lower = 0.0 if index == 0 else float(bounds[index - 1])
            upper = float(bounds[index])
            return lower + (upper - lower) * (rank - below) / count
        below += count
    return float(bounds[-1])


def sample_quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile of raw values (linear interpolation); None when there are none."""
    if len(values) == 0:
        return None
    return float(np.quantile(np.asarray(values, dtype=float), q))


def merge_histograms(histograms: Iterable[Sequence[int]], size: int) -> list[int]:
    """Bucket-wise sum of histograms of ``size`` buckets."""
    total = [0] * size
    for histogram in histograms:
        for index, count in enumerate(histogram):
            total[index] += count
    return total
