"""Split-half reliability checked against correlations worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.psychometrics.norms import Distribution, NormTableData
from pymetrics.psychometrics.reliability import (
    reliabilities_with_defaults,
    spearman_brown,
    split_half_reliability,
    split_trials_odd_even,
)
from pymetrics.psychometrics.trait_map import load_trait_map

NAN = math.nan
TRAIT_MAP = load_trait_map(1)
# Forward span normed at mean 0, SD 1, so a person's attention raw score (span alone is
# 1 of 2 metrics: exactly half, scored) is the span itself while |span| <= 4.
NORMS = NormTableData(
    metrics={"digits.forward_span": Distribution(n=10, mean=0.0, sd=1.0, percentiles=(0.0,) * 99)},
    traits={},
    trait_raw_scores={},
)
OTHER_TRAITS = [trait.name for trait in TRAIT_MAP.traits if trait.name != "attention"]


def _spans(values: list[float], prefix: str = "p") -> pd.DataFrame:
    index = [f"{prefix}{i}" for i in range(len(values))]
    return pd.DataFrame({"digits.forward_span": values}, index=index)


def test_spearman_brown() -> None:
    # 2 x 0.6 / 1.6 = 0.75; 2 x 0.5 / 1.5 = 2/3; fixed points 0 and 1
    assert spearman_brown(0.6) == pytest.approx(0.75)
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert (spearman_brown(0.0), spearman_brown(1.0)) == (0.0, 1.0)
    assert spearman_brown(-0.5) == pytest.approx(-2.0)
    for bad in (-1.0, 1.5, math.nan):
        with pytest.raises(ValueError, match="split-half correlation"):
            spearman_brown(bad)


def test_split_trials_odd_even_by_position_not_number() -> None:
    # Session "a": trials 2, 5, 9 are positions 1, 2, 3; trial 2 has two rows (taps)
    # and trial 9 three, which stay together. Session "b": trials 1..4.
    trials = pd.DataFrame(
        {
            "session": ["a", "b", "a", "a", "b", "a", "b", "a", "b", "a"],
            "trial": [9, 1, 2, 5, 2, 9, 3, 2, 4, 9],
            "t_ms": [900, 10, 200, 500, 20, 910, 30, 210, 40, 920],
        }
    )
    odd, even = split_trials_odd_even(trials)
    # Original order, index and columns kept.
    assert list(odd.columns) == ["session", "trial", "t_ms"]
    assert odd.index.tolist() == [0, 1, 2, 5, 6, 7, 9]
    assert list(zip(odd["session"], odd["trial"], strict=True)) == [
        ("a", 9),
        ("b", 1),
        ("a", 2),
        ("a", 9),
        ("b", 3),
        ("a", 2),
        ("a", 9),
    ]
    assert list(zip(even["session"], even["trial"], strict=True)) == [
        ("a", 5),
        ("b", 2),
        ("b", 4),
    ]
    odd_empty, even_empty = split_trials_odd_even(trials.iloc[:0])
    assert odd_empty.empty
    assert even_empty.empty


def test_perfectly_correlated_halves_clip_at_0_99() -> None:
    # 30 persons; even span = 2 x odd span + 0.5 (all within +/-4, so no clipping):
    # Pearson r = 1 -> Spearman-Brown 1 -> clipped to 0.99.
    odd_spans = [i / 10 - 1.5 for i in range(30)]
    odd = _spans(odd_spans)
    even = _spans([2 * x + 0.5 for x in odd_spans])
    estimates = split_half_reliability(odd, even, NORMS, TRAIT_MAP)
    assert estimates["attention"] == (0.99, 30)
    assert list(estimates) == [trait.name for trait in TRAIT_MAP.traits]
    assert all(estimates[name] == (None, 0) for name in OTHER_TRAITS)


def test_fewer_than_min_n_persons_gives_none() -> None:
    odd_spans = [i / 10 - 1.5 for i in range(29)]
    estimates = split_half_reliability(_spans(odd_spans), _spans(odd_spans), NORMS, TRAIT_MAP)
    assert estimates["attention"] == (None, 29)


def test_moderate_correlation_by_hand() -> None:
    # Odd 1, 2, 3, 4 against even 1, 3, 2, 4: means 2.5; deviations
    # (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0.5, -0.5, 1.5): cross products
    # 2.25 - 0.25 - 0.25 + 2.25 = 4, sums of squares 5 and 5 -> r = 4 / 5 = 0.8;
    # Spearman-Brown 1.6 / 1.8 = 8/9.
    # p4 is scorable in the odd half only, p5 is only in the odd frame: both left out.
    odd = _spans([1, 2, 3, 4, 2, 3])
    even = _spans([1, 3, 2, 4, NAN])
    estimate, n = split_half_reliability(odd, even, NORMS, TRAIT_MAP, min_n=3)["attention"]
    assert n == 4
    assert estimate == pytest.approx(8 / 9)


def test_undefined_or_negative_correlations() -> None:
    constant = split_half_reliability(
        _spans([1, 2, 3]), _spans([2, 2, 2]), NORMS, TRAIT_MAP, min_n=3
    )
    assert constant["attention"] == (None, 3)
    # 1, 2, 3 against 3, 2, 1: r = -1 -> no reliability, 0.
    negative = split_half_reliability(
        _spans([1, 2, 3]), _spans([3, 2, 1]), NORMS, TRAIT_MAP, min_n=3
    )
    assert negative["attention"] == (0.0, 3)
    with pytest.raises(ValueError, match="min_n"):
        split_half_reliability(_spans([1, 2]), _spans([1, 2]), NORMS, TRAIT_MAP, min_n=2)


def test_reliabilities_with_defaults() -> None:
    estimates = {"attention": (0.8, 40), "effort": (None, 12), "unknown": (0.5, 99)}
    result = reliabilities_with_defaults(estimates, TRAIT_MAP)
    assert list(result) == [trait.name for trait in TRAIT_MAP.traits]
    assert result["attention"] == 0.8
    assert result["effort"] == 0.7
    assert all(result[name] == 0.7 for name in OTHER_TRAITS)


def test_estimates_feed_infer_traits_shape() -> None:
    # The estimates are plain floats in [0, 0.99]: what infer_traits accepts.
    odd_spans = list(np.linspace(-2, 2, 30))
    estimates = split_half_reliability(_spans(odd_spans), _spans(odd_spans), NORMS, TRAIT_MAP)
    reliabilities = reliabilities_with_defaults(estimates, TRAIT_MAP)
    assert reliabilities["attention"] == 0.99
    assert isinstance(reliabilities["attention"], float)
