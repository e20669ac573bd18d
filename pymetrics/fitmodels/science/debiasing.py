"""The debiasing loop: retrain without the features that carry a group difference.

SCIENCE.md section 4: a model version cannot be activated unless its bias audit passes
the 4/5ths rule for every attribute; when it fails, the trainer removes or down-weights
the features that drive the group difference, retrains and re-audits, keeping the
history. This module runs that loop, one feature at a time, and records every step.

Which feature "carries" the difference between the failing attribute's lowest-passing
group A and highest-passing group B (the audit names them):

- logistic regression: the mean log-odds gap decomposes exactly as
  ``sum_j w_j * (mean_j(A) - mean_j(B))`` with w_j the coefficient per SD and the means
  taken on the model's standardised scale (after imputation). The feature with the
  most negative term ``w_j * delta_j`` lowers group A the most: it goes first.
- gradient boosting has no such decomposition; the contribution is
  ``|Cohen's d_j| * permutation importance_j`` (how far apart the groups are on the
  feature, times how much the model relies on it), and the largest goes first.

``mode="drop"`` removes that feature; ``mode="down_weight"`` multiplies its weight by
``down_weight_factor`` (the :class:`~pymetrics.fitmodels.science.training.FeatureWeights`
step, which makes L2 regularisation shrink its coefficient), and a feature whose weight
is already below ``min_weight`` is removed instead. Trees ignore such scaling, so for
gradient boosting a down-weight would change nothing: the feature is removed, and the
step says so.

The loop stops when the audit passes, when nothing is left to remove (the last
feature, or no feature lowers group A: then it reports that it could not pass), or
after ``max_steps`` changes. Step 0 is the model as trained.

The audit is passed in as a callable ``(scores, threshold) -> report`` so that the
caller decides the debiasing set's attributes, strata and intersections; the report
needs only ``passed``, ``worst_failing_pair()`` and ``to_dict()`` (the DESIGN.md
section 4.2 JSON: ``attributes`` -> attribute -> ``groups`` -> group -> ``impact_ratio``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from pymetrics.fitmodels.science.chance import CHANCE_AUC
from pymetrics.fitmodels.science.training import (
    TrainedFitModel,
    feature_matrix,
    train_fit_model,
)

DebiasingMode = Literal["drop", "down_weight"]
MODES: tuple[str, ...] = ("drop", "down_weight")
#: A feature already weighted below this is removed rather than down-weighted again.
DEFAULT_MIN_WEIGHT: float = 0.1
#: How the audit names an intersection of attributes ("gender x ethnicity").
INTERSECTION_SEPARATOR: str = " x "


class AuditReportLike(Protocol):
    """What the loop needs from a bias audit report."""

    @property
    def passed(self) -> bool: ...

    def worst_failing_pair(self) -> tuple[str, str, str] | None: ...

    def to_dict(self) -> dict[str, Any]: ...


AuditFunction = Callable[[np.ndarray, float], AuditReportLike]
TrainFunction = Callable[..., TrainedFitModel]
ProgressCallback = Callable[[float, str], None]


def _json_number(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class FeatureContribution:
    """How much one feature contributes to the score gap between groups A and B.

    Logistic regression: ``group_difference`` = mean(A) - mean(B) on the standardised
    scale, ``model_weight`` = coefficient per SD, ``contribution`` = their product (in
    log-odds; negative lowers A). Gradient boosting: ``group_difference`` = Cohen's d
    (A - B), ``model_weight`` = permutation importance, ``contribution`` = |d| x
    max(importance, 0) (unsigned).
    """

    feature: str
    group_difference: float
    model_weight: float
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "group_difference": _json_number(self.group_difference),
            "model_weight": _json_number(self.model_weight),
            "contribution": _json_number(self.contribution),
        }


@dataclass(frozen=True)
class DebiasingStep:
    """One model in the loop: what changed to get it, how good it is, how it audits."""

    step: int
    #: "trained" (step 0), "removed" or "down_weighted".
    action: str
    changed_feature: str | None
    reason: str
    features: tuple[str, ...]
    feature_weights: tuple[float, ...]
    auc: float
    auc_ci_low: float
    auc_ci_high: float
    audit_passed: bool
    #: attribute -> group -> impact ratio (None where the audit has none).
    impact_ratios: Mapping[str, Mapping[str, float | None]]
    #: (attribute, lowest-passing group, highest-passing group) when the audit fails.
    failing_pair: tuple[str, str, str] | None
    #: Per-feature contributions to that pair's gap, largest first (empty if passed).
    contributions: tuple[FeatureContribution, ...]
    #: Total log-odds gap mean(A) - mean(B) for logistic regression, else None.
    score_gap: float | None
    audit: Mapping[str, Any] = field(repr=False)
    model: TrainedFitModel = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "action": self.action,
            "changed_feature": self.changed_feature,
            "reason": self.reason,
            "features": list(self.features),
            "feature_weights": {
                name: _json_number(weight)
                for name, weight in zip(self.features, self.feature_weights, strict=True)
            },
            "algorithm": self.model.algorithm,
            "training_fingerprint": self.model.training_fingerprint,
            "auc": _json_number(self.auc),
            "auc_ci": {
                "low": _json_number(self.auc_ci_low),
                "high": _json_number(self.auc_ci_high),
            },
            "audit_passed": self.audit_passed,
            "impact_ratios": {
                attribute: {group: _json_number(ratio) for group, ratio in ratios.items()}
                for attribute, ratios in self.impact_ratios.items()
            },
            "failing_pair": None if self.failing_pair is None else list(self.failing_pair),
            "score_gap": _json_number(self.score_gap),
            "contributions": [contribution.to_dict() for contribution in self.contributions],
            "audit": dict(self.audit),
        }


@dataclass(frozen=True)
class DebiasingHistory:
    """Every step of the loop, and whether the last model passes its audit."""

    steps: tuple[DebiasingStep, ...]
    passed: bool
    stop_reason: str
    mode: str
    down_weight_factor: float
    min_weight: float

    @property
    def final_model(self) -> TrainedFitModel:
        return self.steps[-1].model

    @property
    def removed_features(self) -> tuple[str, ...]:
        """Features removed, in the order they were removed."""
        return tuple(
            step.changed_feature
            for step in self.steps
            if step.action == "removed" and step.changed_feature is not None
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "stop_reason": self.stop_reason,
            "mode": self.mode,
            "down_weight_factor": _json_number(self.down_weight_factor),
            "min_weight": _json_number(self.min_weight),
            "removed_features": list(self.removed_features),
            "steps": [step.to_dict() for step in self.steps],
        }


# ---------------------------------------------------------------------------------------
# Contributions


def _group_labels(groups: Mapping[str, Sequence[str | None]], attribute: str) -> list[str | None]:
    """The labels of an attribute, or of an intersection named "a x b" (None if any part is)."""
    if attribute in groups:
        return list(groups[attribute])
    parts = attribute.split(INTERSECTION_SEPARATOR)
    missing = [part for part in parts if part not in groups]
    if len(parts) < 2 or missing:
        raise ValueError(f"the audit failed on attribute {attribute!r}, which groups does not hold")
    return [
        None
        if any(label is None for label in labels)
        else INTERSECTION_SEPARATOR.join(str(label) for label in labels)
        for labels in zip(*(groups[part] for part in parts), strict=True)
    ]


def _imputed_standardised(model: TrainedFitModel, audit_features: pd.DataFrame) -> np.ndarray:
    """The audit rows on the model's scale: imputed with the training medians, scaled."""
    values = feature_matrix(features=audit_features, names=model.feature_names)
    steps = model.pipeline.named_steps
    return np.asarray(steps["scale"].transform(steps["impute"].transform(values)), dtype="float64")


def _cohens_d(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Cohen's d (low - high) per column, pooled SD (ddof=1); 0 where the SD is 0."""
    n_low, n_high = len(low), len(high)
    pooled_variance = (
        (n_low - 1) * low.var(axis=0, ddof=1) + (n_high - 1) * high.var(axis=0, ddof=1)
    ) / (n_low + n_high - 2)
    pooled_sd = np.sqrt(pooled_variance)
    difference = low.mean(axis=0) - high.mean(axis=0)
    return np.divide(difference, pooled_sd, out=np.zeros_like(difference), where=pooled_sd > 0)


def feature_contributions(
    *,
    model: TrainedFitModel,
    audit_features: pd.DataFrame,
    group_labels: Sequence[str | None],
    low_group: str,
    high_group: str,
) -> tuple[tuple[FeatureContribution, ...], float | None]:
    """Each feature's part in the score gap between two groups, largest first.

    Returns the contributions sorted so that the first one lowers ``low_group`` the
    most (most negative for logistic regression, largest for gradient boosting), and
    for logistic regression the total log-odds gap mean(low) - mean(high) (None for
    gradient boosting).
    """
    if len(group_labels) != len(audit_features):
        raise ValueError(
            f"group labels ({len(group_labels)}) and audit features ({len(audit_features)}) "
            "must have one row per person"
        )
    in_low = np.asarray([label == low_group for label in group_labels], dtype=bool)
    in_high = np.asarray([label == high_group for label in group_labels], dtype=bool)
    if in_low.sum() < 2 or in_high.sum() < 2:
        raise ValueError(
            f"groups {low_group!r} and {high_group!r} need at least 2 people each in the "
            "audit features"
        )
    standardised = _imputed_standardised(model, audit_features)
    effects = {effect.feature: effect for effect in model.feature_effects}
    contributions = []
    if model.algorithm == "logistic_regression":
        difference = standardised[in_low].mean(axis=0) - standardised[in_high].mean(axis=0)
        for index, name in enumerate(model.feature_names):
            coefficient = effects[name].coefficient
            assert coefficient is not None
            contributions.append(
                FeatureContribution(
                    feature=name,
                    group_difference=float(difference[index]),
                    model_weight=coefficient,
                    contribution=float(coefficient * difference[index]),
                )
            )
        ordered = sorted(contributions, key=lambda item: item.contribution)
        return tuple(ordered), float(sum(item.contribution for item in contributions))
    d = _cohens_d(standardised[in_low], standardised[in_high])
    for index, name in enumerate(model.feature_names):
        importance = effects[name].importance_mean
        assert importance is not None
        contributions.append(
            FeatureContribution(
                feature=name,
                group_difference=float(d[index]),
                model_weight=importance,
                contribution=float(abs(d[index]) * max(importance, 0.0)),
            )
        )
    return tuple(sorted(contributions, key=lambda item: -item.contribution)), None


def _culprit(model: TrainedFitModel, contributions: Sequence[FeatureContribution]) -> str | None:
    """The feature to act on, or None when no feature lowers the low group."""
    if not contributions:
        return None
    first = contributions[0]
    if model.algorithm == "logistic_regression":
        return first.feature if first.contribution < 0 else None
    return first.feature if first.contribution > 0 else None


def impact_ratios_of(audit: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """attribute -> group -> impact ratio, from an audit report's JSON (DESIGN.md 4.2)."""
    attributes = audit.get("attributes", {})
    return {
        str(attribute): {
            str(group): _json_number(outcome.get("impact_ratio"))
            for group, outcome in figures.get("groups", {}).items()
        }
        for attribute, figures in attributes.items()
    }


# ---------------------------------------------------------------------------------------
# The loop


def _no_progress(fraction: float, message: str) -> None:
    """Default progress sink."""


def _most_changes(*, n_features: int, mode: str, factor: float, min_weight: float) -> int:
    """How many changes the loop can make at most before it runs out of features."""
    if mode == "drop":
        return max(n_features - 1, 0)
    # Down-weights until the weight is below min_weight, then one removal.
    down_weights = math.floor(math.log(min_weight) / math.log(factor)) + 1
    return n_features * (down_weights + 1)


def has_validity(model: TrainedFitModel) -> bool:
    """Whether cross-validation shows the model tells incumbents from the baseline:
    the lower end of its AUC's 95% interval is above chance."""
    low = model.cv_report.auc_ci_low
    return bool(np.isfinite(low) and low > CHANCE_AUC)


def debias(
    *,
    features: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    groups: Mapping[str, Sequence[str | None]],
    audit: AuditFunction,
    audit_features: pd.DataFrame | None = None,
    train: TrainFunction = train_fit_model,
    mode: DebiasingMode = "drop",
    down_weight_factor: float = 0.5,
    min_weight: float = DEFAULT_MIN_WEIGHT,
    max_steps: int | None = None,
    progress: ProgressCallback | None = None,
) -> DebiasingHistory:
    """Train, audit, and while the audit fails remove or down-weight one feature at a time.

    ``features`` / ``labels`` are the training data; ``audit_features`` the debiasing
    set (default: the training features), whose rows ``groups`` labels per attribute
    and whose fit scores ``audit(scores, threshold)`` audits. ``train`` is called with
    ``features``, ``labels`` and ``feature_weights`` (use functools.partial to fix the
    algorithm, seed or bootstrap count). ``max_steps`` caps the number of changes
    (None: until passed or nothing is left).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not 0.0 < down_weight_factor < 1.0:
        raise ValueError(f"down_weight_factor must be in (0, 1), got {down_weight_factor!r}")
    if not 0.0 < min_weight < 1.0:
        raise ValueError(f"min_weight must be in (0, 1), got {min_weight!r}")
    if max_steps is not None and max_steps < 0:
        raise ValueError(f"max_steps must be 0 or more, got {max_steps}")
    audit_set = features if audit_features is None else audit_features
    for attribute, group_labels in groups.items():
        if len(group_labels) != len(audit_set):
            raise ValueError(
                f"groups[{attribute!r}] has {len(group_labels)} labels for "
                f"{len(audit_set)} people in the audit features"
            )
    report_progress = progress or _no_progress

    weights = {str(name): 1.0 for name in features.columns}
    most = _most_changes(
        n_features=len(weights), mode=mode, factor=down_weight_factor, min_weight=min_weight
    )
    budget = most if max_steps is None else min(most, max_steps)
    steps: list[DebiasingStep] = []
    action, changed, reason = "trained", None, "the model as trained, with every feature"

    while True:
        names = list(weights)
        down_weights = {name: weight for name, weight in weights.items() if weight != 1.0}
        model = train(features=features[names], labels=labels, feature_weights=down_weights or None)
        scores = model.fit_scores(audit_set)
        report = audit(scores, model.threshold)
        audit_dict = report.to_dict()
        pair = None if report.passed else report.worst_failing_pair()
        contributions: tuple[FeatureContribution, ...] = ()
        score_gap: float | None = None
        if pair is not None:
            attribute, low_group, high_group = pair
            contributions, score_gap = feature_contributions(
                model=model,
                audit_features=audit_set,
                group_labels=_group_labels(groups, attribute),
                low_group=low_group,
                high_group=high_group,
            )
        steps.append(
            DebiasingStep(
                step=len(steps),
                action=action,
                changed_feature=changed,
                reason=reason,
                features=tuple(names),
                feature_weights=tuple(weights[name] for name in names),
                auc=model.cv_report.auc,
                auc_ci_low=model.cv_report.auc_ci_low,
                auc_ci_high=model.cv_report.auc_ci_high,
                audit_passed=report.passed,
                impact_ratios=impact_ratios_of(audit_dict),
                failing_pair=pair,
                contributions=contributions,
                score_gap=score_gap,
                audit=audit_dict,
                model=model,
            )
        )
        changes_made = len(steps) - 1
        report_progress(
            min(1.0, (changes_made + 1) / (budget + 1)),
            f"step {changes_made}: audit {'passed' if report.passed else 'failed'}",
        )

        stop_reason: str | None = None
        culprit = None if pair is None else _culprit(model, contributions)
        valid = has_validity(model)
        if changes_made > 0 and not valid:
            # removing what carried the group difference took the signal with it: a
            # model that tells no one apart passes any audit, and is no use to anyone
            cv = model.cv_report
            stop_reason = (
                f"could not pass without losing validity: with {changed!r} "
                f"{action.replace('_', '-')}, the cross-validated AUC is {cv.auc:.3f} "
                f"(95% CI {cv.auc_ci_low:.3f}-{cv.auc_ci_high:.3f}), no better than chance"
            )
        elif report.passed:
            stop_reason = "the audit passes"
        elif pair is None:
            stop_reason = "could not pass: the audit fails but names no failing pair of groups"
        elif culprit is None:
            stop_reason = (
                f"could not pass: no remaining feature lowers group {pair[1]!r} "
                f"against {pair[2]!r} on {pair[0]!r}"
            )
        elif max_steps is not None and changes_made >= max_steps:
            stop_reason = f"could not pass within max_steps={max_steps} changes"
        if stop_reason is None:
            assert culprit is not None
            remove = (
                mode == "drop"
                or model.algorithm != "logistic_regression"
                or weights[culprit] < min_weight
            )
            if remove and len(weights) == 1:
                stop_reason = f"could not pass: no feature left to remove ({culprit!r} is the last)"
        if stop_reason is not None:
            report_progress(1.0, stop_reason)
            return DebiasingHistory(
                steps=tuple(steps),
                passed=report.passed and (valid or changes_made == 0),
                stop_reason=stop_reason,
                mode=mode,
                down_weight_factor=down_weight_factor,
                min_weight=min_weight,
            )

        assert pair is not None
        assert culprit is not None
        attribute, low_group, high_group = pair
        share = next(item for item in contributions if item.feature == culprit).contribution
        why = (
            f"{culprit!r} contributes most to the score gap between {low_group!r} (lowest "
            f"pass rate) and {high_group!r} on {attribute!r}: {share:+.3f}"
            + (f" of {score_gap:+.3f} log-odds" if score_gap is not None else " (|d| x importance)")
        )
        if remove:
            if mode == "down_weight" and model.algorithm != "logistic_regression":
                why += "; removed rather than down-weighted: trees ignore feature scaling"
            elif mode == "down_weight":
                why += f"; its weight {weights[culprit]:g} is already below {min_weight:g}"
            del weights[culprit]
            action, changed, reason = "removed", culprit, f"removed: {why}"
        else:
            weights[culprit] *= down_weight_factor
            action, changed = "down_weighted", culprit
            reason = f"down-weighted to {weights[culprit]:g}: {why}"
