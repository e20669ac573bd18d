"""Profile arithmetic: norm standing of a metric, trait bars, intervals and differences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from pymetrics.analytics.stats.profiles import (
    intervals_overlap,
    mean_interval,
    metric_percentile,
    metric_standing,
    metric_z,
    norm_group_interval,
    profile_differences,
    trait_axis_limit,
    trait_bars,
)
from pymetrics.psychometrics import PERCENTILES, metric_distribution

# The percentiles of the population 1, 2, 3, 4, 5 (numpy linear): the p-th sits at
# position 4p/100, so q_p = 1 + 4p/100 and a value x reads as percentile 25 (x - 1).
ONE_TO_FIVE = [1 + 4 * p / 100 for p in PERCENTILES]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(3.0, (50.0, 0), id="the-median"),
        # 5/3 lies between q16 = 1.64 and q17 = 1.68: 16 + (1.6667 - 1.64) / 0.04
        pytest.param(5 / 3, (16 + (5 / 3 - 1.64) / 0.04, 0), id="between-two"),
        pytest.param(1.02, (1.0, -1), id="below-the-1st"),
        pytest.param(4.999, (99.0, 1), id="above-the-99th"),
    ],
)
def test_a_metric_s_percentile_is_read_off_the_stored_percentiles(value, expected):
    percentile, beyond = metric_percentile(value, ONE_TO_FIVE)

    assert percentile == pytest.approx(expected[0])
    assert beyond == expected[1]


def test_a_value_tied_with_a_run_of_percentiles_reads_as_the_middle_of_the_run():
    # population 0, 0, 1, 1, 2: q_p = 1 for positions 2..3, i.e. p = 50..75
    norm = metric_distribution(np.array([0, 0, 1, 1, 2]))
    assert norm is not None

    percentile, beyond = metric_percentile(1.0, norm.percentiles)

    assert (percentile, beyond) == ((50 + 75) / 2, 0)


def test_the_norm_table_must_hold_99_percentiles():
    with pytest.raises(ValueError, match="99 percentiles"):
        metric_percentile(1.0, [1.0, 2.0, 3.0])


def test_a_metric_standing_has_z_percentile_and_tail():
    norm = metric_distribution(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert norm is not None

    standing = metric_standing(1.5, norm.to_dict())

    # z = (1.5 - 3) / SD(1..5) = -1.5 / sqrt(2.5)
    assert standing["z"] == pytest.approx(-1.5 / math.sqrt(2.5))
    assert standing["percentile"] == pytest.approx(12.5)
    assert standing["beyond"] == 0
    assert metric_standing(1.5, None) == {"z": None, "percentile": None, "beyond": None}
    assert metric_z(2.0, 1.0, 0.0) is None


def test_trait_bars_run_from_the_centre_with_their_intervals():
    bars = trait_bars(
        [
            {"z": 1.2, "z_low": 0.3, "z_high": 2.1},
            None,  # unscored: no bar
            {"z": -3.4, "z_low": -4.3, "z_high": -2.5},
        ]
    )

    assert bars["values"] == [1.2, None, -3.4]
    assert bars["intervals"] == [[0.3, 2.1], None, [-4.3, -2.5]]
    # the largest magnitude is the interval end -4.3: the axis runs -5 .. 5
    assert bars["limit"] == 5.0


def test_the_axis_is_at_least_three_each_way():
    assert trait_axis_limit([0.2, -1.1, None]) == 3.0
    assert trait_axis_limit([]) == 3.0
    assert trait_axis_limit([3.0]) == 3.0
    assert trait_axis_limit([3.01]) == 4.0


def test_a_group_mean_with_the_t_interval_of_the_mean():
    found = mean_interval([0.0, 1.0, 2.0, None, float("nan")])

    # n = 3, mean 1, SD 1; t(0.95, 2) = 2.919986; half-width = 2.919986 / sqrt(3)
    half = 2.919986 / math.sqrt(3)
    assert found["n"] == 3
    assert found["mean"] == pytest.approx(1.0)
    assert found["sd"] == pytest.approx(1.0)
    assert found["low"] == pytest.approx(1.0 - half, abs=1e-6)
    assert found["high"] == pytest.approx(1.0 + half, abs=1e-6)


def test_one_value_has_a_mean_but_no_interval_and_none_has_neither():
    assert mean_interval([0.4]) == {"n": 1, "mean": 0.4, "sd": None, "low": None, "high": None}
    assert mean_interval([]) == {"n": 0, "mean": None, "sd": None, "low": None, "high": None}


def test_a_norm_group_has_mean_zero_and_the_interval_of_that_mean():
    found = norm_group_interval(101)

    # SD 1 by construction; t(0.95, 100) = 1.660234; half-width = 1.660234 / sqrt(101)
    assert found["mean"] == 0.0
    assert found["high"] == pytest.approx(1.660234 / math.sqrt(101), abs=1e-6)
    assert found["low"] == pytest.approx(-found["high"])
    assert norm_group_interval(1)["low"] is None


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        pytest.param((0.0, 1.0), (0.5, 2.0), True, id="overlapping"),
        pytest.param((0.0, 1.0), (1.0, 2.0), True, id="touching"),
        pytest.param((0.0, 1.0), (1.1, 2.0), False, id="apart"),
        pytest.param((1.1, 2.0), (0.0, 1.0), False, id="apart-reversed"),
        pytest.param((-1.0, 3.0), (0.0, 1.0), True, id="nested"),
    ],
)
def test_intervals_overlap(a, b, overlap):
    assert intervals_overlap(a, b) is overlap


def test_differences_are_pairs_whose_intervals_do_not_overlap():
    profiles: list[dict[str, dict[str, Any]]] = [
        # a candidate high on risk, middling on focus
        {
            "risk": {"value": 2.0, "low": 1.1, "high": 2.9},
            "focus": {"value": 0, "low": -0.9, "high": 0.9},
        },
        # a group near the centre
        {
            "risk": {"value": 0.1, "low": -0.2, "high": 0.4},
            "focus": {"value": 0.2, "low": -0.1, "high": 0.5},
        },
        # a candidate with only focus scored, low
        {"focus": {"value": -2.0, "low": -2.9, "high": -1.1}},
        # a single person's group: a mean without an interval is not compared
        {"risk": {"value": 5.0, "low": None, "high": None}},
    ]

    found = profile_differences(profiles, ["risk", "focus"])

    assert found == [
        # risk: 1.1 > 0.4, a gap of 0.7
        {"trait": "risk", "higher": 0, "lower": 1, "gap": pytest.approx(0.7)},
        # focus: candidate 0 (-0.9) against candidate 2 (-1.1): apart by 0.2
        {"trait": "focus", "higher": 0, "lower": 2, "gap": pytest.approx(0.2)},
        # focus: the group (-0.1) against candidate 2 (-1.1): 1.0
        {"trait": "focus", "higher": 1, "lower": 2, "gap": pytest.approx(1.0)},
    ]
