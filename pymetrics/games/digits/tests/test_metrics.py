"""Digits metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.digits import GAME
from pymetrics.games.digits.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.trial_files import TrialFileError, read_trial_file

ABSENT = math.nan
F, B = "forward", "backward"
SAMPLE = Path(__file__).parent / "data" / "sample.csv"


def _trials(rows: list[tuple[Hashable, int, str, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", "direction", "length", "correct"])


def _run(session: str, first: int, direction: str, outcomes: dict[int, tuple[int, int]]):
    """Rows of one direction: {length: (attempt 1 correct, attempt 2 correct)}."""
    rows = []
    trial = first
    for length, pair in outcomes.items():
        for correct in pair:
            rows.append((session, trial, direction, length, correct))
            trial += 1
    return rows


# Session "a": one correct of two at each length it passes.
#   forward  L3: 1 0   L4: 0 1   L5: 0 0 (stop)  -> longest correct length = 4
#   backward L3: 0 1   L4: 0 0 (stop)            -> longest correct length = 3
#   total_correct = (1 + 1) + 1 = 3
A_ROWS = _run("a", 1, F, {3: (1, 0), 4: (0, 1), 5: (0, 0)}) + _run(
    "a", 7, B, {3: (0, 1), 4: (0, 0)}
)
# Session "b": forward fails at the first length.
#   forward  L3: 0 0 (stop)                      -> forward_span = 0 (SCIENCE: 0 if none)
#   backward L3: 1 1   L4: 1 0   L5: 0 0         -> backward_span = 4
#   total_correct = 0 + (2 + 1) = 3
B_ROWS = _run("b", 1, F, {3: (0, 0)}) + _run("b", 3, B, {3: (1, 1), 4: (1, 0), 5: (0, 0)})
# Session "perfect": every sequence right up to the maximum lengths.
#   forward  L3..L12 all right: 10 lengths x 2 = 20 correct -> forward_span = 12
#   backward L3..L10 all right:  8 lengths x 2 = 16 correct -> backward_span = 10
#   total_correct = 20 + 16 = 36
PERFECT_ROWS = _run("perfect", 1, F, dict.fromkeys(range(3, 13), (1, 1))) + _run(
    "perfect", 21, B, dict.fromkeys(range(3, 11), (1, 1))
)
# Session "fwd-only" (an imported file with forward rows only):
#   forward L3: 1 1   L4: 1 0   L5: 0 0          -> forward_span = 4
#   no backward trials at all                    -> backward_span absent (not 0)
#   total_correct = 2 + 1 = 3
FWD_ONLY_ROWS = _run("fwd-only", 1, F, {3: (1, 1), 4: (1, 0), 5: (0, 0)})
# Session "bwd-zero" (backward rows only, none right):
#   backward L3: 0 0   -> backward_span = 0; forward_span absent; total_correct = 0
BWD_ZERO_ROWS = _run("bwd-zero", 1, B, {3: (0, 0)})

# Rows shuffled across sessions on purpose: one call must keep the sessions apart.
HAND_TRIALS = _trials(
    sorted(
        A_ROWS + B_ROWS + PERFECT_ROWS + FWD_ONLY_ROWS + BWD_ZERO_ROWS,
        key=lambda row: (row[1] * 7919 + len(str(row[0]))) % 13,
    )
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {"forward_span": 4, "backward_span": 3, "total_correct": 3},
    "b": {"forward_span": 0, "backward_span": 4, "total_correct": 3},
    "perfect": {"forward_span": 12, "backward_span": 10, "total_correct": 36},
    "fwd-only": {"forward_span": 4, "backward_span": ABSENT, "total_correct": 3},
    "bwd-zero": {"forward_span": ABSENT, "backward_span": 0, "total_correct": 0},
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Spans and counts are whole numbers: compared exactly."""
    if math.isnan(expected):
        assert math.isnan(actual)
    else:
        assert actual == expected


def test_hand_table_rows_are_really_shuffled_across_sessions() -> None:
    assert HAND_TRIALS["session"].tolist() != sorted(HAND_TRIALS["session"])
    assert len(HAND_TRIALS) == 10 + 8 + 36 + 6 + 2


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

    assert list(result.metrics.index) == sorted(HAND_EXPECTED)
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert list(METRIC_NAMES) == ["forward_span", "backward_span", "total_correct"]
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_a_direction_without_trials_is_absent_but_a_failed_one_is_zero() -> None:
    result = extract(HAND_TRIALS)

    assert result.session_values("fwd-only") == {"forward_span": 4.0, "total_correct": 3.0}
    assert "backward_span" not in result.session_values("fwd-only")
    assert result.session_values("bwd-zero") == {"backward_span": 0.0, "total_correct": 0.0}
    assert "forward_span" not in result.session_values("bwd-zero")
    assert result.session_values("b")["forward_span"] == 0.0


# Imported rows need not follow the stopping rule or come in length order. Session "x":
#   trial 1 forward L6 right, trial 2 forward L3 wrong, trial 3 forward L7 wrong,
#   trial 4 backward L2 right, trial 5 backward L1 right
#   forward_span = longest correct forward length = 6 (not the last length, 7)
#   backward_span = 2 (lengths 1 and 2 are in the CSV domain); total_correct = 3
def test_span_is_the_longest_correct_length_whatever_the_order() -> None:
    trials = _trials(
        [
            ("x", 3, F, 7, 0),
            ("x", 1, F, 6, 1),
            ("x", 2, F, 3, 0),
            ("x", 5, B, 1, 1),
            ("x", 4, B, 2, 1),
        ]
    )

    result = extract(trials)

    assert result.session_values("x") == {
        "forward_span": 6.0,
        "backward_span": 2.0,
        "total_correct": 3.0,
    }


def test_no_trial_table_flag_applies_but_every_session_gets_a_list() -> None:
    flags = quality_flags(HAND_TRIALS)

    assert flags == {session: [] for session in HAND_EXPECTED}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


def test_integer_session_ids_are_kept_apart() -> None:
    trials = _trials([(2, 1, F, 3, 1), (1, 1, F, 3, 0), (2, 2, F, 3, 0), (1, 2, F, 3, 0)])

    result = extract(trials)

    assert result.metrics["forward_span"].to_dict() == {1: 0.0, 2: 3.0}
    assert result.metrics["total_correct"].to_dict() == {1: 0.0, 2: 1.0}


# tests/data/sample.csv, worked out by hand (the "note" column is unknown and ignored;
# direction is case-insensitive):
#   p1 forward L3: 1 1, L4: 0 1, L5: 0 0 -> forward_span 4
#      backward L3: 0 1, L4: 0 0         -> backward_span 3
#      total_correct = 3 + 1 = 4
#   p2 forward L3: 0 0                   -> forward_span 0
#      backward L3: 1 0, L4: 1 1, L5: 0 0 -> backward_span 4
#      total_correct = 0 + 3 = 3
#   p3 forward L3: 1 0, L4: 0 0; no backward rows -> forward_span 3, backward absent
#      total_correct = 1
SAMPLE_EXPECTED = {
    "p1": {"forward_span": 4.0, "backward_span": 3.0, "total_correct": 4.0},
    "p2": {"forward_span": 0.0, "backward_span": 4.0, "total_correct": 3.0},
    "p3": {"forward_span": 3.0, "total_correct": 1.0},
}


def test_sample_file_imports_and_gives_the_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert len(trials) == 22
    assert {session: result.session_values(session) for session in SAMPLE_EXPECTED} == (
        SAMPLE_EXPECTED
    )


def test_bad_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "participant,trial,direction,length,correct\np1,1,forward,3,1\np1,2,sideways,3,1\n"
    )

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (3, "direction")


def test_file_with_a_length_outside_the_domain_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("participant\ttrial\tdirection\tlength\tcorrect\np1\t1\tforward\t13\t0\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (2, "length")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 10_000, 24
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "direction": np.tile(np.repeat([F, B], n_trials // 2), n_sessions),
            "length": np.tile(np.repeat(np.arange(3, 3 + n_trials // 2), 2), n_sessions),
            "correct": rng.integers(0, 2, n_sessions * n_trials),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
