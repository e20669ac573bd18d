"""The system status thresholds and quantiles, on hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from pymetrics.analytics.stats.thresholds import (
    AMBER,
    ERROR_SHARE,
    INFO,
    INGEST_P95_MS,
    OK,
    PROBE_MS,
    QUEUE_WAITING,
    RED,
    SCORING_P95_S,
    Limit,
    bucket_index,
    error_level,
    error_share,
    histogram_quantile,
    merge_histograms,
    probe_level,
    sample_quantile,
    workers_level,
    worst,
)


def test_the_limits_are_the_documented_ones():
    assert (PROBE_MS.amber, PROBE_MS.red) == (100.0, math.inf)
    assert (QUEUE_WAITING.amber, QUEUE_WAITING.red) == (100, 1000)
    assert (INGEST_P95_MS.amber, INGEST_P95_MS.red) == (250.0, 1000.0)
    assert (SCORING_P95_S.amber, SCORING_P95_S.red) == (60.0, 300.0)
    assert (ERROR_SHARE.amber, ERROR_SHARE.red) == (0.01, 0.05)


@pytest.mark.parametrize(
    ("value", "level"),
    [
        pytest.param(None, OK, id="nothing-measured"),
        pytest.param(math.nan, OK, id="nan"),
        pytest.param(0, OK, id="zero"),
        pytest.param(100, OK, id="at-amber-is-ok"),
        pytest.param(101, AMBER, id="above-amber"),
        pytest.param(1000, AMBER, id="at-red-is-amber"),
        pytest.param(1001, RED, id="above-red"),
    ],
)
def test_a_limit_is_crossed_strictly_above_it(value, level):
    assert Limit(amber=100, red=1000).level(value) == level


@pytest.mark.parametrize(
    ("ok", "ms", "level"),
    [
        pytest.param(True, 3.2, OK, id="fast"),
        pytest.param(True, 100.0, OK, id="at-100ms"),
        pytest.param(True, 100.1, AMBER, id="slow"),
        pytest.param(True, 60_000.0, AMBER, id="very-slow-but-answering"),
        pytest.param(False, None, RED, id="failing"),
    ],
)
def test_a_failing_probe_is_red_and_a_slow_one_amber(ok, ms, level):
    assert probe_level(ok=ok, ms=ms) == level


@pytest.mark.parametrize(
    ("answering", "in_process", "level"),
    [
        pytest.param(2, False, OK, id="two-workers"),
        pytest.param(1, False, OK, id="one-worker"),
        pytest.param(0, False, RED, id="no-worker"),
        pytest.param(None, False, RED, id="could-not-ask"),
        pytest.param(None, True, OK, id="tasks-in-process"),
    ],
)
def test_no_worker_is_red_unless_tasks_run_in_process(answering, in_process, level):
    assert workers_level(answering=answering, in_process=in_process) == level


@pytest.mark.parametrize(
    ("errors", "responses", "level"),
    [
        # 0/1000 = 0%
        pytest.param(0, 1000, OK, id="none"),
        # 10/1000 = 1.0%: at the amber limit, not above it
        pytest.param(10, 1000, OK, id="one-percent"),
        # 11/1000 = 1.1%
        pytest.param(11, 1000, AMBER, id="above-one-percent"),
        # 50/1000 = 5.0%
        pytest.param(50, 1000, AMBER, id="five-percent"),
        # 51/1000 = 5.1%
        pytest.param(51, 1000, RED, id="above-five-percent"),
        # 1/20 = 5%: twenty responses are enough to judge the share
        pytest.param(1, 20, AMBER, id="twenty-responses"),
        # 2/20 = 10%
        pytest.param(2, 20, RED, id="twenty-responses-red"),
        # 3/3 = 100% but only three responses: amber, never red
        pytest.param(3, 3, AMBER, id="few-responses-all-errors"),
        pytest.param(0, 3, OK, id="few-responses-no-error"),
        pytest.param(0, 0, OK, id="no-responses"),
    ],
)
def test_the_error_share_is_judged_on_enough_responses(errors, responses, level):
    assert error_level(errors=errors, responses=responses) == level


def test_the_error_share():
    assert error_share(errors=3, responses=12) == 0.25
    assert error_share(errors=0, responses=0) is None


def test_worst_orders_red_amber_ok_and_info_counts_as_ok():
    assert worst([OK, AMBER, OK]) == AMBER
    assert worst([AMBER, RED, OK]) == RED
    assert worst([INFO, INFO]) == OK
    assert worst([]) == OK


@pytest.mark.parametrize(
    ("value", "index"),
    [
        pytest.param(0.0, 0, id="zero"),
        pytest.param(1.0, 0, id="on-a-bound"),
        pytest.param(1.5, 1, id="between"),
        pytest.param(10.0, 2, id="last-bound"),
        pytest.param(10.5, 3, id="overflow"),
    ],
)
def test_a_value_falls_in_the_first_bucket_whose_bound_holds_it(value, index):
    assert bucket_index((1, 5, 10), value) == index


def test_histogram_quantiles_interpolate_within_the_bucket():
    bounds = (10, 20, 50)
    # 4 values in (0, 10], 4 in (10, 20], 2 in (20, 50], none above 50: 10 in all
    counts = (4, 4, 2, 0)
    # median: rank 5 -> the 1st of 4 in (10, 20] -> 10 + 10 * 1/4 = 12.5
    assert histogram_quantile(bounds, counts, 0.5) == pytest.approx(12.5)
    # p95: rank 9.5 -> 1.5 of 2 in (20, 50] -> 20 + 30 * 1.5/2 = 42.5
    assert histogram_quantile(bounds, counts, 0.95) == pytest.approx(42.5)
    # p20: rank 2 -> 2 of 4 in (0, 10] -> 0 + 10 * 2/4 = 5
    assert histogram_quantile(bounds, counts, 0.2) == pytest.approx(5.0)


def test_a_quantile_in_the_overflow_bucket_is_the_last_bound():
    # 1 value <= 10, 3 above 50: the median is "at least 50"
    assert histogram_quantile((10, 20, 50), (1, 0, 0, 3), 0.5) == 50.0


def test_an_empty_histogram_has_no_quantile_and_a_wrong_one_is_refused():
    assert histogram_quantile((10, 20), (0, 0, 0), 0.5) is None
    with pytest.raises(ValueError, match="one count per bound"):
        histogram_quantile((10, 20), (1, 2), 0.5)


def test_sample_quantiles_interpolate_linearly():
    # sorted 1, 2, 3, 4: median at position 1.5 -> 2.5; p95 at 2.85 -> 3 + 0.85 = 3.85
    assert sample_quantile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert sample_quantile([4.0, 1.0, 3.0, 2.0], 0.95) == pytest.approx(3.85)
    assert sample_quantile([7.0], 0.95) == 7.0
    assert sample_quantile([], 0.5) is None


def test_histograms_merge_bucket_by_bucket():
    assert merge_histograms([(1, 0, 2), (0, 3, 1)], 3) == [1, 3, 3]
    assert merge_histograms([], 2) == [0, 0]
