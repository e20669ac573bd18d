"""Job-fit model training checked against known effects and scikit-learn references."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
import pickle
import struct

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import calibration_curve
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from pymetrics.fitmodels.science.training import (
    TRUSTED_TYPES,
    Algorithm,
    TrainedFitModel,
    UntrustedArtefactError,
    _bootstrap_aucs,
    dump_model,
    load_model,
    reliability_curve,
    train_fit_model,
    training_fingerprint,
)


def _shifted_sample(
    *, seed: int, n_baseline: int, n_incumbents: int, shifts: dict[str, float]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Standard-normal features; incumbents' means shifted by ``shifts`` (Cohen's d)."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n_baseline, dtype=int), np.ones(n_incumbents, dtype=int)]
    values = rng.normal(size=(len(labels), len(shifts)))
    for column, shift in enumerate(shifts.values()):
        values[labels == 1, column] += shift
    return pd.DataFrame(values, columns=list(shifts)), labels


SMALL_SHIFTS = {"trait:attention": 1.0, "trait:effort": 0.0, "trait:focus": 0.5}


@functools.cache
def _small_model(algorithm: Algorithm) -> tuple[pd.DataFrame, np.ndarray, TrainedFitModel]:
    features, labels = _shifted_sample(seed=3, n_baseline=160, n_incumbents=80, shifts=SMALL_SHIFTS)
    model = train_fit_model(
        features=features, labels=labels, algorithm=algorithm, folds=3, bootstrap_samples=100
    )
    return features, labels, model


def test_cv_auc_and_ci_on_a_known_effect() -> None:
    # given: one feature shifted by d = 1 between classes, one pure-noise feature;
    # population AUC = Phi(d / sqrt(2)) = Phi(0.7071) = 0.7602
    features, labels = _shifted_sample(
        seed=0,
        n_baseline=1500,
        n_incumbents=1500,
        shifts={"trait:attention": 1.0, "trait:effort": 0.0},
    )
    population_auc = norm.cdf(1 / math.sqrt(2))
    assert population_auc == pytest.approx(0.76025, abs=1e-5)
    # Hanley & McNeil (1982) standard error of an AUC of 0.7602 with 1500 + 1500 people
    q1 = population_auc / (2 - population_auc)
    q2 = 2 * population_auc**2 / (1 + population_auc)
    hanley_mcneil_se = math.sqrt(
        (
            population_auc * (1 - population_auc)
            + 1499 * (q1 - population_auc**2)
            + 1499 * (q2 - population_auc**2)
        )
        / (1500 * 1500)
    )
    assert hanley_mcneil_se == pytest.approx(0.00872, abs=1e-5)

    # when
    model = train_fit_model(features=features, labels=labels, seed=0)
    report = model.cv_report

    # then: the CV AUC is within 3 standard errors of the population AUC, the CI holds
    # the estimate and its width matches the analytic SE within 15%
    assert report.auc == pytest.approx(population_auc, abs=3 * hanley_mcneil_se)
    assert report.auc == roc_auc_score(labels, report.out_of_fold_probabilities)
    assert report.auc_ci_low < report.auc < report.auc_ci_high
    bootstrap_se = (report.auc_ci_high - report.auc_ci_low) / (2 * norm.ppf(0.975))
    assert bootstrap_se == pytest.approx(hanley_mcneil_se, rel=0.15)
    assert report.bootstrap_samples == 1000
    assert report.ci_level == 0.95
    assert len(report.fold_aucs) == 5
    assert model.n_incumbents == 1500
    assert model.n_baseline == 1500


def test_bootstrap_auc_is_roc_auc_score_of_the_resample() -> None:
    # given: probabilities with ties (rounded) so the half-credit for ties matters
    rng = np.random.default_rng(11)
    labels = np.r_[np.zeros(40, dtype=int), np.ones(25, dtype=int)]
    probabilities = np.round(rng.uniform(size=65) + 0.3 * labels, 1) / 1.3

    # when
    aucs = _bootstrap_aucs(
        labels=labels,
        probabilities=probabilities,
        samples=3,
        rng=np.random.default_rng(5),
        on_progress=lambda done: None,
    )

    # then: the same draws (baseline first, over the sorted baseline) scored by sklearn
    replay = np.random.default_rng(5)
    baseline = np.sort(probabilities[labels == 0])
    incumbents = probabilities[labels == 1]
    for auc in aucs:
        drawn_baseline = baseline[replay.integers(0, 40, size=40)]
        drawn_incumbents = incumbents[replay.integers(0, 25, size=25)]
        expected = roc_auc_score(
            np.r_[np.zeros(40), np.ones(25)], np.r_[drawn_baseline, drawn_incumbents]
        )
        assert auc == pytest.approx(expected, abs=1e-12)


def test_fingerprint_encodes_names_values_and_labels_canonically() -> None:
    # given: 2 people x 2 features, a NaN and a -0.0
    names = ("trait:attention", "metric:balloons.adjusted_pumps")
    values = np.array([[1.5, np.nan], [-0.0, 2.25]])
    labels = np.array([1, 0])

    # then: the documented encoding, built independently here
    expected = hashlib.sha256(b"pymetrics.fitmodels.training-data.v1\n")
    expected.update(struct.pack("<QQ", 2, 2))
    for name in names:
        expected.update(struct.pack("<Q", len(name)) + name.encode())
    expected.update(struct.pack("<4d", 1.5, math.nan, 0.0, 2.25))
    expected.update(bytes([1, 0]))
    fingerprint = training_fingerprint(feature_names=names, values=values, labels=labels)
    assert fingerprint == expected.hexdigest()

    # a NaN with another payload and +0.0 give the same fingerprint
    other_nan = np.frombuffer(struct.pack("<Q", 0x7FF8000000000123), dtype="<f8")[0]
    assert math.isnan(other_nan)
    same = np.array([[1.5, other_nan], [0.0, 2.25]])
    assert training_fingerprint(feature_names=names, values=same, labels=labels) == fingerprint

    # any change to a value, a label, a name or the row order changes it
    changed_value = values.copy()
    changed_value[0, 0] = np.nextafter(1.5, 2.0)
    changes = [
        training_fingerprint(feature_names=names, values=changed_value, labels=labels),
        training_fingerprint(feature_names=names, values=values, labels=np.array([1, 1])),
        training_fingerprint(feature_names=names[::-1], values=values, labels=labels),
        training_fingerprint(feature_names=names, values=values[::-1], labels=labels[::-1]),
    ]
    assert fingerprint not in changes
    assert len(set(changes)) == 4


def test_trained_model_fingerprint_is_stable_and_sensitive() -> None:
    features, labels, model = _small_model("logistic_regression")
    retrained = train_fit_model(features=features, labels=labels, folds=3, bootstrap_samples=100)
    assert retrained.training_fingerprint == model.training_fingerprint
    relabelled = labels.copy()
    relabelled[0] = 1
    assert (
        train_fit_model(
            features=features, labels=relabelled, folds=3, bootstrap_samples=10
        ).training_fingerprint
        != model.training_fingerprint
    )


def test_reliability_curve_equals_sklearn_with_unit_weights() -> None:
    rng = np.random.default_rng(2)
    probabilities = rng.uniform(size=200)
    labels = (rng.uniform(size=200) < probabilities).astype(int)

    bins = reliability_curve(labels=labels, probabilities=probabilities)

    observed, predicted = calibration_curve(labels, probabilities, n_bins=10, strategy="quantile")
    assert [bin_.observed_frequency for bin_ in bins] == pytest.approx(list(observed))
    assert [bin_.mean_predicted for bin_ in bins] == pytest.approx(list(predicted))
    assert [bin_.count for bin_ in bins] == [20] * 10


def test_reliability_curve_weighted_by_hand() -> None:
    # given: 3 baseline (weight 4/6 = 2/3 each) and 1 incumbent (weight 4/2 = 2), 2 bins;
    # edges = percentiles 0, 50, 100 of the probabilities = 0.1, 0.25, 0.4
    labels = np.array([0, 0, 0, 1])
    probabilities = np.array([0.1, 0.2, 0.3, 0.4])
    weights = np.array([2 / 3, 2 / 3, 2 / 3, 2.0])

    bins = reliability_curve(
        labels=labels, probabilities=probabilities, sample_weight=weights, n_bins=2
    )

    # bin 1: 0.1 and 0.2, both baseline: predicted 0.15, observed 0, weight 4/3
    # bin 2: 0.3 (2/3) and 0.4 (2): predicted (0.2 + 0.8) / (8/3) = 0.375,
    #        observed 2 / (8/3) = 0.75
    assert len(bins) == 2
    assert bins[0].mean_predicted == pytest.approx(0.15)
    assert bins[0].observed_frequency == 0.0
    assert bins[0].weight == pytest.approx(4 / 3)
    assert bins[0].count == 2
    assert bins[1].mean_predicted == pytest.approx(0.375)
    assert bins[1].observed_frequency == pytest.approx(0.75)
    assert bins[1].weight == pytest.approx(8 / 3)
    assert bins[1].count == 2


def test_calibration_report_uses_equal_prior_weights() -> None:
    features, labels, model = _small_model("logistic_regression")
    report = model.cv_report
    oof = np.asarray(report.out_of_fold_probabilities)
    # 160 baseline weigh 240 / 320 = 0.75 each, 80 incumbents 240 / 160 = 1.5 each
    weights = np.where(labels == 1, 1.5, 0.75)

    assert report.brier_score == pytest.approx(
        float(np.sum(weights * (oof - labels) ** 2) / np.sum(weights))
    )
    assert report.brier_score == pytest.approx(brier_score_loss(labels, oof, sample_weight=weights))
    assert len(report.reliability) == 10
    assert sum(bin_.count for bin_ in report.reliability) == 240
    assert sum(bin_.weight for bin_ in report.reliability) == pytest.approx(240.0)
    # With an unpenalised intercept, weighted logistic regression's score equation makes
    # the weighted mean in-sample probability equal the weighted share of incumbents: 1/2.
    in_sample = model.fit_scores(features) / 100
    assert float(np.sum(weights * in_sample) / np.sum(weights)) == pytest.approx(0.5, abs=1e-4)


def test_logistic_coefficients_equal_balanced_sklearn_fit() -> None:
    features, labels, model = _small_model("logistic_regression")
    # class_weight="balanced" is sklearn's name for n / (2 n_class)
    reference = LogisticRegression(class_weight="balanced", max_iter=5000).fit(
        StandardScaler().fit_transform(features.to_numpy()), labels
    )

    effects = {effect.feature: effect for effect in model.feature_effects}
    for column, name in enumerate(SMALL_SHIFTS):
        assert effects[name].coefficient == pytest.approx(reference.coef_[0][column], abs=1e-4)
        assert effects[name].odds_ratio == pytest.approx(math.exp(reference.coef_[0][column]))
        assert effects[name].weight == 1.0
        assert effects[name].importance_mean is None
    assert model.intercept == pytest.approx(reference.intercept_[0], abs=1e-4)
    # the d = 1 feature carries the most weight, the noise feature the least
    coefficients = {name: effects[name].coefficient or 0.0 for name in SMALL_SHIFTS}
    assert coefficients["trait:attention"] > coefficients["trait:focus"] > 0
    assert abs(coefficients["trait:effort"]) < coefficients["trait:focus"]


def test_feature_weight_shrinks_the_coefficient() -> None:
    features, labels, model = _small_model("logistic_regression")
    unweighted = {effect.feature: effect.coefficient for effect in model.feature_effects}

    weighted = train_fit_model(
        features=features,
        labels=labels,
        folds=3,
        bootstrap_samples=10,
        feature_weights={"trait:attention": 0.05},
    )

    # effective coefficient = weight x the regression's coefficient on the weighted column;
    # equal to a reference fit on the standardised column multiplied by 0.05
    standardised = StandardScaler().fit_transform(features.to_numpy())
    standardised[:, 0] *= 0.05
    reference = LogisticRegression(class_weight="balanced", max_iter=5000).fit(standardised, labels)
    effects = {effect.feature: effect for effect in weighted.feature_effects}
    assert effects["trait:attention"].weight == 0.05
    assert effects["trait:attention"].coefficient == pytest.approx(
        0.05 * reference.coef_[0][0], abs=1e-4
    )
    assert unweighted["trait:attention"] is not None
    assert abs(effects["trait:attention"].coefficient or 0) < 0.5 * unweighted["trait:attention"]
    assert weighted.feature_weights == (0.05, 1.0, 1.0)
    assert weighted.weight_of("trait:attention") == 0.05


def test_gradient_boosting_reports_permutation_importance() -> None:
    features, labels, model = _small_model("gradient_boosting")

    # then: the same permutation importance as sklearn's on the fitted pipeline
    with threadpool_limits(limits=1):  # as in training: threads only fight on shared cores
        reference = permutation_importance(
            model.pipeline,
            features.to_numpy(),
            labels,
            scoring="roc_auc",
            n_repeats=5,
            random_state=0,
        )
    effects = {effect.feature: effect for effect in model.feature_effects}
    for column, name in enumerate(SMALL_SHIFTS):
        assert effects[name].importance_mean == pytest.approx(reference.importances_mean[column])
        assert effects[name].importance_sd == pytest.approx(reference.importances_std[column])
        assert effects[name].coefficient is None
    importances = {name: effects[name].importance_mean or 0.0 for name in SMALL_SHIFTS}
    assert importances["trait:attention"] > importances["trait:effort"]
    assert model.algorithm == "gradient_boosting"
    assert model.intercept is None
    assert 0.6 < model.cv_report.auc < 0.9
    scores = model.fit_scores(features)
    assert scores.min() >= 0.0
    assert scores.max() <= 100.0


def test_imputation_fractions_and_missing_cells() -> None:
    # given: 12 of 240 attention values missing
    features, labels = _shifted_sample(seed=4, n_baseline=160, n_incumbents=80, shifts=SMALL_SHIFTS)
    features.iloc[::20, 0] = np.nan

    model = train_fit_model(features=features, labels=labels, folds=3, bootstrap_samples=10)

    assert model.imputed_fractions == (0.05, 0.0, 0.0)
    # a missing cell scores as the training median
    median = float(np.nanmedian(features["trait:attention"]))
    candidates = pd.DataFrame(
        {"trait:attention": [np.nan, median], "trait:effort": [0.3, 0.3], "trait:focus": [-1, -1]}
    )
    scores = model.fit_scores(candidates)
    assert scores[0] == scores[1]


def test_fit_scores_take_columns_by_name() -> None:
    features, _, model = _small_model("logistic_regression")
    shuffled = features[["trait:focus", "trait:attention", "trait:effort"]].assign(extra=1.0)

    assert np.array_equal(model.fit_scores(shuffled), model.fit_scores(features))
    with pytest.raises(ValueError, match=r"'trait:effort'"):
        model.fit_scores(features.drop(columns=["trait:effort"]))


def test_report_to_dict_is_plain_json() -> None:
    _, _, model = _small_model("logistic_regression")

    as_dict = model.to_dict()

    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    roc = as_dict["cross_validation"]["roc"]
    assert roc["thresholds"][0] is None  # +inf: the point where nobody passes
    assert (roc["fpr"][0], roc["tpr"][0]) == (0.0, 0.0)
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (1.0, 1.0)
    assert len(roc["fpr"]) <= 101
    assert as_dict["threshold"] == 50.0
    assert as_dict["feature_names"] == list(SMALL_SHIFTS)
    assert as_dict["cross_validation"]["auc_ci"]["bootstrap_samples"] == 100
    assert "pipeline" not in as_dict


def test_roc_curve_is_thinned_to_101_points() -> None:
    features, labels = _shifted_sample(
        seed=5, n_baseline=600, n_incumbents=600, shifts={"trait:attention": 0.5}
    )
    model = train_fit_model(features=features, labels=labels, bootstrap_samples=10)
    report = model.cv_report
    assert len(report.roc_fpr) == 101
    assert report.roc_fpr[0] == 0.0
    assert report.roc_tpr[-1] == 1.0
    assert list(report.roc_fpr) == sorted(report.roc_fpr)
    assert math.isinf(report.roc_thresholds[0])


def test_progress_fractions_increase_to_one() -> None:
    features, labels = _shifted_sample(seed=6, n_baseline=60, n_incumbents=30, shifts=SMALL_SHIFTS)
    calls: list[tuple[float, str]] = []

    train_fit_model(
        features=features,
        labels=labels,
        bootstrap_samples=200,
        progress=lambda fraction, message: calls.append((fraction, message)),
    )

    fractions = [fraction for fraction, _ in calls]
    # 5 folds + 10 bootstrap reports + the final fit + done
    assert len(calls) == 17
    assert all(later > earlier for earlier, later in itertools.pairwise(fractions))
    assert fractions[0] == pytest.approx(0.12)
    assert fractions[-1] == 1.0
    assert calls[0][1] == "cross-validation fold 1 of 5"
    assert calls[5][1] == "bootstrap 20 of 200"


@pytest.mark.parametrize("algorithm", ["logistic_regression", "gradient_boosting"])
def test_artefact_round_trip_gives_identical_scores(algorithm: Algorithm) -> None:
    features, _, model = _small_model(algorithm)

    loaded = load_model(dump_model(model))

    assert np.array_equal(loaded.fit_scores(features), model.fit_scores(features))
    assert loaded.to_dict() == model.to_dict()
    assert loaded.cv_report == model.cv_report


def test_artefact_with_weights_round_trips() -> None:
    features, labels = _shifted_sample(seed=7, n_baseline=30, n_incumbents=30, shifts=SMALL_SHIFTS)
    model = train_fit_model(
        features=features,
        labels=labels,
        bootstrap_samples=10,
        feature_weights={"trait:focus": 0.25},
    )
    loaded = load_model(dump_model(model))
    assert np.array_equal(loaded.fit_scores(features), model.fit_scores(features))
    assert loaded.feature_weights == (1.0, 1.0, 0.25)


class _Spy(TransformerMixin, BaseEstimator):
    """A custom class that a tampered artefact might smuggle in."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def _classifier_hiding_a_function() -> list[tuple[str, LogisticRegression]]:
    """An allowed estimator carrying a callable: loading must not resolve it."""
    classifier = LogisticRegression()
    classifier.callback = print
    return [("classifier", classifier)]


@pytest.mark.parametrize(
    ("final_steps", "refused_type"),
    [
        (
            [("classifier", RandomForestClassifier(n_estimators=2, random_state=0))],
            "sklearn.ensemble._forest.RandomForestClassifier",
        ),
        (
            [("spy", _Spy()), ("classifier", LogisticRegression())],
            f"{__name__}._Spy",
        ),
        (_classifier_hiding_a_function(), "builtins.print"),
    ],
    ids=["other-estimator", "custom-class", "hidden-function"],
)
def test_artefact_with_an_untrusted_type_is_refused(final_steps, refused_type) -> None:
    features, labels, model = _small_model("logistic_regression")
    pipeline = Pipeline([("scale", StandardScaler()), *final_steps]).fit(
        features.to_numpy(), labels
    )
    blob = dump_model(dataclasses.replace(model, pipeline=pipeline))

    assert refused_type not in TRUSTED_TYPES
    with pytest.raises(UntrustedArtefactError, match=refused_type.replace(".", r"\.")):
        load_model(blob)


@pytest.mark.parametrize(
    "blob",
    [b"", b"not a model", pickle.dumps({"a": 1})],
    ids=["empty", "text", "pickle"],
)
def test_non_artefact_bytes_are_refused(blob: bytes) -> None:
    with pytest.raises(UntrustedArtefactError, match="not a job-fit model artefact"):
        load_model(blob)


def test_artefact_with_a_bad_pipeline_payload_is_refused() -> None:
    _, _, model = _small_model("logistic_regression")
    blob = dump_model(model)
    truncated = blob[: blob.index(b"PK\x03\x04")] + pickle.dumps(model.pipeline)
    with pytest.raises(UntrustedArtefactError, match="not a skops model artefact"):
        load_model(truncated)


def _frame(**columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame(columns)


@pytest.mark.parametrize(
    ("features", "labels", "options", "message"),
    [
        (_frame(a=[0.0] * 6), [1] * 6, {}, r"one class only \(incumbents \(1\)\)"),
        (_frame(a=[0.0] * 12), [0] * 8 + [1] * 4, {}, "at least 5 people"),
        (_frame(a=[0.0] * 10), [0] * 5 + [2] * 5, {}, "labels must be 0 .* got 2"),
        (_frame(a=[0.0] * 10), ["no"] * 5 + ["yes"] * 5, {}, "labels must be 0"),
        (pd.DataFrame(index=range(10)), [0] * 5 + [1] * 5, {}, "no columns"),
        (
            _frame(a=[0.0] * 10, b=[math.nan] * 10),
            [0] * 5 + [1] * 5,
            {},
            r"all NaN\): 'b'",
        ),
        (_frame(a=[0.0] * 9 + [math.inf]), [0] * 5 + [1] * 5, {}, "'a' has an infinite value"),
        (
            pd.DataFrame({"a": ["x"] * 10}),
            [0] * 5 + [1] * 5,
            {},
            "'a' has a non-numeric value",
        ),
        (_frame(a=[0.0] * 10), [0] * 5 + [1] * 4, {}, r"one value per feature row \(10\)"),
        (_frame(a=[0.0] * 10), [0] * 5 + [1] * 5, {"algorithm": "svm"}, "algorithm must be"),
        (_frame(a=[0.0] * 10), [0] * 5 + [1] * 5, {"threshold": 0.5e3}, r"in \[0, 100\]"),
        (
            _frame(a=[0.0] * 10),
            [0] * 5 + [1] * 5,
            {"feature_weights": {"b": 0.5}},
            "not in features: 'b'",
        ),
        (
            _frame(a=[0.0] * 10),
            [0] * 5 + [1] * 5,
            {"feature_weights": {"a": 0.0}},
            "must be a positive number",
        ),
        (
            _frame(a=[0.0] * 10),
            [0] * 5 + [1] * 5,
            {"algorithm": "gradient_boosting", "folds": 2},
            "at least 3 people of each class in every training fold",
        ),
    ],
    ids=[
        "one-class",
        "fewer-than-folds",
        "label-2",
        "label-text",
        "no-features",
        "all-nan",
        "infinite",
        "non-numeric",
        "length",
        "algorithm",
        "threshold",
        "unknown-weight",
        "zero-weight",
        "gb-too-small",
    ],
)
def test_bad_training_input_is_refused(features, labels, options, message) -> None:
    with pytest.raises(ValueError, match=message):
        train_fit_model(features=features, labels=labels, bootstrap_samples=10, **options)
