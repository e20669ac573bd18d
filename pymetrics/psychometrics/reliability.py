"""Split-half reliability of trait scores (SCIENCE.md section 2: "estimated from split-half data").

Each person's trials of every game are split into odd and even positions, the
game's metrics are computed on each half, and each half is scored as a trait raw
score with the *same* norm table. The Pearson correlation of the two halves across
persons estimates the reliability of a half-length test; the Spearman-Brown formula
(Brown 1910; Spearman 1910) steps it up to the full length.

Odd/even (rather than first/second half) keeps practice and fatigue effects out of
the difference between halves. Estimates are clipped to [0, 0.99]: a negative
split-half correlation says "no reliability", not "negative reliability", and r = 1
would give an interval of zero width, which no behavioural measure earns. With fewer
than ``min_n`` persons scorable in both halves (default 30) the estimate is too
noisy to use and the trait keeps its documented default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pymetrics.psychometrics.inference import trait_raw_scores
from pymetrics.psychometrics.norms import NormTableData
from pymetrics.psychometrics.trait_map import TraitMap

#: Split-half estimates are clipped to [0, MAX_RELIABILITY].
MAX_RELIABILITY: float = 0.99


def spearman_brown(r: float) -> float:
    """Full-length reliability from the correlation of two halves: 2r / (1 + r).

    ValueError for r outside (-1, 1] (a correlation of -1 has no step-up).
    """
    if not math.isfinite(r) or not -1.0 < r <= 1.0:
        raise ValueError(f"a split-half correlation must be in (-1, 1], got {r!r}")
    return 2.0 * r / (1.0 + r)


def split_trials_odd_even(trials: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A trial table's rows at odd and at even trial positions within their session.

    A trial's position is the dense rank of its ``trial`` number in its session
    (trials 2, 5, 9 are positions 1, 2, 3), so gaps in the numbering do not unbalance
    the halves, and rows sharing one trial number (one row per tap, say) stay
    together. Row order, index and columns are kept; rows with no trial number fall in
    neither half.
    """
    position = trials.groupby("session", sort=False)["trial"].rank(method="dense")
    parity = position.to_numpy(dtype="float64") % 2
    return trials[parity == 1], trials[parity == 0]


def split_half_reliability(
    odd: pd.DataFrame,
    even: pd.DataFrame,
    norms: NormTableData,
    trait_map: TraitMap,
    *,
    min_n: int = 30,
) -> dict[str, tuple[float | None, int]]:
    """trait -> (Spearman-Brown corrected split-half r in [0, 0.99] or None, n used).

    ``odd`` and ``even`` are wide metric frames (index = person) computed from the odd
    and the even halves of each person's trials. n counts the persons in both frames
    whose trait is scorable in both halves; the estimate is None when n < ``min_n``
    or the correlation is undefined (no spread in a half).
    """
    if min_n < 3:
        raise ValueError(
            f"min_n must be at least 3 (two points always correlate perfectly), got {min_n}"
        )
    persons = odd.index.intersection(even.index, sort=False)
    odd_raw = trait_raw_scores(odd.loc[persons], norms, trait_map)
    even_raw = trait_raw_scores(even.loc[persons], norms, trait_map)
    estimates: dict[str, tuple[float | None, int]] = {}
    for trait in trait_map.traits:
        x = odd_raw[trait.name].to_numpy(dtype="float64")
        y = even_raw[trait.name].to_numpy(dtype="float64")
        both = np.isfinite(x) & np.isfinite(y)
        n = int(both.sum())
        estimate: float | None = None
        if n >= min_n:
            x, y = x[both], y[both]
            if x.min() != x.max() and y.min() != y.max():
                r = float(np.corrcoef(x, y)[0, 1])
                if math.isfinite(r):
                    # Spearman-Brown keeps the sign, so r <= 0 clips to 0.
                    estimate = 0.0 if r <= 0 else min(spearman_brown(min(r, 1.0)), MAX_RELIABILITY)
        estimates[trait.name] = (estimate, n)
    return estimates


def reliabilities_with_defaults(
    estimates: Mapping[str, tuple[float | None, int]], trait_map: TraitMap
) -> dict[str, float]:
    """trait -> the split-half estimate where there is one, else the map's default (map order)."""
    result: dict[str, float] = {}
    for trait in trait_map.traits:
        estimate = estimates.get(trait.name, (None, 0))[0]
        result[trait.name] = trait.default_reliability if estimate is None else float(estimate)
    return result
