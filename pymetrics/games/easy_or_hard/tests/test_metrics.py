"""Easy-or-hard metrics checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.easy_or_hard.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.easy_or_hard.spec import TRIAL_COLUMNS
from pymetrics.games.quality import MOSTLY_OMISSIONS, ONE_OPTION_ONLY, TOO_FAST, TOO_UNIFORM

ABSENT = math.nan
NO_RT = math.nan

Row = tuple[str, int, float, float, str, int, float, int]


def _trials(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))


# Columns: session, trial, probability, reward, choice, completed, rt_ms, timed_out.
#
# Session "a", 6 trials (rows out of order on purpose):
#   trial  p     reward  choice  completed
#   1      0.12  2.00    easy    1
#   2      0.5   3.00    hard    1
#   3      0.88  4.00    hard    0
#   4      0.12  1.50    easy    1
#   5      0.5   2.50    hard    1
#   6      0.88  3.50    easy    1
#   hard_choice_rate = 3/6 = 0.5
#   p12: trials 1, 4 -> 0/2 = 0;  p50: trials 2, 5 -> 2/2 = 1;  p88: trials 3, 6 -> 1/2 = 0.5
#   completion_rate = 5/6
#   reward_sensitivity: x = hard = 0 1 1 0 1 0 (mean 0.5), y = reward (mean 16.5/6 = 2.75)
#     dx = -.5 .5 .5 -.5 .5 -.5;  dy = -.75 .25 1.25 -1.25 -.25 .75
#     sum dx*dy = .375 + .125 + .625 + .625 - .125 - .375 = 1.25
#     sum dx^2 = 6 * .25 = 1.5;  sum dy^2 = .5625 + .0625 + 1.5625 + 1.5625 + .0625 + .5625 = 4.375
#     r = 1.25 / sqrt(1.5 * 4.375) = 1.25 / sqrt(105/16) = 5 / sqrt(105) = 0.48795...
#
# Session "b", every choice easy, no 0.88 trial, no response times (as if imported):
#   1: 0.12 1.24 easy 1   2: 0.5 4.30 easy 1   3: 0.12 2.00 easy 0   4: 0.5 3.10 easy 1
#   hard_choice_rate = 0; p12 = 0/2 = 0; p50 = 0/2 = 0; p88 absent (no trials)
#   reward_sensitivity absent (choosing hard never varies); completion_rate = 3/4
#
# Session "c", the same reward on every trial (2.37, not exact in binary on purpose):
#   1: 0.88 hard 1   2: 0.88 easy 1   3: 0.5 hard 1
#   hard_choice_rate = 2/3; p12 absent; p50 = 1/1 = 1; p88 = 1/2 = 0.5
#   reward_sensitivity absent (no reward variance); completion_rate = 3/3 = 1
#
# Session "d", two trials: easy at 1.24, hard at 4.30 -> two points lie on a line: r = 1
#   hard_choice_rate = 1/2; p12 = 0/1 = 0 (trial 1); p88 = 1/1 = 1 (trial 2); p50 absent
#   completion_rate = 1/2 (trial 2 not completed)
HAND_TRIALS = _trials(
    [
        ("c", 3, 0.5, 2.37, "hard", 1, 900.0, 0),
        ("a", 4, 0.12, 1.50, "easy", 1, 820.0, 0),
        ("a", 1, 0.12, 2.00, "easy", 1, 1200.0, 0),
        ("a", 6, 0.88, 3.50, "easy", 1, 640.0, 0),
        ("a", 2, 0.5, 3.00, "hard", 1, 1010.0, 0),
        ("a", 3, 0.88, 4.00, "hard", 0, 700.0, 0),
        ("a", 5, 0.5, 2.50, "hard", 1, 950.0, 0),
        ("b", 1, 0.12, 1.24, "easy", 1, NO_RT, 0),
        ("b", 2, 0.5, 4.30, "easy", 1, NO_RT, 0),
        ("b", 3, 0.12, 2.00, "easy", 0, NO_RT, 0),
        ("b", 4, 0.5, 3.10, "easy", 1, NO_RT, 0),
        ("c", 1, 0.88, 2.37, "hard", 1, 1500.0, 0),
        ("c", 2, 0.88, 2.37, "easy", 1, 1100.0, 0),
        ("d", 2, 0.88, 4.30, "hard", 0, 2000.0, 0),
        ("d", 1, 0.12, 1.24, "easy", 1, 1000.0, 0),
    ]
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "hard_choice_rate": 0.5,
        "hard_choice_rate_p12": 0.0,
        "hard_choice_rate_p50": 1.0,
        "hard_choice_rate_p88": 0.5,
        "reward_sensitivity": 5 / math.sqrt(105),
        "completion_rate": 5 / 6,
    },
    "b": {
        "hard_choice_rate": 0.0,
        "hard_choice_rate_p12": 0.0,
        "hard_choice_rate_p50": 0.0,
        "hard_choice_rate_p88": ABSENT,
        "reward_sensitivity": ABSENT,
        "completion_rate": 0.75,
    },
    "c": {
        "hard_choice_rate": 2 / 3,
        "hard_choice_rate_p12": ABSENT,
        "hard_choice_rate_p50": 1.0,
        "hard_choice_rate_p88": 0.5,
        "reward_sensitivity": ABSENT,
        "completion_rate": 1.0,
    },
    "d": {
        "hard_choice_rate": 0.5,
        "hard_choice_rate_p12": 0.0,
        "hard_choice_rate_p50": ABSENT,
        "hard_choice_rate_p88": 1.0,
        "reward_sensitivity": 1.0,
        "completion_rate": 0.5,
    },
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for whole numbers and halves; approx only where a true division rounds."""
    if math.isnan(expected):
        assert math.isnan(actual)
    elif float(expected * 2).is_integer():
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
    assert list(METRIC_NAMES) == [
        "hard_choice_rate",
        "hard_choice_rate_p12",
        "hard_choice_rate_p50",
        "hard_choice_rate_p88",
        "reward_sensitivity",
        "completion_rate",
    ]
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_all_easy_session_leaves_absent_metrics_out_of_stored_values() -> None:
    values = extract(HAND_TRIALS).session_values("b")

    assert "reward_sensitivity" not in values
    assert "hard_choice_rate_p88" not in values
    assert values == {
        "hard_choice_rate": 0.0,
        "hard_choice_rate_p12": 0.0,
        "hard_choice_rate_p50": 0.0,
        "completion_rate": 0.75,
    }


def test_no_reward_variance_leaves_reward_sensitivity_absent() -> None:
    values = extract(HAND_TRIALS).session_values("c")

    assert "reward_sensitivity" not in values
    assert "hard_choice_rate_p12" not in values


def test_a_session_alone_gives_the_same_values_as_in_a_batch() -> None:
    batch = extract(HAND_TRIALS)
    alone = extract(HAND_TRIALS[HAND_TRIALS["session"] == "a"])

    assert alone.session_values("a") == pytest.approx(batch.session_values("a"), rel=1e-12)


# Session "neg": reward falls as hard choices rise -> r is the negative of the mirrored case.
#   1: 0.5 1.24 hard   2: 0.5 4.30 easy   3: 0.5 2.77 hard
#   x = 1 0 1 (mean 2/3); y mean = 8.31/3 = 2.77
#   dx = 1/3 -2/3 1/3; dy = -1.53 1.53 0
#   sum dx*dy = -0.51 - 1.02 + 0 = -1.53; sum dx^2 = 6/9 = 2/3; sum dy^2 = 2 * 1.53^2 = 4.6818
#   r = -1.53 / sqrt(2/3 * 4.6818) = -1.53 / sqrt(3.1212) = -0.866025... = -sqrt(3)/2
def test_reward_sensitivity_is_negative_when_bigger_rewards_meet_easy_choices() -> None:
    trials = _trials(
        [
            ("neg", 1, 0.5, 1.24, "hard", 1, 800.0, 0),
            ("neg", 2, 0.5, 4.30, "easy", 1, 900.0, 0),
            ("neg", 3, 0.5, 2.77, "hard", 1, 1000.0, 0),
        ]
    )

    value = _metric(extract(trials), "neg", "reward_sensitivity")

    assert value == pytest.approx(-math.sqrt(3) / 2, rel=1e-12)


def test_timed_out_trials_still_count_as_trials() -> None:
    # 4 trials: 1 hard chosen, 2 assigned hard after a timeout, 3 and 4 easy:
    #   hard_choice_rate = 2/4 = 0.5 (the assigned task counts), completion 4/4 = 1.
    trials = _trials(
        [
            ("t", 1, 0.5, 2.00, "hard", 1, 900.0, 0),
            ("t", 2, 0.5, 3.00, "hard", 1, NO_RT, 1),
            ("t", 3, 0.12, 2.00, "easy", 1, 700.0, 0),
            ("t", 4, 0.88, 2.00, "easy", 1, 1300.0, 0),
        ]
    )

    values = extract(trials).session_values("t")

    assert values["hard_choice_rate"] == 0.5
    assert values["hard_choice_rate_p50"] == 1.0
    assert values["completion_rate"] == 1.0


def test_hand_table_flags() -> None:
    flags = quality_flags(HAND_TRIALS)

    assert flags == {"a": [], "b": [ONE_OPTION_ONLY], "c": [], "d": []}


def _session(choices: list[str], rts: list[float], timed_out: list[int]) -> list[Row]:
    return [
        ("s", trial, 0.5, 2.0 + trial / 100, choice, 1, rt, out)
        for trial, (choice, rt, out) in enumerate(zip(choices, rts, timed_out, strict=True), 1)
    ]


MIXED = ["easy", "hard"] * 5
VARIED_RTS = [400.0, 520.0, 610.0, 700.0, 850.0, 900.0, 1000.0, 1200.0, 1500.0, 2000.0]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(_session(MIXED, VARIED_RTS, [0] * 10), [], id="typical"),
        pytest.param(
            _session(["hard"] * 10, VARIED_RTS, [0] * 10), [ONE_OPTION_ONLY], id="all-hard"
        ),
        pytest.param(
            _session(["easy"] * 10, VARIED_RTS, [0] * 10), [ONE_OPTION_ONLY], id="all-easy"
        ),
        # 2 of 10 choices below 150 ms = 20% > 10%.
        pytest.param(
            _session(MIXED, [100.0, 120.0, *VARIED_RTS[2:]], [0] * 10), [TOO_FAST], id="too-fast"
        ),
        # 1 of 10 below 150 ms = 10%, not more than 10%.
        pytest.param(_session(MIXED, [100.0, *VARIED_RTS[1:]], [0] * 10), [], id="one-fast"),
        # Every choice at 800 ms: coefficient of variation 0 < 0.02.
        pytest.param(_session(MIXED, [800.0] * 10, [0] * 10), [TOO_UNIFORM], id="uniform"),
        # 4 of 10 offers timed out = 40% > 30%.
        pytest.param(
            _session(MIXED, [NO_RT] * 4 + VARIED_RTS[4:], [1] * 4 + [0] * 6),
            [MOSTLY_OMISSIONS],
            id="mostly-timed-out",
        ),
        # 3 of 10 = 30%, not more than 30%.
        pytest.param(
            _session(MIXED, [NO_RT] * 3 + VARIED_RTS[3:], [1] * 3 + [0] * 7),
            [],
            id="three-timed-out",
        ),
        # Imported rows: no response times and no timeouts -> nothing to judge.
        pytest.param(_session(MIXED, [NO_RT] * 10, [0] * 10), [], id="imported"),
    ],
)
def test_quality_flags(rows: list[Row], expected: list[str]) -> None:
    result = extract(_trials(rows))

    assert result.flags == {"s": expected}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 10_000, 30
    size = n_sessions * n_trials
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "probability": rng.choice([0.12, 0.5, 0.88], size),
            "reward": rng.integers(124, 431, size) / 100,
            "choice": rng.choice(["easy", "hard"], size).astype(object),
            "completed": rng.integers(0, 2, size),
            "rt_ms": rng.uniform(300.0, 3000.0, size),
            "timed_out": np.zeros(size, dtype="int64"),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
