"""Behavioural insights: histograms against the norms, metric correlations, notable differences.

Choices made here, and why:

* Histogram bins: a metric whose values are all whole numbers spanning at most
  :data:`MAX_UNIT_BINS` values (bursts, spans, counts) gets one bin per value, so
  no bar mixes two counts; any other gets Freedman-Diaconis bins (robust to
  outliers), kept between 5 and :data:`MAX_BINS`. Bins cover the norm's 1st..99th
  percentiles too, so the norm overlay is never cut off.
* The norm overlay is the count each bin would hold if the candidates were drawn
  from the norm population: n times the bin's share under the norm's cumulative
  distribution, interpolated linearly between its stored 1st..99th percentiles
  (the outer 1% on each side is put at the 1st and 99th percentile). For
  whole-number metrics the distribution is read at the whole numbers (a bin holds
  one value), not at the half-way edges.
* Correlations are Spearman's rho on pairwise-complete observations (a metric
  absent for a candidate drops that candidate from its pairs only), computed as
  Pearson's r of mid-ranks; a pair with fewer than :data:`MIN_PAIRS` candidates or
  no spread has none.
* A note compares the recent candidates' mean of a metric with the norm mean by
  Welch's t-test from summary statistics (the norm is a sample too, with its own
  n and SD; no equal-variance assumption), corrects the p-values of every metric
  tested together by Benjamini-Hochberg (false discovery rate), and keeps only
  differences that are both sizeable (at least :data:`MIN_EFFECT_SD` norm SDs,
  Cohen's "medium") and statistically clear (q < :data:`ALPHA`), from at least
  :data:`MIN_NOTE_N` candidates.

Pure numpy/scipy, no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MAX_UNIT_BINS = 40
MIN_BINS = 5
MAX_BINS = 30
MIN_PAIRS = 3
MIN_NOTE_N = 10
MIN_EFFECT_SD = 0.5
ALPHA = 0.05
#: Norm percentile levels, as stored (1st..99th), as cumulative shares.
_LEVELS = np.arange(1, 100, dtype="float64") / 100


def _finite(values: np.ndarray | Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype="float64").ravel()
    return array[np.isfinite(array)]


@dataclass(frozen=True)
class Histogram:
    """Counts of values per bin; ``edges`` has one more entry than ``counts``.

    ``discrete`` histograms have one bin per whole number, ``edges`` at +/- 0.5.
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    n: int
    discrete: bool


def _is_whole(array: np.ndarray) -> bool:
    return bool(array.size) and bool(np.all(array == np.round(array)))


def histogram_edges(
    values: np.ndarray | Sequence[float], norm_percentiles: Sequence[float] | None = None
) -> tuple[np.ndarray, bool]:
    """Bin edges for ``values`` (and the norm's 1st..99th percentiles, when given)."""
    array = _finite(values)
    span = array
    if norm_percentiles is not None:
        norm = _finite(norm_percentiles)
        span = np.concatenate([array, norm[[0, -1]]]) if norm.size else array
    if span.size == 0:
        return np.array([0.0, 1.0]), False
    low, high = float(span.min()), float(span.max())
    if _is_whole(array) and high - low <= MAX_UNIT_BINS:
        start, stop = math.floor(low), math.ceil(high)
        return np.arange(start, stop + 2, dtype="float64") - 0.5, True
    if high == low:
        return np.array([low - 0.5, high + 0.5]), False
    suggested = len(np.histogram_bin_edges(array, bins="fd")) - 1 if array.size > 1 else MIN_BINS
    count = int(min(max(suggested, MIN_BINS), MAX_BINS))
    return np.linspace(low, high, count + 1), False


def histogram(
    values: np.ndarray | Sequence[float], norm_percentiles: Sequence[float] | None = None
) -> Histogram:
    """A histogram of the finite ``values`` (bins as in :func:`histogram_edges`)."""
    array = _finite(values)
    edges, discrete = histogram_edges(array, norm_percentiles)
    counts, _ = np.histogram(array, bins=edges)
    return Histogram(
        edges=tuple(float(e) for e in edges),
        counts=tuple(int(c) for c in counts),
        n=int(array.size),
        discrete=discrete,
    )


def norm_cdf(x: np.ndarray | Sequence[float], percentiles: Sequence[float]) -> np.ndarray:
    """The norm's cumulative share at ``x``, interpolated between its 1st..99th percentiles.

    Below the 1st percentile it is 0, and it reaches 1 at the 99th (the outer 1% on
    each side is put at those percentiles); where several percentiles are equal
    (ties), the highest of their levels is used (the share at or below).
    """
    points = np.asarray(percentiles, dtype="float64")
    values, last = np.unique(points[::-1], return_index=True)
    levels = _LEVELS[::-1][last]
    levels[-1] = 1.0
    return np.interp(np.asarray(x, dtype="float64"), values, levels, left=0.0, right=1.0)


def norm_expected_counts(histogram_: Histogram, percentiles: Sequence[float]) -> tuple[float, ...]:
    """How many of the histogram's n values each bin would hold under the norm distribution."""
    edges = np.asarray(histogram_.edges, dtype="float64")
    if histogram_.discrete:
        # bin v holds the whole number v: its share is F(v) - F(v - 1)
        values = edges[:-1] + 0.5
        points = np.concatenate([[values[0] - 1], values])
    else:
        points = edges
    cumulative = norm_cdf(points, percentiles)
    if not histogram_.discrete and edges[0] <= float(np.min(percentiles)):
        # the first bin is closed on the left: it holds the norm's lowest 1% too
        cumulative[0] = 0.0
    shares = np.diff(cumulative)
    return tuple(float(share * histogram_.n) for share in shares)


# --- correlations ---------------------------------------------------------------------


@dataclass(frozen=True)
class CorrelationMatrix:
    """Spearman's rho between every pair of columns (None: too few pairs or no spread)."""

    rho: tuple[tuple[float | None, ...], ...]
    #: candidates with both metrics present, per pair
    n: tuple[tuple[int, ...], ...]


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float | None, int]:
    """Spearman's rho of the pairs where both are finite, and how many pairs that is."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    both = np.isfinite(x) & np.isfinite(y)
    n = int(both.sum())
    if n < MIN_PAIRS:
        return None, n
    rx = stats.rankdata(x[both])
    ry = stats.rankdata(y[both])
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float(np.sum(dx * dx) * np.sum(dy * dy)))
    if denominator == 0:
        return None, n
    return float(np.sum(dx * dy) / denominator), n


def spearman_matrix(columns: Sequence[np.ndarray]) -> CorrelationMatrix:
    """Pairwise Spearman correlations of equally long columns (NaN = absent)."""
    k = len(columns)
    rho: list[list[float | None]] = [[None] * k for _ in range(k)]
    counts: list[list[int]] = [[0] * k for _ in range(k)]
    for i in range(k):
        for j in range(i, k):
            value, n = spearman(columns[i], columns[j])
            rho[i][j] = rho[j][i] = value
            counts[i][j] = counts[j][i] = n
    return CorrelationMatrix(
        rho=tuple(tuple(row) for row in rho), n=tuple(tuple(row) for row in counts)
    )


# --- notable differences from the norms -------------------------------------------------


@dataclass(frozen=True)
class NormComparison:
    """Recent candidates' mean of one metric against the norm's."""

    key: str
    n: int
    mean: float
    sd: float
    norm_n: int
    norm_mean: float
    norm_sd: float
    #: (mean - norm mean) / norm SD
    difference_sd: float
    #: (mean - norm mean) / norm mean, only for a positive norm mean and a mean >= 0
    relative: float | None
    t: float
    df: float
    p: float
    #: Benjamini-Hochberg adjusted p (filled in by :func:`notable_differences`)
    q: float | None = None


def compare_with_norm(
    key: str,
    values: np.ndarray | Sequence[float],
    *,
    norm_n: int,
    norm_mean: float,
    norm_sd: float,
) -> NormComparison | None:
    """Welch's t-test of ``values`` against a norm given as n, mean and SD.

    None when it cannot be tested: fewer than 2 values or no spread on either side.
    """
    array = _finite(values)
    n = int(array.size)
    if n < 2 or norm_n < 2 or norm_sd <= 0:
        return None
    mean = float(array.mean())
    sd = float(array.std(ddof=1))
    if sd == 0:
        return None
    variance_of_difference = sd * sd / n + norm_sd * norm_sd / norm_n
    t = (mean - norm_mean) / math.sqrt(variance_of_difference)
    df = variance_of_difference**2 / (
        (sd * sd / n) ** 2 / (n - 1) + (norm_sd * norm_sd / norm_n) ** 2 / (norm_n - 1)
    )
    p = float(2 * stats.t.sf(abs(t), df))
    relative = (mean - norm_mean) / norm_mean if norm_mean > 0 and mean >= 0 else None
    return NormComparison(
        key=key,
        n=n,
        mean=mean,
        sd=sd,
        norm_n=norm_n,
        norm_mean=norm_mean,
        norm_sd=norm_sd,
        difference_sd=(mean - norm_mean) / norm_sd,
        relative=relative,
        t=float(t),
        df=float(df),
        p=p,
    )


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given."""
    p = np.asarray(p_values, dtype="float64")
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return [float(value) for value in q]


def notable_differences(
    comparisons: Sequence[NormComparison],
    *,
    min_n: int = MIN_NOTE_N,
    min_effect_sd: float = MIN_EFFECT_SD,
    alpha: float = ALPHA,
) -> list[NormComparison]:
    """The sizeable, statistically clear differences, largest first.

    Every comparison from at least ``min_n`` candidates counts in the false
    discovery rate correction, kept or not, so looking at many metrics does not
    make chance differences look clear.
    """
    tested = [c for c in comparisons if c.n >= min_n]
    q_values = benjamini_hochberg([c.p for c in tested])
    adjusted = [
        NormComparison(**{**c.__dict__, "q": q}) for c, q in zip(tested, q_values, strict=True)
    ]
    notable = [
        c
        for c in adjusted
        if c.q is not None and c.q < alpha and abs(c.difference_sd) >= min_effect_sd
    ]
    return sorted(notable, key=lambda c: (-abs(c.difference_sd), c.key))


def columns_from_records(
    records: Sequence[Mapping[str, float]], keys: Sequence[str]
) -> list[np.ndarray]:
    """One column per key from per-person records (missing key = NaN)."""
    return [
        np.array([record.get(key, math.nan) for record in records], dtype="float64") for key in keys
    ]
