"""Tower metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.quality import MOSTLY_OMISSIONS, TOO_FAST, TOO_UNIFORM
from pymetrics.games.tower import GAME
from pymetrics.games.tower.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.trial_files import read_trial_file

ABSENT = math.nan
NO_MOVE = math.nan
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Row = tuple[str, int, int, int, float, float, int]


def _trials(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["session", "trial", "min_moves", "moves", "first_move_ms", "total_ms", "solved"],
    )


# Session "a", five problems (rows out of order on purpose):
#   trial min moves first  total solved
#     1    2    2   3000   5000   1     perfect, excess 0, execution 2000
#     2    3    4   2000   9000   1     excess 1, execution 7000
#     3    4    4   8000  12000   1     perfect, excess 0, execution 4000
#     4    5    9   1000  20000   1     excess 4, execution 19000
#     5    5   20   4000  50000   0     unsolved (move limit): not in excess_moves
#   excess_moves = (0 + 1 + 0 + 4) / 4 = 1.25; perfect_solutions = 2
#   planning_time_ms = (3000 + 2000 + 8000 + 1000 + 4000) / 5 = 3600
#   execution_time_ms = (2000 + 7000 + 4000 + 19000 + 46000) / 5 = 78000 / 5 = 15600
#   solved_rate = 4 / 5 = 0.8
SESSION_A: list[Row] = [
    ("a", 3, 4, 4, 8000.0, 12000.0, 1),
    ("a", 1, 2, 2, 3000.0, 5000.0, 1),
    ("a", 5, 5, 20, 4000.0, 50000.0, 0),
    ("a", 2, 3, 4, 2000.0, 9000.0, 1),
    ("a", 4, 5, 9, 1000.0, 20000.0, 1),
]

# Session "b", nothing solved; problem 2 timed out without a ball picked up:
#   trial 1: min 4, 20 moves, first 2500, total 40000 -> execution 37500
#   trial 2: min 5, 0 moves, no first move, total 90000 -> no planning/execution
#   excess_moves absent (no solved problem); perfect_solutions 0 (a count, present)
#   planning_time_ms = 2500; execution_time_ms = 37500; solved_rate 0
#   flags: 1 of 2 problems without a move = 50% > 30% -> mostly_omissions
SESSION_B: list[Row] = [
    ("b", 1, 4, 20, 2500.0, 40000.0, 0),
    ("b", 2, 5, 0, NO_MOVE, 90000.0, 0),
]

# Session "c", one problem timed out untouched:
#   excess absent, perfect 0, planning and execution absent (no first move), solved 0
#   flags: mostly_omissions (1 of 1)
SESSION_C: list[Row] = [("c", 1, 3, 0, NO_MOVE, 90000.0, 0)]

# Session "d", first moves faster than anyone can look: 120, 90, 140 and 2000 ms
#   all perfect: excess 0, perfect 4, planning (120 + 90 + 140 + 2000) / 4 = 587.5
#   execution (880 + 1910 + 2860 + 3000) / 4 = 8650 / 4 = 2162.5; solved 1
#   flags: 3 of 4 first moves < 150 ms -> too_fast
SESSION_D: list[Row] = [
    ("d", 1, 2, 2, 120.0, 1000.0, 1),
    ("d", 2, 2, 2, 90.0, 2000.0, 1),
    ("d", 3, 3, 3, 140.0, 3000.0, 1),
    ("d", 4, 3, 3, 2000.0, 5000.0, 1),
]

# Session "e", machine-like first moves 3000, 3000, 3001 ms (CV ~ 0.0002 < 0.02):
#   moves 3, 5, 4 on min 2, 3, 4, all solved: excess (1 + 2 + 0) / 3 = 1, perfect 1
#   planning 9001 / 3; execution (1000 + 3000 + 2999) / 3 = 6999 / 3 = 2333; flags too_uniform
SESSION_E: list[Row] = [
    ("e", 1, 2, 3, 3000.0, 4000.0, 1),
    ("e", 2, 3, 5, 3000.0, 6000.0, 1),
    ("e", 3, 4, 4, 3001.0, 6000.0, 1),
]

HAND_TRIALS = _trials(SESSION_E + SESSION_B + SESSION_A + SESSION_D + SESSION_C)


def _expected(
    excess: float, perfect: float, planning: float, execution: float, solved: float
) -> dict[str, float]:
    return dict(zip(METRIC_NAMES, (excess, perfect, planning, execution, solved), strict=True))


HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": _expected(1.25, 2, 3600, 15600, 0.8),
    "b": _expected(ABSENT, 0, 2500, 37500, 0),
    "c": _expected(ABSENT, 0, ABSENT, ABSENT, 0),
    "d": _expected(0, 4, 587.5, 2162.5, 1),
    "e": _expected(1, 1, 9001 / 3, 2333, 1),
}


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for whole and binary fractions; approx only where a true division rounds."""
    if math.isnan(expected):
        assert math.isnan(actual)
    elif float(expected * 8).is_integer():
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

    _assert_metric(float(result.metrics[metric].to_dict()[session]), expected)


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.index) == ["a", "b", "c", "d", "e"]
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert list(METRIC_NAMES) == [
        "excess_moves",
        "perfect_solutions",
        "planning_time_ms",
        "execution_time_ms",
        "solved_rate",
    ]
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_absent_metrics_are_left_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    assert result.session_values("c") == {"perfect_solutions": 0.0, "solved_rate": 0.0}
    assert result.session_values("b") == {
        "perfect_solutions": 0.0,
        "planning_time_ms": 2500.0,
        "execution_time_ms": 37500.0,
        "solved_rate": 0.0,
    }


def test_hand_flags_per_session() -> None:
    assert quality_flags(HAND_TRIALS) == {
        "a": [],
        "b": [MOSTLY_OMISSIONS],
        "c": [MOSTLY_OMISSIONS],
        "d": [TOO_FAST],
        "e": [TOO_UNIFORM],
    }


def test_one_session_alone_gives_the_same_values_as_in_the_batch() -> None:
    together = extract(HAND_TRIALS)
    alone = extract(_trials(SESSION_A))

    assert alone.session_values("a") == together.session_values("a")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # 1 of 10 first moves under 150 ms is not "more than 10%"; 2 of 10 is.
        pytest.param([("s", t, 2, 2, 100.0 if t == 1 else 600.0 + 37 * t, 9000.0, 1)
                      for t in range(1, 11)], [], id="one-fast-in-ten"),
        pytest.param([("s", t, 2, 2, 100.0 if t <= 2 else 600.0 + 37 * t, 9000.0, 1)
                      for t in range(1, 11)], [TOO_FAST], id="two-fast-in-ten"),
        # 3 of 10 problems untouched is not "more than 30%"; 4 of 10 is.
        pytest.param([("s", t, 3, 0 if t <= 3 else 3, NO_MOVE if t <= 3 else 900.0 + t * 50,
                       9000.0, 0 if t <= 3 else 1) for t in range(1, 11)], [],
                     id="three-untouched-in-ten"),
        pytest.param([("s", t, 3, 0 if t <= 4 else 3, NO_MOVE if t <= 4 else 900.0 + t * 50,
                       9000.0, 0 if t <= 4 else 1) for t in range(1, 11)], [MOSTLY_OMISSIONS],
                     id="four-untouched-in-ten"),
    ],
)  # fmt: skip
def test_quality_flags(rows: list[Row], expected: list[str]) -> None:
    assert extract(_trials(rows)).flags == {"s": expected}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


# tests/data/sample.csv, read through the platform's trial-file reader:
#   p1: (min, moves, first, total, solved) (2, 2, 3000, 5000, 1), (3, 5, 4000, 10000, 1),
#       (4, 4, 6000, 9000, 1), (5, 20, 2000, 60000, 0)
#     excess (0 + 2 + 0) / 3 = 2/3; perfect 2; planning 15000 / 4 = 3750
#     execution (2000 + 6000 + 3000 + 58000) / 4 = 17250; solved 3/4
#   p2 (rows out of order): (2, 3, 2500, 6000, 1), (3, 3, 1500.5, 4500, 1),
#       (4, 0, empty, 90000, 0)
#     excess (1 + 0) / 2 = 0.5; perfect 1; planning 4000.5 / 2 = 2000.25
#     execution (3500 + 2999.5) / 2 = 3249.75; solved 2/3; 1 of 3 untouched
#     (33% > 30%) -> mostly_omissions
def test_sample_file_gives_the_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert result.session_values("p1") == pytest.approx(
        {
            "excess_moves": 2 / 3,
            "perfect_solutions": 2.0,
            "planning_time_ms": 3750.0,
            "execution_time_ms": 17250.0,
            "solved_rate": 0.75,
        },
        rel=1e-12,
    )
    assert result.session_values("p2") == pytest.approx(
        {
            "excess_moves": 0.5,
            "perfect_solutions": 1.0,
            "planning_time_ms": 2000.25,
            "execution_time_ms": 3249.75,
            "solved_rate": 2 / 3,
        },
        rel=1e-12,
    )
    assert result.flags == {"p1": [], "p2": [MOSTLY_OMISSIONS]}
