"""What the digits game (digit span, forward then backward; WAIS procedure) records.

The candidate watches a sequence of digits, shown one per second (800 ms on, 200 ms
blank), then types it back: in the same order in the *forward* part, in reverse
order in the *backward* part. Each part starts at length 3 with two sequences per
length; the next length comes when at least one of the two was right, and the part
stops when both fail at a length, or after the longest length (12 forward, 10
backward). Both sequences of a length are always given, as in the WAIS. Every
sequence is drawn in advance with the session's seed (:func:`make_config`), so the
adaptive run is reproducible: which sequences a candidate sees depends only on the
seed and on their own answers.

Trials are numbered 1, 2, ... in the order they are given, across both parts (the
first backward trial follows the last forward one), at most 20 + 16 = 36.

Events, in the order the browser sends them for each trial::

    sequence_shown {"trial", "direction": "forward"|"backward", "length", "attempt": 1|2}
    response       {"trial", "entered": "" or up to 12 digits, "rt_ms": float}
    trial_end      {"trial", "direction", "length", "attempt", "correct": 0|1}

``sequence_shown`` is stamped with the frame that painted the sequence's *first*
digit (its onset); the digits and their timing follow from the session's config.
``response`` is stamped with the Done key or click; its ``rt_ms`` is measured in the
browser from the frame that painted the answer prompt to that key or click, because
the answer is self-paced and the time to recall is what a reader of the record would
want (the span itself does not use it). ``trial_end`` carries the trial's outcome,
so the trial table is built from it alone. The practice sequences before each part
are never sent to the server: they teach the controls and must not count.

The trial table (one row per sequence: ``trial``, ``direction``, ``length``,
``correct`` 0/1) is also what an imported CSV file (columns ``direction``,
``length``, ``correct``) turns into.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from pymetrics.games.base import (
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
    require_int,
    require_number,
)

KEY = "digits"
TITLE = "Digits"
EXTRACTOR_VERSION = 1

FORWARD = "forward"
BACKWARD = "backward"
DIRECTIONS: tuple[str, str] = (FORWARD, BACKWARD)
START_LENGTH = 3
#: Longest sequence of each part (WAIS: 9 forward and 8 backward digits; this game
#: goes further so that long spans are not capped).
MAX_LENGTH: Mapping[str, int] = {FORWARD: 12, BACKWARD: 10}
ATTEMPTS_PER_LENGTH = 2
#: Longest sequence of each part in the short schedule (``make_config(seed, short=True)``):
#: lengths 3 and 4, so each part gives 2 to 4 sequences.
SHORT_MAX_LENGTH: Mapping[str, int] = {FORWARD: 4, BACKWARD: 4}
#: Sequences a part can give at most: two per length from 3 to its maximum.
MAX_TRIALS_PER_DIRECTION: Mapping[str, int] = {
    direction: ATTEMPTS_PER_LENGTH * (MAX_LENGTH[direction] - START_LENGTH + 1)
    for direction in DIRECTIONS
}
MAX_TRIALS = sum(MAX_TRIALS_PER_DIRECTION.values())
#: The longest answer the keypad accepts (the longest sequence).
MAX_ENTERED = max(MAX_LENGTH.values())
#: An answer may take its time (there is no limit), but not more than an hour.
MAX_RT_MS = 3_600_000.0
#: One digit per second: 800 ms on screen, then 200 ms blank.
DIGIT_ON_MS = 800
DIGIT_OFF_MS = 200
PRACTICE_LENGTH = 2
#: Digits shown: 1-9. Zero is left out (as in the WAIS items) because it is read and
#: rehearsed as "oh" or "zero", a two-syllable word unlike the others.
SHOWN_DIGITS: tuple[int, ...] = tuple(range(1, 10))
#: CSV domain of ``length`` (SCIENCE.md): any length a span test can give.
CSV_MIN_LENGTH = 1
CSV_MAX_LENGTH = 12

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "direction", "length", "correct")

_ENTERED = re.compile(r"[0-9]*")


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every digits event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=MAX_TRIALS)


def _require_direction_and_length(data: Mapping[str, Any]) -> None:
    """``direction`` is one of the two parts and ``length`` one that part can give."""
    if "direction" not in data:
        raise EventDataError("direction", "is required")
    direction = data["direction"]
    if direction not in DIRECTIONS:
        raise EventDataError("direction", f"must be 'forward' or 'backward', got {direction!r}")
    require_int(data, "length", minimum=START_LENGTH, maximum=MAX_LENGTH[direction])
    require_int(data, "attempt", minimum=1, maximum=ATTEMPTS_PER_LENGTH)


def validate_sequence_shown(data: Mapping[str, Any]) -> None:
    """The first digit of a sequence is on screen."""
    _event_fields(data, ("trial", "direction", "length", "attempt"))
    _require_direction_and_length(data)


def validate_response(data: Mapping[str, Any]) -> None:
    """The candidate pressed Done: what they typed (possibly nothing) and when."""
    _event_fields(data, ("trial", "entered", "rt_ms"))
    if "entered" not in data:
        raise EventDataError("entered", "is required")
    entered = data["entered"]
    if not isinstance(entered, str):
        raise EventDataError("entered", f"must be a string, got {type(entered).__name__}")
    if _ENTERED.fullmatch(entered) is None:
        raise EventDataError("entered", "must hold the digits 0-9 only")
    if len(entered) > MAX_ENTERED:
        raise EventDataError("entered", f"must be at most {MAX_ENTERED} digits long")
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def validate_trial_end(data: Mapping[str, Any]) -> None:
    """The trial's outcome: which sequence it was and whether the answer was right."""
    _event_fields(data, ("trial", "direction", "length", "attempt", "correct"))
    _require_direction_and_length(data)
    require_int(data, "correct", minimum=0, maximum=1)


EVENT_TYPES: Mapping[str, EventValidator] = {
    "sequence_shown": validate_sequence_shown,
    "response": validate_response,
    "trial_end": validate_trial_end,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"trial_end"})


def _parse_direction(values: pd.Series) -> pd.Series:
    """``forward`` or ``backward``, in any letter case."""
    directions = values.str.lower()
    bad = ~directions.isin(list(DIRECTIONS))
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise CsvValueError(
            "direction",
            f"expected 'forward' or 'backward', got {values.iloc[position]!r}",
            row_index=position,
        )
    return directions.astype(object)


def _parse_length(values: pd.Series) -> pd.Series:
    return parse_int_column(values, "length", minimum=CSV_MIN_LENGTH, maximum=CSV_MAX_LENGTH)


def _parse_correct(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "correct")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("direction", _parse_direction, description="forward or backward"),
    CsvColumn(
        "length",
        _parse_length,
        description=f"digits in the sequence (integer {CSV_MIN_LENGTH}-{CSV_MAX_LENGTH})",
    ),
    CsvColumn("correct", _parse_correct, description="1 if recalled correctly, else 0"),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "forward_span",
        "Longest sequence recalled correctly in the same order at least once (0 if none); "
        "absent without forward trials.",
        "digits",
    ),
    Metric(
        "backward_span",
        "Longest sequence recalled correctly in reverse order at least once (0 if none); "
        "absent without backward trials.",
        "digits",
    ),
    Metric("total_correct", "Sequences recalled correctly, both directions.", "sequences"),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "direction": "object",
            "length": "int64",
            "correct": "int64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per sequence from its ``trial_end`` event.

    Other event types are ignored. Should a stream ever hold two ``trial_end`` events
    for one trial (a reload replays the game from the start), the first (lowest
    ``seq``) is the answer the candidate gave first, so it wins.
    """
    ends = events.loc[events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "data"]]
    if ends.empty:
        return _empty_trials()
    ends = ends.sort_values(["session", "seq"], kind="stable")
    payloads = ends["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": ends["session"].to_numpy(),
            "trial": np.array([payload["trial"] for payload in payloads], dtype="int64"),
            "direction": np.array([payload["direction"] for payload in payloads], dtype=object),
            "length": np.array([payload["length"] for payload in payloads], dtype="int64"),
            "correct": np.array([payload["correct"] for payload in payloads], dtype="int64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, or a trial number repeated for one
    participant. A file may hold one direction only; the other span is then absent.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "direction": parsed["direction"].to_numpy(dtype=object),
            "length": parsed["length"].to_numpy().astype("int64"),
            "correct": parsed["correct"].to_numpy().astype("int64"),
        }
    )
    return ordered_trials(trials)


def _draw_sequence(rng: np.random.Generator, length: int) -> str:
    """One sequence of digits 1-9 that is hard to chunk.

    Rules (checked digit by digit; a draw that gets stuck starts again):

    * the first nine digits are all different, so sequences of up to 9 digits never
      repeat a digit; after that, a digit differs from each of the 4 before it (so
      no digit is ever repeated consecutively);
    * neighbours never differ by 1 (no runs such as 4-5 or 8-7 to chunk).
    """
    while True:
        digits: list[int] = []
        for position in range(length):
            recent = digits if position < len(SHOWN_DIGITS) else digits[-4:]
            allowed = [
                digit
                for digit in SHOWN_DIGITS
                if digit not in recent and not (digits and abs(digit - digits[-1]) == 1)
            ]
            if not allowed:
                break
            digits.append(int(rng.choice(allowed)))
        if len(digits) == length:
            return "".join(str(digit) for digit in digits)


def _draw_pair(rng: np.random.Generator, length: int) -> list[str]:
    """The two different sequences of one length."""
    first = _draw_sequence(rng, length)
    second = _draw_sequence(rng, length)
    while second == first:
        second = _draw_sequence(rng, length)
    return [first, second]


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: every sequence either part could give.

    ``forward`` and ``backward`` list, for each length from 3 to the part's maximum,
    the two sequences (strings of digits) given at that length, attempt 1 first;
    ``practice`` holds the unrecorded practice sequence of each part (2 digits). The
    adaptive run only decides how far down these lists a candidate gets.

    ``short=True`` (demos and end-to-end tests) is the same schedule cut to lengths 3
    and 4 in each part (``max_length`` 4 and 4), so a part gives at most 4 sequences.
    Every metric still exists, but a span cannot exceed 4.
    """
    rng = np.random.default_rng(seed)
    schedule: dict[str, Any] = {}
    for direction in DIRECTIONS:
        schedule[direction] = [
            {"length": length, "sequences": _draw_pair(rng, length)}
            for length in range(START_LENGTH, MAX_LENGTH[direction] + 1)
        ]
    practice = {direction: _draw_sequence(rng, PRACTICE_LENGTH) for direction in DIRECTIONS}
    # The short schedule is a prefix of the standard one, drawn the same way, so both
    # give the same sequences up to length 4 for a seed.
    max_length = SHORT_MAX_LENGTH if short else MAX_LENGTH
    return {
        "seed": int(seed),
        "start_length": START_LENGTH,
        "max_length": dict(max_length),
        "attempts_per_length": ATTEMPTS_PER_LENGTH,
        "digit_on_ms": DIGIT_ON_MS,
        "digit_off_ms": DIGIT_OFF_MS,
        **{
            direction: [
                level for level in schedule[direction] if level["length"] <= max_length[direction]
            ]
            for direction in DIRECTIONS
        },
        "practice": practice,
    }


def sequence_for(config: Mapping[str, Any], direction: str, length: int, attempt: int) -> str:
    """The sequence a session of ``config`` gives at this direction, length and attempt."""
    for level in config[direction]:
        if int(level["length"]) == length:
            return str(level["sequences"][attempt - 1])
    raise KeyError(f"no {direction} sequence of length {length} in this config")


def expected_answer(sequence: str, direction: str) -> str:
    """What the candidate must type: the sequence, reversed in the backward part."""
    return sequence if direction == FORWARD else sequence[::-1]
