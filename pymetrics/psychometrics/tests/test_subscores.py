"""Augmented subscores against hand-computed values, and on simulated people."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from pymetrics.psychometrics.subscores import augmented_subscores

# Six people, 4 items in the subscale, 12 in the whole test (the 4 among them).
SUB_CORRECT = [1, 1, 3, 4, 4, 3]
TOTAL_CORRECT = [7, 3, 6, 6, 12, 9]


def test_weights_and_prmse_match_the_hand_computation() -> None:
    """By hand, with fractions:

    subscore mean 2/3, variance 7/60; total mean 43/72, variance 281/4320, covariance
    37/720. Error variances p(1-p)/(n-1) averaged: subscore 1/24, total 161/9504;
    the errors' covariance is 1/24 x 4/12 = 1/72. True variance of the subscore
    7/60 - 1/24 = 3/40; true covariance 37/720 - 1/72 = 3/80. Solving
    [[7/60, 37/720], [37/720, 281/4320]] w = [3/40, 3/80] gives w = (34/57, 2/19).
    PRMSE: subscore (3/40)/(7/60) = 9/14; total (3/80)^2 / (3/40 x 281/4320) =
    81/281; augmented (3/40 x 34/57 + 3/80 x 2/19) / (3/40) = 37/57.
    """
    result = augmented_subscores(
        np.array(SUB_CORRECT) / 4, np.array(TOTAL_CORRECT) / 12, subscore_items=4, total_items=12
    )

    assert result.weight_subscore == pytest.approx(34 / 57)
    assert result.weight_total == pytest.approx(2 / 19)
    assert result.prmse_subscore == pytest.approx(9 / 14)
    assert result.prmse_total == pytest.approx(81 / 281)
    assert result.prmse_augmented == pytest.approx(37 / 57)
    # the first person: 2/3 + 34/57 (1/4 - 2/3) + 2/19 (7/12 - 43/72)
    first = (
        Fraction(2, 3)
        + Fraction(34, 57) * (Fraction(1, 4) - Fraction(2, 3))
        + Fraction(2, 19) * (Fraction(7, 12) - Fraction(43, 72))
    )
    assert result.values[0] == pytest.approx(float(first))
    # a subscore with value of its own here: 9/14 > 81/281 (Haberman's criterion)
    assert result.prmse_subscore > result.prmse_total


def test_a_missing_score_gets_no_estimate_and_does_not_move_the_others() -> None:
    sub = [*(np.array(SUB_CORRECT) / 4), np.nan]
    total = [*(np.array(TOTAL_CORRECT) / 12), 0.5]

    result = augmented_subscores(sub, total, subscore_items=4, total_items=12)

    assert np.isnan(result.values[-1])
    assert result.weight_subscore == pytest.approx(34 / 57)


def test_a_true_correlation_above_one_is_capped() -> None:
    """Five people, 4 of 8 items: the raw true covariance 67/1920 exceeds
    sqrt(11/480 x 69/2240); capped, the total predicts the true subscore with the
    total's own reliability, (69/2240) / (19/320) = 69/133."""
    sub = [0.25, 0.5, 0.75, 1.0, 0.5]
    total = [0.25, 0.625, 0.625, 0.875, 0.375]

    result = augmented_subscores(sub, total, subscore_items=4, total_items=8)

    assert result.prmse_total == pytest.approx(69 / 133)
    assert result.prmse_augmented <= 1.0


@pytest.mark.parametrize(
    ("sub", "total", "sub_items", "total_items", "message"),
    [
        ([0.5, 0.5], [0.5, 0.5], 4, 12, "at least three people"),
        ([0.5, 0.5, 0.5], [0.4, 0.5, 0.6], 1, 12, "at least 2 subscore items"),
        ([0.5, 0.5, 0.5], [0.4, 0.5, 0.6], 6, 4, "no more than total"),
        ([0.5, 0.5, 0.5], [0.4, 0.5, 0.6], 4, 12, "no more than their error"),
    ],
)
def test_unusable_input_is_refused_with_a_reason(sub, total, sub_items, total_items, message):
    with pytest.raises(ValueError, match=message):
        augmented_subscores(sub, total, sub_items, total_items)


def test_on_simulated_people_the_augmented_estimate_beats_the_subscore_as_predicted() -> None:
    """5,000 people, 6 of 42 items in the subscale; the subscale's ability is mostly
    the general one. The estimated PRMSEs match those measured against the true
    scores, and the augmented estimate has the smallest error."""
    rng = np.random.default_rng(11)
    general = rng.normal(0.0, 1.0, 5000)
    own = general + rng.normal(0.0, 0.5, 5000)
    p_sub = 1 / (1 + np.exp(-own))
    p_rest = 1 / (1 + np.exp(-general))
    sub_correct = rng.binomial(6, p_sub)
    total = (sub_correct + rng.binomial(36, p_rest)) / 42

    result = augmented_subscores(sub_correct / 6, total, subscore_items=6, total_items=42)

    def prmse(estimate: np.ndarray) -> float:
        fitted = np.polyval(np.polyfit(estimate, p_sub, 1), estimate)
        return float(1 - np.mean((p_sub - fitted) ** 2) / np.var(p_sub))

    assert result.prmse_subscore == pytest.approx(prmse(sub_correct / 6), abs=0.03)
    assert result.prmse_total == pytest.approx(prmse(total), abs=0.03)
    assert result.prmse_augmented == pytest.approx(prmse(result.values), abs=0.03)
    assert np.mean((result.values - p_sub) ** 2) < np.mean((sub_correct / 6 - p_sub) ** 2)
    assert result.prmse_augmented > max(result.prmse_subscore, result.prmse_total)
