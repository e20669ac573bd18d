"""Keypresses event validators, trial-table conversions and seeded configuration."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.keypresses import GAME, spec
from pymetrics.games.keypresses.bot import Latent, planned_taps
from pymetrics.games.registry import get_game

D, N = "dominant", "non_dominant"

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("trial_start", {"trial": 1, "hand": D, "duration_ms": 10000}),
    ("trial_start", {"trial": 6, "hand": N, "duration_ms": 1000}),
    ("trial_start", {"trial": 2, "hand": N, "duration_ms": 60000}),
    ("tap", {"trial": 1, "t_ms": 0}),
    ("tap", {"trial": 3, "t_ms": 153.27}),
    ("tap", {"trial": 6, "t_ms": 60000.0}),
    ("trial_end", {"trial": 1, "hand": D, "taps": 0, "duration_ms": 10000}),
    ("trial_end", {"trial": 6, "hand": N, "taps": 2000, "duration_ms": 2500}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)
    GAME.validate_event(event_type, data)


START = {"trial": 1, "hand": D, "duration_ms": 10000}
TAP = {"trial": 1, "t_ms": 10.5}
END = {"trial": 1, "hand": D, "taps": 3, "duration_ms": 10000}

BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "trial_start", [1], ""),
    ("start-missing-trial", "trial_start", {"hand": D, "duration_ms": 10000}, "trial"),
    ("start-trial-0", "trial_start", {**START, "trial": 0}, "trial"),
    ("start-trial-7", "trial_start", {**START, "trial": 7}, "trial"),
    ("start-trial-string", "trial_start", {**START, "trial": "1"}, "trial"),
    ("start-trial-bool", "trial_start", {**START, "trial": True}, "trial"),
    ("start-trial-float", "trial_start", {**START, "trial": 1.0}, "trial"),
    ("start-missing-hand", "trial_start", {"trial": 1, "duration_ms": 10000}, "hand"),
    ("start-hand-left", "trial_start", {**START, "hand": "left"}, "hand"),
    ("start-hand-case", "trial_start", {**START, "hand": "Dominant"}, "hand"),
    ("start-hand-number", "trial_start", {**START, "hand": 1}, "hand"),
    ("start-missing-duration", "trial_start", {"trial": 1, "hand": D}, "duration_ms"),
    ("start-duration-short", "trial_start", {**START, "duration_ms": 999}, "duration_ms"),
    ("start-duration-long", "trial_start", {**START, "duration_ms": 60001}, "duration_ms"),
    ("start-duration-float", "trial_start", {**START, "duration_ms": 10000.5}, "duration_ms"),
    ("start-unknown-key", "trial_start", {**START, "taps": 0}, "taps"),
    ("tap-missing-trial", "tap", {"t_ms": 1.0}, "trial"),
    ("tap-trial-7", "tap", {**TAP, "trial": 7}, "trial"),
    ("tap-missing-t", "tap", {"trial": 1}, "t_ms"),
    ("tap-t-string", "tap", {**TAP, "t_ms": "10"}, "t_ms"),
    ("tap-t-bool", "tap", {**TAP, "t_ms": True}, "t_ms"),
    ("tap-t-none", "tap", {**TAP, "t_ms": None}, "t_ms"),
    ("tap-t-negative", "tap", {**TAP, "t_ms": -0.5}, "t_ms"),
    ("tap-t-too-late", "tap", {**TAP, "t_ms": 60000.5}, "t_ms"),
    ("tap-t-nan", "tap", {**TAP, "t_ms": math.nan}, "t_ms"),
    ("tap-t-inf", "tap", {**TAP, "t_ms": math.inf}, "t_ms"),
    ("tap-unknown-key", "tap", {**TAP, "rt_ms": 10.5}, "rt_ms"),
    ("end-missing-trial", "trial_end", {"hand": D, "taps": 1, "duration_ms": 10000}, "trial"),
    ("end-trial-0", "trial_end", {**END, "trial": 0}, "trial"),
    ("end-missing-hand", "trial_end", {"trial": 1, "taps": 1, "duration_ms": 10000}, "hand"),
    ("end-hand-both", "trial_end", {**END, "hand": "both"}, "hand"),
    ("end-missing-taps", "trial_end", {"trial": 1, "hand": D, "duration_ms": 10000}, "taps"),
    ("end-taps-negative", "trial_end", {**END, "taps": -1}, "taps"),
    ("end-taps-2001", "trial_end", {**END, "taps": 2001}, "taps"),
    ("end-taps-float", "trial_end", {**END, "taps": 3.0}, "taps"),
    ("end-taps-bool", "trial_end", {**END, "taps": False}, "taps"),
    ("end-missing-duration", "trial_end", {"trial": 1, "hand": D, "taps": 1}, "duration_ms"),
    ("end-duration-0", "trial_end", {**END, "duration_ms": 0}, "duration_ms"),
    ("end-unknown-key", "trial_end", {**END, "rate": 5}, "rate"),
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
        GAME.validate_event("press", {"trial": 1})

    assert error.value.field == ""


def _events(rows: list[tuple[Any, int, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(session, seq, float(seq), kind, data) for session, seq, kind, data in rows],
        columns=["session", "seq", "t", "type", "data"],
    )


def _records(trials: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as tuples, NaN t_ms as None so they compare."""
    return [
        tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
        for row in trials.itertuples(index=False, name=None)
    ]


def test_events_to_trials_builds_trial_and_tap_rows_and_ignores_other_events() -> None:
    events = _events(
        [
            ("s2", 1, "trial_start", {"trial": 1, "hand": D, "duration_ms": 10000}),
            ("s2", 2, "trial_end", {"trial": 1, "hand": D, "taps": 0, "duration_ms": 10000}),
            ("s1", 5, "trial_end", {"trial": 1, "hand": D, "taps": 2, "duration_ms": 5000}),
            ("s1", 4, "tap", {"trial": 1, "t_ms": 300.25}),
            ("s1", 2, "visibility", {"state": "hidden"}),
            ("s1", 3, "tap", {"trial": 1, "t_ms": 100}),
            ("s1", 1, "trial_start", {"trial": 1, "hand": D, "duration_ms": 5000}),
            ("s1", 6, "trial_start", {"trial": 2, "hand": N, "duration_ms": 5000}),
            ("s1", 7, "tap", {"trial": 2, "t_ms": 50}),
            ("s1", 8, "trial_end", {"trial": 2, "hand": N, "taps": 1, "duration_ms": 5000}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert _records(trials) == [
        ("s1", 1, "trial", D, 5000, None),
        ("s1", 1, "tap", D, 5000, 100.0),
        ("s1", 1, "tap", D, 5000, 300.25),
        ("s1", 2, "trial", N, 5000, None),
        ("s1", 2, "tap", N, 5000, 50.0),
        ("s2", 1, "trial", D, 10000, None),
    ]
    assert trials["trial"].dtype == np.int64
    assert trials["duration_ms"].dtype == np.int64
    assert trials["t_ms"].dtype == np.float64


def test_events_to_trials_keeps_the_first_end_of_a_trial() -> None:
    events = _events(
        [
            ("s", 9, "trial_end", {"trial": 1, "hand": N, "taps": 5, "duration_ms": 2000}),
            ("s", 8, "trial_end", {"trial": 1, "hand": D, "taps": 1, "duration_ms": 10000}),
            ("s", 7, "tap", {"trial": 1, "t_ms": 40}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert _records(trials) == [("s", 1, "trial", D, 10000, None), ("s", 1, "tap", D, 10000, 40.0)]


def test_events_to_trials_drops_taps_of_unfinished_trials_and_after_the_end() -> None:
    events = _events(
        [
            ("s", 1, "tap", {"trial": 1, "t_ms": 100}),
            ("s", 2, "tap", {"trial": 1, "t_ms": 2000.5}),
            ("s", 3, "trial_end", {"trial": 1, "hand": D, "taps": 1, "duration_ms": 2000}),
            ("s", 4, "tap", {"trial": 2, "t_ms": 100}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert _records(trials) == [("s", 1, "trial", D, 2000, None), ("s", 1, "tap", D, 2000, 100.0)]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([("s", 1, "trial_start", {"trial": 1, "hand": D, "duration_ms": 10000})]),
        pytest.param([("s", 1, "tap", {"trial": 1, "t_ms": 5})], id="taps-without-end"),
    ],
)
def test_events_to_trials_without_a_finished_trial_is_an_empty_table(
    rows: list[tuple[Any, int, str, dict[str, Any]]],
) -> None:
    trials = spec.events_to_trials(_events(rows))

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_matches_the_bot_taps() -> None:
    config = spec.make_config(11)
    latent = Latent(tapping_rate=5.0, variability=0.12, fatigue=-1.0)
    stream = GAME.play(latent, np.random.default_rng(5), config)
    plans = planned_taps(latent, np.random.default_rng(5), config)

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s"))

    trial_rows = trials.loc[trials["kind"] == "trial"]
    assert trial_rows["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    assert trial_rows["hand"].tolist() == [D, N, D, N, D, N]
    for trial, plan in enumerate(plans, start=1):
        taps = trials.loc[(trials["kind"] == "tap") & (trials["trial"] == trial), "t_ms"]
        assert taps.tolist() == plan
        assert 35 < len(plan) < 60


def _csv(rows: list[tuple[Any, ...]], header: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = header or ("hand", "t_ms", "duration_ms")
    return pd.DataFrame(rows, columns=["session", "trial", *columns])


def test_csv_to_trials_makes_trial_rows_from_tap_rows() -> None:
    table = _csv(
        [
            ("p2", 1, "non_dominant", "7", "2000"),
            ("p1", 2, "NON_DOMINANT", " 250.5 ", ""),
            ("p1", 1, "dominant", "300", ""),
            ("p1", 1, "Dominant", "100", " "),
        ]
    )

    trials = spec.csv_to_trials(table)

    assert _records(trials) == [
        ("p1", 1, "trial", D, 10000, None),
        ("p1", 1, "tap", D, 10000, 100.0),
        ("p1", 1, "tap", D, 10000, 300.0),
        ("p1", 2, "trial", N, 10000, None),
        ("p1", 2, "tap", N, 10000, 250.5),
        ("p2", 1, "trial", N, 2000, None),
        ("p2", 1, "tap", N, 2000, 7.0),
    ]


def test_csv_to_trials_without_duration_column_uses_ten_seconds() -> None:
    table = _csv([("p1", 1, "dominant", "100")], header=("Hand", "T_MS"))

    trials = spec.csv_to_trials(table)

    assert _records(trials) == [
        ("p1", 1, "trial", D, 10000, None),
        ("p1", 1, "tap", D, 10000, 100.0),
    ]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([("p", 1, D, "1", ""), ("p", 1, "left", "2", "")], "hand", 1, id="hand-left"),
        pytest.param([("p", 1, "", "1", "")], "hand", 0, id="hand-empty"),
        pytest.param([("p", 1, D, "1", ""), ("p", 1, D, "x", "")], "t_ms", 1, id="t-text"),
        pytest.param([("p", 1, D, "", "")], "t_ms", 0, id="t-empty"),
        pytest.param([("p", 1, D, "-1", "")], "t_ms", 0, id="t-negative"),
        pytest.param([("p", 1, D, "inf", "")], "t_ms", 0, id="t-infinite"),
        pytest.param([("p", 1, D, "1", ""), ("p", 2, N, "1", "2.5")], "duration_ms", 1, id="dur"),
        pytest.param([("p", 1, D, "1", "999")], "duration_ms", 0, id="duration-short"),
        pytest.param([("p", 1, D, "1", "x")], "duration_ms", 0, id="duration-text"),
        pytest.param(
            [("p", 1, D, "1", "5000"), ("p", 1, D, "5000.5", "5000")], "t_ms", 1, id="t-late"
        ),
        pytest.param(
            [("p", 1, D, "1", ""), ("p", 2, N, "5", ""), ("p", 1, N, "9", "")],
            "hand",
            2,
            id="hand-changes-within-a-trial",
        ),
        pytest.param(
            [("p", 1, D, "1", "5000"), ("p", 1, D, "9", "")],
            "duration_ms",
            1,
            id="duration-changes-within-a-trial",
        ),
        pytest.param(
            [("p", 1, D, "1", ""), ("p", 1, D, "9", ""), ("p", 1, D, "9.0", "")],
            "t_ms",
            2,
            id="same-tap-twice",
        ),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_allows_many_rows_per_trial_and_the_same_time_in_other_trials() -> None:
    table = _csv([("p", 1, D, "9", ""), ("p", 2, N, "9", ""), ("q", 1, D, "9", "")])

    trials = spec.csv_to_trials(table)

    assert (trials["kind"] == "tap").sum() == 3


def test_csv_to_trials_requires_hand_and_t_ms() -> None:
    table = pd.DataFrame({"session": ["p"], "trial": [1], "t_ms": ["3"]})

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == ("hand", None)


def test_make_config_is_the_standard_schedule_for_every_seed() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert json.loads(json.dumps(config)) == config
    assert {key: value for key, value in spec.make_config(43).items() if key != "seed"} == {
        key: value for key, value in config.items() if key != "seed"
    }
    assert (config["seed"], spec.make_config(43)["seed"]) == (42, 43)
    assert config["trials"] == [
        {"trial": 1, "hand": D, "duration_ms": 10000},
        {"trial": 2, "hand": N, "duration_ms": 10000},
        {"trial": 3, "hand": D, "duration_ms": 10000},
        {"trial": 4, "hand": N, "duration_ms": 10000},
        {"trial": 5, "hand": D, "duration_ms": 10000},
        {"trial": 6, "hand": N, "duration_ms": 10000},
    ]
    assert {key: config[key] for key in ("countdown_steps", "countdown_step_ms", "rest_ms")} == {
        "countdown_steps": 3,
        "countdown_step_ms": 1000,
        "rest_ms": 5000,
    }
    assert 0 < config["practice_duration_ms"] < 10000


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "taps_per_s",
        "iti_mean_ms",
        "iti_sd_ms",
        "iti_cv",
        "fatigue_slope",
        "hand_asymmetry",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("keypresses", "Keypresses", 1)
    assert GAME.trial_event_types == frozenset({"tap", "trial_end"})
    assert set(GAME.event_types) == {"trial_start", "tap", "trial_end"}
    assert [(column.name, column.required) for column in GAME.csv_columns] == [
        ("hand", True),
        ("t_ms", True),
        ("duration_ms", False),
    ]
    assert GAME.recovery_targets == {
        "tapping_rate": "taps_per_s",
        "variability": "iti_cv",
        "fatigue": "fatigue_slope",
    }
    assert GAME.description


def test_game_is_in_the_registry() -> None:
    assert get_game("keypresses") is GAME
