"""Balloons metrics checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.balloons.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import ONE_OPTION_ONLY

ABSENT = math.nan


def _trials(rows: list[tuple[str, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", "pumps", "burst"])


# Session "a", 5 balloons (k = kept, b = burst), rows given out of order on purpose:
#   1: 10 k   2: 25 b   3: 0 k   4: 7 k   5: 40 b
#   kept pumps 10 + 0 + 7 = 17 over 3 balloons -> adjusted_pumps = 17/3
#   all pumps 10 + 25 + 0 + 7 + 40 = 82 over 5  -> mean_pumps = 16.4
#   bursts = 2; earnings_cents = 5 * 17 = 85
#   block 1 = balloons 1-5 -> 17/3; blocks 2 and 3 do not exist -> absent
# Session "b", 12 balloons:
#   1: 20 k   2: 30 b   3: 15 k   4: 5 k    5: 40 b   6: 25 k
#   7: 10 k   8: 35 b   9: 18 k  10: 12 k  11: 50 b  12: 60 b
#   kept 20 + 15 + 5 + 25 + 10 + 18 + 12 = 105 over 7 -> adjusted_pumps = 15
#   all pumps 105 + 30 + 40 + 35 + 50 + 60 = 320 over 12 -> mean_pumps = 80/3
#   bursts = 5; earnings_cents = 5 * 105 = 525
#   block 1 (balloons 1-10) = 105/7 = 15; block 2 (11-12) all burst -> absent;
#   block 3 does not exist -> absent
# Session "c", one balloon: 12 k
#   adjusted = mean = block 1 = 12; bursts 0; earnings 60; blocks 2, 3 absent
# Session "d", every balloon burst: 4 b, 9 b, 2 b
#   adjusted_pumps absent; mean_pumps = 15/3 = 5; bursts 3; earnings 0; blocks absent
HAND_TRIALS = _trials(
    [
        ("b", 12, 60, 1),
        ("a", 3, 0, 0),
        ("a", 1, 10, 0),
        ("a", 5, 40, 1),
        ("a", 2, 25, 1),
        ("a", 4, 7, 0),
        ("b", 1, 20, 0),
        ("b", 2, 30, 1),
        ("b", 3, 15, 0),
        ("b", 4, 5, 0),
        ("b", 5, 40, 1),
        ("b", 6, 25, 0),
        ("b", 7, 10, 0),
        ("b", 8, 35, 1),
        ("b", 9, 18, 0),
        ("b", 10, 12, 0),
        ("b", 11, 50, 1),
        ("c", 1, 12, 0),
        ("d", 1, 4, 1),
        ("d", 2, 9, 1),
        ("d", 3, 2, 1),
    ]
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "adjusted_pumps": 17 / 3,
        "mean_pumps": 16.4,
        "bursts": 2,
        "earnings_cents": 85,
        "adjusted_pumps_block_1": 17 / 3,
        "adjusted_pumps_block_2": ABSENT,
        "adjusted_pumps_block_3": ABSENT,
    },
    "b": {
        "adjusted_pumps": 15,
        "mean_pumps": 80 / 3,
        "bursts": 5,
        "earnings_cents": 525,
        "adjusted_pumps_block_1": 15,
        "adjusted_pumps_block_2": ABSENT,
        "adjusted_pumps_block_3": ABSENT,
    },
    "c": {
        "adjusted_pumps": 12,
        "mean_pumps": 12,
        "bursts": 0,
        "earnings_cents": 60,
        "adjusted_pumps_block_1": 12,
        "adjusted_pumps_block_2": ABSENT,
        "adjusted_pumps_block_3": ABSENT,
    },
    "d": {
        "adjusted_pumps": ABSENT,
        "mean_pumps": 5,
        "bursts": 3,
        "earnings_cents": 0,
        "adjusted_pumps_block_1": ABSENT,
        "adjusted_pumps_block_2": ABSENT,
        "adjusted_pumps_block_3": ABSENT,
    },
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for counts and whole numbers; approx only where a true division rounds."""
    if math.isnan(expected):
        assert math.isnan(actual)
    elif float(expected).is_integer():
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("session", "metric", "expected"),
    [
        pytest.param(session, metric, value, id=f"{session}-{metric}")
        for session, values in HAND_EXPECTED.items()
        for metric, value in values.items()
    ],
)
def test_hand_computed_metric(session: str, metric: str, expected: float) -> None:
    result = extract(HAND_TRIALS)

    _assert_metric(_metric(result, session, metric), expected)


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.index) == ["a", "b", "c", "d"]
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_all_burst_session_leaves_adjusted_pumps_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    assert result.session_values("d") == {"mean_pumps": 5.0, "bursts": 3.0, "earnings_cents": 0.0}


# Session "full", 30 balloons: balloon i has i pumps and bursts when i is a multiple of 3.
#   block 1 kept 1+2+4+5+7+8+10 = 37 over 7        -> 37/7
#   block 2 kept 11+13+14+16+17+19+20 = 110 over 7 -> 110/7
#   block 3 kept 22+23+25+26+28+29 = 153 over 6    -> 25.5
#   kept 37 + 110 + 153 = 300 over 20 -> adjusted_pumps = 15
#   all 1 + ... + 30 = 465 over 30    -> mean_pumps = 15.5
#   bursts = 10; earnings_cents = 5 * 300 = 1500
FULL_TRIALS = _trials([("full", i, i, int(i % 3 == 0)) for i in range(1, 31)])


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        pytest.param("adjusted_pumps", 15.0, id="adjusted_pumps"),
        pytest.param("mean_pumps", 15.5, id="mean_pumps"),
        pytest.param("bursts", 10.0, id="bursts"),
        pytest.param("earnings_cents", 1500.0, id="earnings_cents"),
        pytest.param("adjusted_pumps_block_1", 37 / 7, id="block_1"),
        pytest.param("adjusted_pumps_block_2", 110 / 7, id="block_2"),
        pytest.param("adjusted_pumps_block_3", 25.5, id="block_3"),
    ],
)
def test_thirty_balloons_split_into_blocks_at_10_and_20(metric: str, expected: float) -> None:
    result = extract(FULL_TRIALS)

    _assert_metric(_metric(result, "full", metric), expected)


# Session "gaps" has trial numbers 2, 4, ..., 24 (12 balloons), every one kept with
# pumps equal to its trial number. Blocks follow positions, not numbers:
#   block 1 = positions 1-10 = trials 2..20 -> (2 + 4 + ... + 20) / 10 = 110 / 10 = 11
#   block 2 = positions 11-12 = trials 22, 24 -> 46 / 2 = 23
GAPS_TRIALS = _trials([("gaps", trial, trial, 0) for trial in range(24, 0, -2)])


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        pytest.param("adjusted_pumps_block_1", 11.0, id="block_1"),
        pytest.param("adjusted_pumps_block_2", 23.0, id="block_2"),
        pytest.param("adjusted_pumps_block_3", ABSENT, id="block_3"),
    ],
)
def test_blocks_follow_trial_order_positions_not_trial_numbers(
    metric: str, expected: float
) -> None:
    result = extract(GAPS_TRIALS)

    _assert_metric(_metric(result, "gaps", metric), expected)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([("s", 1, 0, 0), ("s", 2, 0, 0)], [ONE_OPTION_ONLY], id="never-pumped"),
        pytest.param([("s", 1, 3, 1), ("s", 2, 8, 1)], [ONE_OPTION_ONLY], id="always-burst"),
        pytest.param([("s", 1, 0, 0), ("s", 2, 8, 1)], [], id="never-pumped-then-burst"),
        pytest.param([("s", 1, 5, 0), ("s", 2, 5, 0)], [], id="same-pumps-collected"),
        pytest.param([("s", 1, 0, 0), ("s", 2, 1, 0)], [], id="one-pump-is-a-choice"),
    ],
)
def test_one_option_only_flag(rows: list[tuple[str, int, int, int]], expected: list[str]) -> None:
    result = extract(_trials(rows))

    assert result.flags == {"s": expected}


def test_every_session_gets_a_flag_list() -> None:
    flags = quality_flags(HAND_TRIALS)

    assert flags == {"a": [], "b": [], "c": [], "d": [ONE_OPTION_ONLY]}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_balloons = 10_000, 30
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_balloons),
            "trial": np.tile(np.arange(1, n_balloons + 1), n_sessions),
            "pumps": rng.integers(1, 80, n_sessions * n_balloons),
            "burst": rng.integers(0, 2, n_sessions * n_balloons),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
