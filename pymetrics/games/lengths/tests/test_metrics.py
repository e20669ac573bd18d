"""Lengths metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.lengths import GAME
from pymetrics.games.lengths.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.quality import MOSTLY_OMISSIONS, ONE_OPTION_ONLY, TOO_FAST, TOO_UNIFORM
from pymetrics.games.trial_files import read_trial_file

NONE = math.nan
SAMPLE = Path(__file__).parent / "data" / "sample.csv"
log10 = math.log10

Row = tuple[str, int, int, str, float, float]


def _trials(rows: Sequence[Row]) -> pd.DataFrame:
    """Rows of (session, trial, block, stimulus, correct, rt_ms); NONE for an empty cell."""
    return pd.DataFrame(rows, columns=["session", "trial", "block", "stimulus", "correct", "rt_ms"])


# Session "a", 12 trials in 3 blocks of 4 (rows given out of order on purpose):
#   block 1: rich right, rich right, lean right, lean wrong -> rc 2, ri 0, lc 1, li 1
#   block 2: rich right, rich wrong, lean right, lean missed -> rc 1, ri 1, lc 1, li 0
#   block 3: rich right, rich right, lean wrong, lean wrong -> rc 2, ri 0, lc 0, li 2
#   all: rc 5, ri 1, lc 2, li 3; plus 0.5: 5.5, 1.5, 2.5, 3.5
#   response_bias = 0.5 log10(5.5 * 3.5 / (1.5 * 2.5)) = 0.5 log10(19.25 / 3.75)
#                 = 0.5 log10(77/15)
#   discriminability = 0.5 log10(5.5 * 2.5 / (1.5 * 3.5)) = 0.5 log10(13.75 / 5.25)
#                    = 0.5 log10(55/21)
#   block 1: 2.5, 0.5, 1.5, 1.5 -> 0.5 log10(2.5 * 1.5 / (0.5 * 1.5)) = 0.5 log10(5)
#   block 2: 1.5, 1.5, 1.5, 0.5 -> 0.5 log10(1.5 * 0.5 / (1.5 * 1.5)) = 0.5 log10(1/3)
#   block 3: 2.5, 0.5, 0.5, 2.5 -> 0.5 log10(2.5 * 2.5 / (0.5 * 0.5)) = 0.5 log10(25) = log10(5)
#   bias_change = log10(5) - 0.5 log10(5) = 0.5 log10(5)
#   rich_accuracy 5/6, lean_accuracy 2/5; 1 of 12 missed (8% < 30%); RTs 380..720: no flags
# Session "b", the lean faces never answered (2 of 4 missed, 50% > 30%):
#   rc 1, ri 1, no answered lean trial -> bias, discriminability, every block bias and
#   bias_change absent; rich_accuracy 1/2; lean_accuracy absent; flags mostly_omissions
# Session "c", two blocks only, always the rich length's answer:
#   block 1: rich right, lean wrong -> 1.5, 0.5, 0.5, 1.5 -> 0.5 log10(2.25 / 0.25) = log10(3)
#   block 2: rich right x2, lean wrong -> 2.5, 0.5, 0.5, 1.5 -> 0.5 log10(3.75 / 0.25)
#            = 0.5 log10(15)
#   all: 3.5, 0.5, 0.5, 2.5 -> bias 0.5 log10(8.75 / 0.25) = 0.5 log10(35);
#        discriminability 0.5 log10(1.75 / 1.25) = 0.5 log10(1.4)
#   block 3 absent; bias_change = 0.5 log10(15) - log10(3) = 0.5 log10(15/9) = 0.5 log10(5/3)
#   rich_accuracy 1, lean_accuracy 0; flags one_option_only
# Session "d", blocks 1 and 3 answered, block 2 all lean (no rich answer):
#   block 1: rich right, lean right -> 1.5, 0.5, 1.5, 0.5 -> 0.5 log10(0.75 / 0.75) = 0
#   block 2: lean right, lean wrong -> no rich answer -> absent
#   block 3: rich wrong, lean right -> 0.5, 1.5, 1.5, 0.5 -> 0.5 log10(0.25 / 2.25) = -log10(3)
#   all: rc 1, ri 1, lc 3, li 1 -> 1.5, 1.5, 3.5, 1.5
#        bias 0.5 log10(2.25 / 5.25) = 0.5 log10(3/7); discriminability 0.5 log10(5.25 / 2.25)
#        = 0.5 log10(7/3)
#   bias_change = block 3 - block 1 = -log10(3); rich_accuracy 1/2; lean_accuracy 3/4
#   RTs 100, 120, 500, 640, 700, 560: 2 of 6 under 150 ms (33% > 10%) -> too_fast
HAND_TRIALS = _trials(
    [
        ("a", 12, 3, "lean", 0, 610.0),
        ("a", 1, 1, "rich", 1, 420.0),
        ("a", 2, 1, "rich", 1, 380.0),
        ("a", 3, 1, "lean", 1, 500.0),
        ("a", 4, 1, "lean", 0, 720.0),
        ("a", 5, 2, "rich", 1, 455.0),
        ("a", 6, 2, "rich", 0, 530.0),
        ("a", 7, 2, "lean", 1, 480.0),
        ("a", 8, 2, "lean", NONE, NONE),
        ("a", 9, 3, "rich", 1, 400.0),
        ("a", 10, 3, "rich", 1, 445.5),
        ("a", 11, 3, "lean", 0, 590.0),
        ("b", 1, 1, "rich", 1, 500.0),
        ("b", 2, 1, "lean", NONE, NONE),
        ("b", 3, 1, "rich", 0, 650.0),
        ("b", 4, 1, "lean", NONE, NONE),
        ("c", 1, 1, "rich", 1, 400.0),
        ("c", 2, 1, "lean", 0, 420.0),
        ("c", 3, 2, "rich", 1, 380.0),
        ("c", 4, 2, "lean", 0, 450.0),
        ("c", 5, 2, "rich", 1, 410.0),
        ("d", 1, 1, "rich", 1, 100.0),
        ("d", 2, 1, "lean", 1, 120.0),
        ("d", 3, 2, "lean", 1, 500.0),
        ("d", 4, 2, "lean", 0, 640.0),
        ("d", 5, 3, "rich", 0, 700.0),
        ("d", 6, 3, "lean", 1, 560.0),
    ]
)

EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "response_bias": 0.5 * log10(77 / 15),
        "discriminability": 0.5 * log10(55 / 21),
        "response_bias_block_1": 0.5 * log10(5),
        "response_bias_block_2": 0.5 * log10(1 / 3),
        "response_bias_block_3": log10(5),
        "bias_change": 0.5 * log10(5),
        "rich_accuracy": 5 / 6,
        "lean_accuracy": 2 / 5,
    },
    "b": {"rich_accuracy": 0.5},
    "c": {
        "response_bias": 0.5 * log10(35),
        "discriminability": 0.5 * log10(1.4),
        "response_bias_block_1": log10(3),
        "response_bias_block_2": 0.5 * log10(15),
        "bias_change": 0.5 * log10(5 / 3),
        "rich_accuracy": 1.0,
        "lean_accuracy": 0.0,
    },
    "d": {
        "response_bias": 0.5 * log10(3 / 7),
        "discriminability": 0.5 * log10(7 / 3),
        "response_bias_block_1": 0.0,
        "response_bias_block_3": -log10(3),
        "bias_change": -log10(3),
        "rich_accuracy": 0.5,
        "lean_accuracy": 0.75,
    },
}

EXPECTED_FLAGS = {"a": [], "b": [MOSTLY_OMISSIONS], "c": [ONE_OPTION_ONLY], "d": [TOO_FAST]}


@pytest.mark.parametrize("session", sorted(EXPECTED))
def test_hand_computed_metrics(session: str) -> None:
    values = extract(HAND_TRIALS).session_values(session)

    assert set(values) == set(EXPECTED[session])
    for metric, expected in EXPECTED[session].items():
        assert values[metric] == pytest.approx(expected, rel=1e-12, abs=1e-15), metric


def test_hand_computed_flags() -> None:
    assert extract(HAND_TRIALS).flags == EXPECTED_FLAGS
    assert quality_flags(HAND_TRIALS) == EXPECTED_FLAGS


def test_each_session_alone_gives_the_same_values_as_in_the_batch() -> None:
    batch = extract(HAND_TRIALS)

    for session in EXPECTED:
        alone = extract(HAND_TRIALS[HAND_TRIALS["session"] == session])
        assert alone.session_values(session) == batch.session_values(session)
        assert alone.flags[session] == batch.flags[session]


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns() -> None:
    metrics = extract(HAND_TRIALS).metrics

    assert list(metrics.columns) == list(METRIC_NAMES)
    assert list(metrics.index) == ["a", "b", "c", "d"]
    assert all(str(dtype) == "float64" for dtype in metrics.dtypes)


def test_blocks_come_from_the_block_column_not_from_positions() -> None:
    # Four trials all in block 2: positions 1..4 would be "block 1" by position.
    trials = _trials(
        [
            ("s", 1, 2, "rich", 1, 400.0),
            ("s", 2, 2, "lean", 1, 500.0),
            ("s", 3, 2, "rich", 1, 450.0),
            ("s", 4, 2, "lean", 0, 550.0),
        ]
    )

    values = extract(trials).session_values("s")

    # rc 2, ri 0, lc 1, li 1 -> 2.5, 0.5, 1.5, 1.5 -> 0.5 log10(3.75 / 0.75) = 0.5 log10(5)
    assert values["response_bias_block_2"] == pytest.approx(0.5 * log10(5), rel=1e-12)
    assert "response_bias_block_1" not in values
    assert "bias_change" not in values  # one block only


@pytest.mark.parametrize(
    ("rts", "expected"),
    [
        pytest.param([500.0] * 6, [TOO_UNIFORM], id="identical-times"),
        pytest.param([500.0, 505.0, 495.0, 500.0, 502.0, 498.0], [TOO_UNIFORM], id="cv-below-2pc"),
        pytest.param([400.0, 450.0, 500.0, 550.0, 600.0, 140.0], [TOO_FAST], id="1-of-6-fast"),
        pytest.param([400.0, 450.0, 500.0, 550.0, 600.0, 650.0], [], id="human"),
        pytest.param([NONE] * 6, [], id="imported-without-times"),
    ],
)
def test_response_time_flags(rts: list[float], expected: list[str]) -> None:
    # Alternating rich right / lean right: two answers, so never one_option_only.
    rows = [
        ("s", trial, 1, "rich" if trial % 2 else "lean", 1, rt)
        for trial, rt in enumerate(rts, start=1)
    ]

    assert extract(_trials(rows)).flags == {"s": expected}


def test_omissions_at_exactly_30_percent_are_not_flagged() -> None:
    rows: list[Row] = [
        ("s", trial, 1, "rich" if trial % 2 else "lean", NONE if trial <= 3 else 1, NONE)
        for trial in range(1, 11)
    ]
    rows = [(s, t, b, k, c, NONE if math.isnan(c) else 400.0 + 10 * t) for s, t, b, k, c, _ in rows]

    assert extract(_trials(rows)).flags == {"s": []}
    rows[3] = ("s", 4, 1, "lean", NONE, NONE)
    assert extract(_trials(rows)).flags == {"s": [MOSTLY_OMISSIONS]}


def test_always_the_lean_length_is_one_option_only() -> None:
    rows: list[Row] = [
        ("s", 1, 1, "rich", 0, 400.0),
        ("s", 2, 1, "lean", 1, 500.0),
        ("s", 3, 1, "rich", 0, 450.0),
    ]

    assert extract(_trials(rows)).flags == {"s": [ONE_OPTION_ONLY]}


def test_a_session_without_any_answer_has_no_metrics_and_is_mostly_omissions() -> None:
    rows: list[Row] = [("s", 1, 1, "rich", NONE, NONE), ("s", 2, 1, "lean", NONE, NONE)]

    result = extract(_trials(rows))

    assert result.session_values("s") == {}
    assert result.flags == {"s": [MOSTLY_OMISSIONS]}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert result.flags == {}


# The sample file (tests/data/sample.csv):
# P01: block 1 rich right 512, lean right 630.5; block 2 rich right 480, lean right 701;
#      block 3 rich wrong 555, lean missed
#   all: rc 2, ri 1, lc 2, li 0 -> 2.5, 1.5, 2.5, 0.5
#   response_bias 0.5 log10(2.5 * 0.5 / (1.5 * 2.5)) = 0.5 log10(1/3)
#   discriminability 0.5 log10(2.5 * 2.5 / (1.5 * 0.5)) = 0.5 log10(25/3)
#   blocks 1 and 2: 1.5, 0.5, 1.5, 0.5 -> 0 each; block 3 has no answered lean -> absent
#   bias_change = block 2 - block 1 = 0; rich_accuracy 2/3, lean_accuracy 1
# P02 (one block): rich right 300, lean wrong 350, rich right (no time), lean right 410
#   rc 2, ri 0, lc 1, li 1 -> 2.5, 0.5, 1.5, 1.5
#   response_bias 0.5 log10(3.75 / 0.75) = 0.5 log10(5); discriminability the same
#   block 1 = the whole; bias_change absent; rich_accuracy 1, lean_accuracy 1/2
SAMPLE_EXPECTED: dict[str, dict[str, float]] = {
    "P01": {
        "response_bias": 0.5 * log10(1 / 3),
        "discriminability": 0.5 * log10(25 / 3),
        "response_bias_block_1": 0.0,
        "response_bias_block_2": 0.0,
        "bias_change": 0.0,
        "rich_accuracy": 2 / 3,
        "lean_accuracy": 1.0,
    },
    "P02": {
        "response_bias": 0.5 * log10(5),
        "discriminability": 0.5 * log10(5),
        "response_bias_block_1": 0.5 * log10(5),
        "rich_accuracy": 1.0,
        "lean_accuracy": 0.5,
    },
}


def test_sample_file_gives_the_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert list(result.metrics.index) == ["P01", "P02"]
    for participant, expected in SAMPLE_EXPECTED.items():
        values = result.session_values(participant)
        assert set(values) == set(expected)
        for metric, value in expected.items():
            assert values[metric] == pytest.approx(value, rel=1e-12, abs=1e-15), metric
    assert result.flags == {"P01": [], "P02": []}


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 5_000, 60
    size = n_sessions * n_trials
    correct = np.where(rng.random(size) < 0.05, np.nan, (rng.random(size) < 0.75).astype(float))
    trials = pd.DataFrame(
        {
            "session": np.repeat(np.arange(n_sessions), n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "block": np.tile(np.repeat([1, 2, 3], n_trials // 3), n_sessions),
            "stimulus": np.where(rng.random(size) < 0.5, "rich", "lean"),
            "correct": correct,
            "rt_ms": np.where(np.isnan(correct), np.nan, rng.gamma(8.0, 70.0, size)),
        }
    ).sample(frac=1.0, random_state=3)

    batch = extract(trials)

    for session in (0, 1234, n_sessions - 1):
        alone = extract(trials[trials["session"] == session])
        assert batch.session_values(session) == pytest.approx(alone.session_values(session))
