"""Arrows metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.arrows import GAME
from pymetrics.games.arrows.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import MOSTLY_OMISSIONS, TOO_FAST, TOO_UNIFORM
from pymetrics.games.trial_files import TrialFileError, read_trial_file

ABSENT = math.nan
NO_RT = math.nan
C, F = "centre", "flankers"
SAMPLE = Path(__file__).parent / "data" / "sample.csv"


def _trials(rows: list[tuple[str, int, int, str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", "congruent", "rule", "rt_ms", "correct"])


# Columns: trial, congruent (1 = C, 0 = I), rule, rt_ms, correct. sw = switch, rep = repeat.
#
# Session "a", 8 trials, rows given out of order on purpose:
#   1 C centre   400 ok   (first: neither)
#   2 I centre   500 ok   rep
#   3 I flankers 650 ok   sw
#   4 I flankers 450 err  rep
#   5 C centre   420 ok   sw
#   6 I centre   --  omission, rep
#   7 I flankers 700 ok   sw
#   8 C flankers 380 ok   rep
#   accuracy = 6/8 = 0.75
#   rt_mean_ms = (400 + 500 + 650 + 420 + 700 + 380) / 6 = 3050/6 = 1525/3
#   congruent correct RT (1, 5, 8) = (400 + 420 + 380)/3 = 400
#   incongruent correct RT (2, 3, 7) = (500 + 650 + 700)/3 = 1850/3
#   congruency_effect_rt_ms = 1850/3 - 400 = 650/3
#   congruent accuracy 3/3 = 1; incongruent (2, 3, 4, 6, 7) 3/5 = 0.6
#   congruency_effect_accuracy = 1 - 0.6 = 0.4
#   switch correct RT (3, 5, 7) = (650 + 420 + 700)/3 = 590
#   repeat correct RT (2, 8; 4 wrong, 6 omitted) = (500 + 380)/2 = 440
#   switch_cost_rt_ms = 590 - 440 = 150
# Session "b", every trial under one rule (no switch trials) and no incongruent
# trial correct:
#   1 C flankers 600 ok; 2 I flankers 550 err; 3 C flankers 640 ok; 4 I flankers -- omission
#   accuracy = 2/4 = 0.5; rt_mean_ms = (600 + 640)/2 = 620
#   congruency_effect_rt_ms absent (no incongruent correct trial)
#   congruency_effect_accuracy = 2/2 - 0/2 = 1
#   switch_cost_rt_ms absent (only repeats)
# Session "c", a single trial: 1 I centre 480 ok
#   accuracy 1; rt_mean_ms 480; congruency effects absent (no congruent trial);
#   switch_cost_rt_ms absent (the first trial is neither switch nor repeat)
# Session "d", all omissions: 1 C centre --; 2 I flankers --; 3 C centre --
#   accuracy 0/3 = 0; every RT metric absent;
#   congruency_effect_accuracy = 0/2 - 0/1 = 0
# Session "e" follows "d", whose last trial is a centre trial: sessions must be kept
# apart, or e's first trial would count as a repeat (and the cost would be 75):
#   1 C centre 500 ok; 2 C flankers 600 ok sw; 3 C flankers 550 ok rep
#   accuracy 1; rt_mean_ms = 1650/3 = 550; congruency effects absent (no incongruent)
#   switch_cost_rt_ms = 600 - 550 = 50
HAND_TRIALS = _trials(
    [
        ("e", 3, 1, F, 550.0, 1),
        ("a", 5, 1, C, 420.0, 1),
        ("a", 1, 1, C, 400.0, 1),
        ("a", 8, 1, F, 380.0, 1),
        ("a", 3, 0, F, 650.0, 1),
        ("a", 2, 0, C, 500.0, 1),
        ("a", 6, 0, C, NO_RT, 0),
        ("a", 4, 0, F, 450.0, 0),
        ("a", 7, 0, F, 700.0, 1),
        ("b", 1, 1, F, 600.0, 1),
        ("b", 2, 0, F, 550.0, 0),
        ("b", 3, 1, F, 640.0, 1),
        ("b", 4, 0, F, NO_RT, 0),
        ("c", 1, 0, C, 480.0, 1),
        ("d", 1, 1, C, NO_RT, 0),
        ("d", 2, 0, F, NO_RT, 0),
        ("d", 3, 1, C, NO_RT, 0),
        ("e", 1, 1, C, 500.0, 1),
        ("e", 2, 1, F, 600.0, 1),
    ]
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "accuracy": 0.75,
        "rt_mean_ms": 1525 / 3,
        "congruency_effect_rt_ms": 650 / 3,
        "congruency_effect_accuracy": 0.4,
        "switch_cost_rt_ms": 150,
    },
    "b": {
        "accuracy": 0.5,
        "rt_mean_ms": 620,
        "congruency_effect_rt_ms": ABSENT,
        "congruency_effect_accuracy": 1,
        "switch_cost_rt_ms": ABSENT,
    },
    "c": {
        "accuracy": 1,
        "rt_mean_ms": 480,
        "congruency_effect_rt_ms": ABSENT,
        "congruency_effect_accuracy": ABSENT,
        "switch_cost_rt_ms": ABSENT,
    },
    "d": {
        "accuracy": 0,
        "rt_mean_ms": ABSENT,
        "congruency_effect_rt_ms": ABSENT,
        "congruency_effect_accuracy": 0,
        "switch_cost_rt_ms": ABSENT,
    },
    "e": {
        "accuracy": 1,
        "rt_mean_ms": 550,
        "congruency_effect_rt_ms": ABSENT,
        "congruency_effect_accuracy": ABSENT,
        "switch_cost_rt_ms": 50,
    },
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for whole numbers; approx only where a true division rounds."""
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
    assert list(result.metrics.columns) == [
        "accuracy",
        "rt_mean_ms",
        "congruency_effect_rt_ms",
        "congruency_effect_accuracy",
        "switch_cost_rt_ms",
    ]
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_no_incongruent_correct_trial_leaves_the_rt_congruency_effect_out() -> None:
    values = extract(HAND_TRIALS).session_values("b")

    assert "congruency_effect_rt_ms" not in values
    assert "switch_cost_rt_ms" not in values
    assert values == {"accuracy": 0.5, "rt_mean_ms": 620.0, "congruency_effect_accuracy": 1.0}


def test_all_omissions_keep_only_the_accuracies() -> None:
    values = extract(HAND_TRIALS).session_values("d")

    assert values == {"accuracy": 0.0, "congruency_effect_accuracy": 0.0}
    for metric in ("rt_mean_ms", "congruency_effect_rt_ms", "switch_cost_rt_ms"):
        assert metric not in values


def test_a_single_trial_has_no_switch_cost_and_no_congruency_effects() -> None:
    values = extract(HAND_TRIALS).session_values("c")

    assert values == {"accuracy": 1.0, "rt_mean_ms": 480.0}


def test_one_rule_throughout_has_no_switch_trials() -> None:
    # 1 C centre 400 ok; 2 I centre 520 ok; 3 C centre 440 ok: all repeats after the first.
    #   rt_mean_ms = 1360/3; congruency_effect_rt_ms = 520 - (400 + 440)/2 = 100
    result = extract(
        _trials([("s", 1, 1, C, 400.0, 1), ("s", 2, 0, C, 520.0, 1), ("s", 3, 1, C, 440.0, 1)])
    )

    values = result.session_values("s")
    assert "switch_cost_rt_ms" not in values
    assert values["congruency_effect_rt_ms"] == 100.0
    assert values["rt_mean_ms"] == pytest.approx(1360 / 3, rel=1e-12)


# Session "gaps" has trial numbers 30, 10, 20 (given in that order): in trial order the
# rules are 10 centre, 20 flankers (switch, 700), 30 flankers (repeat, 500) -> cost 200.
def test_switches_follow_trial_order_not_row_order() -> None:
    result = extract(
        _trials(
            [
                ("gaps", 30, 1, F, 500.0, 1),
                ("gaps", 10, 1, C, 450.0, 1),
                ("gaps", 20, 1, F, 700.0, 1),
            ]
        )
    )

    assert result.session_values("gaps")["switch_cost_rt_ms"] == 200.0


def test_a_wrong_answer_with_an_rt_counts_in_no_rt_mean() -> None:
    # 1 C centre 400 ok; 2 C centre 100 wrong -> rt_mean_ms = 400, accuracy 0.5
    result = extract(_trials([("s", 1, 1, C, 400.0, 1), ("s", 2, 1, C, 100.0, 0)]))

    assert result.session_values("s") == {
        "accuracy": 0.5,
        "rt_mean_ms": 400.0,
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            # 3 of 4 responses (75%) under 150 ms -> too_fast
            [
                ("s", 1, 1, C, 90.0, 1),
                ("s", 2, 1, C, 120.0, 1),
                ("s", 3, 0, F, 100.0, 0),
                ("s", 4, 0, F, 400.0, 1),
            ],
            [TOO_FAST],
            id="too-fast",
        ),
        pytest.param(
            # the same RT three times: coefficient of variation 0 -> too_uniform
            [("s", 1, 1, C, 400.0, 1), ("s", 2, 0, C, 400.0, 1), ("s", 3, 1, F, 400.0, 1)],
            [TOO_UNIFORM],
            id="too-uniform",
        ),
        pytest.param(
            # 2 of 4 trials (50%) without a response -> mostly_omissions
            [
                ("s", 1, 1, C, 400.0, 1),
                ("s", 2, 0, C, NO_RT, 0),
                ("s", 3, 1, F, NO_RT, 0),
                ("s", 4, 0, F, 520.0, 1),
            ],
            [MOSTLY_OMISSIONS],
            id="mostly-omissions",
        ),
        pytest.param(
            # 1 of 4 (25%) omitted and varied RTs above 150 ms: nothing to flag
            [
                ("s", 1, 1, C, 400.0, 1),
                ("s", 2, 0, C, NO_RT, 0),
                ("s", 3, 1, F, 450.0, 1),
                ("s", 4, 0, F, 520.0, 1),
            ],
            [],
            id="clean",
        ),
    ],
)
def test_response_time_flags(
    rows: list[tuple[str, int, int, str, float, int]], expected: list[str]
) -> None:
    result = extract(_trials(rows))

    assert result.flags == {"s": expected}


def test_every_session_gets_a_flag_list() -> None:
    flags = quality_flags(HAND_TRIALS)

    # "d" answered nothing (3 of 3 omitted); "c" has one RT, too few to judge uniformity.
    assert flags == {"a": [], "b": [], "c": [], "d": [MOSTLY_OMISSIONS], "e": []}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


# tests/data/sample.csv (rule spelled in any case; rt_ms empty = no response):
# p1: 1 C centre 412.5 ok; 2 I centre 530 ok rep; 3 I flankers 610 ok sw;
#     4 C flankers 480 ok rep; 5 I centre -- omission sw; 6 C centre 455.5 ok rep
#   accuracy = 5/6
#   rt_mean_ms = (412.5 + 530 + 610 + 480 + 455.5)/5 = 2488/5 = 497.6
#   congruent correct (1, 4, 6) = 1348/3; incongruent correct (2, 3) = 1140/2 = 570
#   congruency_effect_rt_ms = 570 - 1348/3 = 362/3
#   congruent accuracy 3/3 = 1; incongruent (2, 3, 5) 2/3 -> congruency_effect_accuracy 1/3
#   switch correct (3; 5 omitted) = 610; repeat correct (2, 4, 6) = 1465.5/3 = 488.5
#   switch_cost_rt_ms = 610 - 488.5 = 121.5
# p2: 1 I flankers 700 ok; 2 C flankers 520 ok rep; 3 I centre 640 ok sw; 4 C centre 500 err rep
#   accuracy = 3/4; rt_mean_ms = 1860/3 = 620
#   congruent correct (2) = 520; incongruent correct (1, 3) = 670 -> congruency_effect_rt_ms 150
#   congruent accuracy 1/2, incongruent 2/2 -> congruency_effect_accuracy = -0.5
#   switch correct (3) = 640; repeat correct (2; 4 wrong) = 520 -> switch_cost_rt_ms 120
SAMPLE_EXPECTED: dict[str, dict[str, float]] = {
    "p1": {
        "accuracy": 5 / 6,
        "rt_mean_ms": 497.6,
        "congruency_effect_rt_ms": 362 / 3,
        "congruency_effect_accuracy": 1 / 3,
        "switch_cost_rt_ms": 121.5,
    },
    "p2": {
        "accuracy": 0.75,
        "rt_mean_ms": 620,
        "congruency_effect_rt_ms": 150,
        "congruency_effect_accuracy": -0.5,
        "switch_cost_rt_ms": 120,
    },
}


def test_sample_file_metrics_match_the_hand_computation() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert list(result.metrics.index) == ["p1", "p2"]
    for participant, expected in SAMPLE_EXPECTED.items():
        assert result.session_values(participant) == pytest.approx(expected, rel=1e-12)
    assert dict(result.flags) == {"p1": [], "p2": []}


def test_bad_file_names_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "participant,trial,congruent,rule,rt_ms,correct\n"
        "p1,1,1,centre,400,1\n"
        "p1,2,0,middle,420,1\n",
        encoding="utf-8",
    )

    with pytest.raises(TrialFileError) as error:
        read_trial_file(bad, GAME)

    assert (error.value.line, error.value.column) == (3, "rule")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 10_000, 96
    size = n_sessions * n_trials
    rt = rng.uniform(250.0, 900.0, size)
    rt[rng.random(size) < 0.02] = np.nan
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "congruent": rng.integers(0, 2, size),
            "rule": np.where(rng.random(size) < 0.5, C, F),
            "rt_ms": rt,
            "correct": np.where(np.isnan(rt), 0, rng.integers(0, 2, size)),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
