"""Distributions for the dashboards: histograms with readable bins, quantiles, daily counts.

Pure numpy. Every function ignores NaN (and infinities) in its input and returns
plain Python numbers, with None where a number does not exist (no NaN: the results
go to JSON).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

#: Bin widths are one of these times a power of ten: 1, 2, 2.5, 5, 10, 20, ...
NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)
#: Floating-point slack when a value sits on a bin edge (0.3 / 0.1 = 2.9999999999999996).
_EDGE_SLACK = 1e-9


def _finite(values: Sequence[float] | npt.ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def nice_width(span: float, target_bins: int = 10) -> float:
    """The smallest width of the form {1, 2, 2.5, 5} x 10^k giving at most ``target_bins``.

    E.g. a span of 37 in 10 bins: 37 / 10 = 3.7 -> 5. A span of 0 or less gets the
    width for a span of 1, so a single value still has a readable bin.
    """
    if target_bins < 1:
        raise ValueError("target_bins must be at least 1")
    raw = (span if span > 0 else 1.0) / target_bins
    power = 10.0 ** math.floor(math.log10(raw))
    for step in NICE_STEPS:
        width = step * power
        if width >= raw * (1 - _EDGE_SLACK):
            return float(f"{width:.12g}")  # 0.30000000000000004 -> 0.3
    raise AssertionError("unreachable: the last step is 10")  # pragma: no cover


@dataclass(frozen=True)
class Histogram:
    """Counts in half-open bins ``[edges[i], edges[i + 1])``; ``len(edges) == len(counts) + 1``."""

    edges: list[float]
    counts: list[int]
    n: int


def histogram(values: Sequence[float] | npt.ArrayLike, *, target_bins: int = 10) -> Histogram:
    """A histogram with a nice bin width, its edges multiples of that width.

    The first bin starts at the largest multiple of the width not above the
    smallest value; bins are half-open, so the largest value always falls inside
    the last bin (never on its right edge). No values: no bins.
    """
    finite = _finite(values)
    if finite.size == 0:
        return Histogram(edges=[], counts=[], n=0)
    low, high = float(finite.min()), float(finite.max())
    width = nice_width(high - low, target_bins)
    first = math.floor(low / width + _EDGE_SLACK)
    index = np.floor(finite / width + _EDGE_SLACK).astype(np.int64) - first
    bins = int(index.max()) + 1
    counts = np.bincount(index, minlength=bins)
    edges = [float(f"{(first + i) * width:.12g}") for i in range(bins + 1)]
    return Histogram(edges=edges, counts=[int(c) for c in counts], n=int(finite.size))


@dataclass(frozen=True)
class Quantiles:
    """n, median and 90th percentile (numpy ``linear``, R type 7); None without values."""

    n: int
    median: float | None
    p90: float | None


def quantiles(values: Sequence[float] | npt.ArrayLike) -> Quantiles:
    finite = _finite(values)
    if finite.size == 0:
        return Quantiles(n=0, median=None, p90=None)
    median, p90 = np.percentile(finite, [50, 90])
    return Quantiles(n=int(finite.size), median=float(median), p90=float(p90))


@dataclass(frozen=True)
class PercentileHistogram:
    """Percentiles (0..100) in equal bins, beside the share a norm population puts in each.

    Percentiles against a norm table are (mid-rank) percentiles in that population,
    so someone drawn from it lands in each of ``bins`` equal bins with probability
    ``1 / bins``: ``expected_share``. ``shares`` are the observed counts / n.
    """

    edges: list[float]
    counts: list[int]
    shares: list[float | None]
    expected_share: list[float]
    n: int


def percentile_histogram(
    percentiles: Sequence[float] | npt.ArrayLike, *, bins: int = 10
) -> PercentileHistogram:
    """Counts of percentiles in ``[0, w), [w, 2w), ..., [100 - w, 100]`` (the last one closed)."""
    finite = _finite(percentiles)
    if finite.size and (finite.min() < 0 or finite.max() > 100):
        raise ValueError("percentiles lie between 0 and 100")
    width = 100.0 / bins
    index = np.minimum(np.floor(finite / width + _EDGE_SLACK).astype(np.int64), bins - 1)
    counts = np.bincount(index, minlength=bins)
    n = int(finite.size)
    return PercentileHistogram(
        edges=[float(f"{i * width:.12g}") for i in range(bins + 1)],
        counts=[int(c) for c in counts],
        shares=[int(c) / n if n else None for c in counts],
        expected_share=[1.0 / bins] * bins,
        n=n,
    )


def mean(values: Sequence[float] | npt.ArrayLike) -> float | None:
    """The arithmetic mean of the finite values, None without any."""
    finite = _finite(values)
    return float(finite.mean()) if finite.size else None


def daily_counts(
    days: Sequence[date],
    *,
    last: date,
    length: int,
    weights: Sequence[int] | None = None,
) -> list[int]:
    """How many of ``days`` fall on each of the ``length`` days ending with ``last``.

    Index 0 is ``last - (length - 1)`` days, the final index is ``last``; days
    outside the window are not counted. ``weights`` (one per day, e.g. the counts a
    GROUP BY gave) are added instead of 1 each.
    """
    if length < 1:
        raise ValueError("length must be at least 1")
    if weights is not None and len(weights) != len(days):
        raise ValueError("one weight per day")
    first = last - timedelta(days=length - 1)
    offsets = np.asarray([(day - first).days for day in days], dtype=np.int64)
    counted = np.ones(offsets.size) if weights is None else np.asarray(weights, dtype=np.float64)
    inside = (offsets >= 0) & (offsets < length)
    totals = np.bincount(offsets[inside], weights=counted[inside], minlength=length)
    return [round(float(total)) for total in totals]
