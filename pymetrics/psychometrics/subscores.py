"""Augmented subscores: a short subscale's true score, helped by the whole test's.

A subscore from a handful of items (six faces of one expression) carries binomial
noise about as large as the differences between people. Its true value is better
estimated by the best linear predictor from both the subscore and the total score
(Wainer et al. 2001, "Augmented scores"; Haberman 2008, "When can subscores have
value?"): the total is far more reliable and, when the subscale's ability is partly
the general one, says much about it. The weights come from the observed covariances
of the group and the binomial error variances of proportion-correct scores, never
from the unknown true scores, so the same estimate applies to real candidates.

Haberman's criterion reads the three proportional reductions in mean squared error
(PRMSE) returned here: the subscore has value of its own only when ``prmse_subscore``
exceeds ``prmse_total``; the augmented estimate is at least as good as either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class AugmentedSubscores:
    #: the estimated true subscore of every person (same scale as the subscore)
    values: NDArray[np.float64]
    #: weights of the (centred) subscore and total in ``values``
    weight_subscore: float
    weight_total: float
    #: PRMSE of the true subscore from the subscore alone (its reliability), from the
    #: total alone, and from both (the augmented estimate)
    prmse_subscore: float
    prmse_total: float
    prmse_augmented: float


def _error_variances(
    scores: NDArray[np.float64], items: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Each person's binomial error variance of a proportion correct: p(1 - p) / (n - 1)."""
    return scores * (1.0 - scores) / (items - 1.0)


def augmented_subscores(
    subscore: ArrayLike,
    total: ArrayLike,
    subscore_items: ArrayLike,
    total_items: ArrayLike,
) -> AugmentedSubscores:
    """Best linear predictor of each person's true subscore from subscore and total.

    ``subscore`` and ``total`` are proportions correct of the same people; the
    subscore's items are among the total's (so their errors are correlated: the
    covariance of the two errors is the subscore's error variance times
    ``subscore_items / total_items``). Item counts may differ per person (arrays)
    and must be at least 2. Needs at least three people with complete scores;
    people with a missing score get NaN.
    """
    sub = np.asarray(subscore, dtype=float)
    tot = np.asarray(total, dtype=float)
    n_sub = np.broadcast_to(np.asarray(subscore_items, dtype=float), sub.shape)
    n_tot = np.broadcast_to(np.asarray(total_items, dtype=float), sub.shape)
    if sub.shape != tot.shape or sub.ndim != 1:
        raise ValueError("subscore and total must be one-dimensional and of equal length")
    if np.any(n_sub < 2) or np.any(n_tot < n_sub):
        raise ValueError("every person needs at least 2 subscore items, and no more than total")
    complete = np.isfinite(sub) & np.isfinite(tot)
    if complete.sum() < 3:
        raise ValueError("augmented subscores need at least three people with both scores")
    s, t = sub[complete], tot[complete]
    per_person = _error_variances(s, n_sub[complete])
    error_sub = float(per_person.mean())
    error_total = float(_error_variances(t, n_tot[complete]).mean())
    error_cross = float((per_person * n_sub[complete] / n_tot[complete]).mean())
    observed = np.cov(np.vstack([s, t]))
    true_sub = observed[0, 0] - error_sub
    true_cross = observed[0, 1] - error_cross
    true_total = observed[1, 1] - error_total
    if true_sub <= 0 or true_total <= 0:
        raise ValueError("the scores vary no more than their error: nothing to estimate")
    # In small groups sampling error can put the true scores' correlation above 1;
    # it is capped there (the subscale then measures nothing the total does not).
    limit = float(np.sqrt(true_sub * true_total))
    true_cross = float(np.clip(true_cross, -limit, limit))
    target = np.array([true_sub, true_cross])
    weights = np.linalg.solve(observed, target)
    values = np.full(sub.shape, np.nan)
    values[complete] = s.mean() + weights[0] * (s - s.mean()) + weights[1] * (t - t.mean())
    return AugmentedSubscores(
        values=values,
        weight_subscore=float(weights[0]),
        weight_total=float(weights[1]),
        prmse_subscore=float(true_sub / observed[0, 0]),
        prmse_total=float(true_cross**2 / (true_sub * observed[1, 1])),
        prmse_augmented=float(target @ weights / true_sub),
    )
