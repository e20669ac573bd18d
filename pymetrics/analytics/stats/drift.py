"""Drift of recent candidates against the norms, and the weekly aggregates of the trends page.

Population stability index (PSI; Siddiqi 2006, *Credit Risk Scorecards*, ch. 8):
the norm table fixes the expected distribution, cut into bins at its own quantiles
(deciles by default), so each bin's expected share is known exactly (10%) instead
of being estimated from a second sample. With ``a_i`` the recent candidates' share
in bin ``i`` and ``e_i`` the expected share,

    PSI = sum_i (a_i - e_i) * ln(a_i / e_i)

The conventional readings are < 0.1 stable, 0.1-0.25 a moderate shift, > 0.25 a
significant shift. Choices made here, and why:

* Bins are right-closed, ``(edge_{i-1}, edge_i]``, matching "the p-th percentile
  is the value at or below which p% of the population lies".
* A metric with many equal values (a count, a span) can have equal deciles; equal
  edges are merged and the merged bin keeps the share of every decile it spans
  (e.g. deciles 1-6 all 0 give one bin ``(-inf, 0]`` expecting 60%).
* An empty recent bin would make ``ln(0)``: its share is floored at 0.0001, the
  usual convention, so one empty bin adds about 0.69 (for a 10% bin) and is seen.
* PSI is biased upwards in small samples: with B bins, n candidates and a norm
  group of m, both drawn from one population, PSI / (1/n + 1/m) is approximately
  chi-square with B - 1 degrees of freedom (Yurdakul 2018, *Statistical properties
  of the population stability index*), so sampling alone gives about 9 / n with
  deciles and a large norm group; with few candidates per bin empty bins make it
  larger still (about 0.5 on average at n = 30). Below :data:`MIN_N` candidates no
  reading is given. Above it, :func:`noise_level` says whether a PSI is beyond what
  sampling alone produces: the 95th percentile of the PSI of n candidates against a
  norm group of m from the same population, by seeded simulation (the chi-square
  approximation underestimates it when bins hold few candidates).

Pure numpy/scipy, no Django: tested on arrays with hand-computed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

#: Percentile levels cutting the norm distribution into bins (deciles).
DECILES: tuple[int, ...] = (10, 20, 30, 40, 50, 60, 70, 80, 90)
#: Conventional PSI thresholds (Siddiqi 2006).
PSI_STABLE_BELOW = 0.1
PSI_SIGNIFICANT_ABOVE = 0.25
#: Fewest candidates a PSI is read from (below: on average fewer than 3 per decile).
MIN_N = 30
#: Share given to an empty bin so that its term stays finite.
EMPTY_BIN_SHARE = 1e-4

STATUS_INSUFFICIENT = "insufficient"
STATUS_STABLE = "stable"
STATUS_MODERATE = "moderate"
STATUS_SIGNIFICANT = "significant"


@dataclass(frozen=True)
class QuantileBins:
    """Bins cut at a norm distribution's quantiles.

    ``edges`` are the upper edges of every bin but the last (which is open above);
    ``expected`` holds one share per bin (``len(edges) + 1``), summing to 1.
    """

    edges: tuple[float, ...]
    expected: tuple[float, ...]


def quantile_bins(percentiles: Sequence[float], levels: Sequence[int] = DECILES) -> QuantileBins:
    """Bins at ``levels`` of a norm distribution given by its 1st..99th percentiles.

    ``percentiles[k - 1]`` is the k-th percentile (the norm table's layout). Equal
    edges are merged, keeping the highest level among them.
    """
    if len(percentiles) != 99:
        raise ValueError(f"expected the 1st..99th percentiles, got {len(percentiles)} values")
    edges: list[float] = []
    edge_levels: list[int] = []
    for level in sorted(levels):
        value = float(percentiles[level - 1])
        if edges and value <= edges[-1]:
            edge_levels[-1] = level  # the same edge reaches a higher level
            continue
        edges.append(value)
        edge_levels.append(level)
    bounds = [0, *edge_levels, 100]
    expected = tuple((bounds[i + 1] - bounds[i]) / 100 for i in range(len(bounds) - 1))
    return QuantileBins(edges=tuple(edges), expected=expected)


def bin_counts(values: np.ndarray | Sequence[float], bins: QuantileBins) -> np.ndarray:
    """How many finite ``values`` fall in each bin (right-closed: ``edge_{i-1} < x <= edge_i``)."""
    array = np.asarray(values, dtype="float64").ravel()
    array = array[np.isfinite(array)]
    index = np.searchsorted(np.asarray(bins.edges, dtype="float64"), array, side="left")
    return np.bincount(index, minlength=len(bins.expected))


def population_stability_index(
    counts: np.ndarray | Sequence[int], expected: Sequence[float]
) -> float | None:
    """PSI of observed bin ``counts`` against ``expected`` shares; None without observations."""
    observed = np.asarray(counts, dtype="float64")
    total = observed.sum()
    if total <= 0:
        return None
    actual = np.maximum(observed / total, EMPTY_BIN_SHARE)
    wanted = np.asarray(expected, dtype="float64")
    return float(np.sum((actual - wanted) * np.log(actual / wanted)))


#: Simulated samples behind a noise level, and their seed (the level is reproducible).
NOISE_DRAWS = 4000
NOISE_SEED = 20180501


def noise_level(
    n: int, expected: Sequence[float], norm_n: int | None = None, quantile: float = 0.95
) -> float | None:
    """The PSI that sampling alone stays below with probability ``quantile``.

    ``n`` candidates and a norm group of ``norm_n`` (None: the norm's bins are taken
    as exact) are drawn from one population; the norm's bins are cut at its sample
    quantiles of levels ``cumsum(expected)``. The population shares of those bins
    follow a Dirichlet distribution of the norm sample's order-statistic spacings
    (block sizes between the cut positions), the candidates' counts a multinomial
    of them; the PSI against ``expected`` is computed for each of
    :data:`NOISE_DRAWS` seeded draws and its ``quantile`` returned.
    """
    wanted = np.asarray(expected, dtype="float64")
    if n <= 0 or wanted.size < 2:
        return None
    rng = np.random.default_rng(NOISE_SEED)
    if norm_n is None or norm_n < wanted.size:
        shares = np.broadcast_to(wanted, (NOISE_DRAWS, wanted.size))
    else:
        cuts = np.rint(np.cumsum(wanted)[:-1] * (norm_n - 1)).astype(int) + 1
        blocks = np.diff(np.concatenate([[0], cuts, [norm_n + 1]]))
        shares = rng.dirichlet(np.maximum(blocks, 1), size=NOISE_DRAWS)
    counts = rng.multinomial(n, shares)
    actual = np.maximum(counts / n, EMPTY_BIN_SHARE)
    psi = np.sum((actual - wanted) * np.log(actual / wanted), axis=1)
    return float(np.quantile(psi, quantile))


def psi_status(psi: float | None, n: int, *, min_n: int = MIN_N) -> str:
    """The conventional reading of a PSI, or ``insufficient`` below ``min_n`` candidates."""
    if psi is None or n < min_n:
        return STATUS_INSUFFICIENT
    if psi < PSI_STABLE_BELOW:
        return STATUS_STABLE
    if psi <= PSI_SIGNIFICANT_ABOVE:
        return STATUS_MODERATE
    return STATUS_SIGNIFICANT


@dataclass(frozen=True)
class Drift:
    """The PSI of some values against a norm distribution, with what it can be read as."""

    n: int
    psi: float | None
    status: str
    #: the PSI sampling alone stays below 95% of the time, at this n and norm size
    noise_level: float | None
    bins: QuantileBins
    #: observed share per bin (0 where empty; the floor is only used inside the PSI)
    actual: tuple[float, ...]

    @property
    def beyond_noise(self) -> bool:
        return self.psi is not None and self.noise_level is not None and self.psi > self.noise_level


def drift_against_norm(
    values: np.ndarray | Sequence[float],
    percentiles: Sequence[float],
    *,
    norm_n: int | None = None,
    levels: Sequence[int] = DECILES,
    min_n: int = MIN_N,
) -> Drift:
    """PSI of ``values`` (NaN ignored) against the norm given by its 1st..99th percentiles.

    ``norm_n`` is the size of the norm group (for the noise level; None: exact).
    """
    bins = quantile_bins(percentiles, levels)
    counts = bin_counts(values, bins)
    n = int(counts.sum())
    psi = population_stability_index(counts, bins.expected)
    actual = tuple(float(c / n) for c in counts) if n else tuple(0.0 for _ in counts)
    return Drift(
        n=n,
        psi=psi,
        status=psi_status(psi, n, min_n=min_n),
        noise_level=noise_level(n, bins.expected, norm_n),
        bins=bins,
        actual=actual,
    )


# --- weeks ------------------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def iso_week_label(day: date) -> str:
    """``"2025-W07"``: the ISO year and week of ``day``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_range(first: date, last: date) -> list[date]:
    """Every ISO week's Monday from ``first``'s week to ``last``'s, none skipped."""
    start, end = week_start(first), week_start(last)
    weeks = []
    while start <= end:
        weeks.append(start)
        start += timedelta(days=7)
    return weeks


def mean_interval(
    n: int, mean: float | None, sd: float | None, level: float = 0.95
) -> tuple[float | None, float | None]:
    """Student-t interval of a mean from n, mean and SD (ddof=1); Nones below n = 2."""
    if n < 2 or mean is None or sd is None or not math.isfinite(sd):
        return None, None
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


@dataclass(frozen=True)
class Quartiles:
    n: int
    q1: float | None
    median: float | None
    q3: float | None


def quartiles(values: np.ndarray | Sequence[float]) -> Quartiles:
    """25th, 50th and 75th percentiles (numpy ``linear``, as the norm tables) of finite values."""
    array = np.asarray(values, dtype="float64").ravel()
    array = array[np.isfinite(array)]
    if array.size == 0:
        return Quartiles(n=0, q1=None, median=None, q3=None)
    q1, median, q3 = (float(v) for v in np.percentile(array, [25, 50, 75]))
    return Quartiles(n=int(array.size), q1=q1, median=median, q3=q3)
