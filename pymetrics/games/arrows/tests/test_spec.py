"""Arrows event validators, trial-table conversions and seeded configuration."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.arrows import GAME, spec
from pymetrics.games.arrows.bot import Latent, decide
from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.registry import get_game

START = {"trial": 1, "congruent": True, "rule": "centre", "centre": "left"}
# Incongruent, flankers rule, centre pointing left: the flankers point right.
END_OK = {
    "trial": 96,
    "congruent": False,
    "rule": "flankers",
    "centre": "left",
    "key": "right",
    "rt_ms": 512.37,
    "correct": 1,
}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("trial_start", START),
    ("trial_start", {"trial": 96, "congruent": False, "rule": "flankers", "centre": "right"}),
    ("stimulus", {"trial": 1}),
    ("stimulus", {"trial": 96}),
    ("response", {"trial": 1, "key": "left", "rt_ms": 0}),
    ("response", {"trial": 5, "key": "right", "rt_ms": 431.25}),
    ("response", {"trial": 5, "key": "right", "rt_ms": 10_000}),
    ("trial_end", END_OK),
    ("trial_end", {**END_OK, "key": "left", "correct": 0}),
    ("trial_end", {**END_OK, "rule": "centre", "key": "left", "rt_ms": 300}),
    ("trial_end", {**END_OK, "congruent": True, "key": "left"}),
    ("trial_end", {**END_OK, "key": None, "rt_ms": None, "correct": 0}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)
    GAME.validate_event(event_type, data)


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "trial_start", [1], ""),
    (
        "start-missing-trial",
        "trial_start",
        {k: v for k, v in START.items() if k != "trial"},
        "trial",
    ),
    ("start-trial-0", "trial_start", {**START, "trial": 0}, "trial"),
    ("start-trial-97", "trial_start", {**START, "trial": 97}, "trial"),
    ("start-trial-float", "trial_start", {**START, "trial": 1.0}, "trial"),
    ("start-trial-bool", "trial_start", {**START, "trial": True}, "trial"),
    ("start-congruent-int", "trial_start", {**START, "congruent": 1}, "congruent"),
    ("start-congruent-text", "trial_start", {**START, "congruent": "true"}, "congruent"),
    (
        "start-missing-congruent",
        "trial_start",
        {"trial": 1, "rule": "centre", "centre": "left"},
        "congruent",
    ),
    ("start-rule-center", "trial_start", {**START, "rule": "center"}, "rule"),
    ("start-rule-upper", "trial_start", {**START, "rule": "Centre"}, "rule"),
    ("start-rule-none", "trial_start", {**START, "rule": None}, "rule"),
    ("start-centre-up", "trial_start", {**START, "centre": "up"}, "centre"),
    ("start-centre-number", "trial_start", {**START, "centre": 0}, "centre"),
    ("start-unknown-key", "trial_start", {**START, "answer": "left"}, "answer"),
    ("stimulus-missing-trial", "stimulus", {}, "trial"),
    ("stimulus-trial-string", "stimulus", {"trial": "1"}, "trial"),
    ("stimulus-unknown-key", "stimulus", {"trial": 1, "rule": "centre"}, "rule"),
    ("response-missing-key", "response", {"trial": 1, "rt_ms": 400}, "key"),
    ("response-key-up", "response", {"trial": 1, "key": "up", "rt_ms": 400}, "key"),
    ("response-key-null", "response", {"trial": 1, "key": None, "rt_ms": 400}, "key"),
    ("response-missing-rt", "response", {"trial": 1, "key": "left"}, "rt_ms"),
    ("response-rt-negative", "response", {"trial": 1, "key": "left", "rt_ms": -0.5}, "rt_ms"),
    ("response-rt-huge", "response", {"trial": 1, "key": "left", "rt_ms": 10_000.1}, "rt_ms"),
    ("response-rt-nan", "response", {"trial": 1, "key": "left", "rt_ms": math.nan}, "rt_ms"),
    ("response-rt-inf", "response", {"trial": 1, "key": "left", "rt_ms": math.inf}, "rt_ms"),
    ("response-rt-string", "response", {"trial": 1, "key": "left", "rt_ms": "400"}, "rt_ms"),
    ("response-rt-bool", "response", {"trial": 1, "key": "left", "rt_ms": True}, "rt_ms"),
    ("response-rt-null", "response", {"trial": 1, "key": "left", "rt_ms": None}, "rt_ms"),
    ("response-trial-0", "response", {"trial": 0, "key": "left", "rt_ms": 400}, "trial"),
    ("response-unknown-key", "response", {"trial": 1, "key": "left", "rt_ms": 4, "t": 1}, "t"),
    (
        "end-missing-correct",
        "trial_end",
        {k: v for k, v in END_OK.items() if k != "correct"},
        "correct",
    ),
    ("end-missing-key", "trial_end", {k: v for k, v in END_OK.items() if k != "key"}, "key"),
    ("end-missing-rt", "trial_end", {k: v for k, v in END_OK.items() if k != "rt_ms"}, "rt_ms"),
    ("end-correct-2", "trial_end", {**END_OK, "correct": 2}, "correct"),
    ("end-correct-bool", "trial_end", {**END_OK, "correct": True}, "correct"),
    ("end-correct-wrong", "trial_end", {**END_OK, "correct": 0}, "correct"),
    ("end-wrong-key-marked-correct", "trial_end", {**END_OK, "key": "left"}, "correct"),
    ("end-key-up", "trial_end", {**END_OK, "key": "up"}, "key"),
    ("end-omission-with-rt", "trial_end", {**END_OK, "key": None, "correct": 0}, "rt_ms"),
    ("end-omission-correct", "trial_end", {**END_OK, "key": None, "rt_ms": None}, "correct"),
    ("end-key-without-rt", "trial_end", {**END_OK, "rt_ms": None}, "rt_ms"),
    ("end-rt-negative", "trial_end", {**END_OK, "rt_ms": -1}, "rt_ms"),
    ("end-rt-nan", "trial_end", {**END_OK, "rt_ms": math.nan}, "rt_ms"),
    ("end-congruent-int", "trial_end", {**END_OK, "congruent": 0}, "congruent"),
    ("end-rule-other", "trial_end", {**END_OK, "rule": "outer"}, "rule"),
    ("end-centre-other", "trial_end", {**END_OK, "centre": "down"}, "centre"),
    ("end-trial-97", "trial_end", {**END_OK, "trial": 97}, "trial"),
    ("end-unknown-key", "trial_end", {**END_OK, "answer": "right"}, "answer"),
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
        GAME.validate_event("keypress", {"trial": 1})

    assert error.value.field == ""


@pytest.mark.parametrize(
    ("congruent", "rule", "centre", "answer", "shown"),
    [
        (True, "centre", "left", "left", "<<<<<"),
        (True, "flankers", "right", "right", ">>>>>"),
        (False, "centre", "left", "left", ">><>>"),
        (False, "centre", "right", "right", "<<><<"),
        (False, "flankers", "left", "right", ">><>>"),
        (False, "flankers", "right", "left", "<<><<"),
    ],
)
def test_correct_answer_follows_the_rule(
    congruent: bool, rule: str, centre: str, answer: str, shown: str
) -> None:
    assert spec.correct_answer(congruent, rule, centre) == answer
    assert spec.arrows_display(congruent, centre) == shown


def _events(rows: list[tuple[str, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def _end(trial: int, **changes: Any) -> dict[str, Any]:
    return {**END_OK, "trial": trial, **changes}


def test_events_to_trials_sorts_sessions_and_trials_and_ignores_other_events() -> None:
    events = _events(
        [
            ("s2", 9, 90.0, "trial_end", _end(2, key=None, rt_ms=None, correct=0)),
            ("s2", 4, 40.0, "trial_end", _end(1, rule="centre", key="left", rt_ms=450)),
            ("s1", 1, 1.0, "trial_start", {**START, "trial": 1}),
            ("s1", 2, 2.0, "stimulus", {"trial": 1}),
            ("s1", 3, 3.0, "response", {"trial": 1, "key": "right", "rt_ms": 512.37}),
            ("s1", 4, 4.0, "visibility", {"state": "hidden"}),
            ("s1", 5, 5.0, "trial_end", _end(1)),
        ]
    )

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    records = trials.to_dict("records")
    assert math.isnan(records[2].pop("rt_ms"))
    assert records == [
        {
            "session": "s1",
            "trial": 1,
            "congruent": 0,
            "rule": "flankers",
            "rt_ms": 512.37,
            "correct": 1,
        },
        {
            "session": "s2",
            "trial": 1,
            "congruent": 0,
            "rule": "centre",
            "rt_ms": 450.0,
            "correct": 1,
        },
        {"session": "s2", "trial": 2, "congruent": 0, "rule": "flankers", "correct": 0},
    ]
    assert trials["congruent"].dtype == np.int64
    assert trials["correct"].dtype == np.int64
    assert trials["rt_ms"].dtype == np.float64


def test_events_to_trials_keeps_the_first_end_of_a_trial() -> None:
    events = _events(
        [
            ("s", 8, 9.0, "trial_end", _end(3, key="left", correct=0)),
            ("s", 7, 8.0, "trial_end", _end(3)),
        ]
    )

    trials = spec.events_to_trials(events)

    assert trials[["trial", "correct", "rt_ms"]].to_dict("records") == [
        {"trial": 3, "correct": 1, "rt_ms": 512.37}
    ]


def test_events_to_trials_without_ending_events_is_an_empty_table() -> None:
    trials = spec.events_to_trials(_events([("s", 1, 0.0, "trial_start", START)]))

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    latent = Latent(base_rt=480.0, interference_cost=60.0, switch_cost=100.0)
    stream = GAME.play(latent, np.random.default_rng(5), config)
    decisions = decide(latent, np.random.default_rng(5), config["trials"])

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s"))

    assert trials["trial"].tolist() == list(range(1, 97))
    assert trials["rule"].tolist() == [t["rule"] for t in config["trials"]]
    assert trials["congruent"].tolist() == [t["congruent"] for t in config["trials"]]
    rts = [np.nan if d.rt_ms is None else d.rt_ms for d in decisions]
    np.testing.assert_array_equal(trials["rt_ms"].to_numpy(), np.array(rts, dtype=float))
    expected_correct = [
        int(d.key == spec.correct_answer(bool(t["congruent"]), t["rule"], t["centre"]))
        for d, t in zip(decisions, config["trials"], strict=True)
    ]
    assert trials["correct"].tolist() == expected_correct


def _csv(
    rows: list[tuple[str, int, str, str, str, str]], header: tuple[str, ...] = ()
) -> pd.DataFrame:
    names = header or ("congruent", "rule", "rt_ms", "correct")
    return pd.DataFrame(rows, columns=["session", "trial", *names])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "0", "Flankers", " 612.5 ", "1"),
            ("p1", 2, "1", "centre", "", "0"),
            ("p1", 1, "0", "CENTRE", "480", "0"),
        ]
    )

    trials = spec.csv_to_trials(table)

    records = trials.to_dict("records")
    assert math.isnan(records[1].pop("rt_ms"))
    assert records == [
        {
            "session": "p1",
            "trial": 1,
            "congruent": 0,
            "rule": "centre",
            "rt_ms": 480.0,
            "correct": 0,
        },
        {"session": "p1", "trial": 2, "congruent": 1, "rule": "centre", "correct": 0},
        {
            "session": "p2",
            "trial": 1,
            "congruent": 0,
            "rule": "flankers",
            "rt_ms": 612.5,
            "correct": 1,
        },
    ]
    assert trials["congruent"].dtype == np.int64
    assert trials["correct"].dtype == np.int64
    assert trials["rt_ms"].dtype == np.float64


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv(
        [("p1", 1, "1", "centre", "400", "1")], header=("Congruent", "RULE", "RT_ms", "Correct")
    )

    trials = spec.csv_to_trials(table)

    assert trials[["congruent", "rule", "rt_ms", "correct"]].to_dict("records") == [
        {"congruent": 1, "rule": "centre", "rt_ms": 400.0, "correct": 1}
    ]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param(
            [("p", 1, "1", "centre", "400", "1"), ("p", 2, "2", "centre", "400", "1")],
            "congruent",
            1,
            id="congruent-2",
        ),
        pytest.param([("p", 1, "", "centre", "400", "1")], "congruent", 0, id="congruent-empty"),
        pytest.param([("p", 1, "yes", "centre", "400", "1")], "congruent", 0, id="congruent-text"),
        pytest.param(
            [("p", 1, "1", "centre", "400", "1"), ("p", 2, "1", "middle", "400", "1")],
            "rule",
            1,
            id="rule-middle",
        ),
        pytest.param([("p", 1, "1", "", "400", "1")], "rule", 0, id="rule-empty"),
        pytest.param([("p", 1, "1", "center", "400", "1")], "rule", 0, id="rule-center"),
        pytest.param([("p", 1, "1", "centre", "fast", "1")], "rt_ms", 0, id="rt-text"),
        pytest.param(
            [("p", 1, "1", "centre", "400", "1"), ("p", 2, "1", "centre", "-3", "0")],
            "rt_ms",
            1,
            id="rt-negative",
        ),
        pytest.param([("p", 1, "1", "centre", "inf", "1")], "rt_ms", 0, id="rt-inf"),
        pytest.param([("p", 1, "1", "centre", "nan", "1")], "rt_ms", 0, id="rt-nan"),
        pytest.param([("p", 1, "1", "centre", "400", "1.5")], "correct", 0, id="correct-fraction"),
        pytest.param([("p", 1, "1", "centre", "400", "")], "correct", 0, id="correct-empty"),
        pytest.param(
            [("p", 1, "1", "centre", "400", "1"), ("p", 2, "1", "centre", "", "1")],
            "correct",
            1,
            id="correct-without-response",
        ),
        pytest.param(
            [("p", 1, "1", "centre", "400", "1"), ("p", 1, "0", "centre", "420", "1")],
            "trial",
            1,
            id="trial-repeated",
        ),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_the_same_trial_number_for_two_participants_is_fine() -> None:
    trials = spec.csv_to_trials(
        _csv([("p1", 1, "1", "centre", "400", "1"), ("p2", 1, "1", "centre", "420", "1")])
    )

    assert trials["session"].tolist() == ["p1", "p2"]


@pytest.mark.parametrize("missing", ["congruent", "rule", "rt_ms", "correct"])
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    table = _csv([("p", 1, "1", "centre", "400", "1")]).drop(columns=[missing])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {key: config[key] for key in ("seed", "n_trials", "deadline_ms", "iti_ms")} == {
        "seed": 42,
        "n_trials": 96,
        "deadline_ms": 2000,
        "iti_ms": 500,
    }
    assert [t["trial"] for t in config["trials"]] == list(range(1, 97))
    for item in config["trials"] + config["practice"]:
        assert set(item) == {"trial", "congruent", "rule", "centre"}
        assert item["congruent"] in (0, 1)
        assert item["rule"] in spec.RULES
        assert item["centre"] in spec.DIRECTIONS
    assert len(config["fixation_ms"]) == 96
    assert all(type(ms) is int and 400 <= ms <= 700 for ms in config["fixation_ms"])


def _switches(trials: list[dict[str, Any]]) -> int:
    return sum(a["rule"] != b["rule"] for a, b in itertools.pairwise(trials))


def _runs(trials: list[dict[str, Any]]) -> list[int]:
    return [len(list(group)) for _, group in itertools.groupby(t["rule"] for t in trials)]


@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 99_999])
def test_schedule_is_balanced_with_rule_runs_of_one_to_four(seed: int) -> None:
    trials = spec.make_config(seed)["trials"]

    # Each rule x congruency x centre-direction cell: 96 / 8 = 12 trials.
    cells = pd.DataFrame(trials).groupby(["rule", "congruent", "centre"]).size()
    assert len(cells) == 8
    assert set(cells) == {12}
    runs = _runs(trials)
    assert len(runs) == 38
    assert min(runs) >= 1
    assert max(runs) <= 4
    # 38 runs: 37 switch trials, 96 - 1 - 37 = 58 repeat trials.
    assert _switches(trials) == 37


def test_schedules_differ_between_seeds_and_both_rules_start() -> None:
    first_rules = {spec.make_config(seed)["trials"][0]["rule"] for seed in range(20)}
    orders = {tuple(t["rule"] for t in spec.make_config(seed)["trials"]) for seed in range(20)}

    assert first_rules == {"centre", "flankers"}
    assert len(orders) == 20


def test_practice_shows_every_display_once_per_rule() -> None:
    practice = spec.make_config(5)["practice"]

    assert [t["trial"] for t in practice] == list(range(1, 9))
    cells = pd.DataFrame(practice).groupby(["rule", "congruent", "centre"]).size()
    assert len(cells) == 8
    assert set(cells) == {1}
    assert 1 <= _switches(practice) <= 3


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "accuracy",
        "rt_mean_ms",
        "congruency_effect_rt_ms",
        "congruency_effect_accuracy",
        "switch_cost_rt_ms",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("arrows", "Arrows", 1)
    assert GAME.trial_event_types == frozenset({"trial_end"})
    assert set(GAME.event_types) == {"trial_start", "stimulus", "response", "trial_end"}
    assert [column.name for column in GAME.csv_columns] == ["congruent", "rule", "rt_ms", "correct"]
    assert GAME.recovery_targets == {
        "base_rt": "rt_mean_ms",
        "interference_cost": "congruency_effect_rt_ms",
        "switch_cost": "switch_cost_rt_ms",
    }
    assert GAME.description
    assert get_game("arrows") is GAME
