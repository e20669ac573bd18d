"""Profile arithmetic: a metric's standing in a norm table, trait bars, intervals, differences.

* :func:`metric_standing` places one metric value in a norm table's distribution of
  that metric: z against its mean and SD, and its percentile read off the table's
  stored 1st..99th percentiles (linear between neighbours; a value equal to a run of
  tied percentiles takes the middle of the run, so an integer metric shared by a
  third of the population does not read as its lowest or highest percentile).
* :func:`trait_axis_limit` is the symmetric z range that shows every bar and interval.
* :func:`mean_interval` is a group's mean z with the 90% interval of the mean
  (Student's t, n - 1 degrees of freedom), and :func:`norm_group_interval` the same
  for a norm population, whose trait z has mean 0 and SD 1 by construction.
* :func:`intervals_overlap` and :func:`profile_differences`: two profiles differ on
  a trait when their intervals do not overlap; ties at an end count as overlap.

Pure numpy/scipy: no Django.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

#: The level of every interval shown (SCIENCE.md section 2: 90% intervals).
INTERVAL_LEVEL = 0.90
#: Percentiles stored per metric by a norm table: 1st..99th.
STORED_PERCENTILES = tuple(range(1, 100))


def metric_z(value: float, mean: float, sd: float) -> float | None:
    """(value - mean) / SD, unclipped; None without a usable SD."""
    if not sd or not math.isfinite(sd) or not math.isfinite(value):
        return None
    return (value - mean) / sd


def metric_percentile(value: float, percentiles: Sequence[float]) -> tuple[float, int]:
    """Where ``value`` sits among a norm table's 1st..99th percentiles.

    Returns ``(percentile, beyond)``: ``beyond`` is -1 below the 1st percentile
    (reported as 1), +1 above the 99th (reported as 99), else 0.
    """
    q = np.asarray(percentiles, dtype="float64")
    if q.size != len(STORED_PERCENTILES):
        raise ValueError(f"a norm holds {len(STORED_PERCENTILES)} percentiles, got {q.size}")
    below = int(np.count_nonzero(q < value))
    tied = int(np.count_nonzero(q == value))
    if tied:
        # the middle of the run of stored percentiles equal to the value
        first = below + 1
        last = below + tied
        return (first + last) / 2.0, 0
    if below == 0:
        return float(STORED_PERCENTILES[0]), -1
    if below == q.size:
        return float(STORED_PERCENTILES[-1]), 1
    low, high = q[below - 1], q[below]
    return below + float((value - low) / (high - low)), 0


def metric_standing(value: float, norm: Mapping[str, Any] | None) -> dict[str, Any]:
    """A metric value against its norm (``{"mean", "sd", "percentiles", "n"}``, or None).

    ``{"z", "percentile", "beyond"}``, all None when the table has no norm for it.
    """
    if norm is None:
        return {"z": None, "percentile": None, "beyond": None}
    percentile, beyond = metric_percentile(value, norm["percentiles"])
    return {
        "z": metric_z(value, float(norm["mean"]), float(norm["sd"])),
        "percentile": percentile,
        "beyond": beyond,
    }


def trait_axis_limit(values: Sequence[float | None], *, minimum: float = 3.0) -> float:
    """The symmetric z-axis limit that shows every value: the whole number at or above
    the largest magnitude, at least ``minimum``."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return minimum
    return max(minimum, float(math.ceil(max(finite))))


def trait_bars(scores: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Bi-directional bars of trait scores (``{"z", "z_low", "z_high"}``, or None unscored).

    ``{"values": [z], "intervals": [[low, high]], "limit"}``: a bar from the centre
    (0, the norm population's mean) to z, the 90% interval as an error bar, and the
    symmetric axis limit that shows them all. Unscored traits get None (no bar).
    """
    values: list[float | None] = []
    intervals: list[list[float] | None] = []
    for score in scores:
        z = None if score is None else score.get("z")
        low = None if score is None else score.get("z_low")
        high = None if score is None else score.get("z_high")
        values.append(None if z is None else float(z))
        intervals.append(None if low is None or high is None else [float(low), float(high)])
    ends = [end for interval in intervals if interval for end in interval]
    return {
        "values": values,
        "intervals": intervals,
        "limit": trait_axis_limit([*values, *ends]),
    }


def _t_quantile(n: int, level: float) -> float:
    return float(stats.t.ppf(0.5 + level / 2.0, n - 1))


def mean_interval(
    values: Sequence[float | None], *, level: float = INTERVAL_LEVEL
) -> dict[str, Any]:
    """Mean of ``values`` (NaN/None left out) and the ``level`` interval of the mean.

    ``{"n", "mean", "sd", "low", "high"}``; with fewer than 2 values there is no
    SD and no interval (None), with none no mean either.
    """
    array = np.asarray([v for v in values if v is not None], dtype="float64")
    array = array[np.isfinite(array)]
    n = int(array.size)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "low": None, "high": None}
    mean = float(array.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "sd": None, "low": None, "high": None}
    sd = float(array.std(ddof=1))
    half = _t_quantile(n, level) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "low": mean - half, "high": mean + half}


def norm_group_interval(n: int, *, level: float = INTERVAL_LEVEL) -> dict[str, Any]:
    """A norm population's mean trait z (0) with the interval of that mean (SD 1)."""
    if n < 2:
        return {"n": n, "mean": 0.0, "sd": None, "low": None, "high": None}
    half = _t_quantile(n, level) / math.sqrt(n)
    return {"n": n, "mean": 0.0, "sd": 1.0, "low": -half, "high": half}


def intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Closed intervals ``(low, high)`` overlap (touching ends count)."""
    return a[0] <= b[1] and b[0] <= a[1]


def profile_differences(
    profiles: Sequence[Mapping[str, Mapping[str, Any]]], traits: Sequence[str]
) -> list[dict[str, Any]]:
    """Every pair of profiles whose intervals on a trait do not overlap.

    ``profiles[i][trait]`` is ``{"value", "low", "high"}`` (a trait may be missing,
    or have no interval: it is then not compared). Returns, trait by trait in the
    order given, then pair by pair, ``{"trait", "higher", "lower", "gap"}`` with
    indexes into ``profiles``; ``gap`` is the distance between the intervals.
    """
    found = []
    for trait in traits:
        for i in range(len(profiles)):
            for j in range(i + 1, len(profiles)):
                a = profiles[i].get(trait)
                b = profiles[j].get(trait)
                if (
                    not a
                    or not b
                    or None in (a.get("low"), a.get("high"), b.get("low"), b.get("high"))
                ):
                    continue
                first = (float(a["low"]), float(a["high"]))
                second = (float(b["low"]), float(b["high"]))
                if intervals_overlap(first, second):
                    continue
                higher, lower = (i, j) if first[0] > second[1] else (j, i)
                gap = first[0] - second[1] if higher == i else second[0] - first[1]
                found.append({"trait": trait, "higher": higher, "lower": lower, "gap": gap})
    return found
