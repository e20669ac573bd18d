"""Stop event validators, trial-table conversions and seeded configuration."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.registry import get_game
from pymetrics.games.stop import GAME, spec
from pymetrics.games.stop.bot import Latent

GO_END = {
    "trial": 1,
    "stop": False,
    "direction": "left",
    "ssd_ms": None,
    "rt_ms": 412.3,
    "correct": 1,
}
STOP_END = {
    "trial": 2,
    "stop": True,
    "direction": "right",
    "ssd_ms": 250,
    "rt_ms": None,
    "correct": None,
}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("trial_start", {"trial": 1, "stop": False, "direction": "left"}),
    ("trial_start", {"trial": 128, "stop": True, "direction": "right"}),
    ("stimulus", {"trial": 1}),
    ("stimulus", {"trial": 128}),
    ("stop_signal", {"trial": 5, "ssd_ms": 0}),
    ("stop_signal", {"trial": 5, "ssd_ms": 1150}),
    ("response", {"trial": 3, "key": "left", "rt_ms": 0}),
    ("response", {"trial": 3, "key": "right", "rt_ms": 523.7}),
    ("response", {"trial": 3, "key": "right", "rt_ms": 5000.0}),
    ("trial_end", GO_END),
    ("trial_end", {**GO_END, "correct": 0, "rt_ms": 300}),
    ("trial_end", {**GO_END, "rt_ms": None, "correct": None}),
    ("trial_end", STOP_END),
    ("trial_end", {**STOP_END, "rt_ms": 198.5, "ssd_ms": 0}),
    ("trial_end", {**STOP_END, "ssd_ms": 1150}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


def _without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("trial_start-not-an-object", "trial_start", [1], ""),
    ("trial_start-missing-trial", "trial_start", {"stop": False, "direction": "left"}, "trial"),
    (
        "trial_start-trial-0",
        "trial_start",
        {"trial": 0, "stop": False, "direction": "left"},
        "trial",
    ),
    (
        "trial_start-trial-129",
        "trial_start",
        {"trial": 129, "stop": False, "direction": "left"},
        "trial",
    ),
    (
        "trial_start-trial-float",
        "trial_start",
        {"trial": 1.0, "stop": False, "direction": "left"},
        "trial",
    ),
    (
        "trial_start-trial-bool",
        "trial_start",
        {"trial": True, "stop": False, "direction": "left"},
        "trial",
    ),
    ("trial_start-stop-int", "trial_start", {"trial": 1, "stop": 0, "direction": "left"}, "stop"),
    (
        "trial_start-stop-string",
        "trial_start",
        {"trial": 1, "stop": "false", "direction": "left"},
        "stop",
    ),
    ("trial_start-missing-stop", "trial_start", {"trial": 1, "direction": "left"}, "stop"),
    (
        "trial_start-direction-up",
        "trial_start",
        {"trial": 1, "stop": False, "direction": "up"},
        "direction",
    ),
    (
        "trial_start-direction-case",
        "trial_start",
        {"trial": 1, "stop": False, "direction": "Left"},
        "direction",
    ),
    ("trial_start-missing-direction", "trial_start", {"trial": 1, "stop": False}, "direction"),
    (
        "trial_start-unknown-key",
        "trial_start",
        {"trial": 1, "stop": False, "direction": "left", "ssd_ms": 5},
        "ssd_ms",
    ),
    ("stimulus-missing-trial", "stimulus", {}, "trial"),
    ("stimulus-string", "stimulus", {"trial": "1"}, "trial"),
    ("stimulus-unknown-key", "stimulus", {"trial": 1, "direction": "left"}, "direction"),
    ("stop_signal-missing-ssd", "stop_signal", {"trial": 1}, "ssd_ms"),
    ("stop_signal-negative", "stop_signal", {"trial": 1, "ssd_ms": -50}, "ssd_ms"),
    ("stop_signal-1200", "stop_signal", {"trial": 1, "ssd_ms": 1200}, "ssd_ms"),
    ("stop_signal-float", "stop_signal", {"trial": 1, "ssd_ms": 250.0}, "ssd_ms"),
    ("stop_signal-unknown-key", "stop_signal", {"trial": 1, "ssd_ms": 250, "t": 3}, "t"),
    ("response-missing-key", "response", {"trial": 1, "rt_ms": 300.0}, "key"),
    ("response-key-up", "response", {"trial": 1, "key": "up", "rt_ms": 300.0}, "key"),
    ("response-key-int", "response", {"trial": 1, "key": 1, "rt_ms": 300.0}, "key"),
    ("response-missing-rt", "response", {"trial": 1, "key": "left"}, "rt_ms"),
    ("response-rt-string", "response", {"trial": 1, "key": "left", "rt_ms": "300"}, "rt_ms"),
    ("response-rt-bool", "response", {"trial": 1, "key": "left", "rt_ms": True}, "rt_ms"),
    ("response-rt-negative", "response", {"trial": 1, "key": "left", "rt_ms": -0.1}, "rt_ms"),
    ("response-rt-too-long", "response", {"trial": 1, "key": "left", "rt_ms": 5000.1}, "rt_ms"),
    ("response-rt-nan", "response", {"trial": 1, "key": "left", "rt_ms": math.nan}, "rt_ms"),
    ("response-rt-inf", "response", {"trial": 1, "key": "left", "rt_ms": math.inf}, "rt_ms"),
    ("response-rt-null", "response", {"trial": 1, "key": "left", "rt_ms": None}, "rt_ms"),
    ("response-unknown-key", "response", {"trial": 1, "key": "left", "rt_ms": 3.0, "ok": 1}, "ok"),
    ("trial_end-missing-ssd", "trial_end", _without(GO_END, "ssd_ms"), "ssd_ms"),
    ("trial_end-missing-rt", "trial_end", _without(GO_END, "rt_ms"), "rt_ms"),
    ("trial_end-missing-correct", "trial_end", _without(GO_END, "correct"), "correct"),
    ("trial_end-missing-stop", "trial_end", _without(GO_END, "stop"), "stop"),
    ("trial_end-missing-direction", "trial_end", _without(GO_END, "direction"), "direction"),
    ("trial_end-go-with-ssd", "trial_end", {**GO_END, "ssd_ms": 250}, "ssd_ms"),
    ("trial_end-stop-without-ssd", "trial_end", {**STOP_END, "ssd_ms": None}, "ssd_ms"),
    ("trial_end-stop-ssd-too-big", "trial_end", {**STOP_END, "ssd_ms": 1151}, "ssd_ms"),
    ("trial_end-stop-ssd-float", "trial_end", {**STOP_END, "ssd_ms": 250.5}, "ssd_ms"),
    ("trial_end-go-response-null-correct", "trial_end", {**GO_END, "correct": None}, "correct"),
    ("trial_end-go-correct-2", "trial_end", {**GO_END, "correct": 2}, "correct"),
    ("trial_end-go-correct-bool", "trial_end", {**GO_END, "correct": True}, "correct"),
    (
        "trial_end-go-miss-with-correct",
        "trial_end",
        {**GO_END, "rt_ms": None, "correct": 0},
        "correct",
    ),
    (
        "trial_end-stop-with-correct",
        "trial_end",
        {**STOP_END, "rt_ms": 200.0, "correct": 1},
        "correct",
    ),
    ("trial_end-rt-string", "trial_end", {**GO_END, "rt_ms": "412"}, "rt_ms"),
    ("trial_end-rt-negative", "trial_end", {**STOP_END, "rt_ms": -1}, "rt_ms"),
    ("trial_end-stop-string", "trial_end", {**GO_END, "stop": "no"}, "stop"),
    ("trial_end-direction", "trial_end", {**GO_END, "direction": "down"}, "direction"),
    ("trial_end-trial-0", "trial_end", {**GO_END, "trial": 0}, "trial"),
    ("trial_end-unknown-key", "trial_end", {**GO_END, "key": "left"}, "key"),
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


def _frame(rows: list[tuple[Any, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def _end(
    trial: int, stop: bool, ssd: int | None, rt: float | None, correct: int | None
) -> dict[str, Any]:
    return {
        "trial": trial,
        "stop": stop,
        "direction": "left",
        "ssd_ms": ssd,
        "rt_ms": rt,
        "correct": correct,
    }


def _records(trials: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN turned into None, so they compare with ==."""
    return [
        {
            str(key): (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in row.items()
        }
        for row in trials.to_dict("records")
    ]


def test_events_to_trials_builds_rows_from_trial_end_and_ignores_other_events() -> None:
    events = _frame(
        [
            ("s2", 4, 40.0, "trial_end", _end(2, False, None, None, None)),
            ("s2", 2, 20.0, "trial_end", _end(1, True, 300, 250.5, None)),
            ("s1", 1, 1.0, "trial_start", {"trial": 1, "stop": False, "direction": "left"}),
            ("s1", 2, 2.0, "stimulus", {"trial": 1}),
            ("s1", 3, 3.0, "response", {"trial": 1, "key": "right", "rt_ms": 401.5}),
            ("s1", 4, 4.0, "visibility", {"state": "hidden"}),
            ("s1", 5, 5.0, "trial_end", _end(1, False, None, 401.5, 0)),
            ("s1", 6, 6.0, "stop_signal", {"trial": 2, "ssd_ms": 250}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert _records(trials) == [
        {"session": "s1", "trial": 1, "stop": 0, "ssd_ms": None, "rt_ms": 401.5, "correct": 0.0},
        {"session": "s2", "trial": 1, "stop": 1, "ssd_ms": 300.0, "rt_ms": 250.5, "correct": None},
        {"session": "s2", "trial": 2, "stop": 0, "ssd_ms": None, "rt_ms": None, "correct": None},
    ]
    assert [str(dtype) for dtype in trials.dtypes] == [
        "object",
        "int64",
        "int64",
        "float64",
        "float64",
        "float64",
    ]


def test_events_to_trials_keeps_the_first_end_of_a_trial() -> None:
    events = _frame(
        [
            ("s", 9, 9.0, "trial_end", _end(1, False, None, 500.0, 1)),
            ("s", 8, 8.0, "trial_end", _end(1, False, None, 300.0, 0)),
        ]
    )

    trials = spec.events_to_trials(events)

    assert _records(trials) == [
        {"session": "s", "trial": 1, "stop": 0, "ssd_ms": None, "rt_ms": 300.0, "correct": 0.0}
    ]


def test_events_to_trials_without_trial_end_is_an_empty_table() -> None:
    events = _frame(
        [("s", 1, 0.0, "trial_start", {"trial": 1, "stop": False, "direction": "left"})]
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_has_every_scheduled_trial() -> None:
    config = spec.make_config(11)
    latent = Latent(go_rt_mean=500.0, go_rt_sd=100.0, ssrt=220.0)
    stream = GAME.play(latent, np.random.default_rng(5), config)

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s"))

    assert trials["trial"].tolist() == list(range(1, 129))
    assert trials["stop"].tolist() == [int(entry["stop"]) for entry in config["schedule"]]
    assert trials.loc[trials["stop"] == 0, "ssd_ms"].isna().all()
    assert trials.loc[trials["stop"] == 1, "ssd_ms"].notna().all()


CSV_HEADER = ("stop", "ssd_ms", "rt_ms", "correct")


def _csv(
    rows: list[tuple[str, int, str, str, str, str]], header: tuple[str, ...] = CSV_HEADER
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "0", "", "", ""),
            ("p1", 3, "1", "250", " 310.5 ", "1"),
            ("p1", 1, "0", "", "455", "0"),
            ("p1", 2, "1", "200.5", "", ""),
            ("p1", 4, "0", "", "", "1"),
        ]
    )

    trials = spec.csv_to_trials(table)

    # correct is kept only on go trials with a response (rows p1/3 and p1/4 ignore theirs).
    assert _records(trials) == [
        {"session": "p1", "trial": 1, "stop": 0, "ssd_ms": None, "rt_ms": 455.0, "correct": 0.0},
        {"session": "p1", "trial": 2, "stop": 1, "ssd_ms": 200.5, "rt_ms": None, "correct": None},
        {"session": "p1", "trial": 3, "stop": 1, "ssd_ms": 250.0, "rt_ms": 310.5, "correct": None},
        {"session": "p1", "trial": 4, "stop": 0, "ssd_ms": None, "rt_ms": None, "correct": None},
        {"session": "p2", "trial": 1, "stop": 0, "ssd_ms": None, "rt_ms": None, "correct": None},
    ]
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p", 1, "0", "", "300", "1")], header=("STOP", "Ssd_Ms", "RT_ms", "Correct"))

    trials = spec.csv_to_trials(table)

    assert _records(trials) == [
        {"session": "p", "trial": 1, "stop": 0, "ssd_ms": None, "rt_ms": 300.0, "correct": 1.0}
    ]


GOOD_ROW = ("p", 1, "0", "", "300", "1")


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([GOOD_ROW, ("p", 2, "2", "", "300", "1")], "stop", 1, id="stop-2"),
        pytest.param([("p", 1, "", "", "300", "1")], "stop", 0, id="stop-empty"),
        pytest.param([("p", 1, "yes", "", "300", "1")], "stop", 0, id="stop-text"),
        pytest.param([GOOD_ROW, ("p", 2, "1", "", "", "")], "ssd_ms", 1, id="stop-without-ssd"),
        pytest.param([("p", 1, "1", "-50", "", "")], "ssd_ms", 0, id="ssd-negative"),
        pytest.param([("p", 1, "1", "soon", "", "")], "ssd_ms", 0, id="ssd-text"),
        pytest.param([GOOD_ROW, ("p", 2, "0", "250", "300", "1")], "ssd_ms", 1, id="go-with-ssd"),
        pytest.param([GOOD_ROW, ("p", 2, "0", "", "fast", "1")], "rt_ms", 1, id="rt-text"),
        pytest.param([("p", 1, "0", "", "-3", "1")], "rt_ms", 0, id="rt-negative"),
        pytest.param([("p", 1, "0", "", "inf", "1")], "rt_ms", 0, id="rt-inf"),
        pytest.param([("p", 1, "0", "", "nan", "1")], "rt_ms", 0, id="rt-nan"),
        pytest.param(
            [GOOD_ROW, ("p", 2, "0", "", "300", "")], "correct", 1, id="go-response-no-correct"
        ),
        pytest.param([("p", 1, "0", "", "300", "2")], "correct", 0, id="correct-2"),
        pytest.param([("p", 1, "1", "250", "", "x")], "correct", 0, id="correct-text-on-stop"),
        pytest.param([GOOD_ROW, ("p", 1, "0", "", "310", "1")], "trial", 1, id="trial-repeated"),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_allows_the_same_trial_number_for_different_participants() -> None:
    trials = spec.csv_to_trials(_csv([GOOD_ROW, ("q", 1, "0", "", "300", "1")]))

    assert trials["session"].tolist() == ["p", "q"]


@pytest.mark.parametrize("missing", CSV_HEADER)
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    table = _csv([GOOD_ROW]).drop(columns=[missing])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {key: value for key, value in config.items() if key != "schedule"} == {
        "seed": 42,
        "trials": 128,
        "blocks": 4,
        "block_size": 32,
        "ssd_start_ms": 250,
        "ssd_step_ms": 50,
        "ssd_min_ms": 0,
        "ssd_max_ms": 1150,
        "go_deadline_ms": 1500,
        "extended_go_deadline_ms": 3000,
        "fixation_ms": 500,
        "iti_ms": 500,
        "practice_trials": 8,
    }


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 - 1])
def test_schedule_has_balanced_blocks_of_32_with_8_stop_trials_never_first(seed: int) -> None:
    schedule = spec.make_config(seed)["schedule"]

    assert [entry["trial"] for entry in schedule] == list(range(1, 129))
    assert all(set(entry) == {"trial", "stop", "direction"} for entry in schedule)
    assert all(type(entry["stop"]) is bool for entry in schedule)
    for block in range(4):
        entries = schedule[block * 32 : (block + 1) * 32]
        stops = [entry for entry in entries if entry["stop"]]
        gos = [entry for entry in entries if not entry["stop"]]
        assert not entries[0]["stop"]
        assert len(stops) == 8
        assert sorted(entry["direction"] for entry in gos) == ["left"] * 12 + ["right"] * 12
        assert sorted(entry["direction"] for entry in stops) == ["left"] * 4 + ["right"] * 4


def test_stop_positions_vary_between_seeds_and_cover_every_allowed_position() -> None:
    positions = [
        tuple(entry["trial"] for entry in spec.make_config(seed)["schedule"] if entry["stop"])
        for seed in range(200)
    ]
    seen = {trial for stops in positions for trial in stops}

    assert len(set(positions)) == 200
    assert seen == set(range(1, 129)) - {1, 33, 65, 97}


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "p_respond_signal",
        "go_rt_mean_ms",
        "go_omission_rate",
        "go_error_rate",
        "mean_ssd_ms",
        "signal_respond_rt_mean_ms",
        "ssrt_ms",
        "ssrt_valid",
        "go_rt_sd_ms",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("stop", "Stop Signal", 1)
    assert GAME.trial_event_types == frozenset({"trial_end"})
    assert set(GAME.event_types) == {
        "trial_start",
        "stimulus",
        "stop_signal",
        "response",
        "trial_end",
    }
    assert [column.name for column in GAME.csv_columns] == ["stop", "ssd_ms", "rt_ms", "correct"]
    assert GAME.recovery_targets == {
        "go_rt_mean": "go_rt_mean_ms",
        "go_rt_sd": "go_rt_sd_ms",
        "ssrt": "ssrt_ms",
    }
    assert GAME.description
    assert get_game("stop") is GAME
