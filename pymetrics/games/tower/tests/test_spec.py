"""Tower event validators, trial-table conversions and the problem schedule."""

from __future__ import annotations

import json
import math
from itertools import permutations
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.registry import get_game
from pymetrics.games.tower import GAME, spec
from pymetrics.games.tower.solver import min_moves, parse_layout

_DROP = object()

START = {"problem": 1, "min_moves": 3, "start": "GR|B|", "goal": "GBR||"}
MOVE = {"problem": 1, "kind": "move", "from": 1, "to": 3, "moves": 1, "layout": "G|B|R"}
UNDO = {"problem": 1, "kind": "undo", "from": 3, "to": 1, "moves": 1, "layout": "GR|B|"}
RESET = {"problem": 1, "kind": "reset", "moves": 4, "layout": "GR|B|"}
END = {
    "problem": 1,
    "min_moves": 3,
    "moves": 3,
    "first_move_ms": 4200.5,
    "total_ms": 6100.0,
    "solved": True,
    "end": "solved",
}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("problem_start", START),
    ("problem_start", {"problem": 12, "min_moves": 8, "start": "GR|B|", "goal": "B|GR|"}),
    ("problem_start", {"problem": 2, "min_moves": 1, "start": "|RG|B", "goal": "B|RG|"}),
    ("move", MOVE),
    ("move", UNDO),
    ("move", RESET),
    ("move", {**MOVE, "moves": 20}),
    ("problem_end", END),
    ("problem_end", {**END, "moves": 20, "solved": False, "end": "move_limit"}),
    ("problem_end", {**END, "moves": 0, "first_move_ms": None, "total_ms": 90000,
                     "solved": False, "end": "time_limit"}),
    # A ball picked up and never put down before the time ran out.
    ("problem_end", {**END, "moves": 0, "first_move_ms": 89000, "total_ms": 180000,
                     "solved": False, "end": "time_limit"}),
    ("problem_end", {**END, "first_move_ms": 6100.0}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


def _move(**changes: Any) -> dict[str, Any]:
    return _with(MOVE, **{key.rstrip("_"): value for key, value in changes.items()})


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "problem_start", [1], ""),
    ("start-missing-problem", "problem_start", _with(START, problem=_DROP), "problem"),
    ("start-problem-zero", "problem_start", _with(START, problem=0), "problem"),
    ("start-problem-13", "problem_start", _with(START, problem=13), "problem"),
    ("start-problem-string", "problem_start", _with(START, problem="1"), "problem"),
    ("start-unknown-key", "problem_start", _with(START, level=3), "level"),
    ("start-missing-min", "problem_start", _with(START, min_moves=_DROP), "min_moves"),
    ("start-min-zero", "problem_start", _with(START, min_moves=0), "min_moves"),
    ("start-min-9", "problem_start", _with(START, min_moves=9), "min_moves"),
    ("start-min-bool", "problem_start", _with(START, min_moves=True), "min_moves"),
    ("start-min-wrong", "problem_start", _with(START, min_moves=4), "min_moves"),
    ("start-missing-start", "problem_start", _with(START, start=_DROP), "start"),
    ("start-start-overfull", "problem_start", _with(START, start="G|RB|R"), "start"),
    ("start-start-list", "problem_start", _with(START, start=["GR", "B", ""]), "start"),
    ("start-missing-goal", "problem_start", _with(START, goal=_DROP), "goal"),
    ("start-goal-two-pegs", "problem_start", _with(START, goal="GBR|"), "goal"),
    ("start-goal-is-start", "problem_start", _with(START, goal="GR|B|"), "goal"),
    ("move-not-an-object", "move", "1-3", ""),
    ("move-missing-problem", "move", _move(problem=_DROP), "problem"),
    ("move-unknown-key", "move", _move(rt_ms=300.0), "rt_ms"),
    ("move-missing-kind", "move", _move(kind=_DROP), "kind"),
    ("move-kind-unknown", "move", _move(kind="redo"), "kind"),
    ("move-kind-upper", "move", _move(kind="MOVE"), "kind"),
    ("move-missing-from", "move", _move(from_=_DROP), "from"),
    ("move-from-zero", "move", _move(from_=0), "from"),
    ("move-from-4", "move", _move(from_=4), "from"),
    ("move-from-float", "move", _move(from_=1.0), "from"),
    ("move-missing-to", "move", _move(to=_DROP), "to"),
    ("move-to-4", "move", _move(to=4), "to"),
    ("move-to-equals-from", "move", _move(to=1), "to"),
    ("undo-missing-from", "move", _with(UNDO, **{"from": _DROP}), "from"),
    ("reset-with-from", "move", _with(RESET, **{"from": 1}), "from"),
    ("reset-with-to", "move", _with(RESET, to=2), "to"),
    ("move-missing-moves", "move", _move(moves=_DROP), "moves"),
    ("move-moves-zero", "move", _move(moves=0), "moves"),
    ("move-moves-21", "move", _move(moves=21), "moves"),
    ("move-missing-layout", "move", _move(layout=_DROP), "layout"),
    ("move-layout-bad", "move", _move(layout="GRB|"), "layout"),
    ("end-not-an-object", "problem_end", None, ""),
    ("end-missing-problem", "problem_end", _with(END, problem=_DROP), "problem"),
    ("end-unknown-key", "problem_end", _with(END, undos=1), "undos"),
    ("end-missing-min", "problem_end", _with(END, min_moves=_DROP), "min_moves"),
    ("end-min-9", "problem_end", _with(END, min_moves=9), "min_moves"),
    ("end-missing-moves", "problem_end", _with(END, moves=_DROP), "moves"),
    ("end-moves-negative", "problem_end", _with(END, moves=-1), "moves"),
    ("end-moves-21", "problem_end", _with(END, moves=21), "moves"),
    ("end-solved-in-fewer-than-min", "problem_end", _with(END, moves=2), "moves"),
    ("end-missing-first", "problem_end", _with(END, first_move_ms=_DROP), "first_move_ms"),
    ("end-first-null-with-moves", "problem_end", _with(END, first_move_ms=None),
     "first_move_ms"),
    ("end-first-negative", "problem_end", _with(END, first_move_ms=-1), "first_move_ms"),
    ("end-first-nan", "problem_end", _with(END, first_move_ms=math.nan), "first_move_ms"),
    ("end-first-string", "problem_end", _with(END, first_move_ms="4200"), "first_move_ms"),
    ("end-first-after-total", "problem_end", _with(END, first_move_ms=6100.1),
     "first_move_ms"),
    ("end-missing-total", "problem_end", _with(END, total_ms=_DROP), "total_ms"),
    ("end-total-too-long", "problem_end", _with(END, total_ms=180000.1), "total_ms"),
    ("end-total-inf", "problem_end", _with(END, total_ms=math.inf), "total_ms"),
    ("end-missing-solved", "problem_end", _with(END, solved=_DROP), "solved"),
    ("end-solved-int", "problem_end", _with(END, solved=1), "solved"),
    ("end-solved-but-time-limit", "problem_end", _with(END, end="time_limit"), "solved"),
    ("end-unsolved-but-solved-end", "problem_end", _with(END, solved=False), "solved"),
    ("end-missing-end", "problem_end", _with(END, end=_DROP), "end"),
    ("end-end-unknown", "problem_end", _with(END, end="gave_up"), "end"),
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


def test_wrong_min_moves_names_the_solver_s_distance() -> None:
    with pytest.raises(EventDataError, match="fewest moves from start to goal are 3, got 4"):
        spec.validate_problem_start({**START, "min_moves": 4})


def test_game_validates_common_events_and_refuses_unknown_types() -> None:
    GAME.validate_event("visibility", {"state": "hidden"})
    GAME.validate_event("focus", {"state": "blur"})

    with pytest.raises(EventDataError) as error:
        GAME.validate_event("pick", {"problem": 1})

    assert error.value.field == ""


def test_the_game_is_registered_under_its_key() -> None:
    assert get_game("tower") is GAME
    assert GAME.trial_event_types == frozenset({"problem_end"})
    assert [column.name for column in GAME.csv_columns] == [
        "min_moves",
        "moves",
        "first_move_ms",
        "total_ms",
        "solved",
    ]
    assert GAME.description
    assert GAME.measured


# --- the schedule -------------------------------------------------------------


def test_every_problem_s_stated_level_is_the_solver_s() -> None:
    levels = [min_moves(parse_layout(start), parse_layout(goal)) for start, goal in spec.PROBLEMS]
    practice = [
        min_moves(parse_layout(start), parse_layout(goal)) for start, goal in spec.PRACTICE_PROBLEMS
    ]

    assert levels == [2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]
    assert practice == [1, 2]
    assert len(set(spec.PROBLEMS)) == 12


@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 2**31 - 1])
def test_make_config_min_moves_match_the_solver(seed: int) -> None:
    config = spec.make_config(seed)

    problems = config["problems"]
    assert [problem["problem"] for problem in problems] == list(range(1, 13))
    assert [problem["min_moves"] for problem in problems] == [2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5]
    for problem in [*problems, *config["practice"]]:
        fewest = min_moves(parse_layout(problem["start"]), parse_layout(problem["goal"]))
        assert problem["min_moves"] == fewest
        spec.validate_problem_start({"problem": 1, **problem})
    assert [problem["min_moves"] for problem in config["practice"]] == [1, 2]


def test_make_config_swaps_colours_of_the_fixed_problems_only() -> None:
    """Every scheduled problem is one of PROBLEMS with its three colours swapped."""
    config = spec.make_config(5)
    structures = {
        tuple(layout.translate(str.maketrans("".join(colours), "RGB")) for layout in pair)
        for pair in spec.PROBLEMS
        for colours in permutations("RGB")
    }

    for problem in config["problems"]:
        start, goal = problem["start"], problem["goal"]
        # Undo the swap that makes this start Shallice's: the goal must be in the set.
        swap = str.maketrans(start.replace("|", ""), spec.START.replace("|", ""))
        assert (start.translate(swap), goal.translate(swap)) in spec.PROBLEMS
        assert (start, goal) in structures
    # The 12 structures are all used once.
    unswapped = set()
    for problem in config["problems"]:
        swap = str.maketrans(problem["start"].replace("|", ""), spec.START.replace("|", ""))
        unswapped.add((problem["start"].translate(swap), problem["goal"].translate(swap)))
    assert unswapped == set(spec.PROBLEMS)


def test_make_config_is_reproducible_and_seeded() -> None:
    assert spec.make_config(3) == spec.make_config(3)
    assert spec.make_config(3) != spec.make_config(4)
    assert json.loads(json.dumps(spec.make_config(3))) == spec.make_config(3)


def test_short_config_has_one_problem_per_level() -> None:
    config = spec.make_config(3, short=True)

    assert config["short"] is True
    assert [problem["min_moves"] for problem in config["problems"]] == [2, 3, 4, 5]
    assert [problem["problem"] for problem in config["problems"]] == [1, 2, 3, 4]
    assert config["move_limit"] == 20
    assert config["time_limit_ms"] == 90_000
    assert len(config["practice"]) == 2


# --- events to trials -----------------------------------------------------------


def _end(problem: int, **changes: Any) -> dict[str, Any]:
    return {**END, "problem": problem, **changes}


def test_events_to_trials_sorts_and_ignores_other_events() -> None:
    events = pd.DataFrame(
        [
            ("s2", 9, 30.0, "problem_end", _end(2, min_moves=4, moves=6, first_move_ms=700.5,
                                                total_ms=9000.0)),
            ("s2", 5, 10.0, "problem_end", _end(1, moves=0, first_move_ms=None,
                                                total_ms=90000.0, solved=False,
                                                end="time_limit")),
            ("s1", 1, 5.0, "problem_start", START),
            ("s1", 2, 6.0, "move", MOVE),
            ("s1", 3, 7.0, "visibility", {"state": "hidden"}),
            ("s1", 4, 8.0, "problem_end", _end(1)),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    records = trials.to_dict("records")
    assert records[0] == {
        "session": "s1", "trial": 1, "min_moves": 3, "moves": 3, "first_move_ms": 4200.5,
        "total_ms": 6100.0, "solved": 1,
    }  # fmt: skip
    assert records[2] == {
        "session": "s2", "trial": 2, "min_moves": 4, "moves": 6, "first_move_ms": 700.5,
        "total_ms": 9000.0, "solved": 1,
    }  # fmt: skip
    assert records[1]["trial"] == 1
    assert records[1]["solved"] == 0
    assert math.isnan(records[1]["first_move_ms"])
    assert trials["solved"].dtype == np.int64
    assert trials["first_move_ms"].dtype == np.float64


def test_events_to_trials_keeps_the_first_end_of_a_problem() -> None:
    events = pd.DataFrame(
        [
            ("s", 5, 9.0, "problem_end", _end(1, moves=5)),
            ("s", 4, 8.0, "problem_end", _end(1, moves=4)),
        ],
        columns=["session", "seq", "t", "type", "data"],
    )

    trials = spec.events_to_trials(events)

    assert trials["moves"].tolist() == [4]


def test_events_to_trials_without_ends_is_an_empty_table() -> None:
    events = pd.DataFrame(
        [("s", 1, 0.0, "problem_start", START)], columns=["session", "seq", "t", "type", "data"]
    )

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


# --- CSV ----------------------------------------------------------------------------

HEADER = ("min_moves", "moves", "first_move_ms", "total_ms", "solved")


def _csv(rows: list[tuple[Any, ...]], header: tuple[str, ...] = HEADER) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "2", "2", "1500", "3000", "1"),
            ("p1", 2, " 3 ", "0", "", "90000", "0"),
            ("p1", 1, "4", "6", "2500.5", "12000", "1"),
        ],
        header=("MIN_MOVES", "Moves", "first_move_ms", "total_ms", "solved"),
    )

    trials = spec.csv_to_trials(table)

    assert trials[["session", "trial", "min_moves", "moves", "solved"]].to_dict("records") == [
        {"session": "p1", "trial": 1, "min_moves": 4, "moves": 6, "solved": 1},
        {"session": "p1", "trial": 2, "min_moves": 3, "moves": 0, "solved": 0},
        {"session": "p2", "trial": 1, "min_moves": 2, "moves": 2, "solved": 1},
    ]
    assert trials["first_move_ms"].tolist()[0] == 2500.5
    assert math.isnan(trials["first_move_ms"].tolist()[1])
    assert trials["total_ms"].tolist() == [12000.0, 90000.0, 3000.0]


GOOD_ROW = ("p", 1, "3", "4", "2000", "8000", "1")

BAD_CSV: list[tuple[str, int, str, str, str]] = [
    # (id, index of the cell in GOOD_ROW, value, column named, text in the message)
    ("min-zero", 2, "0", "min_moves", ">= 1"),
    ("min-text", 2, "three", "min_moves", "'three'"),
    ("min-fraction", 2, "2.5", "min_moves", "integer"),
    ("min-empty", 2, "", "min_moves", "integer"),
    ("moves-negative", 3, "-1", "moves", ">= 0"),
    ("moves-huge", 3, "1001", "moves", "<= 1000"),
    ("moves-fewer-than-min-solved", 3, "2", "moves", "at least min_moves"),
    ("first-negative", 4, "-5", "first_move_ms", "0 to 3600000"),
    ("first-text", 4, "soon", "first_move_ms", "'soon'"),
    ("first-empty-with-moves", 4, "", "first_move_ms", "required when moves is above 0"),
    ("first-after-total", 4, "9000", "first_move_ms", "must not exceed total_ms"),
    ("total-empty", 5, "", "total_ms", "0 to 3600000"),
    ("total-inf", 5, "inf", "total_ms", "'inf'"),
    ("total-too-long", 5, "3600001", "total_ms", "0 to 3600000"),
    ("solved-two", 6, "2", "solved", "<= 1"),
    ("solved-yes", 6, "yes", "solved", "'yes'"),
]


@pytest.mark.parametrize(
    ("position", "value", "column", "message"),
    [pytest.param(p, v, c, m, id=case_id) for case_id, p, v, c, m in BAD_CSV],
)
def test_csv_to_trials_names_the_column_and_row(
    position: int, value: str, column: str, message: str
) -> None:
    bad = list(GOOD_ROW)
    bad[position] = value
    table = _csv([GOOD_ROW, ("p", 2, "2", "2", "900", "3000", "1"), tuple(bad)])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert error.value.column == column
    assert error.value.row_index == 2
    assert message in error.value.message


@pytest.mark.parametrize("missing", HEADER)
def test_csv_to_trials_requires_every_column(missing: str) -> None:
    header = tuple(name for name in HEADER if name != missing)
    row = tuple(value for name, value in zip(HEADER, GOOD_ROW[2:], strict=True) if name != missing)

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv([("p", 1, *row)], header=header))

    assert error.value.column == missing


def test_csv_to_trials_refuses_a_repeated_trial() -> None:
    table = _csv([GOOD_ROW, ("q", 1, *GOOD_ROW[2:]), GOOD_ROW])

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert error.value.column == "trial"
    assert error.value.row_index == 2
    assert "appears twice for participant 'p'" in error.value.message
