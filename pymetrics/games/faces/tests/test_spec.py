"""Faces event validators, trial-table conversions and the seeded schedule."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.faces import GAME, spec
from pymetrics.games.faces.bot import Latent
from pymetrics.games.registry import get_game

START = {"trial": 1, "emotion": "happy", "intensity": 2, "face": 3}
RESPONSE = {"trial": 1, "emotion": "happy", "intensity": 2, "response": "sad", "rt_ms": 1234.5}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("trial_start", START),
    ("trial_start", {"trial": 42, "emotion": "neutral", "intensity": 0, "face": 1}),
    ("trial_start", {"trial": 7, "emotion": "fearful", "intensity": 1, "face": 4}),
    ("response", RESPONSE),
    ("response", {**RESPONSE, "trial": 42, "emotion": "neutral", "intensity": 0,
                  "response": "neutral", "rt_ms": 0}),
    ("response", {**RESPONSE, "emotion": "disgusted", "intensity": 3, "rt_ms": 3_600_000}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


_DROP = object()


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "trial_start", ["happy"], ""),
    ("start-unknown-key", "trial_start", _with(START, correct=1), "correct"),
    ("start-missing-trial", "trial_start", _with(START, trial=_DROP), "trial"),
    ("start-trial-0", "trial_start", _with(START, trial=0), "trial"),
    ("start-trial-43", "trial_start", _with(START, trial=43), "trial"),
    ("start-trial-float", "trial_start", _with(START, trial=1.0), "trial"),
    ("start-trial-bool", "trial_start", _with(START, trial=True), "trial"),
    ("start-missing-emotion", "trial_start", _with(START, emotion=_DROP), "emotion"),
    ("start-emotion-capitalised", "trial_start", _with(START, emotion="Happy"), "emotion"),
    ("start-emotion-noun", "trial_start", _with(START, emotion="fear"), "emotion"),
    ("start-emotion-number", "trial_start", _with(START, emotion=1), "emotion"),
    ("start-missing-intensity", "trial_start", _with(START, intensity=_DROP), "intensity"),
    ("start-intensity-4", "trial_start", _with(START, intensity=4), "intensity"),
    ("start-intensity-negative", "trial_start", _with(START, intensity=-1), "intensity"),
    ("start-intensity-float", "trial_start", _with(START, intensity=0.7), "intensity"),
    ("start-intensity-0-happy", "trial_start", _with(START, intensity=0), "intensity"),
    ("start-neutral-intensity-1", "trial_start",
     _with(START, emotion="neutral", intensity=1), "intensity"),
    ("start-missing-face", "trial_start", _with(START, face=_DROP), "face"),
    ("start-face-0", "trial_start", _with(START, face=0), "face"),
    ("start-face-5", "trial_start", _with(START, face=5), "face"),
    ("start-face-string", "trial_start", _with(START, face="1"), "face"),
    ("response-not-an-object", "response", "sad", ""),
    ("response-unknown-key", "response", _with(RESPONSE, face=1), "face"),
    ("response-missing-trial", "response", _with(RESPONSE, trial=_DROP), "trial"),
    ("response-missing-emotion", "response", _with(RESPONSE, emotion=_DROP), "emotion"),
    ("response-emotion-unknown", "response", _with(RESPONSE, emotion="calm"), "emotion"),
    ("response-intensity-mismatch", "response",
     _with(RESPONSE, emotion="neutral"), "intensity"),
    ("response-missing-response", "response", _with(RESPONSE, response=_DROP), "response"),
    ("response-response-unknown", "response", _with(RESPONSE, response="bored"), "response"),
    ("response-response-null", "response", _with(RESPONSE, response=None), "response"),
    ("response-response-index", "response", _with(RESPONSE, response=2), "response"),
    ("response-missing-rt", "response", _with(RESPONSE, rt_ms=_DROP), "rt_ms"),
    ("response-rt-negative", "response", _with(RESPONSE, rt_ms=-0.1), "rt_ms"),
    ("response-rt-too-long", "response", _with(RESPONSE, rt_ms=3_600_000.1), "rt_ms"),
    ("response-rt-nan", "response", _with(RESPONSE, rt_ms=math.nan), "rt_ms"),
    ("response-rt-inf", "response", _with(RESPONSE, rt_ms=math.inf), "rt_ms"),
    ("response-rt-string", "response", _with(RESPONSE, rt_ms="900"), "rt_ms"),
    ("response-rt-bool", "response", _with(RESPONSE, rt_ms=True), "rt_ms"),
    ("response-rt-null", "response", _with(RESPONSE, rt_ms=None), "rt_ms"),
]  # fmt: skip


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
        GAME.validate_event("feedback", {"trial": 1})

    assert error.value.field == ""


def _events(rows: list[tuple[str, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def test_events_to_trials_sorts_sessions_and_trials_and_ignores_other_events() -> None:
    events = _events(
        [
            ("s2", 4, 30.0, "response", {**RESPONSE, "trial": 2, "response": "happy",
                                         "rt_ms": 700.5}),
            ("s2", 2, 10.0, "response", {**RESPONSE, "emotion": "neutral", "intensity": 0,
                                         "response": "sad", "rt_ms": 1200}),
            ("s1", 1, 5.0, "trial_start", START),
            ("s1", 2, 7.0, "visibility", {"state": "hidden"}),
            ("s1", 3, 8.0, "response", {**RESPONSE, "emotion": "angry", "intensity": 3,
                                        "response": "disgusted", "rt_ms": 3.0}),
        ]
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert trials.to_dict("records") == [
        {"session": "s1", "trial": 1, "emotion": "angry", "intensity": 3.0,
         "response": "disgusted", "rt_ms": 3.0},
        {"session": "s2", "trial": 1, "emotion": "neutral", "intensity": 0.0,
         "response": "sad", "rt_ms": 1200.0},
        {"session": "s2", "trial": 2, "emotion": "happy", "intensity": 2.0,
         "response": "happy", "rt_ms": 700.5},
    ]  # fmt: skip
    assert trials["trial"].dtype == np.int64
    assert trials["rt_ms"].dtype == np.float64


def test_events_to_trials_keeps_the_first_response_of_a_trial() -> None:
    events = _events(
        [
            ("s", 5, 9.0, "response", {**RESPONSE, "response": "angry"}),
            ("s", 4, 8.0, "response", {**RESPONSE, "response": "happy"}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert trials["response"].tolist() == ["happy"]


def test_events_to_trials_without_responses_is_an_empty_table() -> None:
    trials = spec.events_to_trials(_events([("s", 1, 0.0, "trial_start", START)]))

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_matches_the_bot_answers() -> None:
    config = spec.make_config(11)
    stream = GAME.play(Latent(sensitivity=1.5), np.random.default_rng(5), config)

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s"))

    answers = [event["data"] for event in stream if event["type"] == "response"]
    assert trials["trial"].tolist() == list(range(1, spec.N_TRIALS + 1))
    assert trials["emotion"].tolist() == [item["emotion"] for item in config["trials"]]
    assert trials["intensity"].tolist() == [float(item["intensity"]) for item in config["trials"]]
    assert trials["response"].tolist() == [answer["response"] for answer in answers]
    assert trials["rt_ms"].tolist() == [answer["rt_ms"] for answer in answers]


def _csv(
    rows: list[tuple[str, int, str, str, str]],
    header: tuple[str, str, str] = ("emotion", "response", "rt_ms"),
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_labels_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "Fear", "surprise", "812.5"),
            ("p1", 2, " disgusted ", "ANGER", "1000"),
            ("p1", 1, "happiness", "happy", "0"),
        ]
    )

    trials = spec.csv_to_trials(table)

    assert trials.drop(columns="intensity").to_dict("records") == [
        {"session": "p1", "trial": 1, "emotion": "happy", "response": "happy", "rt_ms": 0.0},
        {"session": "p1", "trial": 2, "emotion": "disgusted", "response": "angry",
         "rt_ms": 1000.0},
        {"session": "p2", "trial": 1, "emotion": "fearful", "response": "surprised",
         "rt_ms": 812.5},
    ]  # fmt: skip
    assert trials["intensity"].isna().all()
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p1", 1, "sad", "sad", "900")], header=("Emotion", "RESPONSE", "Rt_Ms"))

    trials = spec.csv_to_trials(table)

    assert trials[["emotion", "response", "rt_ms"]].to_dict("records") == [
        {"emotion": "sad", "response": "sad", "rt_ms": 900.0}
    ]


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([("p", 1, "happy", "happy", "1"), ("p", 2, "calm", "happy", "1")],
                     "emotion", 1, id="emotion-unknown"),
        pytest.param([("p", 1, "", "happy", "1")], "emotion", 0, id="emotion-empty"),
        pytest.param([("p", 1, "1", "happy", "1")], "emotion", 0, id="emotion-number"),
        pytest.param([("p", 1, "happy", "glad", "1")], "response", 0, id="response-unknown"),
        pytest.param([("p", 1, "happy", "", "1")], "response", 0, id="response-empty"),
        pytest.param([("p", 1, "happy", "happy", "-5")], "rt_ms", 0, id="rt-negative"),
        pytest.param([("p", 1, "happy", "happy", "fast")], "rt_ms", 0, id="rt-text"),
        pytest.param([("p", 1, "happy", "happy", "1"), ("p", 2, "sad", "sad", "")],
                     "rt_ms", 1, id="rt-empty"),
        pytest.param([("p", 1, "happy", "happy", "inf")], "rt_ms", 0, id="rt-infinite"),
        pytest.param([("p", 1, "happy", "happy", "1"), ("p", 1, "sad", "sad", "1")],
                     "trial", 1, id="trial-repeated"),
    ],
)  # fmt: skip
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[tuple[str, int, str, str, str]], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_requires_every_game_column() -> None:
    table = pd.DataFrame(
        {"session": ["p"], "trial": [1], "emotion": ["happy"], "response": ["happy"]}
    )

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == ("rt_ms", None)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 - 1])
def test_the_full_schedule_balances_expressions_and_intensities(seed: int) -> None:
    config = spec.make_config(seed)

    trials = config["trials"]
    assert config["n_trials"] == len(trials) == 42
    assert [item["trial"] for item in trials] == list(range(1, 43))
    cells = Counter((item["emotion"], item["intensity"]) for item in trials)
    assert cells == {
        **{(emotion, level): 2 for emotion in spec.EMOTIONS[:-1] for level in (1, 2, 3)},
        ("neutral", 0): 6,
    }
    emotions = [item["emotion"] for item in trials]
    assert all(a != b for a, b in itertools.pairwise(emotions))
    assert sorted(Counter(item["face"] for item in trials).values()) == [10, 10, 11, 11]


def test_the_short_schedule_has_every_expression_twice() -> None:
    config = spec.make_config(5, short=True)

    trials = config["trials"]
    assert config["n_trials"] == len(trials) == 14
    cells = Counter((item["emotion"], item["intensity"]) for item in trials)
    assert cells == {
        **{(emotion, level): 1 for emotion in spec.EMOTIONS[:-1] for level in (1, 3)},
        ("neutral", 0): 2,
    }
    emotions = [item["emotion"] for item in trials]
    assert all(a != b for a, b in itertools.pairwise(emotions))
    assert {key: value for key, value in config.items() if key not in ("trials", "n_trials")} == {
        key: value
        for key, value in spec.make_config(5).items()
        if key not in ("trials", "n_trials")
    }


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config["trials"] != spec.make_config(43)["trials"]
    assert json.loads(json.dumps(config)) == config
    assert config["seed"] == 42
    assert config["emotions"] == list(spec.EMOTIONS)
    assert config["levels"] == {"1": 0.4, "2": 0.7, "3": 1.0}
    assert config["cues"]["neutral"] == {}
    assert set(config["actions"]) >= {a for cues in config["cues"].values() for a in cues}
    assert (config["iti_ms"], config["feedback_ms"]) == (500, 1500)
    practice = config["practice"]
    assert sorted(item["emotion"] for item in practice) == sorted(spec.PRACTICE)
    assert all(item["intensity"] == (0 if item["emotion"] == "neutral" else 3) for item in practice)
    for item in [*config["trials"], *practice]:
        spec.validate_trial_start(item)


def test_face_actions_blend_from_neutral_by_the_level_weight() -> None:
    assert spec.face_actions("happy", 3)["lip_corner_pull"] == 1.0
    assert spec.face_actions("happy", 2)["lip_corner_pull"] == 0.7
    assert spec.face_actions("happy", 1)["cheek_raise"] == 0.4
    assert spec.face_actions("happy", 1)["brow_lower"] == 0.0
    assert spec.face_actions("sad", 3)["upper_lid_raise"] == -0.35
    assert set(spec.face_actions("neutral", 0).values()) == {0.0}
    # Every expression moves the face, and no two expressions move it the same way.
    full = {emotion: tuple(spec.face_actions(emotion, 3).values()) for emotion in spec.EMOTIONS}
    assert len(set(full.values())) == len(spec.EMOTIONS)


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "accuracy",
        *(f"accuracy_{emotion}" for emotion in spec.EMOTIONS),
        *(f"unbiased_hit_rate_{emotion}" for emotion in spec.EMOTIONS),
        "rt_correct_mean_ms",
    ]
    assert spec.EMOTIONS == (
        "happy", "sad", "angry", "fearful", "surprised", "disgusted", "neutral",
    )  # fmt: skip
    assert all(metric.description and metric.unit for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("faces", "Faces", 1)
    assert GAME.trial_event_types == frozenset({"response"})
    assert set(GAME.event_types) == {"trial_start", "response"}
    assert [column.name for column in GAME.csv_columns] == ["emotion", "response", "rt_ms"]
    assert GAME.recovery_targets == {
        "sensitivity": "accuracy",
        "rt_median_ms": "rt_correct_mean_ms",
    }
    assert GAME.description
    assert GAME.measured
    assert get_game("faces") is GAME
