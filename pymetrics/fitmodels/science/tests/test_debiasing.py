"""The debiasing loop on simulated data with a planted biased feature, audited for real."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest

from pymetrics.fitmodels.science.audit import audit_outcomes, passes_at
from pymetrics.fitmodels.science.debiasing import (
    DebiasingStep,
    _group_labels,
    debias,
    feature_contributions,
    impact_ratios_of,
)
from pymetrics.fitmodels.science.training import train_fit_model

TRAITS = (
    "attention",
    "decision_making",
    "effort",
    "emotion",
    "fairness",
    "focus",
    "generosity",
    "learning",
    "risk_tolerance",
)
# Legitimate job signal (Cohen's d between incumbents and baseline), independent of group.
LEGITIMATE_SHIFTS = {"attention": 0.8, "focus": 0.6, "learning": 0.5}


def _planted_sample(
    *, seed: int, n_baseline: int = 600, n_incumbents: int = 300, traits=TRAITS
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Nine standard-normal traits; group (A/B, half each) independent of the label.

    Planted: fairness is 1.5 SD higher in group A than in group B AND 1 SD higher in the
    incumbents, so a model leans on it and group B passes far less often.
    """
    rng = np.random.default_rng(seed)
    labels = np.r_[np.zeros(n_baseline, dtype=int), np.ones(n_incumbents, dtype=int)]
    group = np.where(rng.uniform(size=len(labels)) < 0.5, "A", "B")
    values = rng.normal(size=(len(labels), len(traits)))
    for trait, shift in LEGITIMATE_SHIFTS.items():
        if trait in traits:
            values[labels == 1, traits.index(trait)] += shift
    fairness = traits.index("fairness")
    values[labels == 1, fairness] += 1.0
    values[:, fairness] += np.where(group == "A", 0.75, -0.75)
    features = pd.DataFrame(values, columns=[f"trait:{trait}" for trait in traits])
    return features, labels, group.tolist()


def _audit_for(groups: dict[str, list[str]]):
    def audit(scores: np.ndarray, threshold: float):
        return audit_outcomes(
            passed=passes_at(scores=scores, threshold=threshold), groups=groups, threshold=threshold
        )

    return audit


def _impact_ratio(scores: np.ndarray, group: list[str], low: str, high: str) -> float:
    """Pass rate of ``low`` / pass rate of ``high``, counted directly."""
    passed = scores >= 50.0
    labels = np.asarray(group)
    return float(passed[labels == low].mean() / passed[labels == high].mean())


def _ratios(step: DebiasingStep) -> dict[str, float]:
    """The step's impact ratios on "group" (all defined here: every group passes someone)."""
    ratios = step.impact_ratios["group"]
    assert None not in ratios.values()
    return {group: float(ratio or 0.0) for group, ratio in ratios.items()}


FAST_TRAIN = functools.partial(train_fit_model, bootstrap_samples=200)


def test_planted_bias_is_found_removed_and_the_model_still_works() -> None:
    # given
    features, labels, group = _planted_sample(seed=0)
    groups = {"group": group}

    # when
    history = debias(
        features=features, labels=labels, groups=groups, audit=_audit_for(groups), train=FAST_TRAIN
    )

    # then: two steps, the planted feature removed first and only
    assert len(history.steps) == 2
    assert history.passed is True
    assert history.stop_reason == "the audit passes"
    assert history.removed_features == ("trait:fairness",)
    first, last = history.steps

    # step 0: the model as trained fails the 4/5ths rule against group B
    assert first.step == 0
    assert first.action == "trained"
    assert first.changed_feature is None
    assert first.features == tuple(f"trait:{trait}" for trait in TRAITS)
    assert first.audit_passed is False
    assert first.failing_pair == ("group", "B", "A")
    first_scores = first.model.fit_scores(features)
    assert _ratios(first)["B"] == pytest.approx(_impact_ratio(first_scores, group, "B", "A"))
    assert _ratios(first)["B"] < 0.6
    assert _ratios(first)["A"] == 1.0
    assert first.contributions[0].feature == "trait:fairness"
    # fairness carries (almost) the whole log-odds gap, and the gap is what the scores say
    logits = np.log(first_scores / (100.0 - first_scores))
    is_b = np.asarray(group) == "B"
    assert first.score_gap is not None
    assert first.score_gap == pytest.approx(logits[is_b].mean() - logits[~is_b].mean())
    assert first.contributions[0].contribution < 0.9 * first.score_gap < 0
    assert first.contributions[0].group_difference < -1.0
    assert first.auc > 0.8

    # step 1: fairness removed, the audit passes, the legitimate traits still predict
    assert last.step == 1
    assert last.action == "removed"
    assert last.changed_feature == "trait:fairness"
    assert last.reason.startswith("removed: 'trait:fairness' contributes most")
    assert last.features == tuple(f"trait:{trait}" for trait in TRAITS if trait != "fairness")
    assert last.feature_weights == (1.0,) * 8
    assert last.audit_passed is True
    assert last.failing_pair is None
    assert last.contributions == ()
    last_scores = last.model.fit_scores(features)
    assert min(_ratios(last).values()) == pytest.approx(
        min(
            _impact_ratio(last_scores, group, "B", "A"),
            _impact_ratio(last_scores, group, "A", "B"),
        )
    )
    assert min(_ratios(last).values()) >= 0.8
    assert last.auc > 0.7
    assert last.auc_ci_low > 0.7
    assert history.final_model is last.model

    as_dict = history.to_dict()
    assert json.loads(json.dumps(as_dict, allow_nan=False)) == as_dict
    assert [step["changed_feature"] for step in as_dict["steps"]] == [None, "trait:fairness"]
    assert as_dict["steps"][0]["audit"]["passed"] is False


def test_down_weighting_halves_the_weight_until_it_is_small_then_removes() -> None:
    # given
    features, labels, group = _planted_sample(seed=0)
    groups = {"group": group}

    # when
    history = debias(
        features=features,
        labels=labels,
        groups=groups,
        audit=_audit_for(groups),
        train=FAST_TRAIN,
        mode="down_weight",
    )

    # then: 1 -> 0.5 -> 0.25 -> 0.125 -> 0.0625 (below 0.1) -> removed
    assert [step.action for step in history.steps] == [
        "trained",
        "down_weighted",
        "down_weighted",
        "down_weighted",
        "down_weighted",
        "removed",
    ]
    assert {step.changed_feature for step in history.steps[1:]} == {"trait:fairness"}
    fairness_weights = [step.model.weight_of("trait:fairness") for step in history.steps[:-1]]
    assert fairness_weights == [1.0, 0.5, 0.25, 0.125, 0.0625]
    assert history.steps[-1].reason.endswith("its weight 0.0625 is already below 0.1")
    assert history.passed is True
    # each down-weight shrinks fairness's coefficient and raises B's impact ratio
    coefficients = [
        next(
            e.coefficient or 0.0
            for e in step.model.feature_effects
            if e.feature == "trait:fairness"
        )
        for step in history.steps[:-1]
    ]
    assert coefficients == sorted(coefficients, reverse=True)
    ratios = [_ratios(step)["B"] for step in history.steps[:-1]]
    assert ratios == sorted(ratios)
    assert [step.audit_passed for step in history.steps] == [False] * 5 + [True]


def test_stops_when_no_feature_is_left_to_remove() -> None:
    # given: fairness alone carries the bias and is the only feature
    features, labels, group = _planted_sample(seed=1, traits=("fairness",))
    groups = {"group": group}

    history = debias(
        features=features, labels=labels, groups=groups, audit=_audit_for(groups), train=FAST_TRAIN
    )

    assert len(history.steps) == 1
    assert history.passed is False
    assert history.stop_reason == (
        "could not pass: no feature left to remove ('trait:fairness' is the last)"
    )
    assert _ratios(history.steps[0])["B"] < 0.8


def test_max_steps_caps_the_changes() -> None:
    features, labels, group = _planted_sample(seed=0)
    groups = {"group": group}
    calls: list[tuple[float, str]] = []

    history = debias(
        features=features,
        labels=labels,
        groups=groups,
        audit=_audit_for(groups),
        train=FAST_TRAIN,
        max_steps=0,
        progress=lambda fraction, message: calls.append((fraction, message)),
    )

    assert len(history.steps) == 1
    assert history.passed is False
    assert history.stop_reason == "could not pass within max_steps=0 changes"
    assert calls[-1] == (1.0, "could not pass within max_steps=0 changes")


def test_audit_on_a_separate_debiasing_set_with_gradient_boosting() -> None:
    # given: a gradient-boosting model, and a separate debiasing set with its own groups
    features, labels, _ = _planted_sample(
        seed=2, n_baseline=150, n_incumbents=75, traits=("attention", "effort", "fairness")
    )
    audit_features, _, audit_group = _planted_sample(
        seed=3, n_baseline=150, n_incumbents=150, traits=("attention", "effort", "fairness")
    )
    groups = {"group": audit_group}
    train = functools.partial(
        train_fit_model, algorithm="gradient_boosting", folds=3, bootstrap_samples=20
    )

    # when: down-weighting is asked for, but trees ignore scaling
    history = debias(
        features=features,
        labels=labels,
        groups=groups,
        audit_features=audit_features,
        audit=_audit_for(groups),
        train=train,
        mode="down_weight",
    )

    # then
    assert [step.action for step in history.steps] == ["trained", "removed"]
    assert history.removed_features == ("trait:fairness",)
    assert history.steps[1].reason.endswith(
        "removed rather than down-weighted: trees ignore feature scaling"
    )
    assert history.passed is True
    first = history.steps[0]
    assert first.failing_pair == ("group", "B", "A")
    assert first.score_gap is None
    # contribution = |Cohen's d (B - A)| x permutation importance, computed here by hand
    is_b = np.asarray(audit_group) == "B"
    importances = {e.feature: e.importance_mean or 0.0 for e in first.model.feature_effects}
    for contribution in first.contributions:
        column = audit_features[contribution.feature].to_numpy()
        low, high = column[is_b], column[~is_b]
        pooled_sd = np.sqrt(
            ((len(low) - 1) * low.var(ddof=1) + (len(high) - 1) * high.var(ddof=1))
            / (len(low) + len(high) - 2)
        )
        d = (low.mean() - high.mean()) / pooled_sd
        assert contribution.group_difference == pytest.approx(d)
        assert contribution.model_weight == importances[contribution.feature]
        assert contribution.contribution == pytest.approx(
            abs(d) * max(importances[contribution.feature], 0.0)
        )
    assert first.contributions[0].feature == "trait:fairness"
    assert first.contributions[0].group_difference < -1.0


def test_feature_contributions_decompose_the_log_odds_gap_exactly() -> None:
    # given: a logistic model, and two groups of the training people
    features, labels, group = _planted_sample(seed=4, n_baseline=120, n_incumbents=60)
    features.iloc[::7, 2] = np.nan  # imputed cells count at the training median
    model = FAST_TRAIN(features=features, labels=labels)

    contributions, gap = feature_contributions(
        model=model, audit_features=features, group_labels=group, low_group="B", high_group="A"
    )

    scores = model.fit_scores(features)
    logits = np.log(scores / (100.0 - scores))
    is_b = np.asarray(group) == "B"
    assert gap == pytest.approx(logits[is_b].mean() - logits[~is_b].mean())
    assert sum(item.contribution for item in contributions) == pytest.approx(gap)
    assert [item.contribution for item in contributions] == sorted(
        item.contribution for item in contributions
    )
    assert contributions[0].feature == "trait:fairness"


def test_impact_ratios_are_read_from_the_audit_json() -> None:
    report = audit_outcomes(
        passed=np.array([True] * 30 + [False] * 10 + [True] * 15 + [False] * 25),
        groups={"group": ["A"] * 40 + ["B"] * 40},
    )
    # A passes 30/40 = 0.75, B 15/40 = 0.375: impact ratio 0.5
    assert impact_ratios_of(report.to_dict()) == {"group": {"A": 1.0, "B": 0.5}}
    assert report.worst_failing_pair() == ("group", "B", "A")


def test_intersection_labels_are_rebuilt_from_their_parts() -> None:
    groups: dict[str, list[str | None]] = {
        "gender": ["f", "m", None],
        "age_40_plus": ["yes", "no", "no"],
    }
    assert _group_labels(groups, "gender x age_40_plus") == ["f x yes", "m x no", None]
    assert _group_labels(groups, "gender") == ["f", "m", None]
    with pytest.raises(ValueError, match="'region'"):
        _group_labels(groups, "region")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "reweigh"}, "mode must be one of"),
        ({"down_weight_factor": 1.0}, r"down_weight_factor must be in \(0, 1\)"),
        ({"min_weight": 0.0}, r"min_weight must be in \(0, 1\)"),
        ({"max_steps": -1}, "max_steps must be 0 or more"),
        ({"groups": {"group": ["A"] * 3}}, r"groups\['group'\] has 3 labels for 90 people"),
    ],
    ids=["mode", "factor", "min-weight", "max-steps", "group-length"],
)
def test_bad_debiasing_input_is_refused(options, message) -> None:
    features, labels, group = _planted_sample(seed=0, n_baseline=60, n_incumbents=30)
    arguments = {
        "features": features,
        "labels": labels,
        "groups": {"group": group},
        "audit": _audit_for({"group": group}),
        **options,
    }
    with pytest.raises(ValueError, match=message):
        debias(**arguments)
