"""Histograms, Spearman correlations and notable differences, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pymetrics.analytics.stats.insights import (
    Histogram,
    benjamini_hochberg,
    compare_with_norm,
    histogram,
    norm_cdf,
    norm_expected_counts,
    notable_differences,
    spearman,
    spearman_matrix,
)

UNIFORM = [float(k) for k in range(1, 100)]


def test_whole_numbers_get_one_bin_per_value():
    found = histogram([0, 1, 1, 3, math.nan])

    assert found.discrete
    assert found.edges == (-0.5, 0.5, 1.5, 2.5, 3.5)
    assert found.counts == (1, 2, 0, 1)
    assert found.n == 4


def test_bins_reach_the_norm_range():
    # candidates 2..3, norm percentiles 0..5: bins from 0 to 5
    found = histogram([2, 3], norm_percentiles=[0.0] * 10 + [1.0] * 80 + [5.0] * 9)

    assert found.edges[0] == -0.5
    assert found.edges[-1] == 5.5
    assert found.counts == (0, 0, 1, 1, 0, 0)


def test_continuous_values_get_between_5_and_30_bins():
    values = np.linspace(0, 1, 200) ** 2

    found = histogram(values)

    assert not found.discrete
    assert 5 <= len(found.counts) <= 30
    assert sum(found.counts) == 200
    assert found.edges[0] == 0.0
    assert found.edges[-1] == 1.0


def test_the_norm_overlay_is_n_times_the_norm_share_of_each_bin():
    # the uniform norm on 0..100 and 10 candidates in bins [0, 50) and [50, 100]:
    # F(0) = 0, F(50) = 0.5, F(100) = 1 -> 5 and 5 expected
    found = Histogram(edges=(0.0, 50.0, 100.0), counts=(3, 7), n=10, discrete=False)

    assert norm_expected_counts(found, UNIFORM) == pytest.approx((5.0, 5.0))


def test_the_norm_overlay_of_whole_numbers_reads_the_distribution_at_the_values():
    # a norm where 60% scored 0, 30% scored 1, 9% scored 2 (percentile 99 = 2)
    percentiles = [0.0] * 60 + [1.0] * 30 + [2.0] * 9
    found = histogram([0, 1, 2, 2], percentiles)

    # F(-1) = 0, F(0) = 0.60, F(1) = 0.90, F(2) = 1 (the top 1% is put at the 99th
    # percentile): shares .6, .3, .1
    assert found.edges == (-0.5, 0.5, 1.5, 2.5)
    assert norm_expected_counts(found, percentiles) == pytest.approx((2.4, 1.2, 0.4))


def test_the_norm_distribution_takes_the_highest_level_of_tied_percentiles():
    # 0 up to the 60th percentile, then 1..39: F(0.5) is half-way from .60 to .61
    percentiles = [0.0] * 60 + [float(v) for v in range(1, 40)]

    assert norm_cdf([-1.0, 0.0, 0.5, 39.0, 40.0], percentiles).tolist() == pytest.approx(
        [0.0, 0.60, 0.605, 1.0, 1.0]
    )


def test_spearman_of_ranks_with_a_tie():
    # ranks x: 1..5; y = 5, 6, 7, 8, 7 -> ranks 1, 2, 3.5, 5, 3.5
    # deviations x: -2 -1 0 1 2; y: -2 -1 .5 2 .5 -> sum of products 8,
    # squares 10 and 9.5: rho = 8 / sqrt(95) = 0.8207827
    rho, n = spearman(np.array([1, 2, 3, 4, 5.0]), np.array([5, 6, 7, 8, 7.0]))

    assert n == 5
    assert rho == pytest.approx(0.8207827, abs=1e-7)
    assert rho == pytest.approx(stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]).statistic)


def test_the_correlation_matrix_uses_pairwise_complete_candidates():
    a = np.array([1.0, 2.0, 3.0, 4.0, math.nan])
    b = np.array([2.0, 4.0, 6.0, 8.0, 10.0])
    c = np.array([math.nan, math.nan, 1.0, 1.0, 2.0])  # 3 present

    found = spearman_matrix([a, b, c])

    assert found.rho[0][0] == pytest.approx(1.0)
    assert found.rho[0][1] == found.rho[1][0] == pytest.approx(1.0)
    assert found.n[0][1] == 4
    # a and c share 2 candidates: too few
    assert (found.rho[0][2], found.n[0][2]) == (None, 2)
    # b and c: 6, 8, 10 against 1, 1, 2 -> ranks 1,2,3 and 1.5,1.5,3: 1.5 / sqrt(2 * 1.5)
    assert found.rho[1][2] == pytest.approx(1.5 / math.sqrt(2 * 1.5))
    assert found.n[2][2] == 3


def test_welch_comparison_with_the_norm_by_hand():
    # recent: 10, 12, 14, 16, 18 -> mean 14, SD sqrt(40 / 4) = sqrt(10)
    # norm: n 100, mean 10, SD 2
    # SE^2 = 10 / 5 + 4 / 100 = 2.04; t = 4 / sqrt(2.04) = 2.8005602
    # df = 2.04^2 / ((2^2) / 4 + (0.04^2) / 99) = 4.1616 / 1.0000162 = 4.1615328
    found = compare_with_norm(
        "balloons.bursts", [10.0, 12.0, 14.0, 16.0, 18.0], norm_n=100, norm_mean=10.0, norm_sd=2.0
    )

    assert found is not None
    assert (found.n, found.mean) == (5, 14.0)
    assert found.sd == pytest.approx(math.sqrt(10))
    assert found.t == pytest.approx(2.8005602, abs=1e-6)
    assert found.df == pytest.approx(4.1615328, abs=1e-6)
    assert found.p == pytest.approx(2 * stats.t.sf(2.8005602, 4.1615328), abs=1e-6)
    assert found.difference_sd == 2.0  # (14 - 10) / 2
    assert found.relative == pytest.approx(0.4)  # 40% higher
    # scipy's own Welch test agrees
    assert found.p == pytest.approx(
        stats.ttest_ind_from_stats(14.0, math.sqrt(10), 5, 10.0, 2.0, 100, equal_var=False).pvalue
    )


def test_no_relative_difference_around_zero():
    found = compare_with_norm(
        "cards.net_score", [-4.0, -2.0, 0.0], norm_n=50, norm_mean=2, norm_sd=4
    )

    assert found is not None
    assert found.relative is None
    assert compare_with_norm("x.y", [1.0], norm_n=50, norm_mean=0, norm_sd=1) is None
    assert compare_with_norm("x.y", [1.0, 1.0], norm_n=50, norm_mean=0, norm_sd=1) is None


def test_benjamini_hochberg_by_hand():
    # sorted p: .01 (1), .03 (2), .04 (3), .5 (4); p * 4 / rank: .04, .06, .0533, .5
    # running minimum from the top: .5, .0533, .0533, .04
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.5]) == pytest.approx(
        [0.04, 0.16 / 3, 0.16 / 3, 0.5]
    )
    assert benjamini_hochberg([]) == []


def test_only_sizeable_and_clear_differences_from_enough_candidates_are_notable():
    rng = np.random.default_rng(1)
    shifted = rng.normal(12.0, 2.0, 40)  # one SD above the norm
    same = rng.normal(10.0, 2.0, 40)
    few = [20.0, 22.0, 21.0]  # huge, but from 3 candidates
    comparisons = [
        compare_with_norm(key, values, norm_n=500, norm_mean=10.0, norm_sd=2.0)
        for key, values in (("a.shifted", shifted), ("a.same", same), ("a.few", few))
    ]

    notable = notable_differences([c for c in comparisons if c is not None])

    assert [c.key for c in notable] == ["a.shifted"]
    assert notable[0].q is not None
    assert notable[0].q < 0.05
    assert notable[0].difference_sd > 0.5
