"""What the tower game (Tower of London, Shallice 1982) records.

Three pegs hold at most 3, 2 and 1 balls; three balls, red, green and blue. Each
problem shows a start layout on the candidate's board and a goal layout beside it,
with the fewest moves that solve it (as in Shallice's procedure, the candidate is
told that number). The candidate moves the top ball of one peg to another peg and
tries to reach the goal in as few moves as possible. Layouts are written as text
(:mod:`pymetrics.games.tower.solver`): ``"GR|B|"`` is green under red on peg 1,
blue on peg 2, peg 3 empty.

The session has 12 problems, three each of 2, 3, 4 and 5 minimum moves, in that
order (easy to hard, as in Shallice's and Krikorian's administrations), all from
Shallice's start position (:data:`PROBLEMS`). The seed shuffles the problems within
each level and swaps the colours of each (:func:`make_config`); the fewest moves
are the breadth-first-search solver's.

A problem ends when the goal is reached, after :data:`MOVE_LIMIT` moves, or after
:data:`TIME_LIMIT_MS` (doubled under the extended-time accommodation); an ended
problem that did not reach the goal is unsolved.

Undo and Reset. *Undo* puts the last moved ball back where it came from; *Reset*
puts every ball back in the start layout. Both are recorded as ``move`` events with
their ``kind``, and neither is a move itself, but the moves they take back stay
counted: ``moves`` is every ball the candidate moved by hand in the problem. A
problem solved after an undo or a reset therefore always shows excess moves, as a
ball moved the wrong way and back would on a wooden board.

Events, in the order the browser sends them for each problem::

    problem_start {"problem", "min_moves", "start": layout, "goal": layout}
                  on the frame that painted the problem (its onset)
    move          {"problem", "kind": "move"|"undo"|"reset", "from": 1..3, "to": 1..3
                  ("from"/"to" absent for a reset), "moves": moves counted so far,
                  "layout": the board after it}, at the click, tap or key that did it
    problem_end   {"problem", "min_moves", "moves", "first_move_ms": ms from the
                  onset to picking up the first ball (null if none was picked up),
                  "total_ms": ms from the onset to the end, "solved": bool,
                  "end": "solved"|"move_limit"|"time_limit"}

``first_move_ms`` is the planning time: the latency to the candidate's first action
on the board, picking up a ball (the CANTAB Stockings of Cambridge "initial
thinking time"), measured in the browser from the painted onset to the input
event. ``problem_end`` carries the problem's whole outcome, so the trial table is
built from it alone; the practice problems are never sent to the server.

The trial table (one row per problem: ``trial`` = problem number, ``min_moves``,
``moves``, ``first_move_ms``, ``total_ms``, ``solved`` 0/1) is also what an imported
CSV file turns into; there ``first_move_ms`` may be empty only for a problem without
a move (a ball picked up and never put down still has a time, as it does live).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import permutations
from typing import Any

import numpy as np
import pandas as pd

from pymetrics.games.base import (
    N_,
    CsvColumn,
    CsvValueError,
    EventDataError,
    EventValidator,
    Metric,
    empty_trials,
    ordered_trials,
    parse_binary_column,
    parse_int_column,
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_number,
)
from pymetrics.games.tower.solver import (
    BALLS,
    CAPACITIES,
    N_PEGS,
    Layout,
    LayoutError,
    min_moves,
    parse_layout,
)

KEY = "tower"
TITLE = N_("Tower")
EXTRACTOR_VERSION = 1

#: Minimum move counts of the problems, in the order they are given.
LEVELS: tuple[int, ...] = (2, 3, 4, 5)
#: Every problem starts from Shallice's start position: green under red on the tall
#: peg, blue on the middle one.
START = "GR|B|"
#: The problems' (start, goal) layouts, three per level of LEVELS in that order
#: (each level's ``min_moves`` is the solver's, asserted in the tests). Within a
#: level the goals differ in shape: a tower (every ball on one peg), a flat goal (one
#: ball per peg) and partial ones, whose difficulty differs at equal move counts
#: (Kaller et al. 2004).
PROBLEMS: tuple[tuple[str, str], ...] = (
    (START, "G|R|B"),
    (START, "GB||R"),
    (START, "|BR|G"),
    (START, "R|BG|"),
    (START, "GB|R|"),
    (START, "GBR||"),
    (START, "RG|B|"),
    (START, "RB||G"),
    (START, "B|RG|"),
    (START, "RGB||"),
    (START, "RB|G|"),
    (START, "B|R|G"),
)
#: The practice problems: one move (the controls), then two (a first plan).
PRACTICE_PROBLEMS: tuple[tuple[str, str], ...] = ((START, "GR||B"), (START, "|BG|R"))
PROBLEMS_PER_LEVEL = 3
SHORT_PROBLEMS_PER_LEVEL = 1
N_PROBLEMS = len(LEVELS) * PROBLEMS_PER_LEVEL
#: A problem ends unsolved after this many moves: four times the hardest problem's
#: minimum, far beyond what a candidate working at it needs.
MOVE_LIMIT = 20
#: ... or after this long (ms from its onset); doubled under extended time.
TIME_LIMIT_MS = 90_000
#: How long the page shows a problem's result before the next one (ms); doubled
#: under extended time.
FEEDBACK_MS = 1500
#: The most moves any problem of this board can need (its state-space diameter).
MAX_MIN_MOVES = 8
#: Longest time a problem can be recorded with: the extended-time limit.
MAX_PROBLEM_MS = 2.0 * TIME_LIMIT_MS
#: CSV domain: other Tower of London versions have problems up to about 8 moves and
#: no move limit; these bounds only refuse what no version produces.
CSV_MAX_MIN_MOVES = 50
CSV_MAX_MOVES = 1000
CSV_MAX_MS = 3_600_000.0

MOVE = "move"
UNDO = "undo"
RESET = "reset"
MOVE_KINDS: tuple[str, ...] = (MOVE, UNDO, RESET)
END_SOLVED = "solved"
END_MOVE_LIMIT = "move_limit"
END_TIME_LIMIT = "time_limit"
ENDS: tuple[str, ...] = (END_SOLVED, END_MOVE_LIMIT, END_TIME_LIMIT)

TRIAL_COLUMNS: tuple[str, ...] = (
    "session",
    "trial",
    "min_moves",
    "moves",
    "first_move_ms",
    "total_ms",
    "solved",
)


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every tower event and return its problem number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "problem", minimum=1, maximum=N_PROBLEMS)


def _require_layout(data: Mapping[str, Any], key: str) -> Layout:
    if key not in data:
        raise EventDataError(key, "is required")
    try:
        return parse_layout(data[key])
    except LayoutError as error:
        raise EventDataError(key, str(error)) from None


def validate_problem_start(data: Mapping[str, Any]) -> None:
    """A problem is on screen; ``min_moves`` must be the solver's distance."""
    _event_fields(data, ("problem", "min_moves", "start", "goal"))
    stated = require_int(data, "min_moves", minimum=1, maximum=MAX_MIN_MOVES)
    start = _require_layout(data, "start")
    goal = _require_layout(data, "goal")
    if start == goal:
        raise EventDataError("goal", "must differ from the start layout")
    fewest = min_moves(start, goal)
    if stated != fewest:
        raise EventDataError(
            "min_moves", f"the fewest moves from start to goal are {fewest}, got {stated}"
        )


def validate_move(data: Mapping[str, Any]) -> None:
    """A ball moved by hand, an undo or a reset, with the board after it."""
    _event_fields(data, ("problem", "kind", "from", "to", "moves", "layout"))
    kind = require_choice(data, "kind", MOVE_KINDS)
    if kind == RESET:
        for key in ("from", "to"):
            if key in data:
                raise EventDataError(key, "is not a field of a reset")
    else:
        source = require_int(data, "from", minimum=1, maximum=N_PEGS)
        target = require_int(data, "to", minimum=1, maximum=N_PEGS)
        if source == target:
            raise EventDataError("to", "must differ from 'from'")
    # Undo and reset only follow a move, so every kind comes after at least one.
    require_int(data, "moves", minimum=1, maximum=MOVE_LIMIT)
    _require_layout(data, "layout")


def validate_problem_end(data: Mapping[str, Any]) -> None:
    """The problem's outcome; the fields must agree with one another."""
    _event_fields(
        data,
        ("problem", "min_moves", "moves", "first_move_ms", "total_ms", "solved", "end"),
    )
    fewest = require_int(data, "min_moves", minimum=1, maximum=MAX_MIN_MOVES)
    moves = require_int(data, "moves", minimum=0, maximum=MOVE_LIMIT)
    total = require_number(data, "total_ms", minimum=0.0, maximum=MAX_PROBLEM_MS)
    solved = require_bool(data, "solved")
    end = require_choice(data, "end", ENDS)
    if "first_move_ms" not in data:
        raise EventDataError("first_move_ms", "is required (null when no ball was picked up)")
    if data["first_move_ms"] is None:
        if moves > 0:
            raise EventDataError("first_move_ms", "must be a number when a move was made")
    else:
        first = require_number(data, "first_move_ms", minimum=0.0, maximum=MAX_PROBLEM_MS)
        if first > total:
            raise EventDataError("first_move_ms", "must not exceed total_ms")
    if solved != (end == END_SOLVED):
        raise EventDataError("solved", f"must be {str(end == END_SOLVED).lower()} for end {end!r}")
    if solved and moves < fewest:
        raise EventDataError("moves", f"a solved problem takes at least min_moves ({fewest})")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "problem_start": validate_problem_start,
    "move": validate_move,
    "problem_end": validate_problem_end,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"problem_end"})


def _parse_min_moves(values: pd.Series) -> pd.Series:
    return parse_int_column(values, "min_moves", minimum=1, maximum=CSV_MAX_MIN_MOVES)


def _parse_moves(values: pd.Series) -> pd.Series:
    return parse_int_column(values, "moves", minimum=0, maximum=CSV_MAX_MOVES)


def _parse_ms(values: pd.Series, column: str, *, allow_empty: bool) -> pd.Series:
    """Milliseconds: a finite number in 0..one hour; empty cells NaN where allowed."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    empty = (values == "").to_numpy()
    array = numbers.to_numpy()
    bad = ~np.isfinite(array) | (array < 0) | (array > CSV_MAX_MS)
    if allow_empty:
        bad &= ~empty
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        domain = "a number of ms from 0 to 3600000" + (" or empty" if allow_empty else "")
        raise CsvValueError(
            column, f"expected {domain}, got {values.iloc[position]!r}", row_index=position
        )
    return numbers


def _parse_first_move_ms(values: pd.Series) -> pd.Series:
    return _parse_ms(values, "first_move_ms", allow_empty=True)


def _parse_total_ms(values: pd.Series) -> pd.Series:
    return _parse_ms(values, "total_ms", allow_empty=False)


def _parse_solved(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "solved")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn(
        "min_moves",
        _parse_min_moves,
        description=f"fewest moves that solve the problem (integer 1-{CSV_MAX_MIN_MOVES})",
    ),
    CsvColumn(
        "moves",
        _parse_moves,
        description=f"moves the candidate made (integer 0-{CSV_MAX_MOVES})",
    ),
    CsvColumn(
        "first_move_ms",
        _parse_first_move_ms,
        description="ms from the problem's onset to the first pick-up (empty only if moves is 0)",
    ),
    CsvColumn(
        "total_ms",
        _parse_total_ms,
        description="ms from the problem's onset to its end (solved or given up)",
    ),
    CsvColumn("solved", _parse_solved, description="1 if the goal was reached, else 0"),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "excess_moves",
        "Mean over solved problems of moves made minus the fewest possible; absent when "
        "no problem was solved.",
        "moves",
    ),
    Metric(
        "perfect_solutions",
        "Problems solved in exactly the fewest possible moves.",
        "problems",
    ),
    Metric(
        "planning_time_ms",
        "Mean time from a problem appearing to the first move (picking up a ball): "
        "thinking before acting.",
        "ms",
    ),
    Metric(
        "execution_time_ms",
        "Mean time from the first move to the end of the problem (total minus planning time).",
        "ms",
    ),
    Metric("solved_rate", "Fraction of the problems solved."),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "min_moves": "int64",
            "moves": "int64",
            "first_move_ms": "float64",
            "total_ms": "float64",
            "solved": "int64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per problem from its ``problem_end`` event.

    Other event types are ignored. Should a stream ever hold two ``problem_end``
    events for one problem (a reload replays the game), the first (lowest ``seq``)
    is the attempt the candidate made first, so it wins.
    """
    ends = events.loc[events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "data"]]
    if ends.empty:
        return _empty_trials()
    ends = ends.sort_values(["session", "seq"], kind="stable")
    payloads = ends["data"].tolist()
    first_move = [payload["first_move_ms"] for payload in payloads]
    trials = pd.DataFrame(
        {
            "session": ends["session"].to_numpy(),
            "trial": np.array([payload["problem"] for payload in payloads], dtype="int64"),
            "min_moves": np.array([payload["min_moves"] for payload in payloads], dtype="int64"),
            "moves": np.array([payload["moves"] for payload in payloads], dtype="int64"),
            "first_move_ms": np.array(
                [np.nan if value is None else value for value in first_move], dtype="float64"
            ),
            "total_ms": np.array([payload["total_ms"] for payload in payloads], dtype="float64"),
            "solved": np.array([bool(payload["solved"]) for payload in payloads], dtype="int64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def _first_bad_row(bad: np.ndarray, column: str, message: str) -> None:
    positions = np.flatnonzero(bad)
    if positions.size:
        raise CsvValueError(column, message, row_index=int(positions[0]))


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, values that contradict one another
    (a solved problem in fewer than ``min_moves`` moves, a first move after the end,
    moves without a first-move time), or a trial number
    repeated for one participant.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    fewest = parsed["min_moves"].to_numpy()
    moves = parsed["moves"].to_numpy()
    first = parsed["first_move_ms"].to_numpy()
    total = parsed["total_ms"].to_numpy()
    solved = parsed["solved"].to_numpy()
    _first_bad_row(
        (solved == 1) & (moves < fewest), "moves", "a solved problem takes at least min_moves moves"
    )
    _first_bad_row(
        (moves > 0) & np.isnan(first), "first_move_ms", "is required when moves is above 0"
    )
    _first_bad_row(first > total, "first_move_ms", "must not exceed total_ms")

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "min_moves": fewest.astype("int64"),
            "moves": moves.astype("int64"),
            "first_move_ms": first.astype("float64"),
            "total_ms": total.astype("float64"),
            "solved": solved.astype("int64"),
        }
    )
    return ordered_trials(trials)


def _relabel(layout: str, colours: tuple[str, ...]) -> str:
    """``layout`` with each ball's colour swapped for its partner in ``colours``."""
    mapping = dict(zip(BALLS, colours, strict=True))
    return "".join(mapping.get(char, char) for char in layout)


def _problem(start: str, goal: str, colours: tuple[str, ...]) -> dict[str, Any]:
    first, last = _relabel(start, colours), _relabel(goal, colours)
    return {
        "min_moves": min_moves(parse_layout(first), parse_layout(last)),
        "start": first,
        "goal": last,
    }


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule of problems.

    ``problems`` lists the 12 problems of :data:`PROBLEMS` (three each of 2, 3, 4 and
    5 minimum moves, in that order), shuffled within each level by the seed, and each
    with its own seeded swap of the three colours: the candidate does not meet the
    same picture twice, yet every session solves problems of the very same
    structure, so scores are comparable between candidates (a swap of colours
    changes nothing about the moves a problem needs). ``min_moves`` comes from the
    breadth-first-search solver. ``short=True`` keeps the first problem of each
    level (4 problems, about a minute to play), for demonstrations and end-to-end
    tests. ``practice`` holds the two unrecorded practice problems (1 and 2 moves).
    The limits (moves, ms) and the pause after each problem are in the config too, so
    the page and the bot read the same values.
    """
    rng = np.random.default_rng(seed)
    colour_swaps = list(permutations(BALLS))
    per_level = SHORT_PROBLEMS_PER_LEVEL if short else PROBLEMS_PER_LEVEL
    problems: list[dict[str, Any]] = []
    for level in LEVELS:
        pairs = [pair for pair in PROBLEMS if _level(pair) == level]
        for index in rng.permutation(len(pairs))[:per_level]:
            start, goal = pairs[int(index)]
            colours = colour_swaps[int(rng.integers(len(colour_swaps)))]
            problems.append({"problem": len(problems) + 1, **_problem(start, goal, colours)})
    practice = [
        _problem(start, goal, colour_swaps[int(rng.integers(len(colour_swaps)))])
        for start, goal in PRACTICE_PROBLEMS
    ]
    return {
        "seed": int(seed),
        "short": bool(short),
        "capacities": list(CAPACITIES),
        "balls": list(BALLS),
        "problems": problems,
        "practice": practice,
        "move_limit": MOVE_LIMIT,
        "time_limit_ms": TIME_LIMIT_MS,
        "feedback_ms": FEEDBACK_MS,
    }


def _level(pair: tuple[str, str]) -> int:
    return min_moves(parse_layout(pair[0]), parse_layout(pair[1]))
