"""Population stability index and weekly aggregates, checked against hand-computed values."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest

from pymetrics.analytics.stats.drift import (
    EMPTY_BIN_SHARE,
    bin_counts,
    drift_against_norm,
    iso_week_label,
    mean_interval,
    noise_level,
    population_stability_index,
    psi_status,
    quantile_bins,
    quartiles,
    week_range,
    week_start,
)

#: A norm whose k-th percentile is k (a uniform distribution on 0..100).
UNIFORM = [float(k) for k in range(1, 100)]


def test_deciles_of_a_norm_give_ten_bins_of_ten_percent():
    bins = quantile_bins(UNIFORM)

    assert bins.edges == (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)
    assert bins.expected == pytest.approx((0.1,) * 10)


def test_equal_deciles_merge_into_one_bin_that_keeps_their_share():
    # a count metric: 60% of the norm group scored 0, then 1..39 from the 61st percentile
    percentiles = [0.0] * 60 + [float(v) for v in range(1, 40)]

    bins = quantile_bins(percentiles)

    # deciles 10..60 are all 0 -> one edge 0 at level 60; then p70 = 10, p80 = 20, p90 = 30
    assert bins.edges == (0.0, 10.0, 20.0, 30.0)
    assert bins.expected == pytest.approx((0.6, 0.1, 0.1, 0.1, 0.1))


def test_bins_are_right_closed():
    bins = quantile_bins(UNIFORM)

    # 10 is at the 10th percentile: in the first bin; 10.01 in the second; 95 in the last
    counts = bin_counts([5.0, 10.0, 10.01, 95.0, math.nan], bins)

    assert counts.tolist() == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_psi_of_a_shifted_sample_matches_the_hand_computation():
    # 10 values: 4 in the first decile, one in each of deciles 2..7, none in 8..10
    values = [1.0, 2.0, 3.0, 4.0, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0]
    # actual shares 0.4, 0.1 x 6, 0 x 3 (floored at 0.0001); expected 0.1 each:
    #   (0.4 - 0.1) ln 4                  = 0.3 * 1.3862944 = 0.4158883
    #   6 x (0.1 - 0.1) ln 1              = 0
    #   3 x (0.0001 - 0.1) ln(0.0001/0.1) = 3 * 0.0999 * 6.9077553 = 2.0702543
    #   PSI = 2.4861426
    drift = drift_against_norm(values, UNIFORM)

    assert drift.n == 10
    assert drift.psi == pytest.approx(2.4861426, abs=1e-6)
    assert drift.actual == pytest.approx((0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0, 0.0))
    # too few candidates to read it, however large
    assert drift.status == "insufficient"


def test_psi_of_a_sample_shaped_like_the_norm_is_zero():
    values = np.arange(0.5, 100, 1.0)  # 100 values, 10 per decile

    drift = drift_against_norm(values, UNIFORM)

    assert drift.n == 100
    assert drift.psi == pytest.approx(0.0, abs=1e-12)
    assert drift.status == "stable"
    assert not drift.beyond_noise


def test_psi_formula_on_two_bins():
    # counts 30/70 against 50/50: (0.3-0.5) ln(0.6) + (0.7-0.5) ln(1.4)
    #   = -0.2 * -0.5108256 + 0.2 * 0.3364722 = 0.1021651 + 0.0672944 = 0.1694596
    assert population_stability_index([30, 70], [0.5, 0.5]) == pytest.approx(0.1694596, abs=1e-6)
    assert population_stability_index([0, 0], [0.5, 0.5]) is None
    # an empty bin uses the floor share
    floor = EMPTY_BIN_SHARE
    expected = (floor - 0.5) * math.log(floor / 0.5) + (1 - 0.5) * math.log(1 / 0.5)
    assert population_stability_index([0, 10], [0.5, 0.5]) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("psi", "n", "status"),
    [
        pytest.param(0.05, 30, "stable", id="stable"),
        pytest.param(0.1, 30, "moderate", id="moderate-from-0.1"),
        pytest.param(0.25, 30, "moderate", id="moderate-up-to-0.25"),
        pytest.param(0.2501, 30, "significant", id="significant"),
        pytest.param(0.9, 29, "insufficient", id="too-few"),
        pytest.param(None, 100, "insufficient", id="no-psi"),
    ],
)
def test_psi_readings_follow_the_conventional_thresholds(psi, n, status):
    assert psi_status(psi, n) == status


def test_the_noise_level_follows_the_chi_square_approximation_for_large_samples():
    deciles = [0.1] * 10
    # PSI / (1/n + 1/m) ~ chi-square(9), 95th percentile 16.918978 (Yurdakul 2018):
    # n = m = 1000: 16.918978 * 0.002 = 0.0338380; n = 2000, exact norm: 0.0084595
    assert noise_level(1000, deciles, 1000) == pytest.approx(0.0338380, rel=0.06)
    assert noise_level(2000, deciles) == pytest.approx(0.0084595, rel=0.06)
    assert noise_level(0, deciles) is None


def test_the_noise_level_grows_for_few_candidates_and_small_norm_groups():
    deciles = [0.1] * 10
    levels = {
        (n, norm_n): noise_level(n, deciles, norm_n)
        for n, norm_n in ((30, None), (100, 40), (100, 1000), (100, None), (94, 500))
    }
    found = {key: value for key, value in levels.items() if value is not None}
    assert len(found) == len(levels)
    # with 30 candidates empty bins are common: far above chi-square's 16.918978 / 30
    assert found[(30, None)] > 2 * 16.918978 / 30
    # a small norm group's deciles are uncertain too
    assert found[(100, 40)] > found[(100, 1000)] > found[(100, None)]
    # seeded: the same level every time
    assert noise_level(94, deciles, 500) == found[(94, 500)]


def test_iso_weeks():
    # 2024-12-30 is a Monday in ISO week 1 of 2025
    assert week_start(date(2025, 1, 2)) == date(2024, 12, 30)
    assert iso_week_label(date(2024, 12, 30)) == "2025-W01"
    assert iso_week_label(date(2025, 2, 14)) == "2025-W07"
    assert week_range(date(2025, 1, 2), date(2025, 1, 20)) == [
        date(2024, 12, 30),
        date(2025, 1, 6),
        date(2025, 1, 13),
        date(2025, 1, 20),
    ]


def test_the_interval_of_a_mean_uses_student_t():
    # n = 4, mean 1, SD 2: t(0.975, 3) = 3.1824463; half-width 3.1824463 * 2 / 2 = 3.1824463
    low, high = mean_interval(4, 1.0, 2.0)

    assert low == pytest.approx(1 - 3.1824463, abs=1e-6)
    assert high == pytest.approx(1 + 3.1824463, abs=1e-6)
    assert mean_interval(1, 1.0, None) == (None, None)


def test_quartiles_use_linear_interpolation():
    # 1, 2, 3, 4: positions 0.75, 1.5, 2.25 -> 1.75, 2.5, 3.25
    found = quartiles([4.0, 1.0, 3.0, 2.0, math.nan])

    assert (found.n, found.q1, found.median, found.q3) == (4, 1.75, 2.5, 3.25)
    assert quartiles([]).median is None
