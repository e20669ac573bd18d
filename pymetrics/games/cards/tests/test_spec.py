"""Cards event validators, trial-table conversions and the card schedule."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.cards import GAME, spec
from pymetrics.games.cards.bot import Latent, planned_decks
from pymetrics.games.registry import get_game

CHOICE = {"trial": 1, "deck": "A", "gain": 100, "loss": 0, "rt_ms": 812.4}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("deck_shown", {"trial": 1}),
    ("deck_shown", {"trial": 100}),
    ("choice", CHOICE),
    ("choice", {"trial": 100, "deck": "D", "gain": 50, "loss": 250, "rt_ms": 0}),
    ("choice", {"trial": 7, "deck": "B", "gain": 0, "loss": 1250, "rt_ms": 3_600_000}),
    ("choice", {"trial": 2, "deck": "C", "gain": 100_000, "loss": 100_000, "rt_ms": 150.0}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


def _choice(**changes: Any) -> dict[str, Any]:
    data = {**CHOICE, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


_DROP = object()

BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("deck_shown-missing-trial", "deck_shown", {}, "trial"),
    ("deck_shown-string", "deck_shown", {"trial": "1"}, "trial"),
    ("deck_shown-bool", "deck_shown", {"trial": True}, "trial"),
    ("deck_shown-float", "deck_shown", {"trial": 1.0}, "trial"),
    ("deck_shown-zero", "deck_shown", {"trial": 0}, "trial"),
    ("deck_shown-101", "deck_shown", {"trial": 101}, "trial"),
    ("deck_shown-unknown-key", "deck_shown", {"trial": 1, "deck": "A"}, "deck"),
    ("deck_shown-not-an-object", "deck_shown", [1], ""),
    ("choice-missing-trial", "choice", _choice(trial=_DROP), "trial"),
    ("choice-trial-101", "choice", _choice(trial=101), "trial"),
    ("choice-trial-float", "choice", _choice(trial=2.0), "trial"),
    ("choice-missing-deck", "choice", _choice(deck=_DROP), "deck"),
    ("choice-deck-lower", "choice", _choice(deck="a"), "deck"),
    ("choice-deck-E", "choice", _choice(deck="E"), "deck"),
    ("choice-deck-number", "choice", _choice(deck=1), "deck"),
    ("choice-deck-none", "choice", _choice(deck=None), "deck"),
    ("choice-deck-list", "choice", _choice(deck=["A"]), "deck"),
    ("choice-missing-gain", "choice", _choice(gain=_DROP), "gain"),
    ("choice-gain-negative", "choice", _choice(gain=-100), "gain"),
    ("choice-gain-float", "choice", _choice(gain=100.5), "gain"),
    ("choice-gain-string", "choice", _choice(gain="100"), "gain"),
    ("choice-gain-bool", "choice", _choice(gain=True), "gain"),
    ("choice-gain-huge", "choice", _choice(gain=100_001), "gain"),
    ("choice-missing-loss", "choice", _choice(loss=_DROP), "loss"),
    ("choice-loss-negative", "choice", _choice(loss=-250), "loss"),
    ("choice-loss-float", "choice", _choice(loss=250.0), "loss"),
    ("choice-loss-bool", "choice", _choice(loss=False), "loss"),
    ("choice-missing-rt", "choice", _choice(rt_ms=_DROP), "rt_ms"),
    ("choice-rt-negative", "choice", _choice(rt_ms=-0.1), "rt_ms"),
    ("choice-rt-too-long", "choice", _choice(rt_ms=3_600_000.1), "rt_ms"),
    ("choice-rt-nan", "choice", _choice(rt_ms=math.nan), "rt_ms"),
    ("choice-rt-inf", "choice", _choice(rt_ms=math.inf), "rt_ms"),
    ("choice-rt-string", "choice", _choice(rt_ms="812"), "rt_ms"),
    ("choice-rt-bool", "choice", _choice(rt_ms=True), "rt_ms"),
    ("choice-rt-null", "choice", _choice(rt_ms=None), "rt_ms"),
    ("choice-unknown-key", "choice", _choice(balance=2000), "balance"),
    ("choice-not-an-object", "choice", "A", ""),
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
        GAME.validate_event("draw", {"trial": 1})

    assert error.value.field == ""


def _events(stream: list[dict[str, Any]], session: str) -> pd.DataFrame:
    return pd.DataFrame(stream).assign(session=session)[["session", "seq", "t", "type", "data"]]


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    stream = GAME.play(
        Latent(learning_rate=0.3, loss_aversion=1.0), np.random.default_rng(5), config
    )

    trials = spec.events_to_trials(_events(stream, "s1"))

    decks = planned_decks(stream)
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert trials["trial"].tolist() == list(range(1, 101))
    assert trials["deck"].tolist() == ["ABCD".index(deck) for deck in decks]
    choices = [event["data"] for event in stream if event["type"] == "choice"]
    assert trials["gain"].tolist() == [float(choice["gain"]) for choice in choices]
    assert trials["loss"].tolist() == [float(choice["loss"]) for choice in choices]
    assert trials["rt_ms"].tolist() == [choice["rt_ms"] for choice in choices]


def test_events_to_trials_sorts_sessions_and_trials_and_ignores_other_events() -> None:
    events = pd.DataFrame(
        [
            ("s2", 4, 30.0, "choice", {"trial": 2, "deck": "C", "gain": 50, "loss": 50,
                                       "rt_ms": 700.5}),
            ("s2", 2, 10.0, "choice", {"trial": 1, "deck": "B", "gain": 100, "loss": 0,
                                       "rt_ms": 1200}),
            ("s1", 1, 5.0, "deck_shown", {"trial": 1}),
            ("s1", 2, 7.0, "visibility", {"state": "hidden"}),
            ("s1", 3, 8.0, "choice", {"trial": 1, "deck": "D", "gain": 50, "loss": 250,
                                      "rt_ms": 3.0}),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [
        {"session": "s1", "trial": 1, "deck": 3, "gain": 50.0, "loss": 250.0, "rt_ms": 3.0},
        {"session": "s2", "trial": 1, "deck": 1, "gain": 100.0, "loss": 0.0, "rt_ms": 1200.0},
        {"session": "s2", "trial": 2, "deck": 2, "gain": 50.0, "loss": 50.0, "rt_ms": 700.5},
    ]
    assert trials["deck"].dtype == np.int64
    assert trials["rt_ms"].dtype == np.float64


def test_events_to_trials_keeps_the_first_choice_of_a_trial() -> None:
    events = pd.DataFrame(
        [
            ("s", 5, 9.0, "choice", {"trial": 1, "deck": "A", "gain": 100, "loss": 0,
                                     "rt_ms": 9.0}),
            ("s", 4, 8.0, "choice", {"trial": 1, "deck": "C", "gain": 50, "loss": 0,
                                     "rt_ms": 8.0}),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [
        {"session": "s", "trial": 1, "deck": 2, "gain": 50.0, "loss": 0.0, "rt_ms": 8.0}
    ]


def test_events_to_trials_without_choices_is_an_empty_table() -> None:
    events = pd.DataFrame(
        [("s", 1, 0.0, "deck_shown", {"trial": 1})],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def _csv(
    rows: list[tuple[str, int, str, str, str]],
    header: tuple[str, str, str] = ("deck", "gain", "loss"),
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "4", "50", "0"),
            ("p1", 2, " b ", "100", "-1250"),
            ("p1", 1, "a", "100", "0"),
            ("p1", 3, "3", "50.5", "25.5"),
        ]
    )

    trials = spec.csv_to_trials(table)

    records = trials.drop(columns="rt_ms").to_dict("records")
    assert records == [
        {"session": "p1", "trial": 1, "deck": 0, "gain": 100.0, "loss": 0.0},
        {"session": "p1", "trial": 2, "deck": 1, "gain": 100.0, "loss": 1250.0},
        {"session": "p1", "trial": 3, "deck": 2, "gain": 50.5, "loss": 25.5},
        {"session": "p2", "trial": 1, "deck": 3, "gain": 50.0, "loss": 0.0},
    ]
    assert trials["rt_ms"].isna().all()
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert trials["deck"].dtype == np.int64


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p1", 1, "C", "50", "50")], header=("Deck", "GAIN", "Loss"))

    trials = spec.csv_to_trials(table)

    assert trials.drop(columns="rt_ms").to_dict("records") == [
        {"session": "p1", "trial": 1, "deck": 2, "gain": 50.0, "loss": 50.0}
    ]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([("p", 1, "A", "1", "0"), ("p", 2, "E", "1", "0")], "deck", 1, id="deck-E"),
        pytest.param([("p", 1, "0", "1", "0")], "deck", 0, id="deck-0"),
        pytest.param([("p", 1, "5", "1", "0")], "deck", 0, id="deck-5"),
        pytest.param([("p", 1, "", "1", "0")], "deck", 0, id="deck-empty"),
        pytest.param([("p", 1, "AB", "1", "0")], "deck", 0, id="deck-two-letters"),
        pytest.param([("p", 1, "A", "1", "0"), ("p", 2, "A", "-1", "0")], "gain", 1,
                     id="gain-negative"),
        pytest.param([("p", 1, "A", "x", "0")], "gain", 0, id="gain-text"),
        pytest.param([("p", 1, "A", "", "0")], "gain", 0, id="gain-empty"),
        pytest.param([("p", 1, "A", "inf", "0")], "gain", 0, id="gain-infinite"),
        pytest.param([("p", 1, "A", "1", "lots")], "loss", 0, id="loss-text"),
        pytest.param([("p", 1, "A", "1", "0"), ("p", 2, "A", "1", "")], "loss", 1,
                     id="loss-empty"),
        pytest.param([("p", 1, "A", "1", "0"), ("p", 1, "B", "1", "0")], "trial", 1,
                     id="trial-repeated"),
    ],
)  # fmt: skip
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_requires_every_game_column() -> None:
    table = pd.DataFrame({"session": ["p"], "trial": [1], "deck": ["A"], "gain": ["100"]})

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == ("loss", None)


def test_the_classic_schedule_sums_per_ten_cards() -> None:
    """A and B lose 250 per 10 cards, C and D win 250, with the classic loss counts."""
    for deck, losses_per_ten, loss_cards_per_ten in (
        ("A", 1250, 5),
        ("B", 1250, 1),
        ("C", 250, 5),
        ("D", 250, 1),
    ):
        losses = np.array(spec.LOSSES[deck]).reshape(4, 10)
        assert losses.sum(axis=1).tolist() == [losses_per_ten] * 4, deck
        assert (losses > 0).sum(axis=1).tolist() == [loss_cards_per_ten] * 4, deck
        net_per_ten = 10 * spec.GAINS[deck] - losses.sum(axis=1)
        assert net_per_ten.tolist() == [-250 if deck in "AB" else 250] * 4, deck
    assert dict(spec.GAINS) == {"A": 100, "B": 100, "C": 50, "D": 50}
    assert spec.LOSSES["A"][:10] == (0, 0, 150, 0, 300, 0, 200, 0, 250, 350)
    assert spec.LOSSES["B"].index(1250) == 8
    assert spec.LOSSES["D"].index(250) == 9


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert {key: value for key, value in spec.make_config(43).items() if key != "seed"} == {
        key: value for key, value in config.items() if key != "seed"
    }
    assert json.loads(json.dumps(config)) == config
    assert {key: config[key] for key in ("seed", "trials", "decks", "starting_balance")} == {
        "seed": 42,
        "trials": 100,
        "decks": ["A", "B", "C", "D"],
        "starting_balance": 2000,
    }
    for deck in "ABCD":
        assert len(config["gains"][deck]) == len(config["losses"][deck]) == 40
        assert all(type(value) is int and value >= 0 for value in config["losses"][deck])
    practice = config["practice"]
    assert practice["draws"] == 4
    assert all(
        len(practice["gains"][deck]) == len(practice["losses"][deck]) == 4 for deck in "ABCD"
    )
    assert practice["losses"] != {deck: config["losses"][deck][:4] for deck in "ABCD"}


def test_no_deck_runs_out_in_a_hundred_choices() -> None:
    config = spec.make_config(1)

    dealt = [spec.card_outcome(config, "B", draw) for draw in range(100)]

    assert dealt[:40] == dealt[40:80]
    assert dealt[80:] == dealt[:20]
    assert sum(gain - loss for gain, loss in dealt[:40]) == -1000


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "net_score",
        "net_score_block_1",
        "net_score_block_2",
        "net_score_block_3",
        "net_score_block_4",
        "net_score_block_5",
        "learning_slope",
        "deck_a_rate",
        "deck_b_rate",
        "deck_c_rate",
        "deck_d_rate",
        "net_earnings",
        "win_stay_rate",
    ]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("cards", "Cards", 1)
    assert GAME.trial_event_types == frozenset({"choice"})
    assert set(GAME.event_types) == {"deck_shown", "choice"}
    assert [column.name for column in GAME.csv_columns] == ["deck", "gain", "loss"]
    assert GAME.recovery_targets == {
        "learning_rate": "win_stay_rate",
        "loss_aversion": "net_score",
    }
    assert GAME.description
    assert get_game("cards") is GAME
