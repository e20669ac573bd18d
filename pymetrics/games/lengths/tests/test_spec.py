"""Lengths event validators, trial-table conversions, reward ledger and seeded schedule."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.lengths import GAME, spec
from pymetrics.games.registry import get_game
from pymetrics.games.trial_files import TrialFileError, read_trial_file

START = {"trial": 1, "block": 1, "length": "short", "stimulus": "rich"}
RESPONSE = {"trial": 1, "response": "long", "rt_ms": 512.3}
ANSWERED = {
    "trial": 7,
    "block": 2,
    "length": "long",
    "stimulus": "lean",
    "response": "long",
    "correct": 1,
    "rt_ms": 640.5,
    "rewarded": True,
}
MISSED = {**ANSWERED, "response": None, "correct": None, "rt_ms": None, "rewarded": False}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("trial_start", START),
    ("trial_start", {"trial": 300, "block": 3, "length": "long", "stimulus": "lean"}),
    ("response", RESPONSE),
    ("response", {"trial": 300, "response": "short", "rt_ms": 0}),
    ("response", {"trial": 2, "response": "short", "rt_ms": 7000.0}),
    ("feedback", ANSWERED),
    ("feedback", {**ANSWERED, "rewarded": False}),
    ("feedback", {**ANSWERED, "response": "short", "correct": 0, "rewarded": False}),
    ("feedback", {**ANSWERED, "length": "short", "response": "short", "rt_ms": 300}),
    ("feedback", MISSED),
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
    ("trial_start-not-an-object", "trial_start", ["short"], ""),
    ("trial_start-missing-trial", "trial_start", _without(START, "trial"), "trial"),
    ("trial_start-trial-0", "trial_start", {**START, "trial": 0}, "trial"),
    ("trial_start-trial-301", "trial_start", {**START, "trial": 301}, "trial"),
    ("trial_start-trial-float", "trial_start", {**START, "trial": 1.0}, "trial"),
    ("trial_start-trial-bool", "trial_start", {**START, "trial": True}, "trial"),
    ("trial_start-missing-block", "trial_start", _without(START, "block"), "block"),
    ("trial_start-block-0", "trial_start", {**START, "block": 0}, "block"),
    ("trial_start-block-4", "trial_start", {**START, "block": 4}, "block"),
    ("trial_start-block-string", "trial_start", {**START, "block": "1"}, "block"),
    ("trial_start-missing-length", "trial_start", _without(START, "length"), "length"),
    ("trial_start-length-medium", "trial_start", {**START, "length": "medium"}, "length"),
    ("trial_start-length-case", "trial_start", {**START, "length": "Short"}, "length"),
    ("trial_start-length-number", "trial_start", {**START, "length": 11.5}, "length"),
    ("trial_start-missing-stimulus", "trial_start", _without(START, "stimulus"), "stimulus"),
    ("trial_start-stimulus-poor", "trial_start", {**START, "stimulus": "poor"}, "stimulus"),
    ("trial_start-unknown-key", "trial_start", {**START, "reward_due": True}, "reward_due"),
    ("response-not-an-object", "response", None, ""),
    ("response-missing-trial", "response", _without(RESPONSE, "trial"), "trial"),
    ("response-missing-response", "response", _without(RESPONSE, "response"), "response"),
    ("response-response-medium", "response", {**RESPONSE, "response": "medium"}, "response"),
    ("response-response-null", "response", {**RESPONSE, "response": None}, "response"),
    ("response-missing-rt", "response", _without(RESPONSE, "rt_ms"), "rt_ms"),
    ("response-rt-string", "response", {**RESPONSE, "rt_ms": "512"}, "rt_ms"),
    ("response-rt-bool", "response", {**RESPONSE, "rt_ms": True}, "rt_ms"),
    ("response-rt-negative", "response", {**RESPONSE, "rt_ms": -0.1}, "rt_ms"),
    ("response-rt-too-long", "response", {**RESPONSE, "rt_ms": 7000.1}, "rt_ms"),
    ("response-rt-nan", "response", {**RESPONSE, "rt_ms": math.nan}, "rt_ms"),
    ("response-rt-inf", "response", {**RESPONSE, "rt_ms": math.inf}, "rt_ms"),
    ("response-rt-null", "response", {**RESPONSE, "rt_ms": None}, "rt_ms"),
    ("response-unknown-key", "response", {**RESPONSE, "correct": 1}, "correct"),
    ("feedback-missing-block", "feedback", _without(ANSWERED, "block"), "block"),
    ("feedback-missing-length", "feedback", _without(ANSWERED, "length"), "length"),
    ("feedback-missing-stimulus", "feedback", _without(ANSWERED, "stimulus"), "stimulus"),
    ("feedback-missing-response", "feedback", _without(ANSWERED, "response"), "response"),
    ("feedback-missing-correct", "feedback", _without(ANSWERED, "correct"), "correct"),
    ("feedback-missing-rt", "feedback", _without(ANSWERED, "rt_ms"), "rt_ms"),
    ("feedback-missing-rewarded", "feedback", _without(ANSWERED, "rewarded"), "rewarded"),
    ("feedback-rewarded-int", "feedback", {**ANSWERED, "rewarded": 1}, "rewarded"),
    ("feedback-rewarded-null", "feedback", {**ANSWERED, "rewarded": None}, "rewarded"),
    ("feedback-response-medium", "feedback", {**ANSWERED, "response": "medium"}, "response"),
    ("feedback-correct-disagrees", "feedback", {**ANSWERED, "correct": 0}, "correct"),
    (
        "feedback-wrong-answer-marked-correct",
        "feedback",
        {**ANSWERED, "response": "short", "rewarded": False},
        "correct",
    ),
    ("feedback-correct-bool", "feedback", {**ANSWERED, "correct": True}, "correct"),
    ("feedback-correct-2", "feedback", {**ANSWERED, "correct": 2}, "correct"),
    ("feedback-correct-null-with-answer", "feedback", {**ANSWERED, "correct": None}, "correct"),
    ("feedback-rt-null-with-answer", "feedback", {**ANSWERED, "rt_ms": None}, "rt_ms"),
    ("feedback-rt-too-long", "feedback", {**ANSWERED, "rt_ms": 7001}, "rt_ms"),
    (
        "feedback-wrong-answer-rewarded",
        "feedback",
        {**ANSWERED, "response": "short", "correct": 0},
        "rewarded",
    ),
    ("feedback-missed-with-correct", "feedback", {**MISSED, "correct": 0}, "correct"),
    ("feedback-missed-with-rt", "feedback", {**MISSED, "rt_ms": 3000.0}, "rt_ms"),
    ("feedback-missed-rewarded", "feedback", {**MISSED, "rewarded": True}, "rewarded"),
    ("feedback-block-3.5", "feedback", {**ANSWERED, "block": 3.5}, "block"),
    ("feedback-trial-0", "feedback", {**ANSWERED, "trial": 0}, "trial"),
    ("feedback-unknown-key", "feedback", {**ANSWERED, "reward_due": True}, "reward_due"),
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
        GAME.validate_event("reward", {"trial": 1})

    assert error.value.field == ""


def _frame(rows: list[tuple[Any, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def _outcome(
    trial: int, block: int, stimulus: str, correct: int | None, rt: float | None
) -> dict[str, Any]:
    length = "long"
    response = None if correct is None else (length if correct else "short")
    return {
        "trial": trial,
        "block": block,
        "length": length,
        "stimulus": stimulus,
        "response": response,
        "correct": correct,
        "rt_ms": rt,
        "rewarded": False,
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


def test_events_to_trials_builds_rows_from_feedback_and_ignores_other_events() -> None:
    events = _frame(
        [
            ("s2", 6, 60.0, "feedback", _outcome(2, 1, "rich", None, None)),
            ("s2", 3, 30.0, "feedback", _outcome(1, 1, "lean", 0, 455.5)),
            ("s1", 1, 1.0, "trial_start", START),
            ("s1", 2, 2.0, "response", RESPONSE),
            ("s1", 3, 3.0, "visibility", {"state": "hidden"}),
            ("s1", 4, 4.0, "feedback", _outcome(1, 3, "rich", 1, 512.3)),
        ]
    )

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    assert _records(trials) == [
        {"session": "s1", "trial": 1, "block": 3, "stimulus": "rich", "correct": 1.0,
         "rt_ms": 512.3},
        {"session": "s2", "trial": 1, "block": 1, "stimulus": "lean", "correct": 0.0,
         "rt_ms": 455.5},
        {"session": "s2", "trial": 2, "block": 1, "stimulus": "rich", "correct": None,
         "rt_ms": None},
    ]  # fmt: skip
    assert [str(dtype) for dtype in trials.dtypes] == [
        "object",
        "int64",
        "int64",
        "object",
        "float64",
        "float64",
    ]


def test_events_to_trials_keeps_the_first_feedback_of_a_trial() -> None:
    events = _frame(
        [
            ("s", 9, 9.0, "feedback", _outcome(1, 1, "rich", 1, 500.0)),
            ("s", 8, 8.0, "feedback", _outcome(1, 1, "rich", 0, 300.0)),
        ]
    )

    trials = spec.events_to_trials(events)

    assert _records(trials) == [
        {"session": "s", "trial": 1, "block": 1, "stimulus": "rich", "correct": 0.0, "rt_ms": 300.0}
    ]


def test_events_to_trials_without_feedback_is_an_empty_table() -> None:
    trials = spec.events_to_trials(_frame([("s", 1, 0.0, "trial_start", START)]))

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


CSV_HEADER = ("block", "stimulus", "correct", "rt_ms")
Row = tuple[str, int, str, str, str, str]


def _csv(rows: list[Row], header: tuple[str, ...] = CSV_HEADER) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "1", "lean", "", ""),
            ("p1", 2, "2", " LEAN ", "0", " 610.5 "),
            ("p1", 1, "1", "Rich", "1", "455"),
            ("p1", 3, "3", "rich", "1", ""),
        ]
    )

    trials = spec.csv_to_trials(table)

    assert _records(trials) == [
        {"session": "p1", "trial": 1, "block": 1, "stimulus": "rich", "correct": 1.0,
         "rt_ms": 455.0},
        {"session": "p1", "trial": 2, "block": 2, "stimulus": "lean", "correct": 0.0,
         "rt_ms": 610.5},
        {"session": "p1", "trial": 3, "block": 3, "stimulus": "rich", "correct": 1.0,
         "rt_ms": None},
        {"session": "p2", "trial": 1, "block": 1, "stimulus": "lean", "correct": None,
         "rt_ms": None},
    ]  # fmt: skip
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv(
        [("p", 1, "2", "rich", "1", "300")], header=("BLOCK", "Stimulus", "Correct", "RT_ms")
    )

    trials = spec.csv_to_trials(table)

    assert _records(trials) == [
        {"session": "p", "trial": 1, "block": 2, "stimulus": "rich", "correct": 1.0, "rt_ms": 300.0}
    ]


GOOD_ROW: Row = ("p", 1, "1", "rich", "1", "300")


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([GOOD_ROW, ("p", 2, "4", "rich", "1", "300")], "block", 1, id="block-4"),
        pytest.param([("p", 1, "0", "rich", "1", "300")], "block", 0, id="block-0"),
        pytest.param([("p", 1, "", "rich", "1", "300")], "block", 0, id="block-empty"),
        pytest.param([("p", 1, "1.5", "rich", "1", "300")], "block", 0, id="block-fraction"),
        pytest.param([GOOD_ROW, ("p", 2, "1", "short", "1", "300")], "stimulus", 1, id="stim"),
        pytest.param([("p", 1, "1", "", "1", "300")], "stimulus", 0, id="stimulus-empty"),
        pytest.param([("p", 1, "1", "rich", "2", "300")], "correct", 0, id="correct-2"),
        pytest.param([GOOD_ROW, ("p", 2, "1", "lean", "yes", "")], "correct", 1, id="correct-yes"),
        pytest.param([("p", 1, "1", "rich", "1", "fast")], "rt_ms", 0, id="rt-text"),
        pytest.param([("p", 1, "1", "rich", "1", "-3")], "rt_ms", 0, id="rt-negative"),
        pytest.param([("p", 1, "1", "rich", "1", "inf")], "rt_ms", 0, id="rt-inf"),
        pytest.param(
            [GOOD_ROW, ("p", 2, "1", "lean", "", "420")], "rt_ms", 1, id="rt-without-response"
        ),
        pytest.param([GOOD_ROW, ("p", 1, "1", "lean", "0", "310")], "trial", 1, id="repeated"),
    ],
)
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[Row], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


@pytest.mark.parametrize("missing", CSV_HEADER)
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    table = _csv([GOOD_ROW]).drop(columns=[missing])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        pytest.param("p,1,1,rich,1,400\np,2,1,lean,,380\n", 3, "rt_ms", id="time-without-answer"),
        pytest.param("p,1,1,rich,1,400\n\np,2,5,lean,1,380\n", 4, "block", id="block-after-blank"),
        pytest.param("p,1,1,rich,1,400\np,2,1,medium,1,380\n", 3, "stimulus", id="stimulus"),
    ],
)
def test_trial_file_errors_name_line_and_column(
    tmp_path: Path, body: str, line: int, column: str
) -> None:
    path = tmp_path / "lengths.csv"
    path.write_text("participant,trial,block,stimulus,correct,rt_ms\n" + body)

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (line, column)


def test_file_without_a_game_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lengths.csv"
    path.write_text("participant,trial,block,correct,rt_ms\np,1,1,1,400\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (1, "stimulus")


def _entry(block: int, stimulus: str, due: bool) -> dict[str, Any]:
    return {"block": block, "stimulus": stimulus, "reward_due": due}


def test_reward_ledger_pays_a_due_reward_on_the_next_correct_answer_of_its_kind() -> None:
    ledger = spec.RewardLedger()
    trials = [
        (_entry(1, "rich", True), False),  # due, answered wrong: owed rich 1
        (_entry(1, "lean", False), True),  # a lean answer cannot pay a rich reward
        (_entry(1, "rich", False), True),  # pays the owed rich reward
        (_entry(1, "rich", False), True),  # nothing owed
        (_entry(1, "lean", True), True),  # due and correct: paid at once
        (_entry(1, "rich", True), False),  # owed rich 1 ...
        (_entry(1, "rich", True), False),  # ... owed rich 2
        (_entry(2, "rich", False), True),  # a new block: the owed rewards lapsed
        (_entry(2, "rich", True), True),
    ]

    rewarded = [ledger.settle(entry, correct) for entry, correct in trials]

    assert rewarded == [False, False, True, False, True, False, False, False, True]


def _runs(values: list[str]) -> list[int]:
    return [len(list(group)) for _, group in itertools.groupby(values)]


@pytest.mark.parametrize("short", [False, True], ids=["full", "short"])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**31 - 1])
def test_schedule_is_balanced_with_the_controlled_reward_counts(seed: int, short: bool) -> None:
    config = spec.make_config(seed, short=short)
    per_block = 8 if short else 100
    rewards = {"rich": 3, "lean": 1} if short else {"rich": 30, "lean": 10}

    schedule = config["schedule"]
    assert (config["blocks"], config["trials_per_block"], config["trials"]) == (
        3,
        per_block,
        3 * per_block,
    )
    assert config["rewards_per_block"] == rewards
    assert [entry["trial"] for entry in schedule] == list(range(1, 3 * per_block + 1))
    assert all(
        set(entry) == {"trial", "block", "length", "stimulus", "reward_due"} for entry in schedule
    )
    for block in (1, 2, 3):
        entries = schedule[(block - 1) * per_block : block * per_block]
        assert {entry["block"] for entry in entries} == {block}
        lengths = [entry["length"] for entry in entries]
        assert lengths.count("short") == lengths.count("long") == per_block // 2
        assert max(_runs(lengths)) <= spec.MAX_RUN
        for entry in entries:
            assert (entry["stimulus"] == "rich") == (entry["length"] == config["rich_length"])
        for stimulus, count in rewards.items():
            due = [e for e in entries if e["stimulus"] == stimulus and e["reward_due"]]
            assert len(due) == count


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {
        k: v for k, v in config.items() if k not in ("schedule", "practice", "rich_length")
    } == {
        "seed": 42,
        "blocks": 3,
        "trials_per_block": 100,
        "trials": 300,
        "rewards_per_block": {"rich": 30, "lean": 10},
        "mouth_units": {"short": 11.5, "long": 13.0},
        "face_units": 26.0,
        "fixation_ms": 500,
        "face_ms": 500,
        "mouth_ms": 100,
        "response_deadline_ms": 3000,
        "extended_response_deadline_ms": 6000,
        "feedback_ms": 1500,
        "iti_ms": 500,
        "reward_cents": 5,
    }
    assert sorted(config["practice"]) == ["long"] * 3 + ["short"] * 3
    assert sorted(spec.make_config(42, short=True)["practice"]) == [
        "long",
        "long",
        "short",
        "short",
    ]


def test_the_seed_counterbalances_the_rich_length() -> None:
    rich = [spec.make_config(seed, short=True)["rich_length"] for seed in range(200)]

    assert 80 <= rich.count("short") <= 120
    assert rich.count("short") + rich.count("long") == 200


def test_metrics_declared_for_every_extracted_column() -> None:
    names = [metric.name for metric in spec.METRICS]

    assert names == [
        "response_bias",
        "discriminability",
        "response_bias_block_1",
        "response_bias_block_2",
        "response_bias_block_3",
        "bias_change",
        "rich_accuracy",
        "lean_accuracy",
    ]
    assert all(metric.description and metric.unit for metric in spec.METRICS)


#: Words that would grade the candidate; what a game measured is described, not judged.
JUDGING_WORDS = frozenset(
    {"good", "better", "best", "bad", "worse", "worst", "high", "low", "ability", "score", "well"}
)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == ("lengths", "Lengths", 1)
    assert GAME.trial_event_types == frozenset({"feedback"})
    assert set(GAME.event_types) == {"trial_start", "response", "feedback"}
    assert [column.name for column in GAME.csv_columns] == list(CSV_HEADER)
    assert GAME.recovery_targets == {
        "discriminability": "discriminability",
        "learning_rate": "response_bias",
    }
    assert GAME.make_config is spec.make_config
    assert get_game("lengths") is GAME


def test_lobby_and_end_texts_are_set_and_neutral() -> None:
    words = set(re.findall(r"[a-z]+", GAME.measured.lower()))

    assert GAME.description.strip()
    assert GAME.measured.startswith("This game looked at ")
    assert not words & JUDGING_WORDS
    assert len(GAME.measured) <= 160
