"""Histograms, quantiles and daily counts on arrays, checked against hand-computed values."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from pymetrics.analytics.stats.distributions import (
    Histogram,
    Quantiles,
    daily_counts,
    histogram,
    mean,
    nice_width,
    percentile_histogram,
    quantiles,
)


@pytest.mark.parametrize(
    ("span", "bins", "width"),
    [
        pytest.param(37.0, 10, 5.0, id="3.7-rounds-up-to-5"),
        pytest.param(35.0, 12, 5.0, id="2.92-rounds-up-to-5"),
        pytest.param(20.0, 10, 2.0, id="exactly-2"),
        pytest.param(22.0, 10, 2.5, id="2.2-rounds-up-to-2.5"),
        pytest.param(0.9, 10, 0.1, id="tenths"),
        pytest.param(0.3, 12, 0.025, id="a-small-span"),
        pytest.param(950.0, 10, 100.0, id="95-rounds-up-to-100"),
        pytest.param(0.0, 10, 0.1, id="no-span-is-a-span-of-1"),
    ],
)
def test_nice_width(span, bins, width):
    assert nice_width(span, bins) == width


def test_histogram_bins_start_at_a_multiple_of_the_width():
    # minutes 10, 20, 45: span 35 in at most 12 bins -> 2.92 -> width 5;
    # first edge floor(10 / 5) * 5 = 10; bins of 10: [10,15), 20: [20,25), 45: [45,50)
    result = histogram([10.0, 20.0, 45.0], target_bins=12)

    assert result == Histogram(
        edges=[10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0],
        counts=[1, 0, 1, 0, 0, 0, 0, 1],
        n=3,
    )


def test_a_value_on_an_edge_counts_in_the_bin_it_opens_despite_rounding():
    # 0.3 / 0.1 is 2.9999999999999996 in floating point: it still opens bin [0.3, 0.4)
    result = histogram([0.1, 0.3, 1.0], target_bins=10)

    assert result.edges[0] == 0.1
    assert result.counts[2] == 1  # 0.3 in [0.3, 0.4)
    assert result.edges[-2:] == [1.0, 1.1]  # the maximum opens the last bin
    assert result.counts[-1] == 1
    assert sum(result.counts) == 3


def test_histogram_ignores_missing_values_and_has_no_bins_without_values():
    assert histogram([math.nan, math.inf]) == Histogram(edges=[], counts=[], n=0)
    assert histogram([4.0, math.nan]).n == 1


def test_a_single_value_gets_one_bin():
    # span 0 -> the width for a span of 1 in 10 bins: 0.1; floor(7 / 0.1) = 70 -> [7, 7.1)
    assert histogram([7.0]) == Histogram(edges=[7.0, 7.1], counts=[1], n=1)


def test_quantiles_are_numpys_linear_ones():
    # sorted 10, 20, 45: median 20; p90 at position (3 - 1) * 0.9 = 1.8 -> 20 + 0.8 * 25 = 40
    assert quantiles([45.0, 10.0, 20.0, math.nan]) == Quantiles(n=3, median=20.0, p90=40.0)
    assert quantiles([]) == Quantiles(n=0, median=None, p90=None)


def test_percentile_histogram_against_the_uniform_share_of_the_norm():
    # 12.5 -> [10, 20); 37.5 -> [30, 40); 62.5 -> [60, 70); 87.5 and 100 -> [90, 100]
    result = percentile_histogram([12.5, 37.5, 62.5, 87.5, 100.0, math.nan], bins=5)

    assert result.edges == [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    assert result.counts == [1, 1, 0, 1, 2]
    assert result.shares == [0.2, 0.2, 0.0, 0.2, 0.4]
    assert result.expected_share == [0.2] * 5
    assert result.n == 5


def test_an_empty_percentile_histogram_has_no_shares():
    result = percentile_histogram([], bins=10)

    assert (result.counts, result.shares, result.n) == ([0] * 10, [None] * 10, 0)
    assert result.edges == [float(10 * i) for i in range(11)]


def test_percentiles_outside_0_to_100_are_refused():
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile_histogram([101.0])


def test_mean_of_finite_values():
    assert mean([-1.5, 0.2, 1.9, math.nan]) == pytest.approx(0.2)
    assert mean([]) is None


def test_daily_counts_in_a_window_ending_today():
    today = date(2025, 3, 31)
    days = [date(2025, 3, 31), date(2025, 3, 31), date(2025, 3, 29), date(2025, 2, 1)]

    # window of 3 days: 29, 30, 31; 1 February is outside
    assert daily_counts(days, last=today, length=3) == [1, 0, 2]
    # weighted: one row per day with its count, as a GROUP BY gives them
    assert daily_counts(
        [date(2025, 3, 29), date(2025, 3, 31)], last=today, length=3, weights=[4, 7]
    ) == [4, 0, 7]
    assert daily_counts([], last=today, length=2) == [0, 0]


def test_daily_counts_refuse_mismatched_weights():
    with pytest.raises(ValueError, match="one weight per day"):
        daily_counts([date(2025, 1, 1)], last=date(2025, 1, 1), length=1, weights=[1, 2])


def test_results_are_plain_python_numbers():
    result = histogram(np.array([1.0, 2.0, 3.0]))
    assert all(type(count) is int for count in result.counts)
    assert all(type(edge) is float for edge in result.edges)
