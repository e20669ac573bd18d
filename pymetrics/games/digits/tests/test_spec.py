"""Digits event validators, trial-table conversions and seeded configuration."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.digits import GAME, spec
from pymetrics.games.digits.bot import Latent, planned_trials
from pymetrics.games.registry import get_game

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("sequence_shown", {"trial": 1, "direction": "forward", "length": 3, "attempt": 1}),
    ("sequence_shown", {"trial": 36, "direction": "backward", "length": 10, "attempt": 2}),
    ("sequence_shown", {"trial": 20, "direction": "forward", "length": 12, "attempt": 2}),
    ("response", {"trial": 1, "entered": "583", "rt_ms": 2310.4}),
    ("response", {"trial": 2, "entered": "", "rt_ms": 0}),
    ("response", {"trial": 36, "entered": "012345678901", "rt_ms": 3_600_000}),
    ("trial_end", {"trial": 1, "direction": "forward", "length": 3, "attempt": 1, "correct": 1}),
    ("trial_end", {"trial": 9, "direction": "backward", "length": 4, "attempt": 2, "correct": 0}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)
    GAME.validate_event(event_type, data)


SHOWN = {"trial": 1, "direction": "forward", "length": 3, "attempt": 1}
RESPONSE = {"trial": 1, "entered": "583", "rt_ms": 1500.0}
END = {"trial": 1, "direction": "forward", "length": 3, "attempt": 1, "correct": 1}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


_DROP = object()

BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("shown-not-an-object", "sequence_shown", [1, 2], ""),
    ("shown-missing-trial", "sequence_shown", _with(SHOWN, trial=_DROP), "trial"),
    ("shown-trial-0", "sequence_shown", _with(SHOWN, trial=0), "trial"),
    ("shown-trial-37", "sequence_shown", _with(SHOWN, trial=37), "trial"),
    ("shown-trial-string", "sequence_shown", _with(SHOWN, trial="1"), "trial"),
    ("shown-trial-bool", "sequence_shown", _with(SHOWN, trial=True), "trial"),
    ("shown-missing-direction", "sequence_shown", _with(SHOWN, direction=_DROP), "direction"),
    ("shown-direction-upper", "sequence_shown", _with(SHOWN, direction="Forward"), "direction"),
    ("shown-direction-other", "sequence_shown", _with(SHOWN, direction="sideways"), "direction"),
    ("shown-direction-int", "sequence_shown", _with(SHOWN, direction=1), "direction"),
    ("shown-missing-length", "sequence_shown", _with(SHOWN, length=_DROP), "length"),
    ("shown-length-2", "sequence_shown", _with(SHOWN, length=2), "length"),
    ("shown-forward-13", "sequence_shown", _with(SHOWN, length=13), "length"),
    (
        "shown-backward-11",
        "sequence_shown",
        _with(SHOWN, direction="backward", length=11),
        "length",
    ),
    ("shown-length-float", "sequence_shown", _with(SHOWN, length=3.0), "length"),
    ("shown-missing-attempt", "sequence_shown", _with(SHOWN, attempt=_DROP), "attempt"),
    ("shown-attempt-0", "sequence_shown", _with(SHOWN, attempt=0), "attempt"),
    ("shown-attempt-3", "sequence_shown", _with(SHOWN, attempt=3), "attempt"),
    ("shown-unknown-key", "sequence_shown", _with(SHOWN, digits="583"), "digits"),
    ("response-not-an-object", "response", "583", ""),
    ("response-missing-trial", "response", _with(RESPONSE, trial=_DROP), "trial"),
    ("response-trial-37", "response", _with(RESPONSE, trial=37), "trial"),
    ("response-missing-entered", "response", _with(RESPONSE, entered=_DROP), "entered"),
    ("response-entered-int", "response", _with(RESPONSE, entered=583), "entered"),
    ("response-entered-list", "response", _with(RESPONSE, entered=["5"]), "entered"),
    ("response-entered-letters", "response", _with(RESPONSE, entered="58a"), "entered"),
    ("response-entered-space", "response", _with(RESPONSE, entered="5 8"), "entered"),
    ("response-entered-minus", "response", _with(RESPONSE, entered="-58"), "entered"),
    ("response-entered-unicode-digit", "response", _with(RESPONSE, entered="5\u0663"), "entered"),
    ("response-entered-13", "response", _with(RESPONSE, entered="1234567890123"), "entered"),
    ("response-missing-rt", "response", _with(RESPONSE, rt_ms=_DROP), "rt_ms"),
    ("response-rt-string", "response", _with(RESPONSE, rt_ms="1500"), "rt_ms"),
    ("response-rt-bool", "response", _with(RESPONSE, rt_ms=True), "rt_ms"),
    ("response-rt-none", "response", _with(RESPONSE, rt_ms=None), "rt_ms"),
    ("response-rt-negative", "response", _with(RESPONSE, rt_ms=-0.1), "rt_ms"),
    ("response-rt-over-an-hour", "response", _with(RESPONSE, rt_ms=3_600_000.1), "rt_ms"),
    ("response-rt-nan", "response", _with(RESPONSE, rt_ms=math.nan), "rt_ms"),
    ("response-rt-inf", "response", _with(RESPONSE, rt_ms=math.inf), "rt_ms"),
    ("response-unknown-key", "response", _with(RESPONSE, correct=1), "correct"),
    ("end-not-an-object", "trial_end", None, ""),
    ("end-missing-trial", "trial_end", _with(END, trial=_DROP), "trial"),
    ("end-trial-negative", "trial_end", _with(END, trial=-1), "trial"),
    ("end-missing-direction", "trial_end", _with(END, direction=_DROP), "direction"),
    ("end-direction-other", "trial_end", _with(END, direction="reverse"), "direction"),
    ("end-length-string", "trial_end", _with(END, length="3"), "length"),
    ("end-backward-11", "trial_end", _with(END, direction="backward", length=11), "length"),
    ("end-attempt-3", "trial_end", _with(END, attempt=3), "attempt"),
    ("end-missing-correct", "trial_end", _with(END, correct=_DROP), "correct"),
    ("end-correct-2", "trial_end", _with(END, correct=2), "correct"),
    ("end-correct-bool", "trial_end", _with(END, correct=True), "correct"),
    ("end-correct-float", "trial_end", _with(END, correct=1.0), "correct"),
    ("end-unknown-key", "trial_end", _with(END, entered="583"), "entered"),
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
        GAME.validate_event("digit_shown", {"trial": 1})

    assert error.value.field == ""


def _events(stream: list[dict[str, Any]], session: str) -> pd.DataFrame:
    return pd.DataFrame(stream).assign(session=session)[["session", "seq", "t", "type", "data"]]


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    latent = Latent(span_forward=6.0, span_backward=4.5, noise=0.6)
    stream = GAME.play(latent, np.random.default_rng(5), config)
    plan = planned_trials(latent, np.random.default_rng(5), config)

    trials = spec.events_to_trials(_events(stream, "s1"))

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert trials["trial"].tolist() == list(range(1, len(plan) + 1))
    assert trials["direction"].tolist() == [p.direction for p in plan]
    assert trials["length"].tolist() == [p.length for p in plan]
    assert trials["correct"].tolist() == [p.correct for p in plan]
    assert {"forward", "backward"} == set(trials["direction"])


def test_events_to_trials_sorts_sessions_and_trials_and_ignores_other_events() -> None:
    shown = {"trial": 1, "direction": "forward", "length": 3, "attempt": 1}
    events = pd.DataFrame(
        [
            ("s2", 6, 30.0, "trial_end", {**END, "trial": 2, "attempt": 2, "correct": 0}),
            ("s2", 3, 10.0, "trial_end", {**END, "trial": 1}),
            ("s1", 1, 5.0, "sequence_shown", shown),
            ("s1", 2, 6.0, "response", {"trial": 1, "entered": "12", "rt_ms": 900.0}),
            ("s1", 3, 7.0, "visibility", {"state": "hidden"}),
            (
                "s1",
                4,
                8.0,
                "trial_end",
                {"trial": 1, "direction": "backward", "length": 4, "attempt": 1, "correct": 0},
            ),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [
        {"session": "s1", "trial": 1, "direction": "backward", "length": 4, "correct": 0},
        {"session": "s2", "trial": 1, "direction": "forward", "length": 3, "correct": 1},
        {"session": "s2", "trial": 2, "direction": "forward", "length": 3, "correct": 0},
    ]
    assert trials["length"].dtype == np.int64
    assert trials["correct"].dtype == np.int64


def test_events_to_trials_keeps_the_first_end_of_a_trial() -> None:
    events = pd.DataFrame(
        [
            ("s", 9, 9.0, "trial_end", {**END, "correct": 0}),
            ("s", 4, 8.0, "trial_end", {**END, "correct": 1}),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials.to_dict("records") == [
        {"session": "s", "trial": 1, "direction": "forward", "length": 3, "correct": 1}
    ]


def test_events_to_trials_without_trial_ends_is_an_empty_table() -> None:
    events = pd.DataFrame(
        [("s", 1, 0.0, "sequence_shown", SHOWN)], columns=["session", "seq", "t", "type", "data"]
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def _csv(
    rows: list[tuple[str, int, str, str, str]],
    header: tuple[str, str, str] = ("direction", "length", "correct"),
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "backward", "3", "0"),
            ("p1", 2, " Forward ", " 12 ", "1"),
            ("p1", 1, "FORWARD", "1", "0"),
        ]
    )

    trials = spec.csv_to_trials(table)

    assert trials.to_dict("records") == [
        {"session": "p1", "trial": 1, "direction": "forward", "length": 1, "correct": 0},
        {"session": "p1", "trial": 2, "direction": "forward", "length": 12, "correct": 1},
        {"session": "p2", "trial": 1, "direction": "backward", "length": 3, "correct": 0},
    ]
    assert trials["length"].dtype == np.int64
    assert trials["correct"].dtype == np.int64


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p1", 1, "backward", "4", "1")], header=("Direction", "LENGTH", "Correct"))

    trials = spec.csv_to_trials(table)

    assert trials.to_dict("records") == [
        {"session": "p1", "trial": 1, "direction": "backward", "length": 4, "correct": 1}
    ]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param(
            [("p", 1, "forward", "3", "1"), ("p", 2, "sideways", "3", "1")],
            "direction",
            1,
            id="direction-other",
        ),
        pytest.param([("p", 1, "", "3", "1")], "direction", 0, id="direction-empty"),
        pytest.param([("p", 1, "f", "3", "1")], "direction", 0, id="direction-abbreviated"),
        pytest.param(
            [("p", 1, "forward", "3", "1"), ("p", 2, "forward", "x", "1")],
            "length",
            1,
            id="length-text",
        ),
        pytest.param([("p", 1, "forward", "", "1")], "length", 0, id="length-empty"),
        pytest.param([("p", 1, "forward", "0", "1")], "length", 0, id="length-0"),
        pytest.param([("p", 1, "forward", "13", "1")], "length", 0, id="length-13"),
        pytest.param([("p", 1, "forward", "3.5", "1")], "length", 0, id="length-fraction"),
        pytest.param(
            [("p", 1, "forward", "3", "1"), ("p", 2, "forward", "3", "2")],
            "correct",
            1,
            id="correct-2",
        ),
        pytest.param([("p", 1, "forward", "3", "")], "correct", 0, id="correct-empty"),
        pytest.param([("p", 1, "forward", "3", "yes")], "correct", 0, id="correct-text"),
        pytest.param(
            [
                ("p", 1, "forward", "3", "1"),
                ("q", 1, "forward", "3", "1"),
                ("p", 1, "backward", "3", "0"),
            ],
            "trial",
            2,
            id="trial-repeated",
        ),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


@pytest.mark.parametrize("missing", ["direction", "length", "correct"])
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    columns = {"direction": ["forward"], "length": ["3"], "correct": ["1"]}
    del columns[missing]
    table = pd.DataFrame({"session": ["p"], "trial": [1], **columns})

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {
        key: config[key]
        for key in (
            "seed",
            "start_length",
            "max_length",
            "attempts_per_length",
            "digit_on_ms",
            "digit_off_ms",
        )
    } == {
        "seed": 42,
        "start_length": 3,
        "max_length": {"forward": 12, "backward": 10},
        "attempts_per_length": 2,
        "digit_on_ms": 800,
        "digit_off_ms": 200,
    }
    assert [level["length"] for level in config["forward"]] == list(range(3, 13))
    assert [level["length"] for level in config["backward"]] == list(range(3, 11))
    assert set(config["practice"]) == {"forward", "backward"}


def _all_sequences(config: dict[str, Any]) -> list[str]:
    return [
        sequence
        for direction in ("forward", "backward")
        for level in config[direction]
        for sequence in level["sequences"]
    ] + list(config["practice"].values())


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31 - 1])
def test_every_sequence_follows_the_documented_rules(seed: int) -> None:
    config = spec.make_config(seed)

    for direction in ("forward", "backward"):
        for level in config[direction]:
            first, second = level["sequences"]
            assert len(first) == len(second) == level["length"]
            assert first != second
    assert all(len(sequence) == 2 for sequence in config["practice"].values())
    for sequence in _all_sequences(config):
        digits = [int(digit) for digit in sequence]
        assert set(digits) <= set(range(1, 10))
        assert len(set(digits[:9])) == len(digits[:9])
        for position in range(9, len(digits)):
            assert digits[position] not in digits[position - 4 : position]
        assert all(abs(a - b) >= 2 for a, b in itertools.pairwise(digits))


def test_sequences_use_every_digit_about_equally_often() -> None:
    counts = np.zeros(10, dtype=int)
    for seed in range(200):
        for sequence in _all_sequences(spec.make_config(seed)):
            counts += np.bincount([int(d) for d in sequence], minlength=10)

    assert counts[0] == 0
    shares = counts[1:] / counts.sum()
    assert shares.min() > 0.08
    assert shares.max() < 0.15


def test_sequence_for_and_expected_answer_read_the_schedule() -> None:
    config = spec.make_config(5)

    assert spec.sequence_for(config, "forward", 3, 1) == config["forward"][0]["sequences"][0]
    assert spec.sequence_for(config, "backward", 10, 2) == config["backward"][7]["sequences"][1]
    assert spec.expected_answer("5829", "forward") == "5829"
    assert spec.expected_answer("5829", "backward") == "9285"
    with pytest.raises(KeyError):
        spec.sequence_for(config, "backward", 11, 1)


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == ["forward_span", "backward_span", "total_correct"]
    assert all(metric.description for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("digits", "Digits", 1)
    assert GAME.trial_event_types == frozenset({"trial_end"})
    assert set(GAME.event_types) == {"sequence_shown", "response", "trial_end"}
    assert [column.name for column in GAME.csv_columns] == ["direction", "length", "correct"]
    assert GAME.recovery_targets == {
        "span_forward": "forward_span",
        "span_backward": "backward_span",
    }
    assert GAME.estimated_minutes == 8
    assert GAME.description
    assert get_game("digits") is GAME
