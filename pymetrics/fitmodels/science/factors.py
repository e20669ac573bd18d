"""Adaptive trait mapping: propose a new trait map version from a population's metric z-scores.

Trait map version 1 (SCIENCE.md section 2) was written from the literature. Once an
organisation has enough completed sessions, its own data can show whether the metrics
cluster the way the map says. :func:`propose_trait_map` runs an exploratory factor
analysis with varimax rotation over the metric z-scores, matches each factor to a
current trait, and proposes a map: each metric goes to the trait it loads on most
strongly. Each proposed trait is compared to the current one by Tucker's congruence
coefficient, read as Lorenzo-Seva & ten Berge (2006) advise (>= 0.95 equal, 0.85 to
0.95 fair similarity, below 0.85 different), with the metrics added and removed.

The proposal is only a proposal: :meth:`TraitMapProposal.trait_map_dict` is in the
shape :meth:`TraitMap.from_dict` accepts, so the Django side can store it as a new
trait map version for a person to review; nothing here changes the current map.
Pure numpy/pandas/scikit-learn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import FactorAnalysis
from threadpoolctl import threadpool_limits

from pymetrics.psychometrics import TraitMap

#: Lorenzo-Seva & ten Berge (2006): phi >= 0.95 means the factors can be taken as equal,
#: 0.85 <= phi < 0.95 a fair similarity, below 0.85 they are different.
CONGRUENCE_EQUAL = 0.95
CONGRUENCE_FAIR = 0.85
#: Poles and reliability for a factor that matches no current trait: placeholders that
#: a person replaces when naming the trait (0.70 as in trait map v1's notes).
NEW_TRAIT_POLES = ("high", "low")
NEW_TRAIT_RELIABILITY = 0.7
#: Below this many complete cases per metric the proposal carries a warning note: factor
#: solutions from fewer are unstable unless communalities are high (MacCallum et al. 1999).
PEOPLE_PER_METRIC_ADVISED = 10


@dataclass(frozen=True)
class ProposedMetric:
    """A metric in a proposed trait; ``sign`` is the sign of its (oriented) loading."""

    key: str
    sign: int
    loading: float

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sign": self.sign, "loading": self.loading}


@dataclass(frozen=True)
class TraitProposal:
    """One proposed trait next to the current trait it was matched to.

    ``factor`` is the loading column (0-based) matched to the trait, None when no
    factor was left for it (fewer factors than traits). ``flipped`` says the factor's
    sign was reversed so that its high pole is the current trait's first pole.
    ``congruence`` is Tucker's phi between the (oriented) loading column and the
    current trait's signed-indicator column; None for a new trait or without a factor.
    """

    name: str
    poles: tuple[str, str]
    default_reliability: float
    new: bool
    factor: int | None
    flipped: bool
    congruence: float | None
    reading: str | None
    #: Sum of squared loadings over the metrics / number of metrics analysed.
    variance_explained: float | None
    metrics: tuple[ProposedMetric, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    sign_changed: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "poles": list(self.poles),
            "default_reliability": self.default_reliability,
            "new": self.new,
            "factor": self.factor,
            "flipped": self.flipped,
            "congruence": self.congruence,
            "reading": self.reading,
            "variance_explained": self.variance_explained,
            "metrics": [metric.to_dict() for metric in self.metrics],
            "added": list(self.added),
            "removed": list(self.removed),
            "sign_changed": list(self.sign_changed),
        }


@dataclass(frozen=True)
class TraitMapProposal:
    """A proposed trait map version, its loadings and its comparison with the current map."""

    version: int
    based_on_version: int
    n_people: int
    #: People with every analysed metric present (complete cases): the rows analysed.
    n_used: int
    n_factors: int
    min_loading: float
    metric_keys: tuple[str, ...]
    #: Column names of ``loadings``: the matched trait's name, or ``factor_<k>`` (new).
    factor_names: tuple[str, ...]
    #: metrics x factors, rows in ``metric_keys`` order, columns oriented (see flipped).
    loadings: tuple[tuple[float, ...], ...]
    traits: tuple[TraitProposal, ...]
    #: Metrics whose largest |loading| is below ``min_loading``: in no proposed trait.
    unassigned: tuple[str, ...]
    #: Metrics of the current map that were not columns of the population frame.
    not_analysed: tuple[str, ...]
    notes: tuple[str, ...]

    def trait_map_dict(self) -> dict[str, Any]:
        """The proposal in :meth:`TraitMap.from_dict` shape; traits left empty are omitted."""
        traits = []
        for trait in self.traits:
            if not trait.metrics:
                continue
            traits.append(
                {
                    "name": trait.name,
                    "poles": list(trait.poles),
                    "metrics": [_metric_entry(metric) for metric in trait.metrics],
                    "default_reliability": trait.default_reliability,
                }
            )
        return {
            "version": self.version,
            "notes": (
                f"Proposed from a varimax factor analysis of {self.n_used} people's metric "
                f"z-scores ({self.n_factors} factors, |loading| >= {self.min_loading:g}), "
                f"compared with trait map version {self.based_on_version}."
            ),
            "traits": traits,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "based_on_version": self.based_on_version,
            "n_people": self.n_people,
            "n_used": self.n_used,
            "missing_values": "complete cases",
            "n_factors": self.n_factors,
            "min_loading": self.min_loading,
            "loadings": {
                key: dict(zip(self.factor_names, row, strict=True))
                for key, row in zip(self.metric_keys, self.loadings, strict=True)
            },
            "traits": [trait.to_dict() for trait in self.traits],
            "unassigned": list(self.unassigned),
            "not_analysed": list(self.not_analysed),
            "notes": list(self.notes),
            "trait_map": self.trait_map_dict(),
        }


def tucker_congruence(*, x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Tucker's congruence coefficient phi = sum(x y) / sqrt(sum(x^2) sum(y^2)).

    The cosine of two loading columns, uncentred (Tucker 1951): unlike a correlation it
    counts agreement on which metrics load near zero. ValueError for a zero column.
    """
    x_values = np.asarray(x, dtype=float)
    y_values = np.asarray(y, dtype=float)
    if x_values.shape != y_values.shape or x_values.ndim != 1:
        raise ValueError("congruence needs two one-dimensional columns of the same length")
    norm = math.sqrt(float(x_values @ x_values) * float(y_values @ y_values))
    if norm == 0.0:
        raise ValueError("congruence is undefined for a column of zeros")
    return float(x_values @ y_values) / norm


def congruence_reading(phi: float) -> str:
    """Lorenzo-Seva & ten Berge's (2006) reading of |phi|."""
    if abs(phi) >= CONGRUENCE_EQUAL:
        return "equal"
    if abs(phi) >= CONGRUENCE_FAIR:
        return "fair similarity"
    return "different"


def propose_trait_map(
    *,
    metric_z: pd.DataFrame,
    current: TraitMap,
    version: int,
    n_factors: int | None = None,
    seed: int = 0,
    min_loading: float = 0.3,
) -> TraitMapProposal:
    """Propose trait map ``version`` from ``metric_z`` (people x ``"game.metric"``, NaN = absent).

    Missing values: complete cases only (people with every column present), and the
    count is reported. Imputing medians would add people at a cost: it shrinks every
    correlation with an imputed metric towards zero and so biases its loadings, which
    is exactly what the proposal is read for. Columns are standardised on the complete
    cases, so the loadings are on the correlation scale. Every column is analysed,
    including metrics the current map does not use (they can join a trait).

    ``n_factors`` defaults to the current map's number of traits. ``seed`` is passed to
    scikit-learn as ``random_state``; with the exact (LAPACK) SVD used here the result
    does not depend on it, and it keeps the call reproducible if the solver changes.
    """
    keys = [str(column) for column in metric_z.columns]
    _check_keys(keys)
    if not 0.0 < min_loading < 1.0:
        raise ValueError(f"min_loading must be in (0, 1), got {min_loading!r}")
    trait_count = len(current.traits) if n_factors is None else n_factors
    if not 1 <= trait_count < len(keys):
        raise ValueError(
            f"n_factors must be between 1 and {len(keys) - 1} for {len(keys)} metrics, "
            f"got {trait_count}"
        )

    complete = metric_z.to_numpy(dtype=float)
    complete = complete[~np.isnan(complete).any(axis=1)]
    n_used = complete.shape[0]
    if n_used <= len(keys):
        raise ValueError(
            f"{n_used} people have every metric present; a factor analysis of {len(keys)} "
            "metrics needs more people than metrics"
        )
    spread = complete.std(axis=0, ddof=1)
    constant = [key for key, sd in zip(keys, spread, strict=True) if sd == 0.0]
    if constant:
        raise ValueError(f"metric {constant[0]!r} does not vary among the complete cases")
    standardised = (complete - complete.mean(axis=0)) / spread

    # One BLAS thread: the matrices are small, and on a busy machine extra threads only
    # contend (a fit that takes 0.2 s alone took 20 s with oversubscribed threads).
    with threadpool_limits(limits=1, user_api="blas"):
        analysis = FactorAnalysis(
            n_components=trait_count, rotation="varimax", svd_method="lapack", random_state=seed
        ).fit(standardised)
    loadings = np.asarray(analysis.components_, dtype=float).T  # metrics x factors

    indicators = _indicator_columns(current, keys)
    congruence = np.zeros((trait_count, len(current.traits)))
    for factor in range(trait_count):
        for trait_index in range(len(current.traits)):
            if np.any(indicators[:, trait_index]):
                congruence[factor, trait_index] = tucker_congruence(
                    x=loadings[:, factor], y=indicators[:, trait_index]
                )
    factor_rows, trait_columns = linear_sum_assignment(np.abs(congruence), maximize=True)
    trait_of_factor = dict(zip(factor_rows.tolist(), trait_columns.tolist(), strict=True))
    # Orient each matched factor so that its high pole is the trait's first pole.
    flipped = [
        factor in trait_of_factor and bool(congruence[factor, trait_of_factor[factor]] < 0)
        for factor in range(trait_count)
    ]
    loadings = loadings * np.where(flipped, -1.0, 1.0)
    # Put the columns in the current map's trait order, new factors last, so that the
    # loadings read like the map; ``factor`` indices below refer to this order.
    order = sorted(range(trait_count), key=lambda f: trait_of_factor.get(f, trait_count + f))
    loadings = loadings[:, order]
    flipped = [flipped[factor] for factor in order]
    trait_of_factor = {
        position: trait_of_factor[factor]
        for position, factor in enumerate(order)
        if factor in trait_of_factor
    }

    factor_names = _factor_names(current, trait_of_factor, trait_count)
    proposed, unassigned = _assign_metrics(keys, loadings, min_loading)
    analysed = set(keys)
    not_analysed = tuple(key for key in current.metric_keys() if key not in analysed)

    traits: list[TraitProposal] = []
    factor_of_trait = {trait: factor for factor, trait in trait_of_factor.items()}
    for trait_index, trait in enumerate(current.traits):
        matched = factor_of_trait.get(trait_index)
        traits.append(
            _trait_proposal(
                name=trait.name,
                poles=trait.poles,
                reliability=trait.default_reliability,
                current_signs={metric.key: metric.sign for metric in trait.metrics},
                factor=matched,
                flipped=matched is not None and flipped[matched],
                loadings=loadings,
                indicator=indicators[:, trait_index],
                proposed=proposed,
            )
        )
    for factor in range(trait_count):
        if factor not in trait_of_factor:
            traits.append(
                _trait_proposal(
                    name=factor_names[factor],
                    poles=NEW_TRAIT_POLES,
                    reliability=NEW_TRAIT_RELIABILITY,
                    current_signs=None,
                    factor=factor,
                    flipped=False,
                    loadings=loadings,
                    indicator=None,
                    proposed=proposed,
                )
            )

    notes = _notes(traits=traits, n_used=n_used, n_metrics=len(keys), not_analysed=not_analysed)
    proposal = TraitMapProposal(
        version=version,
        based_on_version=current.version,
        n_people=int(metric_z.shape[0]),
        n_used=n_used,
        n_factors=trait_count,
        min_loading=min_loading,
        metric_keys=tuple(keys),
        factor_names=factor_names,
        loadings=tuple(tuple(float(value) for value in row) for row in loadings),
        traits=tuple(traits),
        unassigned=unassigned,
        not_analysed=not_analysed,
        notes=notes,
    )
    if not any(trait.metrics for trait in proposal.traits):
        raise ValueError(f"no metric loads at |loading| >= {min_loading:g} on any factor")
    # Fail here, not in the Django layer, if the proposal is not a valid map.
    TraitMap.from_dict(proposal.trait_map_dict())
    return proposal


def _check_keys(keys: list[str]) -> None:
    if len(set(keys)) != len(keys):
        raise ValueError("metric columns must be unique")
    for key in keys:
        game, dot, metric = key.partition(".")
        if not dot or not game or not metric or "." in metric:
            raise ValueError(f"metric column {key!r} is not a 'game.metric' key")


def _indicator_columns(current: TraitMap, keys: list[str]) -> npt.NDArray[np.float64]:
    """metrics x traits: +1/-1 for a trait's metrics (its sign), 0 elsewhere."""
    row_of = {key: row for row, key in enumerate(keys)}
    indicators = np.zeros((len(keys), len(current.traits)))
    for column, trait in enumerate(current.traits):
        for metric in trait.metrics:
            if metric.key in row_of:
                indicators[row_of[metric.key], column] = metric.sign
    return indicators


def _factor_names(
    current: TraitMap, trait_of_factor: dict[int, int], trait_count: int
) -> tuple[str, ...]:
    taken = {trait.name for trait in current.traits}
    names: list[str] = []
    new_index = 0
    for factor in range(trait_count):
        if factor in trait_of_factor:
            names.append(current.traits[trait_of_factor[factor]].name)
            continue
        new_index += 1
        name = f"factor_{new_index}"
        while name in taken:
            new_index += 1
            name = f"factor_{new_index}"
        names.append(name)
    return tuple(names)


def _assign_metrics(
    keys: list[str], loadings: npt.NDArray[np.float64], min_loading: float
) -> tuple[dict[int, list[ProposedMetric]], tuple[str, ...]]:
    """Each metric to the factor of its largest |loading|, if at least min_loading."""
    proposed: dict[int, list[ProposedMetric]] = {}
    unassigned: list[str] = []
    for row, key in enumerate(keys):
        factor = int(np.argmax(np.abs(loadings[row])))
        loading = float(loadings[row, factor])
        if abs(loading) < min_loading:
            unassigned.append(key)
            continue
        proposed.setdefault(factor, []).append(
            ProposedMetric(key=key, sign=1 if loading > 0 else -1, loading=loading)
        )
    for metrics in proposed.values():
        metrics.sort(key=lambda metric: (-abs(metric.loading), metric.key))
    return proposed, tuple(unassigned)


def _trait_proposal(
    *,
    name: str,
    poles: tuple[str, str],
    reliability: float,
    current_signs: dict[str, int] | None,
    factor: int | None,
    flipped: bool,
    loadings: npt.NDArray[np.float64],
    indicator: npt.NDArray[np.float64] | None,
    proposed: dict[int, list[ProposedMetric]],
) -> TraitProposal:
    metrics = tuple(proposed.get(factor, [])) if factor is not None else ()
    new_signs = {metric.key: metric.sign for metric in metrics}
    old_signs = current_signs or {}
    phi = None
    variance = None
    if factor is not None:
        column = loadings[:, factor]
        variance = float(column @ column) / column.size
        if indicator is not None and np.any(indicator):
            phi = tucker_congruence(x=column, y=indicator)
    return TraitProposal(
        name=name,
        poles=poles,
        default_reliability=reliability,
        new=current_signs is None,
        factor=factor,
        flipped=flipped,
        congruence=phi,
        reading=None if phi is None else congruence_reading(phi),
        variance_explained=variance,
        metrics=metrics,
        added=tuple(key for key in new_signs if key not in old_signs),
        removed=tuple(key for key in old_signs if key not in new_signs),
        sign_changed=tuple(
            key for key in new_signs if key in old_signs and new_signs[key] != old_signs[key]
        ),
    )


def _notes(
    *, traits: list[TraitProposal], n_used: int, n_metrics: int, not_analysed: tuple[str, ...]
) -> tuple[str, ...]:
    notes: list[str] = []
    if n_used < PEOPLE_PER_METRIC_ADVISED * n_metrics:
        notes.append(
            f"Only {n_used} complete cases for {n_metrics} metrics (fewer than "
            f"{PEOPLE_PER_METRIC_ADVISED} per metric): the loadings may not be stable."
        )
    if not_analysed:
        notes.append(
            "Not analysed (absent from the population): "
            f"{', '.join(not_analysed)}; the proposal drops them from their traits."
        )
    for trait in traits:
        if trait.factor is None:
            notes.append(f"No factor left for trait {trait.name!r}: it is not in the proposal.")
        elif not trait.metrics:
            notes.append(f"No metric loads on trait {trait.name!r}: it is not in the proposal.")
        elif trait.new:
            notes.append(
                f"{trait.name!r} matches no current trait: name it and its poles before use."
            )
    return tuple(notes)


def _metric_entry(metric: ProposedMetric) -> dict[str, Any]:
    game, _, name = metric.key.partition(".")
    return {"game": game, "metric": name, "sign": metric.sign}
