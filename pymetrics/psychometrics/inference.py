"""Trait scores from metrics (SCIENCE.md section 2): z, raw score, trait z, percentile, interval.

The steps, for a wide metric frame (one row per person, columns ``"game.metric"``,
NaN = absent) and a norm table:

1. Metric z = (x - mean) / SD of the norm population, clipped to [-4, 4] so that one
   extreme metric (a candidate who wandered off mid-game) cannot carry a whole trait.
2. Trait raw score = equal-weight mean of sign x z over the trait's metrics that are
   *present*. Present means the person has a value **and** the norm table has a
   distribution for the metric: a value with no norm cannot be put on the z scale, so
   it counts as absent (the reason names it). A trait is scored only when at least
   half of its metrics are present (present x 2 >= total): one of two is enough, one
   of three is not.
3. Trait z = (raw - mean) / SD of the norm population's raw scores. It is *not*
   clipped: the raw score is already bounded by the metric clip, and the percentile,
   not z, is what people read.
4. Percentile = empirical mid-rank percentile of the raw score among the population's
   raw scores, 100 x (count below + half the count equal) / n, so a score tied with
   the whole population sits at 50 and the scale is symmetric.
5. 90% interval: SEM = sqrt(1 - r) in z units, r the trait's reliability; z +/- 1.645
   SEM, and the same two ends as percentiles (the raw score at each end,
   mean + z x SD, looked up among the population's raw scores).

Everything is a matrix operation per trait; only the plain-English reasons are built
per distinct pattern of missing metrics (at most 3^k patterns for a k-metric trait),
never per person.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pymetrics.psychometrics.norms import NormTableData
from pymetrics.psychometrics.trait_map import Trait, TraitMap

#: Metric z-scores are clipped to [-Z_CLIP, Z_CLIP].
Z_CLIP: float = 4.0
#: Two-sided 90% normal quantile: the interval is z +/- INTERVAL_Z x SEM.
INTERVAL_Z: float = 1.645

#: Columns of :func:`infer_traits`, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "person",
    "trait",
    "scored",
    "raw",
    "z",
    "percentile",
    "z_low",
    "z_high",
    "percentile_low",
    "percentile_high",
    "metrics_present",
    "metrics_total",
    "reliability",
    "reason",
)

#: The float columns that are NaN unless the trait is scored.
_SCORE_COLUMNS: tuple[str, ...] = (
    "raw",
    "z",
    "percentile",
    "z_low",
    "z_high",
    "percentile_low",
    "percentile_high",
)

# Per-metric status codes used to build reasons.
_PRESENT, _NO_NORM, _ABSENT = 0, 1, 2


def metric_z_scores(metrics: pd.DataFrame, norms: NormTableData) -> pd.DataFrame:
    """z of every metric column the norm table knows, clipped to [-4, 4]; NaN stays NaN.

    Columns without a norm are dropped; infinite values are treated as absent.
    """
    columns = [column for column in metrics.columns if column in norms.metrics]
    values = metrics[columns].to_numpy(dtype="float64", copy=True)
    values[~np.isfinite(values)] = np.nan
    means = np.array([norms.metrics[column].mean for column in columns], dtype="float64")
    sds = np.array([norms.metrics[column].sd for column in columns], dtype="float64")
    z = np.clip((values - means) / sds, -Z_CLIP, Z_CLIP)
    return pd.DataFrame(z, index=metrics.index, columns=pd.Index(columns))


def trait_raw_scores(
    metrics: pd.DataFrame, norms: NormTableData, trait_map: TraitMap
) -> pd.DataFrame:
    """Trait raw scores and present-metric counts of every person.

    Columns, per trait in map order: ``<trait>`` (raw score, NaN when fewer than half
    of the trait's metrics are present) and ``<trait>__present`` (int: metrics with a
    value and a norm).
    """
    z = metric_z_scores(metrics, norms)
    columns: dict[str, np.ndarray] = {}
    for trait in trait_map.traits:
        raw, present = _raw_and_present(z, trait)
        columns[trait.name] = raw
        columns[f"{trait.name}__present"] = present
    return pd.DataFrame(columns, index=metrics.index)


def empirical_percentile(sorted_scores: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each value among ``sorted_scores`` (ascending); NaN stays NaN.

    100 x (count(x < v) + 0.5 x count(x == v)) / n, by binary search.
    """
    scores = np.asarray(sorted_scores, dtype="float64")
    points = np.asarray(values, dtype="float64")
    below = np.searchsorted(scores, points, side="left")
    not_above = np.searchsorted(scores, points, side="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        percentile = 100.0 * (below + 0.5 * (not_above - below)) / scores.size
    return np.where(np.isfinite(points), percentile, np.nan)


def infer_traits(
    metrics: pd.DataFrame,
    norms: NormTableData,
    trait_map: TraitMap,
    reliabilities: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per (person, trait): the score with its interval, or the reason there is none.

    ``reliabilities`` maps trait -> r (e.g. split-half estimates); a trait it does not
    name uses its map's ``default_reliability``, and names not in the map are ignored.
    Rows are person-major (every trait of the first person, then the next), persons
    in ``metrics.index`` order, traits in map order. See the module docstring for
    the formulas; ``raw`` and every score column are NaN when ``scored`` is False.
    """
    z_table = metric_z_scores(metrics, norms)
    n_persons = len(metrics.index)
    traits = trait_map.traits
    shape = (n_persons, len(traits))
    out = {name: np.full(shape, np.nan) for name in _SCORE_COLUMNS}
    scored = np.zeros(shape, dtype=bool)
    present = np.zeros(shape, dtype="int64")
    total = np.zeros(shape, dtype="int64")
    reliability = np.zeros(shape, dtype="float64")
    reasons = np.empty(shape, dtype=object)

    for j, trait in enumerate(traits):
        r = _reliability(trait, reliabilities)
        raw, n_present = _raw_and_present(z_table, trait)
        distribution = norms.traits.get(trait.name)
        population = np.asarray(norms.trait_raw_scores.get(trait.name, ()), dtype="float64")
        has_norm = distribution is not None and population.size > 0
        ok = np.isfinite(raw) & has_norm

        present[:, j] = n_present
        total[:, j] = len(trait.metrics)
        reliability[:, j] = r
        scored[:, j] = ok
        if distribution is not None and has_norm:
            z = (raw - distribution.mean) / distribution.sd
            half_width = INTERVAL_Z * math.sqrt(1.0 - r)
            z_low, z_high = z - half_width, z + half_width
            columns = {
                "raw": raw,
                "z": z,
                "percentile": empirical_percentile(population, raw),
                "z_low": z_low,
                "z_high": z_high,
                "percentile_low": empirical_percentile(
                    population, distribution.mean + z_low * distribution.sd
                ),
                "percentile_high": empirical_percentile(
                    population, distribution.mean + z_high * distribution.sd
                ),
            }
            for name, values in columns.items():
                out[name][:, j] = np.where(ok, values, np.nan)
        reasons[:, j] = _reasons(metrics, norms, trait, has_norm)

    frame = pd.DataFrame(
        {
            "person": np.repeat(metrics.index.to_numpy(), len(traits)),
            "trait": np.tile(np.array([trait.name for trait in traits], dtype=object), n_persons),
            "scored": scored.ravel(),
            **{name: values.ravel() for name, values in out.items()},
            "metrics_present": present.ravel(),
            "metrics_total": total.ravel(),
            "reliability": reliability.ravel(),
            "reason": reasons.ravel(),
        }
    )
    return frame[list(RESULT_COLUMNS)]


def _raw_and_present(z: pd.DataFrame, trait: Trait) -> tuple[np.ndarray, np.ndarray]:
    """Raw score (NaN unless at least half present) and present count of one trait."""
    keys = [metric.key for metric in trait.metrics]
    signs = np.array([metric.sign for metric in trait.metrics], dtype="float64")
    signed = z.reindex(columns=keys).to_numpy(dtype="float64") * signs
    is_present = np.isfinite(signed)
    present = is_present.sum(axis=1).astype("int64")
    sums = np.where(is_present, signed, 0.0).sum(axis=1)
    enough = present * 2 >= len(keys)
    raw = np.where(enough, sums / np.maximum(present, 1), np.nan)
    return raw, present


def _reliability(trait: Trait, reliabilities: Mapping[str, float] | None) -> float:
    value = None if reliabilities is None else reliabilities.get(trait.name)
    if value is None:
        return trait.default_reliability
    r = float(value)
    if not math.isfinite(r) or not 0.0 <= r <= 1.0:
        raise ValueError(f"reliability of {trait.name!r} must be in [0, 1], got {value!r}")
    return r


def _reasons(
    metrics: pd.DataFrame, norms: NormTableData, trait: Trait, has_norm: bool
) -> np.ndarray:
    """Why each person has no score on ``trait`` (``""`` when scored)."""
    keys = [metric.key for metric in trait.metrics]
    values = metrics.reindex(columns=keys).to_numpy(dtype="float64")
    has_value = np.isfinite(values)
    normed = np.array([key in norms.metrics for key in keys], dtype=bool)
    status = np.where(has_value & normed, _PRESENT, np.where(has_value, _NO_NORM, _ABSENT))
    codes = (status * 3 ** np.arange(len(keys))).sum(axis=1)
    unique, inverse = np.unique(codes, return_inverse=True)
    texts = np.array(
        [_reason_text(trait, keys, has_norm, int(code)) for code in unique], dtype=object
    )
    return texts[inverse.ravel()] if len(unique) else np.empty(len(codes), dtype=object)


def _reason_text(trait: Trait, keys: list[str], has_norm: bool, code: int) -> str:
    statuses = [(code // 3**i) % 3 for i in range(len(keys))]
    total = len(keys)
    present = statuses.count(_PRESENT)
    parts = []
    if present * 2 < total:
        missing = ", ".join(
            key + (" (not in the norm table)" if status == _NO_NORM else "")
            for key, status in zip(keys, statuses, strict=True)
            if status != _PRESENT
        )
        needed = (total + 1) // 2
        parts.append(
            f"{present} of {total} metrics present (needs at least {needed}): missing {missing}"
        )
    if not has_norm:
        parts.append(f"the norm table has no {trait.name} scores to compare with")
    return "; ".join(parts)
