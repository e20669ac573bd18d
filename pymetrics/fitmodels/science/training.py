"""Training a job-fit model and reporting how well it separates (SCIENCE.md section 4).

A job-fit model tells how much a candidate's trait (and optionally metric) profile
resembles a role's successful incumbents (label 1) rather than a baseline population
(label 0). The training data is a feature matrix: one row per person, columns named
like ``"trait:attention"`` or ``"metric:balloons.adjusted_pumps"``, values z-scores,
NaN where a score is missing. Missing cells are imputed inside the model (the median
of the training data), so a candidate with a missing score is scored the same way, and
the fraction imputed per feature is reported.

The model is a scikit-learn pipeline: median imputation, standardisation, optionally a
:class:`FeatureWeights` step (the "down-weight" option of the debiasing loop: with
L2-regularised logistic regression a weight below 1 shrinks that feature's
coefficient), then L2 logistic regression (C = 1, the default) or a seeded histogram
gradient boosting classifier whose probabilities are calibrated (Platt sigmoid, 3
internal folds).

Fit score = calibrated probability x 100. Decision: the two classes are weighted to
equal priors (each person weighs n / (2 n_class)), so the probability answers "how much
more does this profile resemble the successful incumbents than the baseline, with both
equally likely beforehand". It therefore does not depend on how many incumbents
happened to be sampled against how large a baseline, and a score of 50 means "no more
like one than the other", which is the default pass threshold. Calibration (the
reliability curve and the Brier score) is evaluated with the same weights: a
well-calibrated model's weighted observed frequency of incumbents in a bin matches the
bin's mean probability.

Validation is stratified k-fold cross-validation (shuffled, seeded): the out-of-fold
probabilities give the AUC with a 95% percentile-bootstrap CI (people resampled within
each class, so every resample holds both), the ROC curve, the reliability curve and
the Brier score. The model is then refitted on all the data. Everything is seeded:
the same data and seed give the same model, the same report and the same
fingerprint.

Artefacts are stored with skops (never pickle) and loaded against an explicit
allow-list of the types these pipelines contain, so a tampered blob cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

Algorithm = Literal["logistic_regression", "gradient_boosting"]
ALGORITHMS: tuple[str, ...] = ("logistic_regression", "gradient_boosting")

#: Version of this trainer (pipeline layout, weighting, report); stored with each model.
TRAINER_VERSION: int = 1
#: Version of the artefact layout written by :func:`dump_model`.
ARTEFACT_FORMAT_VERSION: int = 1
#: Default pass threshold on the fit score: 50 = as like the incumbents as the baseline.
DEFAULT_THRESHOLD: float = 50.0
#: Charts need no more ROC points than this.
MAX_ROC_POINTS: int = 101
RELIABILITY_BINS: int = 10
#: Permutation repeats for gradient boosting: enough for a stable ranking, still fast.
PERMUTATION_REPEATS: int = 5
CI_LEVEL: float = 0.95

_ARTEFACT_MAGIC = b"PYMETRICS-FITMODEL\n"
_FINGERPRINT_PREFIX = b"pymetrics.fitmodels.training-data.v1\n"

ProgressCallback = Callable[[float, str], None]


class FeatureWeights(TransformerMixin, BaseEstimator):
    """Multiplies each standardised column by its weight (1 = unchanged).

    Placed after the scaler, a weight below 1 makes a feature cost more L2 penalty per
    unit of effect, so logistic regression leans on it less: the debiasing loop's
    "down-weight" option. Trees are invariant to such scaling.
    """

    def __init__(self, weights: tuple[float, ...] = ()) -> None:
        self.weights = weights

    def fit(self, X: Any, y: Any = None) -> FeatureWeights:
        columns = np.asarray(X, dtype="float64").shape[1]
        if len(self.weights) != columns:
            raise ValueError(
                f"FeatureWeights has {len(self.weights)} weights for {columns} columns"
            )
        self.n_features_in_ = columns
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        values = np.asarray(X, dtype="float64")
        if values.shape[1] != self.n_features_in_:
            raise ValueError(
                f"FeatureWeights was fitted on {self.n_features_in_} columns, got {values.shape[1]}"
            )
        return values * np.asarray(self.weights, dtype="float64")


# ---------------------------------------------------------------------------------------
# Result contracts


def _json_number(value: float) -> float | None:
    """A float for JSON: None for NaN and infinities (they have no JSON form)."""
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of the reliability curve: mean predicted vs observed (both weighted)."""

    mean_predicted: float
    observed_frequency: float
    count: int
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_predicted": _json_number(self.mean_predicted),
            "observed_frequency": _json_number(self.observed_frequency),
            "count": self.count,
            "weight": _json_number(self.weight),
        }


@dataclass(frozen=True)
class CrossValidationReport:
    """How well the model separates and how well it is calibrated, out of fold."""

    folds: int
    seed: int
    auc: float
    auc_ci_low: float
    auc_ci_high: float
    bootstrap_samples: int
    fold_aucs: tuple[float, ...]
    roc_fpr: tuple[float, ...]
    roc_tpr: tuple[float, ...]
    #: Fit-score thresholds (0-100) of the ROC points; the first is +inf (nobody passes).
    roc_thresholds: tuple[float, ...]
    reliability: tuple[ReliabilityBin, ...]
    brier_score: float
    ci_level: float = CI_LEVEL
    #: Out-of-fold probabilities in row order; kept for analysis, not serialised
    #: (empty after :func:`load_model`).
    out_of_fold_probabilities: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "seed": self.seed,
            "auc": _json_number(self.auc),
            "auc_ci": {
                "level": self.ci_level,
                "low": _json_number(self.auc_ci_low),
                "high": _json_number(self.auc_ci_high),
                "method": "percentile bootstrap, stratified by class",
                "bootstrap_samples": self.bootstrap_samples,
            },
            "fold_aucs": [_json_number(auc) for auc in self.fold_aucs],
            "roc": {
                "fpr": [_json_number(value) for value in self.roc_fpr],
                "tpr": [_json_number(value) for value in self.roc_tpr],
                "thresholds": [_json_number(value) for value in self.roc_thresholds],
            },
            "reliability": {
                "strategy": "quantile",
                "weighting": "equal class priors",
                "bins": [bin_.to_dict() for bin_ in self.reliability],
            },
            "brier_score": _json_number(self.brier_score),
        }

    @classmethod
    def from_dict(cls, report: Mapping[str, Any]) -> CrossValidationReport:
        """The report back from :meth:`to_dict` (None read as NaN, the first threshold +inf)."""

        def number(value: Any) -> float:
            return math.nan if value is None else float(value)

        thresholds = [number(value) for value in report["roc"]["thresholds"]]
        if thresholds and math.isnan(thresholds[0]):
            thresholds[0] = math.inf
        return cls(
            folds=int(report["folds"]),
            seed=int(report["seed"]),
            auc=number(report["auc"]),
            auc_ci_low=number(report["auc_ci"]["low"]),
            auc_ci_high=number(report["auc_ci"]["high"]),
            bootstrap_samples=int(report["auc_ci"]["bootstrap_samples"]),
            ci_level=float(report["auc_ci"]["level"]),
            fold_aucs=tuple(number(value) for value in report["fold_aucs"]),
            roc_fpr=tuple(number(value) for value in report["roc"]["fpr"]),
            roc_tpr=tuple(number(value) for value in report["roc"]["tpr"]),
            roc_thresholds=tuple(thresholds),
            reliability=tuple(
                ReliabilityBin(
                    mean_predicted=number(bin_["mean_predicted"]),
                    observed_frequency=number(bin_["observed_frequency"]),
                    count=int(bin_["count"]),
                    weight=number(bin_["weight"]),
                )
                for bin_ in report["reliability"]["bins"]
            ),
            brier_score=number(report["brier_score"]),
        )


@dataclass(frozen=True)
class FeatureEffect:
    """What the fitted model makes of one feature.

    Logistic regression: ``coefficient`` is the change in log-odds per SD of the feature
    (on the standardised scale, after any down-weight), ``odds_ratio`` its exponential.
    Gradient boosting: ``importance_mean`` / ``importance_sd`` are the permutation
    importance (drop in training AUC when the feature is shuffled) over the repeats.
    """

    feature: str
    weight: float
    coefficient: float | None = None
    odds_ratio: float | None = None
    importance_mean: float | None = None
    importance_sd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        def optional(value: float | None) -> float | None:
            return None if value is None else _json_number(value)

        return {
            "feature": self.feature,
            "weight": _json_number(self.weight),
            "coefficient": optional(self.coefficient),
            "odds_ratio": optional(self.odds_ratio),
            "importance_mean": optional(self.importance_mean),
            "importance_sd": optional(self.importance_sd),
        }


@dataclass(frozen=True)
class TrainedFitModel:
    """A fitted job-fit model with its validation report and provenance."""

    pipeline: Pipeline = field(compare=False, repr=False)
    feature_names: tuple[str, ...]
    algorithm: str
    cv_report: CrossValidationReport
    feature_effects: tuple[FeatureEffect, ...]
    #: Down-weights applied (1.0 = none), per feature in ``feature_names`` order.
    feature_weights: tuple[float, ...]
    #: Fraction of the training rows whose value was missing and imputed, per feature.
    imputed_fractions: tuple[float, ...]
    training_fingerprint: str
    n_incumbents: int
    n_baseline: int
    seed: int
    intercept: float | None = None
    threshold: float = DEFAULT_THRESHOLD
    trainer_version: int = TRAINER_VERSION

    def weight_of(self, feature: str) -> float:
        """The down-weight applied to a feature (KeyError if the model does not use it)."""
        return dict(zip(self.feature_names, self.feature_weights, strict=True))[feature]

    def fit_scores(self, features: pd.DataFrame) -> np.ndarray:
        """Fit scores 0-100 for each row; columns are taken by name, extras ignored.

        A column the model needs but the frame lacks is an error naming it; NaN cells
        are imputed with the training medians.
        """
        if not isinstance(features, pd.DataFrame):
            raise TypeError("features must be a pandas DataFrame with one column per feature")
        missing = [name for name in self.feature_names if name not in features.columns]
        if missing:
            raise ValueError(
                "features lack the column(s) the model was trained on: "
                + ", ".join(repr(name) for name in missing)
            )
        values = feature_matrix(features=features, names=self.feature_names)
        if len(values) == 0:
            return np.empty(0, dtype="float64")
        with threadpool_limits(limits=1):
            probabilities = self.pipeline.predict_proba(values)[:, 1]
        return np.asarray(probabilities, dtype="float64") * 100.0

    def to_dict(self) -> dict[str, Any]:
        """Everything but the pipeline, as plain JSON types."""
        return {
            "algorithm": self.algorithm,
            "trainer_version": self.trainer_version,
            "feature_names": list(self.feature_names),
            "feature_weights": {
                name: _json_number(weight)
                for name, weight in zip(self.feature_names, self.feature_weights, strict=True)
            },
            "imputed_fractions": {
                name: _json_number(fraction)
                for name, fraction in zip(self.feature_names, self.imputed_fractions, strict=True)
            },
            "threshold": _json_number(self.threshold),
            "seed": self.seed,
            "training_fingerprint": self.training_fingerprint,
            "n_incumbents": self.n_incumbents,
            "n_baseline": self.n_baseline,
            "intercept": None if self.intercept is None else _json_number(self.intercept),
            "feature_effects": [effect.to_dict() for effect in self.feature_effects],
            "cross_validation": self.cv_report.to_dict(),
        }


# ---------------------------------------------------------------------------------------
# Input checks and fingerprint


def feature_matrix(*, features: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """The named columns as a float64 matrix; a non-numeric or infinite value is an error."""
    columns = []
    for name in names:
        column = features[name]
        try:
            values = pd.to_numeric(column, errors="raise").to_numpy(dtype="float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"feature {name!r} has a non-numeric value: {error}") from None
        if np.isinf(values).any():
            raise ValueError(f"feature {name!r} has an infinite value")
        columns.append(values)
    if not columns:
        return np.empty((len(features), 0), dtype="float64")
    return np.column_stack(columns)


def _label_vector(labels: Sequence[int] | np.ndarray | pd.Series, n_rows: int) -> np.ndarray:
    values = np.asarray(labels)
    if values.ndim != 1 or len(values) != n_rows:
        raise ValueError(f"labels must be one value per feature row ({n_rows}), got {values.shape}")
    if values.dtype == bool:
        return values.astype("int64")
    try:
        numeric = values.astype("float64")
    except (TypeError, ValueError):
        raise ValueError("labels must be 0 (baseline) or 1 (incumbent)") from None
    if not np.isin(numeric, (0.0, 1.0)).all():
        bad = sorted({repr(value) for value in values[~np.isin(numeric, (0.0, 1.0))].tolist()})
        raise ValueError(f"labels must be 0 (baseline) or 1 (incumbent), got {', '.join(bad[:5])}")
    return numeric.astype("int64")


def training_fingerprint(
    *, feature_names: Sequence[str], values: np.ndarray, labels: np.ndarray
) -> str:
    """sha256 hex of a canonical encoding of the training data.

    Encodes the feature names in order (length-prefixed UTF-8), the shape, the values
    row by row as little-endian float64 (every NaN as the one quiet NaN, -0.0 as 0.0, so
    equal data has one encoding) and the labels as bytes. Rows are taken in the given
    order: the caller orders them (e.g. by participant id) so that the same people give
    the same fingerprint.
    """
    matrix = np.array(values, dtype="<f8", copy=True, order="C")
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise ValueError("values must be a matrix with one column per feature name")
    matrix[np.isnan(matrix)] = np.nan
    matrix[matrix == 0.0] = 0.0
    digest = hashlib.sha256(_FINGERPRINT_PREFIX)
    digest.update(struct.pack("<QQ", matrix.shape[0], matrix.shape[1]))
    for name in feature_names:
        encoded = name.encode("utf-8")
        digest.update(struct.pack("<Q", len(encoded)))
        digest.update(encoded)
    digest.update(matrix.tobytes(order="C"))
    digest.update(np.asarray(labels, dtype="uint8").tobytes())
    return digest.hexdigest()


def equal_prior_weights(labels: np.ndarray) -> np.ndarray:
    """Sample weights n / (2 n_class): both classes weigh half of the total."""
    counts = np.bincount(labels, minlength=2).astype("float64")
    return len(labels) / (2.0 * counts[labels])


# ---------------------------------------------------------------------------------------
# Calibration and ROC helpers


def reliability_curve(
    *,
    labels: np.ndarray,
    probabilities: np.ndarray,
    sample_weight: np.ndarray | None = None,
    n_bins: int = RELIABILITY_BINS,
) -> tuple[ReliabilityBin, ...]:
    """Reliability curve with quantile bins, weighted.

    Bin edges are the (unweighted) quantiles of the probabilities and rows are assigned
    exactly as ``sklearn.calibration.calibration_curve(strategy="quantile")`` does, so
    with unit weights the two agree; empty bins (ties) are left out.
    """
    y = np.asarray(labels, dtype="float64")
    p = np.asarray(probabilities, dtype="float64")
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
    edges = np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1))
    bin_ids = np.searchsorted(edges[1:-1], p)
    weight_sums = np.bincount(bin_ids, weights=w, minlength=n_bins)
    predicted_sums = np.bincount(bin_ids, weights=w * p, minlength=n_bins)
    observed_sums = np.bincount(bin_ids, weights=w * y, minlength=n_bins)
    counts = np.bincount(bin_ids, minlength=n_bins)
    return tuple(
        ReliabilityBin(
            mean_predicted=float(predicted_sums[i] / weight_sums[i]),
            observed_frequency=float(observed_sums[i] / weight_sums[i]),
            count=int(counts[i]),
            weight=float(weight_sums[i]),
        )
        for i in range(len(counts))
        if counts[i] > 0
    )


def _thinned(length: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread points, both ends kept."""
    if length <= max_points:
        return np.arange(length)
    return np.unique(np.round(np.linspace(0, length - 1, max_points)).astype("int64"))


def _bootstrap_aucs(
    *,
    labels: np.ndarray,
    probabilities: np.ndarray,
    samples: int,
    rng: np.random.Generator,
    on_progress: Callable[[int], None],
) -> np.ndarray:
    """AUCs of resamples of people drawn with replacement within each class.

    Each resample's AUC is the Mann-Whitney form of ``roc_auc_score`` (the share of
    incumbent-baseline pairs ranked right, ties counting half) computed from how many
    times each person was drawn: the ranks are sorted once, so 1000 resamples take
    milliseconds instead of seconds.
    """
    baseline = np.sort(probabilities[labels == 0])
    incumbents = probabilities[labels == 1]
    n_baseline, n_incumbents = len(baseline), len(incumbents)
    below = np.searchsorted(baseline, incumbents, side="left")
    up_to = np.searchsorted(baseline, incumbents, side="right")
    aucs = np.empty(samples, dtype="float64")
    for b in range(samples):
        baseline_draws = np.bincount(
            rng.integers(0, n_baseline, size=n_baseline), minlength=n_baseline
        )
        incumbent_draws = np.bincount(
            rng.integers(0, n_incumbents, size=n_incumbents), minlength=n_incumbents
        )
        drawn_up_to = np.concatenate(([0], np.cumsum(baseline_draws)))
        pairs_right = drawn_up_to[below] + 0.5 * (drawn_up_to[up_to] - drawn_up_to[below])
        aucs[b] = float(incumbent_draws @ pairs_right) / (n_baseline * n_incumbents)
        on_progress(b + 1)
    return aucs


# ---------------------------------------------------------------------------------------
# Training


def _build_pipeline(*, algorithm: str, seed: int, weights: tuple[float, ...] | None) -> Pipeline:
    steps: list[tuple[str, Any]] = [
        # keep_empty_features: a column that is all NaN in one CV fold keeps its place.
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("scale", StandardScaler()),
    ]
    if weights is not None:
        steps.append(("weights", FeatureWeights(weights=weights)))
    if algorithm == "logistic_regression":
        steps.append(("classifier", LogisticRegression(C=1.0, solver="lbfgs", max_iter=5000)))
    else:
        steps.append(
            (
                "classifier",
                CalibratedClassifierCV(
                    HistGradientBoostingClassifier(random_state=seed), method="sigmoid", cv=3
                ),
            )
        )
    return Pipeline(steps)


def _fit(pipeline: Pipeline, values: np.ndarray, labels: np.ndarray) -> Pipeline:
    pipeline.fit(values, labels, classifier__sample_weight=equal_prior_weights(labels))
    return pipeline


def _check_training_input(
    *,
    features: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    algorithm: str,
    folds: int,
    bootstrap_samples: int,
    feature_weights: Mapping[str, float] | None,
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, tuple[float, ...] | None]:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if bootstrap_samples < 1:
        raise ValueError(f"bootstrap_samples must be at least 1, got {bootstrap_samples}")
    if not isinstance(features, pd.DataFrame):
        raise TypeError("features must be a pandas DataFrame with one column per feature")
    if features.shape[1] == 0:
        raise ValueError("features has no columns: a model needs at least one feature")
    names = tuple(features.columns)
    if not all(isinstance(name, str) and name for name in names):
        raise ValueError("feature names must be non-empty strings")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"feature names must be unique, repeated: {', '.join(duplicated)}")
    if isinstance(labels, pd.Series) and not labels.index.equals(features.index):
        raise ValueError(
            "labels (a Series) must have the same index, in the same order, as features"
        )
    values = feature_matrix(features=features, names=names)
    y = _label_vector(labels, len(features))
    all_missing = [
        name for name, empty in zip(names, np.isnan(values).all(axis=0), strict=True) if empty
    ]
    if all_missing:
        raise ValueError(
            "feature(s) with no value for anyone (all NaN): "
            + ", ".join(repr(name) for name in all_missing)
        )
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        present = "incumbents (1)" if counts[1] else "baseline (0)"
        raise ValueError(f"labels hold one class only ({present}): need incumbents and baseline")
    if counts.min() < folds:
        raise ValueError(
            f"each class needs at least {folds} people for {folds}-fold cross-validation; "
            f"got {counts[1]} incumbents and {counts[0]} baseline"
        )
    if algorithm == "gradient_boosting":
        # Calibration splits each training fold into 3 stratified parts.
        smallest_training_fold = counts.min() - math.ceil(counts.min() / folds)
        if smallest_training_fold < 3:
            raise ValueError(
                "gradient boosting needs at least 3 people of each class in every training fold "
                f"for its calibration; got {counts[1]} incumbents and {counts[0]} baseline"
            )
    weights: tuple[float, ...] | None = None
    if feature_weights is not None:
        unknown = sorted(set(feature_weights) - set(names))
        if unknown:
            raise ValueError(
                "feature_weights names feature(s) not in features: "
                + ", ".join(repr(name) for name in unknown)
            )
        for name, weight in feature_weights.items():
            if not math.isfinite(weight) or weight <= 0:
                raise ValueError(
                    f"feature weight of {name!r} must be a positive number, got {weight!r}"
                )
        weights = tuple(float(feature_weights.get(name, 1.0)) for name in names)
    return names, values, y, weights


def _no_progress(fraction: float, message: str) -> None:
    """Default progress sink."""


def train_fit_model(
    *,
    features: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    algorithm: Algorithm = "logistic_regression",
    seed: int = 0,
    folds: int = 5,
    bootstrap_samples: int = 1000,
    feature_weights: Mapping[str, float] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: ProgressCallback | None = None,
) -> TrainedFitModel:
    """Cross-validate, then fit on all rows, a job-fit model of incumbents vs baseline.

    ``labels`` follow the rows of ``features`` (1 = successful incumbent, 0 = baseline).
    ``feature_weights`` down-weights features (missing names weigh 1). ``progress`` is
    called with a fraction in [0, 1] and a short message after each fold, during the
    bootstrap and at the end (1.0).
    """
    if not 0.0 <= threshold <= 100.0:
        raise ValueError(f"threshold is a fit score in [0, 100], got {threshold!r}")
    names, values, y, weights = _check_training_input(
        features=features,
        labels=labels,
        algorithm=algorithm,
        folds=folds,
        bootstrap_samples=bootstrap_samples,
        feature_weights=feature_weights,
    )
    # One thread: workers run in parallel processes, and OpenMP/BLAS threads fighting
    # over shared cores made gradient boosting 15 times slower here, not faster.
    with threadpool_limits(limits=1):
        return _train(
            names=names,
            values=values,
            y=y,
            weights=weights,
            algorithm=algorithm,
            seed=seed,
            folds=folds,
            bootstrap_samples=bootstrap_samples,
            threshold=threshold,
            report_progress=progress or _no_progress,
        )


def _train(
    *,
    names: tuple[str, ...],
    values: np.ndarray,
    y: np.ndarray,
    weights: tuple[float, ...] | None,
    algorithm: str,
    seed: int,
    folds: int,
    bootstrap_samples: int,
    threshold: float,
    report_progress: ProgressCallback,
) -> TrainedFitModel:
    sample_weight = equal_prior_weights(y)

    # Progress budget: folds 0-0.6, bootstrap 0.6-0.9, final fit and weights 0.9-1.0.
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    out_of_fold = np.empty(len(y), dtype="float64")
    fold_aucs = []
    for fold, (train_rows, test_rows) in enumerate(splitter.split(values, y), start=1):
        pipeline = _build_pipeline(algorithm=algorithm, seed=seed, weights=weights)
        _fit(pipeline, values[train_rows], y[train_rows])
        out_of_fold[test_rows] = pipeline.predict_proba(values[test_rows])[:, 1]
        fold_aucs.append(float(roc_auc_score(y[test_rows], out_of_fold[test_rows])))
        report_progress(0.6 * fold / folds, f"cross-validation fold {fold} of {folds}")

    step = max(1, bootstrap_samples // 10)

    def bootstrap_progress(done: int) -> None:
        if done % step == 0 or done == bootstrap_samples:
            report_progress(
                0.6 + 0.3 * done / bootstrap_samples,
                f"bootstrap {done} of {bootstrap_samples}",
            )

    aucs = _bootstrap_aucs(
        labels=y,
        probabilities=out_of_fold,
        samples=bootstrap_samples,
        rng=np.random.default_rng(seed),
        on_progress=bootstrap_progress,
    )
    tail = 100.0 * (1.0 - CI_LEVEL) / 2.0
    ci_low, ci_high = np.percentile(aucs, [tail, 100.0 - tail])

    fpr, tpr, thresholds = roc_curve(y, out_of_fold)
    kept = _thinned(len(fpr), MAX_ROC_POINTS)
    cv_report = CrossValidationReport(
        folds=folds,
        seed=seed,
        auc=float(roc_auc_score(y, out_of_fold)),
        auc_ci_low=float(ci_low),
        auc_ci_high=float(ci_high),
        bootstrap_samples=bootstrap_samples,
        fold_aucs=tuple(fold_aucs),
        roc_fpr=tuple(float(value) for value in fpr[kept]),
        roc_tpr=tuple(float(value) for value in tpr[kept]),
        roc_thresholds=tuple(float(value) * 100.0 for value in thresholds[kept]),
        reliability=reliability_curve(
            labels=y, probabilities=out_of_fold, sample_weight=sample_weight
        ),
        brier_score=float(brier_score_loss(y, out_of_fold, sample_weight=sample_weight)),
        out_of_fold_probabilities=tuple(float(value) for value in out_of_fold),
    )

    pipeline = _fit(_build_pipeline(algorithm=algorithm, seed=seed, weights=weights), values, y)
    report_progress(0.95, "fitted on all data")
    applied = weights if weights is not None else (1.0,) * len(names)
    intercept: float | None = None
    if algorithm == "logistic_regression":
        classifier = pipeline.named_steps["classifier"]
        coefficients = np.asarray(classifier.coef_[0], dtype="float64") * np.asarray(applied)
        intercept = float(classifier.intercept_[0])
        effects = tuple(
            FeatureEffect(
                feature=name,
                weight=weight,
                coefficient=float(coefficient),
                odds_ratio=float(math.exp(coefficient)),
            )
            for name, weight, coefficient in zip(names, applied, coefficients, strict=True)
        )
    else:
        importance = permutation_importance(
            pipeline,
            values,
            y,
            scoring="roc_auc",
            n_repeats=PERMUTATION_REPEATS,
            random_state=seed,
            sample_weight=sample_weight,
        )
        effects = tuple(
            FeatureEffect(
                feature=name,
                weight=weight,
                importance_mean=float(mean),
                importance_sd=float(sd),
            )
            for name, weight, mean, sd in zip(
                names, applied, importance.importances_mean, importance.importances_std, strict=True
            )
        )
    model = TrainedFitModel(
        pipeline=pipeline,
        feature_names=names,
        algorithm=algorithm,
        cv_report=cv_report,
        feature_effects=effects,
        feature_weights=tuple(applied),
        imputed_fractions=tuple(float(value) for value in np.isnan(values).mean(axis=0)),
        training_fingerprint=training_fingerprint(feature_names=names, values=values, labels=y),
        n_incumbents=int((y == 1).sum()),
        n_baseline=int((y == 0).sum()),
        seed=seed,
        intercept=intercept,
        threshold=float(threshold),
    )
    report_progress(1.0, "done")
    return model


# ---------------------------------------------------------------------------------------
# Artefacts

#: Every type an artefact may contain: the builtins and numpy types skops writes, the
#: scikit-learn classes of the two pipelines above, and FeatureWeights. Anything else in
#: a blob (another estimator, a function, a custom class) is refused before loading.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "builtins.bool",
        "builtins.dict",
        "builtins.float",
        "builtins.int",
        "builtins.list",
        "builtins.NoneType",
        "builtins.str",
        "builtins.tuple",
        "numpy.dtype",
        "numpy.ndarray",
        "numpy.float64",
        "numpy.int64",
        "numpy.uint64",
        "numpy.random._generator.Generator",
        "sklearn.pipeline.Pipeline",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._label.LabelEncoder",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        f"{FeatureWeights.__module__}.{FeatureWeights.__qualname__}",
    }
)
#: skops node kinds these pipelines need; functions, methods, partials, operator and
#: reduce nodes (ways to reach arbitrary callables) are refused.
_TRUSTED_LOADERS: frozenset[str] = frozenset(
    {
        "DictNode",
        "DTypeNode",
        "JsonNode",
        "ListNode",
        "LossNode",
        "NdArrayNode",
        "ObjectNode",
        "RandomGeneratorNode",
        "TupleNode",
        "TypeNode",
    }
)


class UntrustedArtefactError(ValueError):
    """A model blob holds a type outside the allow-list, or is not a model blob."""


def _schema_nodes(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if "__class__" in node and "__module__" in node:
            yield node
        for child in node.values():
            yield from _schema_nodes(child)
    elif isinstance(node, list):
        for child in node:
            yield from _schema_nodes(child)


def _untrusted_types(pipeline_blob: bytes) -> list[str]:
    """The types and node kinds in a skops blob outside the allow-list."""
    try:
        with zipfile.ZipFile(io.BytesIO(pipeline_blob)) as archive:
            schema = json.loads(archive.read("schema.json"))
        found_by_skops = skops.io.get_untrusted_types(data=pipeline_blob)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as error:
        raise UntrustedArtefactError(f"not a skops model artefact: {error}") from None
    refused = {name for name in found_by_skops if name not in TRUSTED_TYPES}
    for node in _schema_nodes(schema):
        type_name = f"{node['__module__']}.{node['__class__']}"
        if type_name not in TRUSTED_TYPES:
            refused.add(type_name)
        loader = node.get("__loader__")
        if loader not in _TRUSTED_LOADERS:
            refused.add(f"{type_name} (loaded by {loader})")
    return sorted(refused)


def dump_model(model: TrainedFitModel) -> bytes:
    """The model as bytes: a JSON header (provenance and report) and the skops pipeline.

    Layout: a magic line, the header length (8 bytes, little-endian), the UTF-8 JSON
    header, then the ``skops.io.dumps`` bytes of the pipeline.
    """
    header = {
        "format_version": ARTEFACT_FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "feature_names": list(model.feature_names),
        "algorithm": model.algorithm,
        "threshold": _json_number(model.threshold),
        "training_fingerprint": model.training_fingerprint,
        "model": model.to_dict(),
    }
    encoded = json.dumps(header, sort_keys=True, allow_nan=False).encode("utf-8")
    return (
        _ARTEFACT_MAGIC + struct.pack("<Q", len(encoded)) + encoded + skops.io.dumps(model.pipeline)
    )


def _read_artefact(blob: bytes) -> tuple[dict[str, Any], bytes]:
    if not blob.startswith(_ARTEFACT_MAGIC) or len(blob) < len(_ARTEFACT_MAGIC) + 8:
        raise UntrustedArtefactError("not a job-fit model artefact (bad magic)")
    start = len(_ARTEFACT_MAGIC) + 8
    (length,) = struct.unpack("<Q", blob[len(_ARTEFACT_MAGIC) : start])
    try:
        header = json.loads(blob[start : start + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UntrustedArtefactError(f"job-fit model artefact has a bad header: {error}") from None
    if not isinstance(header, dict) or header.get("format_version") != ARTEFACT_FORMAT_VERSION:
        raise UntrustedArtefactError(
            f"unsupported job-fit model artefact format {header.get('format_version')!r}"
            if isinstance(header, dict)
            else "job-fit model artefact has a bad header"
        )
    return header, blob[start + length :]


def load_model(blob: bytes) -> TrainedFitModel:
    """A model back from :func:`dump_model`; refuses any type outside TRUSTED_TYPES."""
    header, pipeline_blob = _read_artefact(blob)
    refused = _untrusted_types(pipeline_blob)
    if refused:
        raise UntrustedArtefactError(
            "refusing to load a job-fit model artefact holding untrusted type(s): "
            + ", ".join(refused)
        )
    pipeline = skops.io.loads(pipeline_blob, trusted=sorted(TRUSTED_TYPES))
    if not isinstance(pipeline, Pipeline):
        raise UntrustedArtefactError("job-fit model artefact does not hold a pipeline")
    saved = header["model"]
    names = tuple(saved["feature_names"])
    effects = tuple(
        FeatureEffect(
            feature=effect["feature"],
            weight=float(effect["weight"]),
            coefficient=effect["coefficient"],
            odds_ratio=effect["odds_ratio"],
            importance_mean=effect["importance_mean"],
            importance_sd=effect["importance_sd"],
        )
        for effect in saved["feature_effects"]
    )
    return TrainedFitModel(
        pipeline=pipeline,
        feature_names=names,
        algorithm=saved["algorithm"],
        cv_report=CrossValidationReport.from_dict(saved["cross_validation"]),
        feature_effects=effects,
        feature_weights=tuple(float(saved["feature_weights"][name]) for name in names),
        imputed_fractions=tuple(float(saved["imputed_fractions"][name]) for name in names),
        training_fingerprint=saved["training_fingerprint"],
        n_incumbents=int(saved["n_incumbents"]),
        n_baseline=int(saved["n_baseline"]),
        seed=int(saved["seed"]),
        intercept=saved["intercept"],
        threshold=float(saved["threshold"]),
        trainer_version=int(saved["trainer_version"]),
    )
