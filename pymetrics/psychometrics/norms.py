"""Norm tables (SCIENCE.md section 2): what a population's metrics and trait scores look like.

A norm table is built once from a named population (an organisation's completed
sessions, or a seeded simulated reference population) and then used to score anyone:
per metric it holds n, mean, SD (ddof=1) and the 1st..99th percentiles; per trait the
same for the population's trait *raw* scores, plus the sorted raw scores themselves,
because trait percentiles are empirical (mid-rank) percentiles in that population
rather than read off a fitted curve.

Choices made here, and why:

* Percentiles use numpy's default ``linear`` method (R type 7, Hyndman & Fan 1996):
  for sorted values x_0..x_{n-1} the p-th percentile is x at position (n-1)p/100,
  interpolating linearly between neighbours. It is what pandas, numpy and R default
  to, so anyone can check a table with one call.
* Only metrics with at least 2 values and some spread get a distribution: with n < 2
  there is no SD, and with SD 0 no z-score can be formed. Such a metric is left out of
  the table, and a candidate's value of it then counts as absent (never as z = 0).
  "No spread" means every value is equal, tested exactly, so a column of identical
  floats is not given a rounding-noise SD of 1e-17 that would blow every z up to +/-4.
* NaN is absent. Infinite values are treated as absent too: no metric produces them
  legitimately and one would make the mean and SD meaningless.
* Trait distributions are built from the population's raw scores computed with the
  metric norms of the same table (:func:`pymetrics.psychometrics.inference.trait_raw_scores`);
  persons whose trait is not scorable are left out, and a trait with fewer than 2
  scorable persons or no spread gets no distribution and no raw scores, so nobody is
  scored on it against this table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pymetrics.psychometrics.trait_map import TraitMap

#: The percentiles a distribution stores: 1st to 99th.
PERCENTILES: tuple[int, ...] = tuple(range(1, 100))


@dataclass(frozen=True)
class Distribution:
    """n, mean, SD (ddof=1) and 1st..99th percentiles (numpy ``linear``) of one variable."""

    n: int
    mean: float
    sd: float
    percentiles: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "sd": self.sd,
            "percentiles": list(self.percentiles),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "distribution") -> Distribution:
        """Validate and build; ValueError naming ``where`` when the data cannot be a norm."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{where} must be an object")
        missing = sorted({"n", "mean", "sd", "percentiles"} - set(data))
        if missing:
            raise ValueError(f"{where}: missing key {missing[0]!r}")
        n = data["n"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"{where}: n must be an integer >= 2, got {n!r}")
        mean = _finite(data["mean"], f"{where}.mean")
        sd = _finite(data["sd"], f"{where}.sd")
        if sd <= 0:
            raise ValueError(f"{where}: sd must be > 0, got {sd!r}")
        raw_percentiles = data["percentiles"]
        if not isinstance(raw_percentiles, list | tuple) or len(raw_percentiles) != len(
            PERCENTILES
        ):
            raise ValueError(f"{where}: percentiles must be a list of {len(PERCENTILES)} numbers")
        percentiles = tuple(
            _finite(value, f"{where}.percentiles[{i}]") for i, value in enumerate(raw_percentiles)
        )
        return cls(n=n, mean=mean, sd=sd, percentiles=percentiles)


@dataclass(frozen=True)
class NormTableData:
    """The content of one norm table; the Django side stores it with its version and population."""

    #: metric key -> distribution (only metrics with n >= 2 and SD > 0).
    metrics: dict[str, Distribution]
    #: trait name -> distribution of the population's trait raw scores.
    traits: dict[str, Distribution]
    #: trait name -> the population's trait raw scores, ascending (empirical percentiles).
    trait_raw_scores: dict[str, tuple[float, ...]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (floats, ints, lists); :meth:`from_dict` gives back an equal table."""
        return {
            "metrics": {key: dist.to_dict() for key, dist in self.metrics.items()},
            "traits": {name: dist.to_dict() for name, dist in self.traits.items()},
            "trait_raw_scores": {
                name: list(scores) for name, scores in self.trait_raw_scores.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NormTableData:
        """Validate and build; ValueError naming the first problem found.

        Raw scores are sorted on the way in, so a hand-edited table cannot break the
        binary search the percentiles rely on.
        """
        if not isinstance(data, Mapping):
            raise ValueError("a norm table must be an object")
        unknown = sorted(set(data) - {"metrics", "traits", "trait_raw_scores"})
        if unknown:
            raise ValueError(f"norm table: unknown key {unknown[0]!r}")
        sections = {}
        for section in ("metrics", "traits", "trait_raw_scores"):
            value = data.get(section, {})
            if not isinstance(value, Mapping):
                raise ValueError(f"norm table: {section} must be an object")
            sections[section] = value
        metrics = {
            str(key): Distribution.from_dict(value, f"metrics[{key!r}]")
            for key, value in sections["metrics"].items()
        }
        traits = {
            str(name): Distribution.from_dict(value, f"traits[{name!r}]")
            for name, value in sections["traits"].items()
        }
        raw_scores: dict[str, tuple[float, ...]] = {}
        for name, values in sections["trait_raw_scores"].items():
            where = f"trait_raw_scores[{name!r}]"
            if not isinstance(values, list | tuple):
                raise ValueError(f"{where} must be a list of numbers")
            raw_scores[str(name)] = tuple(
                sorted(_finite(value, f"{where}[{i}]") for i, value in enumerate(values))
            )
        # A trait is scored against both its distribution (z) and its raw scores
        # (percentiles); one without the other is a broken table.
        unpaired = sorted(set(traits) ^ set(raw_scores))
        if unpaired:
            raise ValueError(
                f"norm table: trait {unpaired[0]!r} needs both a distribution and raw scores"
            )
        for name, distribution in traits.items():
            if len(raw_scores[name]) != distribution.n:
                raise ValueError(
                    f"norm table: trait {name!r} has n = {distribution.n} "
                    f"but {len(raw_scores[name])} raw scores"
                )
        return cls(metrics=metrics, traits=traits, trait_raw_scores=raw_scores)


def metric_distribution(values: np.ndarray | pd.Series) -> Distribution | None:
    """The distribution of one metric's values; None when it cannot standardise anything.

    NaN (absent) and infinite values are ignored; None when fewer than 2 values remain
    or all of them are equal (SD 0).
    """
    array = np.asarray(values, dtype="float64").ravel()
    array = array[np.isfinite(array)]
    if array.size < 2 or array.min() == array.max():
        return None
    return Distribution(
        n=int(array.size),
        mean=float(array.mean()),
        sd=float(array.std(ddof=1)),
        percentiles=tuple(float(p) for p in np.percentile(array, PERCENTILES)),
    )


def build_norms(metrics: pd.DataFrame, trait_map: TraitMap) -> NormTableData:
    """The norm table of a population.

    ``metrics`` is a wide frame, one row per person (any index), one column per metric
    key, NaN = absent. Every column is normed, also those no trait uses: reports show
    metric percentiles too. Trait raw scores are then computed for the same persons
    with these metric norms, and their distributions and sorted values stored.
    """
    # Imported here: inference builds on the NormTableData defined in this module.
    from pymetrics.psychometrics.inference import trait_raw_scores

    metric_norms: dict[str, Distribution] = {}
    for column in metrics.columns:
        distribution = metric_distribution(metrics[column].to_numpy(dtype="float64"))
        if distribution is not None:
            metric_norms[str(column)] = distribution

    frame = metrics.copy()
    frame.columns = pd.Index([str(column) for column in metrics.columns])
    metric_only = NormTableData(metrics=metric_norms, traits={}, trait_raw_scores={})
    raw = trait_raw_scores(frame, metric_only, trait_map)

    traits: dict[str, Distribution] = {}
    raw_scores: dict[str, tuple[float, ...]] = {}
    for trait in trait_map.traits:
        scores = raw[trait.name].to_numpy(dtype="float64")
        scores = np.sort(scores[np.isfinite(scores)])
        distribution = metric_distribution(scores)
        if distribution is not None:
            traits[trait.name] = distribution
            raw_scores[trait.name] = tuple(float(score) for score in scores)
    return NormTableData(metrics=metric_norms, traits=traits, trait_raw_scores=raw_scores)


def _finite(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return number
