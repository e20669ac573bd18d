"""Cards metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.cards import GAME
from pymetrics.games.cards.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.quality import ONE_OPTION_ONLY, TOO_FAST, TOO_UNIFORM
from pymetrics.games.trial_files import TrialFileError, read_trial_file

ABSENT = math.nan
NO_RT = math.nan
A, B, C, D = 0, 1, 2, 3
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Row = tuple[str, int, int, float, float, float]


def _trials(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", "deck", "gain", "loss", "rt_ms"])


# Session "a", 6 choices (rows given out of order on purpose):
#   trial  deck gain loss  rt
#     1     A   100    0   900
#     2     B   100    0  1100
#     3     C    50   50   800
#     4     C    50    0  1000
#     5     C    50    0  1200
#     6     A   100  150   700
#   good C+D = 3, bad A+B = 3 -> net_score = 0; block 1 (choices 1-6) = 0
#   blocks 2-5 do not exist -> absent; one block only -> learning_slope absent
#   rates A 2/6, B 1/6, C 3/6, D 0
#   net_earnings = (100+100+50+50+50+100) - (50+150) = 450 - 200 = 250
#   win_stay_rate: pairs whose first card lost nothing: 1->2 (A->B switch),
#   2->3 (B->C switch), 4->5 (C->C stay), 5->6 (C->A switch); 3->4 follows a
#   loss and is left out -> 1 stay of 4 = 0.25
SESSION_A: list[Row] = [
    ("a", 4, C, 50, 0, 1000.0),
    ("a", 1, A, 100, 0, 900.0),
    ("a", 6, A, 100, 150, 700.0),
    ("a", 2, B, 100, 0, 1100.0),
    ("a", 5, C, 50, 0, 1200.0),
    ("a", 3, C, 50, 50, 800.0),
]

# Session "b", 45 imported choices (no reaction times): blocks 1, 2 and a partial 3.
#   trials  1-12 B gain 100, loss 0 except trial 9 loss 1250
#   trials 13-20 D gain 50, loss 0              block 1: good 8 - bad 12 = -4
#   trials 21-25 A gain 100, loss 0
#   trials 26-40 D gain 50, loss 0 except trial 35 loss 250
#                                               block 2: good 15 - bad 5 = 10
#   trials 41-45 C gain 50, loss 0              block 3 (partial, 5 choices): 5
#   net_score = -4 + 10 + 5 = 11 (good 28, bad 17)
#   learning_slope over blocks 1..3 with y = -4, 10, 5: x mean 2, Sxx = 1 + 0 + 1 = 2,
#     Sxy = (-1)(-4 - 11/3) + 0 + (1)(5 - 11/3) = -(-4) + 5 = 9 -> slope 9/2 = 4.5
#   rates A 5/45 = 1/9, B 12/45 = 4/15, C 5/45 = 1/9, D 23/45
#   net_earnings = (1200 + 500 + 1150 + 250) - (1250 + 250) = 3100 - 1500 = 1600
#   win_stay_rate: 44 pairs; the pairs after trials 9 and 35 follow losses -> 42;
#   deck changes 12->13, 20->21, 25->26, 40->41 are all after no-loss cards
#   -> 42 - 4 = 38 stays -> 38/42 = 19/21
SESSION_B: list[Row] = [
    *[("b", t, B, 100, 1250 if t == 9 else 0, NO_RT) for t in range(1, 13)],
    *[("b", t, D, 50, 0, NO_RT) for t in range(13, 21)],
    *[("b", t, A, 100, 0, NO_RT) for t in range(21, 26)],
    *[("b", t, D, 50, 250 if t == 35 else 0, NO_RT) for t in range(26, 41)],
    *[("b", t, C, 50, 0, NO_RT) for t in range(41, 46)],
]

# Session "c", the full 100 choices: A on 1-30, C on 31-60, D on 61-100; only
# trial 1 loses (150); rt 510, 520, ..., 1500 ms.
#   block nets: 1 (1-20, all A) -20; 2 (21-30 A, 31-40 C) 0; 3 (C) 20; 4, 5 (D) 20, 20
#   net_score = 70 - 30 = 40
#   learning_slope: x mean 3, y mean 8, Sxx = 4 + 1 + 0 + 1 + 4 = 10,
#     Sxy = (-2)(-20 - 8) + (-1)(0 - 8) + 0 + (1)(20 - 8) + (2)(20 - 8) = 56 + 8 + 12 + 24
#     = 100 -> slope 10
#   rates A 0.3, B 0, C 0.3, D 0.4
#   net_earnings = 30*100 + 30*50 + 40*50 - 150 = 6500 - 150 = 6350
#   win_stay_rate: 99 pairs, 1->2 follows the loss -> 98; switches 30->31, 60->61
#   -> 96/98 = 48/49
SESSION_C: list[Row] = [
    ("c", t, A if t <= 30 else (C if t <= 60 else D), 100 if t <= 30 else 50,
     150 if t == 1 else 0, 500.0 + 10 * t)
    for t in range(1, 101)
]  # fmt: skip

# Session "d", one deck throughout and answers faster than anyone can react:
#   B, B, B with losses 0, 0, 1250; rt 100, 120, 90 (all < 150 ms)
#   net_score = -3 = block 1; slope absent; rate B = 1, others 0
#   net_earnings = 300 - 1250 = -950; win_stay: 1->2 and 2->3 both stay -> 1
#   flags: one_option_only, too_fast (3 of 3 responses < 150 ms)
SESSION_D: list[Row] = [
    ("d", 1, B, 100, 0, 100.0),
    ("d", 2, B, 100, 0, 120.0),
    ("d", 3, B, 100, 1250, 90.0),
]

# Session "e", every card loses something and the times hardly vary:
#   A 100/150, C 50/50, A 100/200, C 50/25; rt 1000, 1000, 1000, 1001
#   net_score 0 = block 1; slope absent; rates A 0.5, C 0.5
#   net_earnings = 300 - 425 = -125; no card lost nothing -> win_stay_rate absent
#   flags: too_uniform (CV = 0.5/1000.25 < 0.02)
SESSION_E: list[Row] = [
    ("e", 1, A, 100, 150, 1000.0),
    ("e", 2, C, 50, 50, 1000.0),
    ("e", 3, A, 100, 200, 1000.0),
    ("e", 4, C, 50, 25, 1001.0),
]

HAND_TRIALS = _trials(SESSION_B + SESSION_A + SESSION_E + SESSION_C + SESSION_D)


def _expected(
    net: float,
    blocks: tuple[float, float, float, float, float],
    slope: float,
    rates: tuple[float, float, float, float],
    earnings: float,
    win_stay: float,
) -> dict[str, float]:
    values = {"net_score": net}
    values.update({f"net_score_block_{k}": value for k, value in enumerate(blocks, start=1)})
    values["learning_slope"] = slope
    values.update({f"deck_{deck}_rate": value for deck, value in zip("abcd", rates, strict=True)})
    values["net_earnings"] = earnings
    values["win_stay_rate"] = win_stay
    return values


HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": _expected(
        0, (0, ABSENT, ABSENT, ABSENT, ABSENT), ABSENT, (1 / 3, 1 / 6, 1 / 2, 0), 250, 0.25
    ),
    "b": _expected(
        11, (-4, 10, 5, ABSENT, ABSENT), 4.5, (1 / 9, 4 / 15, 1 / 9, 23 / 45), 1600, 19 / 21
    ),
    "c": _expected(40, (-20, 0, 20, 20, 20), 10, (0.3, 0, 0.3, 0.4), 6350, 48 / 49),
    "d": _expected(-3, (-3, ABSENT, ABSENT, ABSENT, ABSENT), ABSENT, (0, 1, 0, 0), -950, 1),
    "e": _expected(0, (0, ABSENT, ABSENT, ABSENT, ABSENT), ABSENT, (0.5, 0, 0.5, 0), -125, ABSENT),
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

    assert list(result.metrics.index) == ["a", "b", "c", "d", "e"]
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_absent_metrics_are_left_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    a_values = result.session_values("a")
    assert "learning_slope" not in a_values
    assert not {f"net_score_block_{k}" for k in range(2, 6)} & set(a_values)
    assert a_values["net_score_block_1"] == 0.0
    assert "win_stay_rate" not in result.session_values("e")
    assert result.session_values("d") == {
        "net_score": -3.0,
        "net_score_block_1": -3.0,
        "deck_a_rate": 0.0,
        "deck_b_rate": 1.0,
        "deck_c_rate": 0.0,
        "deck_d_rate": 0.0,
        "net_earnings": -950.0,
        "win_stay_rate": 1.0,
    }


def test_hand_flags_per_session() -> None:
    assert quality_flags(HAND_TRIALS) == {
        "a": [],
        "b": [],
        "c": [],
        "d": [ONE_OPTION_ONLY, TOO_FAST],
        "e": [TOO_UNIFORM],
    }


def test_one_session_alone_gives_the_same_values_as_in_the_batch() -> None:
    together = extract(HAND_TRIALS)
    alone = extract(_trials(SESSION_B))

    assert alone.session_values("b") == together.session_values("b")


# Session "gaps" has trial numbers 2, 4, ..., 44 (22 choices): blocks follow positions,
# not numbers. Positions 1-20 (trials 2..40) are deck A -> block 1 = -20; positions
# 21-22 (trials 42, 44) are deck C -> block 2 = 2; slope over two blocks = 2 - (-20) = 22.
GAPS_TRIALS = _trials(
    [("gaps", t, A if t <= 40 else C, 100, 0, 900.0 + t) for t in range(44, 0, -2)]
)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        pytest.param("net_score_block_1", -20.0, id="block_1"),
        pytest.param("net_score_block_2", 2.0, id="block_2"),
        pytest.param("net_score_block_3", ABSENT, id="block_3"),
        pytest.param("learning_slope", 22.0, id="slope"),
        pytest.param("net_score", -18.0, id="net"),
    ],
)
def test_blocks_follow_trial_order_positions_not_trial_numbers(
    metric: str, expected: float
) -> None:
    result = extract(GAPS_TRIALS)

    _assert_metric(_metric(result, "gaps", metric), expected)


# Session "long", 105 imported choices (more than the task's 100): D on 1-100, then
# A on 101-105. The blocks stop at choice 100 (all five +20, slope 0), but the
# whole-session metrics count every choice: net 100 - 5 = 95, rate A 5/105 = 1/21.
LONG_TRIALS = _trials([("long", t, D if t <= 100 else A, 50, 0, NO_RT) for t in range(1, 106)])


def test_choices_past_the_hundredth_count_for_the_session_but_no_block() -> None:
    values = extract(LONG_TRIALS).session_values("long")

    assert [values[f"net_score_block_{k}"] for k in range(1, 6)] == [20.0] * 5
    assert values["learning_slope"] == 0.0
    assert values["net_score"] == 95.0
    assert values["deck_a_rate"] == pytest.approx(1 / 21, rel=1e-12)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([("s", 1, A, 100, 0, 800.0), ("s", 2, A, 100, 0, 950.0)],
                     [ONE_OPTION_ONLY], id="one-deck"),
        pytest.param([("s", 1, A, 100, 0, 800.0), ("s", 2, D, 50, 0, 950.0)], [],
                     id="two-decks"),
        pytest.param([("s", 1, C, 50, 0, NO_RT)], [ONE_OPTION_ONLY], id="single-choice"),
        # 1 of 10 responses under 150 ms is not "more than 10%"; 2 of 10 is.
        pytest.param([("s", t, t % 4, 50, 0, 100.0 if t == 1 else 600.0 + 37 * t)
                      for t in range(1, 11)], [], id="one-fast-in-ten"),
        pytest.param([("s", t, t % 4, 50, 0, 100.0 if t <= 2 else 600.0 + 37 * t)
                      for t in range(1, 11)], [TOO_FAST], id="two-fast-in-ten"),
        pytest.param([("s", t, t % 4, 50, 0, NO_RT) for t in range(1, 11)], [],
                     id="imported-no-times"),
    ],
)  # fmt: skip
def test_quality_flags(rows: list[Row], expected: list[str]) -> None:
    result = extract(_trials(rows))

    assert result.flags == {"s": expected}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


# tests/data/sample.csv, read through the platform's trial-file reader:
#   p1: A 100/0, B 100/-1250 (magnitude 1250), C ("3") 50/50, D 50/0, C 50/-25
#     net = (C, D, C) 3 - (A, B) 2 = 1 = block 1; slope absent
#     rates A 0.2, B 0.2, C 0.4, D 0.2
#     net_earnings = 350 - (1250 + 50 + 25) = -975
#     win_stay: 1->2 (no loss, A->B switch), 4->5 (no loss, D->C switch); 2->3 and
#     3->4 follow losses -> 0 of 2 = 0
#   p2 (rows out of order): trial 1 D 50/250, 2 D 50/0, 3 D 50/0
#     net 3 = block 1; rate D 1; net_earnings 150 - 250 = -100
#     win_stay: 1->2 follows a loss; 2->3 stays -> 1 of 1 = 1; one_option_only
def test_sample_file_gives_the_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert trials["rt_ms"].isna().all()
    assert result.session_values("p1") == {
        "net_score": 1.0,
        "net_score_block_1": 1.0,
        "deck_a_rate": 0.2,
        "deck_b_rate": 0.2,
        "deck_c_rate": 0.4,
        "deck_d_rate": 0.2,
        "net_earnings": -975.0,
        "win_stay_rate": 0.0,
    }
    assert result.session_values("p2") == {
        "net_score": 3.0,
        "net_score_block_1": 3.0,
        "deck_a_rate": 0.0,
        "deck_b_rate": 0.0,
        "deck_c_rate": 0.0,
        "deck_d_rate": 1.0,
        "net_earnings": -100.0,
        "win_stay_rate": 1.0,
    }
    assert result.flags == {"p1": [], "p2": [ONE_OPTION_ONLY]}


def test_a_bad_sample_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("participant,trial,deck,gain,loss\np1,1,A,100,0\np1,2,E,100,0\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (3, "deck")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 10_000, 100
    size = n_sessions * n_trials
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "deck": rng.integers(0, 4, size),
            "gain": rng.choice([50.0, 100.0], size),
            "loss": rng.choice([0.0, 0.0, 50.0, 250.0, 1250.0], size),
            "rt_ms": rng.uniform(300.0, 3000.0, size),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
