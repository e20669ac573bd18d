"""Easy-or-hard event validators, trial-table conversions, seeded configuration and import."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.easy_or_hard import GAME, spec
from pymetrics.games.easy_or_hard.bot import Latent, planned_choices
from pymetrics.games.quality import ONE_OPTION_ONLY
from pymetrics.games.registry import get_game
from pymetrics.games.trial_files import TrialFileError, read_trial_file

SAMPLE = Path(__file__).parent / "data" / "sample.csv"

END = {"trial": 1, "probability": 0.5, "reward": 2.5, "choice": "hard", "completed": 1, "won": 1}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("offer", {"trial": 1, "probability": 0.12, "reward": 1.24}),
    ("offer", {"trial": 30, "probability": 0.88, "reward": 4.3}),
    ("offer", {"trial": 7, "probability": 0.5, "reward": 3}),
    ("choice", {"trial": 1, "choice": "easy", "rt_ms": 523.4000000000001, "timed_out": False}),
    ("choice", {"trial": 2, "choice": "hard", "rt_ms": 0, "timed_out": False}),
    ("choice", {"trial": 3, "choice": "hard", "rt_ms": 5003.2, "timed_out": True}),
    ("choice", {"trial": 4, "choice": "easy", "rt_ms": 3_600_000.0, "timed_out": False}),
    ("press", {"trial": 1, "presses": 1}),
    ("press", {"trial": 30, "presses": 100}),
    ("trial_end", END),
    ("trial_end", {**END, "choice": "easy", "completed": 1, "won": 0}),
    ("trial_end", {**END, "completed": 0, "won": 0}),
    ("trial_end", {**END, "probability": 0.12, "reward": 4.3}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)
    GAME.validate_event(event_type, data)


CHOICE = {"trial": 1, "choice": "easy", "rt_ms": 600.0, "timed_out": False}

BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("offer-not-an-object", "offer", [1, 0.5, 2.0], ""),
    ("offer-missing-trial", "offer", {"probability": 0.5, "reward": 2.0}, "trial"),
    ("offer-trial-0", "offer", {"trial": 0, "probability": 0.5, "reward": 2.0}, "trial"),
    ("offer-trial-31", "offer", {"trial": 31, "probability": 0.5, "reward": 2.0}, "trial"),
    ("offer-trial-float", "offer", {"trial": 1.0, "probability": 0.5, "reward": 2.0}, "trial"),
    ("offer-missing-probability", "offer", {"trial": 1, "reward": 2.0}, "probability"),
    (
        "offer-probability-0.3",
        "offer",
        {"trial": 1, "probability": 0.3, "reward": 2.0},
        "probability",
    ),
    (
        "offer-probability-12",
        "offer",
        {"trial": 1, "probability": 12, "reward": 2.0},
        "probability",
    ),
    (
        "offer-probability-text",
        "offer",
        {"trial": 1, "probability": "0.5", "reward": 2.0},
        "probability",
    ),
    (
        "offer-probability-bool",
        "offer",
        {"trial": 1, "probability": True, "reward": 2.0},
        "probability",
    ),
    ("offer-missing-reward", "offer", {"trial": 1, "probability": 0.5}, "reward"),
    ("offer-reward-low", "offer", {"trial": 1, "probability": 0.5, "reward": 1.23}, "reward"),
    ("offer-reward-high", "offer", {"trial": 1, "probability": 0.5, "reward": 4.31}, "reward"),
    ("offer-reward-nan", "offer", {"trial": 1, "probability": 0.5, "reward": math.nan}, "reward"),
    ("offer-reward-inf", "offer", {"trial": 1, "probability": 0.5, "reward": math.inf}, "reward"),
    ("offer-reward-text", "offer", {"trial": 1, "probability": 0.5, "reward": "2"}, "reward"),
    ("offer-unknown-key", "offer", {"trial": 1, "probability": 0.5, "reward": 2.0, "x": 1}, "x"),
    ("choice-missing-choice", "choice", {**CHOICE, "choice": None}, "choice"),
    (
        "choice-absent-choice",
        "choice",
        {k: v for k, v in CHOICE.items() if k != "choice"},
        "choice",
    ),
    ("choice-medium", "choice", {**CHOICE, "choice": "medium"}, "choice"),
    ("choice-upper", "choice", {**CHOICE, "choice": "EASY"}, "choice"),
    ("choice-rt-negative", "choice", {**CHOICE, "rt_ms": -0.1}, "rt_ms"),
    ("choice-rt-huge", "choice", {**CHOICE, "rt_ms": 3_600_000.1}, "rt_ms"),
    ("choice-rt-nan", "choice", {**CHOICE, "rt_ms": math.nan}, "rt_ms"),
    ("choice-rt-text", "choice", {**CHOICE, "rt_ms": "600"}, "rt_ms"),
    ("choice-rt-missing", "choice", {k: v for k, v in CHOICE.items() if k != "rt_ms"}, "rt_ms"),
    ("choice-timed-out-int", "choice", {**CHOICE, "timed_out": 0}, "timed_out"),
    ("choice-timed-out-text", "choice", {**CHOICE, "timed_out": "false"}, "timed_out"),
    (
        "choice-timed-out-missing",
        "choice",
        {k: v for k, v in CHOICE.items() if k != "timed_out"},
        "timed_out",
    ),
    ("choice-unknown-key", "choice", {**CHOICE, "reward": 2.0}, "reward"),
    ("press-missing-presses", "press", {"trial": 1}, "presses"),
    ("press-zero", "press", {"trial": 1, "presses": 0}, "presses"),
    ("press-101", "press", {"trial": 1, "presses": 101}, "presses"),
    ("press-bool", "press", {"trial": 1, "presses": True}, "presses"),
    ("press-float", "press", {"trial": 1, "presses": 2.0}, "presses"),
    ("press-trial-text", "press", {"trial": "1", "presses": 2}, "trial"),
    ("press-unknown-key", "press", {"trial": 1, "presses": 2, "t": 5}, "t"),
    ("end-probability", "trial_end", {**END, "probability": 0.25}, "probability"),
    ("end-reward", "trial_end", {**END, "reward": 5.0}, "reward"),
    ("end-choice", "trial_end", {**END, "choice": "Hard"}, "choice"),
    ("end-completed-2", "trial_end", {**END, "completed": 2}, "completed"),
    ("end-completed-bool", "trial_end", {**END, "completed": True}, "completed"),
    ("end-won-bool", "trial_end", {**END, "won": False}, "won"),
    ("end-won-missing", "trial_end", {k: v for k, v in END.items() if k != "won"}, "won"),
    ("end-won-not-completed", "trial_end", {**END, "completed": 0, "won": 1}, "won"),
    ("end-unknown-key", "trial_end", {**END, "total": 2.5}, "total"),
]


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [pytest.param(t, d, f, id=case_id) for case_id, t, d, f in BAD_EVENTS],
)
def test_validator_rejects_bad_data_naming_the_field(
    event_type: str, data: Any, field: str
) -> None:
    with pytest.raises(EventDataError) as error:
        spec.EVENT_TYPES[event_type](data)

    assert error.value.field == field


def test_game_validates_common_events_and_refuses_unknown_types() -> None:
    GAME.validate_event("visibility", {"state": "hidden"})
    GAME.validate_event("focus", {"state": "blur"})

    with pytest.raises(EventDataError) as error:
        GAME.validate_event("stimulus", {"trial": 1})

    assert error.value.field == ""


def _events(rows: list[tuple[Any, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def _end(trial: int, choice: str, completed: int, reward: float = 2.5) -> dict[str, Any]:
    return {
        "trial": trial,
        "probability": 0.5,
        "reward": reward,
        "choice": choice,
        "completed": completed,
        "won": 0,
    }


def test_events_to_trials_joins_choice_times_and_ignores_other_events() -> None:
    events = _events(
        [
            ("s2", 4, 40.0, "trial_end", _end(1, "easy", 1)),
            (
                "s2",
                2,
                20.0,
                "choice",
                {"trial": 1, "choice": "easy", "rt_ms": 5004.0, "timed_out": True},
            ),
            ("s1", 1, 1.0, "offer", {"trial": 1, "probability": 0.5, "reward": 2.5}),
            (
                "s1",
                2,
                9.0,
                "choice",
                {"trial": 1, "choice": "hard", "rt_ms": 812.5, "timed_out": False},
            ),
            ("s1", 3, 10.0, "press", {"trial": 1, "presses": 1}),
            ("s1", 4, 11.0, "visibility", {"state": "hidden"}),
            ("s1", 5, 30.0, "trial_end", _end(1, "hard", 0, reward=3.1)),
            ("s1", 6, 31.0, "offer", {"trial": 2, "probability": 0.12, "reward": 1.3}),
            ("s1", 8, 50.0, "trial_end", {**_end(2, "easy", 1, reward=1.3), "probability": 0.12}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    records = trials.to_dict("records")
    assert records[0] == {
        "session": "s1", "trial": 1, "probability": 0.5, "reward": 3.1, "choice": "hard",
        "completed": 0, "rt_ms": 812.5, "timed_out": 0,
    }  # fmt: skip
    # Trial 2 has no choice event: no response time, not a timeout.
    assert (records[1]["trial"], records[1]["probability"], records[1]["timed_out"]) == (2, 0.12, 0)
    assert math.isnan(records[1]["rt_ms"])
    # A timed-out choice has no response time.
    assert (records[2]["session"], records[2]["timed_out"], records[2]["choice"]) == (
        "s2",
        1,
        "easy",
    )
    assert math.isnan(records[2]["rt_ms"])
    assert trials["rt_ms"].dtype == np.float64
    assert trials["completed"].dtype == np.int64


def test_events_to_trials_keeps_the_first_end_and_choice_of_a_trial() -> None:
    events = _events(
        [
            ("s", 9, 90.0, "trial_end", _end(1, "easy", 0)),
            ("s", 5, 50.0, "trial_end", _end(1, "hard", 1)),
            (
                "s",
                3,
                30.0,
                "choice",
                {"trial": 1, "choice": "easy", "rt_ms": 700.0, "timed_out": False},
            ),
            (
                "s",
                2,
                20.0,
                "choice",
                {"trial": 1, "choice": "hard", "rt_ms": 400.0, "timed_out": False},
            ),
        ]
    )

    trials = spec.events_to_trials(events)

    assert len(trials) == 1
    assert (trials["choice"].iat[0], trials["completed"].iat[0]) == ("hard", 1)
    assert trials["rt_ms"].iat[0] == 400.0


def test_events_to_trials_without_trial_end_is_an_empty_table() -> None:
    events = _events(
        [
            ("s", 1, 0.0, "offer", {"trial": 1, "probability": 0.5, "reward": 2.0}),
            (
                "s",
                2,
                500.0,
                "choice",
                {"trial": 1, "choice": "easy", "rt_ms": 500.0, "timed_out": False},
            ),
        ]
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    latent = Latent(
        effort_cost=0.0, reward_sensitivity=2.0, press_rate_hz=9.0, choice_latency_ms=900.0
    )
    stream = GAME.play(latent, np.random.default_rng(5), config)
    plans = planned_choices(latent, np.random.default_rng(5), config)

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s1"))

    timed_out = trials["timed_out"].to_numpy() == 1
    expected = [
        fallback if out else plan
        for plan, fallback, out in zip(plans, config["fallback_choices"], timed_out, strict=True)
    ]
    assert trials["trial"].tolist() == list(range(1, 31))
    assert trials["choice"].tolist() == expected
    assert trials["probability"].tolist() == config["probabilities"]
    assert trials["reward"].tolist() == config["rewards"]
    # Nine presses a second finish either task well in time.
    assert trials["completed"].tolist() == [1] * 30
    assert trials["rt_ms"].notna().sum() == 30 - timed_out.sum()


def _csv(
    rows: list[tuple[str, int, str, str, str, str]], header: tuple[str, ...] = ()
) -> pd.DataFrame:
    columns = header or ("probability", "reward", "choice", "completed")
    return pd.DataFrame(rows, columns=["session", "trial", *columns])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "0.88", "4.30", "easy", "0"),
            ("p1", 2, ".5", " 2.75 ", "Hard", "1"),
            ("p1", 1, "0.120", "1.24", "easy", "1"),
        ]
    )

    trials = spec.csv_to_trials(table)

    records = trials.to_dict("records")
    assert [
        (r["session"], r["trial"], r["probability"], r["reward"], r["choice"], r["completed"])
        for r in records
    ] == [
        ("p1", 1, 0.12, 1.24, "easy", 1),
        ("p1", 2, 0.5, 2.75, "hard", 1),
        ("p2", 1, 0.88, 4.3, "easy", 0),
    ]
    assert trials["rt_ms"].isna().all()
    assert trials["timed_out"].tolist() == [0, 0, 0]
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv(
        [("p", 1, "0.5", "2", "hard", "1")],
        header=("Probability", "REWARD", "Choice", "Completed"),
    )

    trials = spec.csv_to_trials(table)

    assert trials[["probability", "reward", "choice", "completed"]].to_dict("records") == [
        {"probability": 0.5, "reward": 2.0, "choice": "hard", "completed": 1}
    ]


GOOD_ROW = ("p", 1, "0.5", "2.00", "easy", "1")


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        pytest.param(("p", 2, "0.3", "2.00", "easy", "1"), "probability", id="probability-0.3"),
        pytest.param(("p", 2, "50%", "2.00", "easy", "1"), "probability", id="probability-percent"),
        pytest.param(("p", 2, "", "2.00", "easy", "1"), "probability", id="probability-empty"),
        pytest.param(("p", 2, "0.5", "1.00", "easy", "1"), "reward", id="reward-low"),
        pytest.param(("p", 2, "0.5", "4.31", "easy", "1"), "reward", id="reward-high"),
        pytest.param(("p", 2, "0.5", "two", "easy", "1"), "reward", id="reward-text"),
        pytest.param(("p", 2, "0.5", "", "easy", "1"), "reward", id="reward-empty"),
        pytest.param(("p", 2, "0.5", "inf", "easy", "1"), "reward", id="reward-inf"),
        pytest.param(("p", 2, "0.5", "2.00", "medium", "1"), "choice", id="choice-medium"),
        pytest.param(("p", 2, "0.5", "2.00", "", "1"), "choice", id="choice-empty"),
        pytest.param(("p", 2, "0.5", "2.00", "easy", "2"), "completed", id="completed-2"),
        pytest.param(("p", 2, "0.5", "2.00", "easy", "yes"), "completed", id="completed-text"),
        pytest.param(("p", 1, "0.5", "2.00", "easy", "1"), "trial", id="trial-repeated"),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    bad_row: tuple[str, int, str, str, str, str], column: str
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv([GOOD_ROW, bad_row]))

    assert (error.value.column, error.value.row_index) == (column, 1)


@pytest.mark.parametrize("missing", ["probability", "reward", "choice", "completed"])
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    table = _csv([GOOD_ROW]).drop(columns=[missing])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


# tests/data/sample.csv, worked out by hand (column "Choice" in capitals, an extra
# "notes" column that is ignored, p2's rows out of order):
#   p1 (same as session "a" of test_metrics): hard = 0 1 1 0 1 0
#     hard_choice_rate 3/6 = 0.5; p12 0/2 = 0; p50 2/2 = 1; p88 1/2 = 0.5
#     completion_rate 5/6; reward_sensitivity = 5 / sqrt(105)
#   p2: 1: 0.88 1.80 hard 1   2: 0.88 2.90 hard 1   3: 0.12 4.10 hard 0
#     hard_choice_rate 3/3 = 1; p12 1/1 = 1; p88 2/2 = 1; p50 absent
#     reward_sensitivity absent (every choice hard); completion_rate 2/3; one_option_only
def test_sample_file_imports_and_gives_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)
    result = GAME.extract(trials)

    assert trials["session"].tolist() == ["p1"] * 6 + ["p2"] * 3
    assert trials.loc[trials["session"] == "p2", "trial"].tolist() == [1, 2, 3]
    p1 = result.session_values("p1")
    assert p1 == pytest.approx(
        {
            "hard_choice_rate": 0.5,
            "hard_choice_rate_p12": 0.0,
            "hard_choice_rate_p50": 1.0,
            "hard_choice_rate_p88": 0.5,
            "reward_sensitivity": 5 / math.sqrt(105),
            "completion_rate": 5 / 6,
        },
        rel=1e-12,
    )
    p2 = result.session_values("p2")
    assert "hard_choice_rate_p50" not in p2
    assert "reward_sensitivity" not in p2
    assert p2 == pytest.approx(
        {
            "hard_choice_rate": 1.0,
            "hard_choice_rate_p12": 1.0,
            "hard_choice_rate_p88": 1.0,
            "completion_rate": 2 / 3,
        },
        rel=1e-12,
    )
    assert result.flags == {"p1": [], "p2": [ONE_OPTION_ONLY]}


def test_bad_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "participant,trial,probability,reward,choice,completed\n"
        "p1,1,0.5,2.00,easy,1\n"
        "\n"
        "p1,2,0.5,2.00,hard,1\n"
        "p1,3,0.5,2.00,sometimes,1\n",
        encoding="utf-8",
    )

    with pytest.raises(TrialFileError) as error:
        read_trial_file(path, GAME)

    assert (error.value.line, error.value.column) == (5, "choice")


def test_file_without_a_game_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("participant,trial,probability,reward,choice\np1,1,0.5,2.00,easy\n")

    with pytest.raises(TrialFileError) as error:
        read_trial_file(path, GAME)

    assert (error.value.line, error.value.column) == (1, "completed")


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {
        key: config[key]
        for key in (
            "seed", "trials", "easy_reward", "easy_presses", "hard_presses", "easy_time_ms",
            "hard_time_ms", "choice_time_ms",
        )
    } == {
        "seed": 42, "trials": 30, "easy_reward": 1.0, "easy_presses": 30, "hard_presses": 100,
        "easy_time_ms": 7000, "hard_time_ms": 21000, "choice_time_ms": 5000,
    }  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 - 1])
def test_schedule_properties(seed: int) -> None:
    config = spec.make_config(seed)

    assert sorted(config["probabilities"]) == [0.12] * 10 + [0.5] * 10 + [0.88] * 10
    assert len(config["rewards"]) == 30
    assert all(1.24 <= reward <= 4.30 for reward in config["rewards"])
    assert all(round(reward, 2) == reward for reward in config["rewards"])
    assert all(0.0 <= draw <= 1.0 for draw in config["win_draws"])
    assert set(config["fallback_choices"]) <= {"easy", "hard"}
    assert len(config["win_draws"]) == len(config["fallback_choices"]) == 30
    for probability, reward in zip(config["probabilities"], config["rewards"], strict=True):
        spec.validate_offer({"trial": 1, "probability": probability, "reward": reward})


def test_schedules_shuffle_levels_and_cover_the_reward_range() -> None:
    configs = [spec.make_config(seed) for seed in range(300)]
    rewards = np.concatenate([c["rewards"] for c in configs])
    draws = np.concatenate([c["win_draws"] for c in configs])
    fallbacks = np.concatenate([c["fallback_choices"] for c in configs])
    first_levels = {c["probabilities"][0] for c in configs}

    assert rewards.min() == 1.24
    assert rewards.max() == 4.30
    assert abs(rewards.mean() - 2.77) < 0.05
    assert abs(draws.mean() - 0.5) < 0.02
    assert abs((fallbacks == "hard").mean() - 0.5) < 0.03
    assert first_levels == {0.12, 0.5, 0.88}
    assert len({tuple(c["probabilities"]) for c in configs}) == 300


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "hard_choice_rate",
        "hard_choice_rate_p12",
        "hard_choice_rate_p50",
        "hard_choice_rate_p88",
        "reward_sensitivity",
        "completion_rate",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("easy_or_hard", "Easy or Hard", 1)
    assert GAME.trial_event_types == frozenset({"trial_end", "choice"})
    assert set(GAME.event_types) == {"offer", "choice", "press", "trial_end"}
    assert [column.name for column in GAME.csv_columns] == [
        "probability",
        "reward",
        "choice",
        "completed",
    ]
    assert GAME.recovery_targets == {
        "effort_cost": "-hard_choice_rate",
        "reward_sensitivity": "reward_sensitivity",
        "press_rate_hz": "completion_rate",
    }
    assert GAME.description
    assert get_game("easy_or_hard") is GAME
