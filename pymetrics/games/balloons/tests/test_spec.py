"""Balloons event validators, trial-table conversions and seeded configuration."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.balloons import GAME, spec
from pymetrics.games.balloons.bot import Latent, planned_pumps
from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.registry import get_game

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("balloon_start", {"balloon": 1}),
    ("balloon_start", {"balloon": 30}),
    ("pump", {"balloon": 1, "pumps": 1}),
    ("pump", {"balloon": 7, "pumps": 128}),
    ("collect", {"balloon": 2, "pumps": 0}),
    ("collect", {"balloon": 30, "pumps": 128}),
    ("burst", {"balloon": 3, "pumps": 1}),
    ("burst", {"balloon": 3, "pumps": 128}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("balloon_start-missing-balloon", "balloon_start", {}, "balloon"),
    ("balloon_start-string", "balloon_start", {"balloon": "1"}, "balloon"),
    ("balloon_start-bool", "balloon_start", {"balloon": True}, "balloon"),
    ("balloon_start-float", "balloon_start", {"balloon": 1.0}, "balloon"),
    ("balloon_start-zero", "balloon_start", {"balloon": 0}, "balloon"),
    ("balloon_start-31", "balloon_start", {"balloon": 31}, "balloon"),
    ("balloon_start-unknown-key", "balloon_start", {"balloon": 1, "pumps": 0}, "pumps"),
    ("pump-missing-balloon", "pump", {"pumps": 1}, "balloon"),
    ("pump-missing-pumps", "pump", {"balloon": 1}, "pumps"),
    ("pump-string", "pump", {"balloon": 1, "pumps": "2"}, "pumps"),
    ("pump-bool", "pump", {"balloon": 1, "pumps": True}, "pumps"),
    ("pump-float", "pump", {"balloon": 1, "pumps": 2.5}, "pumps"),
    ("pump-zero", "pump", {"balloon": 1, "pumps": 0}, "pumps"),
    ("pump-129", "pump", {"balloon": 1, "pumps": 129}, "pumps"),
    ("pump-balloon-31", "pump", {"balloon": 31, "pumps": 1}, "balloon"),
    ("pump-unknown-key", "pump", {"balloon": 1, "pumps": 1, "bank": 5}, "bank"),
    ("collect-missing-balloon", "collect", {"pumps": 0}, "balloon"),
    ("collect-missing-pumps", "collect", {"balloon": 1}, "pumps"),
    ("collect-string", "collect", {"balloon": 1, "pumps": "0"}, "pumps"),
    ("collect-bool", "collect", {"balloon": 1, "pumps": False}, "pumps"),
    ("collect-float", "collect", {"balloon": 1, "pumps": 3.0}, "pumps"),
    ("collect-negative", "collect", {"balloon": 1, "pumps": -1}, "pumps"),
    ("collect-129", "collect", {"balloon": 1, "pumps": 129}, "pumps"),
    ("collect-balloon-0", "collect", {"balloon": 0, "pumps": 1}, "balloon"),
    ("collect-unknown-key", "collect", {"balloon": 1, "pumps": 1, "total": 5}, "total"),
    ("burst-missing-balloon", "burst", {"pumps": 1}, "balloon"),
    ("burst-missing-pumps", "burst", {"balloon": 1}, "pumps"),
    ("burst-string", "burst", {"balloon": 1, "pumps": "4"}, "pumps"),
    ("burst-bool", "burst", {"balloon": 1, "pumps": True}, "pumps"),
    ("burst-float", "burst", {"balloon": 1, "pumps": 4.0}, "pumps"),
    ("burst-zero", "burst", {"balloon": 1, "pumps": 0}, "pumps"),
    ("burst-129", "burst", {"balloon": 1, "pumps": 129}, "pumps"),
    ("burst-balloon-string", "burst", {"balloon": "3", "pumps": 4}, "balloon"),
    ("burst-unknown-key", "burst", {"balloon": 1, "pumps": 4, "Pumps": 4}, "Pumps"),
    ("pump-not-an-object", "pump", [1, 2], ""),
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
        GAME.validate_event("inflate", {"balloon": 1})

    assert error.value.field == ""


def _events(stream: list[dict[str, Any]], session: str) -> pd.DataFrame:
    return pd.DataFrame(stream).assign(session=session)[["session", "seq", "t", "type", "data"]]


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    latent = Latent(target_pumps=45.0, pump_sd=15.0, pump_interval_ms=300.0)
    stream = GAME.play(latent, np.random.default_rng(5), config)
    plans = planned_pumps(latent, np.random.default_rng(5), config["balloons"])

    trials = spec.events_to_trials(_events(stream, "s1"))

    bursts = [int(plan >= point) for plan, point in zip(plans, config["burst_points"], strict=True)]
    pumps = [min(plan, point) for plan, point in zip(plans, config["burst_points"], strict=True)]
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert trials["trial"].tolist() == list(range(1, 31))
    assert trials["pumps"].tolist() == pumps
    assert trials["burst"].tolist() == bursts
    assert 0 < sum(bursts) < 30


def test_events_to_trials_sorts_sessions_and_balloons_and_ignores_other_events() -> None:
    events = pd.DataFrame(
        [
            ("s2", 3, 30.0, "collect", {"balloon": 2, "pumps": 4}),
            ("s2", 1, 10.0, "burst", {"balloon": 1, "pumps": 9}),
            ("s1", 1, 5.0, "balloon_start", {"balloon": 1}),
            ("s1", 2, 6.0, "pump", {"balloon": 1, "pumps": 1}),
            ("s1", 3, 7.0, "visibility", {"state": "hidden"}),
            ("s1", 4, 8.0, "collect", {"balloon": 1, "pumps": 1}),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [
        {"session": "s1", "trial": 1, "pumps": 1, "burst": 0},
        {"session": "s2", "trial": 1, "pumps": 9, "burst": 1},
        {"session": "s2", "trial": 2, "pumps": 4, "burst": 0},
    ]


def test_events_to_trials_keeps_the_first_end_of_a_balloon() -> None:
    events = pd.DataFrame(
        [
            ("s", 5, 9.0, "collect", {"balloon": 1, "pumps": 2}),
            ("s", 4, 8.0, "burst", {"balloon": 1, "pumps": 2}),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [{"session": "s", "trial": 1, "pumps": 2, "burst": 1}]


def test_events_to_trials_without_ending_events_is_an_empty_table() -> None:
    events = pd.DataFrame(
        [("s", 1, 0.0, "balloon_start", {"balloon": 1})],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def _csv(
    rows: list[tuple[str, int, str, str]], header: tuple[str, str] = ("pumps", "burst")
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv([("p2", 1, "3", "0"), ("p1", 2, " 12 ", "1"), ("p1", 1, "0", "0")])

    trials = spec.csv_to_trials(table)

    assert trials.to_dict("records") == [
        {"session": "p1", "trial": 1, "pumps": 0, "burst": 0},
        {"session": "p1", "trial": 2, "pumps": 12, "burst": 1},
        {"session": "p2", "trial": 1, "pumps": 3, "burst": 0},
    ]
    assert trials["pumps"].dtype == np.int64
    assert trials["burst"].dtype == np.int64


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p1", 1, "4", "1")], header=("Pumps", "BURST"))

    trials = spec.csv_to_trials(table)

    assert trials.to_dict("records") == [{"session": "p1", "trial": 1, "pumps": 4, "burst": 1}]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([("p", 1, "1", "0"), ("p", 2, "x", "0")], "pumps", 1, id="pumps-text"),
        pytest.param([("p", 1, "1", "0"), ("p", 2, "", "0")], "pumps", 1, id="pumps-empty"),
        pytest.param([("p", 1, "-1", "0")], "pumps", 0, id="pumps-negative"),
        pytest.param([("p", 1, "2.5", "0")], "pumps", 0, id="pumps-fraction"),
        pytest.param([("p", 1, "1", "0"), ("p", 2, "1", "2")], "burst", 1, id="burst-2"),
        pytest.param([("p", 1, "1", "yes")], "burst", 0, id="burst-text"),
        pytest.param(
            [("p", 1, "1", "0"), ("p", 2, "3", "1"), ("p", 3, "0", "1")],
            "pumps",
            2,
            id="burst-without-pumps",
        ),
        pytest.param([("p", 1, "1", "0"), ("p", 1, "2", "0")], "trial", 1, id="trial-repeated"),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_requires_every_game_column() -> None:
    table = pd.DataFrame({"session": ["p"], "trial": [1], "pumps": ["3"]})

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == ("burst", None)


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {key: config[key] for key in ("seed", "balloons", "cents_per_pump", "max_pumps")} == {
        "seed": 42,
        "balloons": 30,
        "cents_per_pump": 5,
        "max_pumps": 128,
    }
    assert len(config["burst_points"]) == 30
    assert all(type(point) is int and 1 <= point <= 128 for point in config["burst_points"])


def test_burst_points_cover_1_to_128_uniformly() -> None:
    points = np.concatenate([spec.make_config(seed)["burst_points"] for seed in range(400)])

    assert points.min() == 1
    assert points.max() == 128
    assert abs(points.mean() - 64.5) < 1.5


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "adjusted_pumps",
        "mean_pumps",
        "bursts",
        "earnings_cents",
        "adjusted_pumps_block_1",
        "adjusted_pumps_block_2",
        "adjusted_pumps_block_3",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("balloons", "Balloons", 1)
    assert GAME.trial_event_types == frozenset({"collect", "burst"})
    assert set(GAME.event_types) == {"balloon_start", "pump", "collect", "burst"}
    assert [column.name for column in GAME.csv_columns] == ["pumps", "burst"]
    assert GAME.recovery_targets == {"target_pumps": "adjusted_pumps"}
    assert GAME.estimated_minutes == 5
    assert GAME.description
    assert get_game("balloons") is GAME
