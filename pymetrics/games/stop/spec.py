"""What the stop game (stop-signal task, Verbruggen et al. 2019) records.

Every trial shows a fixation cross, then an arrow pointing left or right, and the
candidate presses the matching key (or touch button) as fast as they can. On a
quarter of the trials a stop signal (a ring and the word STOP around the arrow)
appears after the stop-signal delay (SSD), and the candidate tries to hold back.
The SSD starts at 250 ms and tracks the candidate: +50 ms after a successful stop,
-50 ms after a failed one, kept within 0..1150 ms. The staircase runs in the
browser (it depends on the responses); the seeded schedule (:func:`make_config`)
fixes everything else: 128 trials in 4 blocks of 32, each block with 8 stop
trials (never the first of a block, so every block opens with a plain go trial)
and with both directions equally often among its go and among its stop trials.

Events, in the order the browser sends them for each trial::

    trial_start  {"trial", "stop": bool, "direction": "left"|"right"}   fixation shown
    stimulus     {"trial"}                        the arrow's first painted frame
    stop_signal  {"trial", "ssd_ms": 0..1150}     the signal's first painted frame
    response     {"trial", "key": "left"|"right", "rt_ms"}              first press only
    trial_end    {"trial", "stop", "direction", "ssd_ms", "rt_ms", "correct"}

``stop_signal`` is sent only when the signal was shown: a press before the SSD
ends the trial first (a failed stop all the same). ``rt_ms`` is measured in the
browser from the arrow's onset frame to the key or pointer event (float ms). In
``trial_end``, ``ssd_ms`` is the trial's SSD on stop trials and null on go trials,
``rt_ms`` is null when nothing was pressed before the deadline (1500 ms; 3000 ms
with extended time), and ``correct`` is 1/0 for a go trial with a press (matching
key or not) and null otherwise. Only the first press of a trial counts: the trial
ends on it. The practice trials are never sent to the server.

``trial_end`` carries the trial's whole outcome, so the trial table (one row per
trial: ``stop`` 0/1, ``ssd_ms``, ``rt_ms``, ``correct``; NaN for null) is built
from it alone; imported CSV rows (columns ``stop``, ``ssd_ms``, ``rt_ms``,
``correct``) turn into the same table.
"""

from __future__ import annotations

import math
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
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_number,
)

KEY = "stop"
TITLE = "Stop Signal"
EXTRACTOR_VERSION = 1

N_BLOCKS = 4
BLOCK_SIZE = 32
STOPS_PER_BLOCK = 8
N_TRIALS = N_BLOCKS * BLOCK_SIZE
SSD_START_MS = 250
SSD_STEP_MS = 50
SSD_MIN_MS = 0
SSD_MAX_MS = 1150
#: A press later than this after the arrow's onset is too late (an omission).
GO_DEADLINE_MS = 1500
#: The deadline under the extended-time accommodation (doubled, not removed: without
#: a deadline a stop trial would never end).
EXTENDED_GO_DEADLINE_MS = 2 * GO_DEADLINE_MS
FIXATION_MS = 500
#: Practice trials before the recorded game (with feedback; never sent to the server).
PRACTICE_TRIALS = 8
#: The short schedule (``make_config(seed, short=True)``): one block of 24 trials with
#: 6 stop trials, after a 4-trial practice.
SHORT_BLOCK_SIZE = 24
SHORT_STOPS_PER_BLOCK = 6
SHORT_PRACTICE_TRIALS = 4
#: Blank screen between one trial's end and the next fixation cross.
ITI_MS = 500
#: Upper bound for a browser-measured RT: the extended deadline plus generous room
#: for timer and frame jitter (the press is accepted until the deadline timer runs).
MAX_RT_MS = 5000.0

DIRECTIONS: tuple[str, ...] = ("left", "right")

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "stop", "ssd_ms", "rt_ms", "correct")


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every stop event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=N_TRIALS)


def _require_ssd(data: Mapping[str, Any]) -> int:
    return require_int(data, "ssd_ms", minimum=SSD_MIN_MS, maximum=SSD_MAX_MS)


def _require_rt(data: Mapping[str, Any]) -> float:
    return require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def validate_trial_start(data: Mapping[str, Any]) -> None:
    """The fixation cross of a trial is shown; the trial's kind is fixed by the schedule."""
    _event_fields(data, ("trial", "stop", "direction"))
    require_bool(data, "stop")
    require_choice(data, "direction", DIRECTIONS)


def validate_stimulus(data: Mapping[str, Any]) -> None:
    """The arrow's first painted frame (``t`` is that frame's time)."""
    _event_fields(data, ("trial",))


def validate_stop_signal(data: Mapping[str, Any]) -> None:
    """The stop signal's first painted frame, ``ssd_ms`` after the arrow was due."""
    _event_fields(data, ("trial", "ssd_ms"))
    _require_ssd(data)


def validate_response(data: Mapping[str, Any]) -> None:
    """The first press of a trial: which side, and its RT from the arrow's onset."""
    _event_fields(data, ("trial", "key", "rt_ms"))
    require_choice(data, "key", DIRECTIONS)
    _require_rt(data)


def validate_trial_end(data: Mapping[str, Any]) -> None:
    """The trial's outcome; the fields that do not apply to it must be null.

    ``ssd_ms`` is an integer on stop trials and null on go trials; ``rt_ms`` is null
    when nothing was pressed; ``correct`` is 0/1 on a go trial with a press and null
    otherwise (a stop trial has no right key, a missed go trial no key at all).
    """
    _event_fields(data, ("trial", "stop", "direction", "ssd_ms", "rt_ms", "correct"))
    stop = require_bool(data, "stop")
    require_choice(data, "direction", DIRECTIONS)
    for key in ("ssd_ms", "rt_ms", "correct"):
        if key not in data:
            raise EventDataError(key, "is required (null when it does not apply)")
    if stop:
        _require_ssd(data)
    elif data["ssd_ms"] is not None:
        raise EventDataError("ssd_ms", "must be null on a go trial")
    responded = data["rt_ms"] is not None
    if responded:
        _require_rt(data)
    if not stop and responded:
        require_int(data, "correct", minimum=0, maximum=1)
    elif data["correct"] is not None:
        raise EventDataError("correct", "must be null on a stop trial or without a response")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "trial_start": validate_trial_start,
    "stimulus": validate_stimulus,
    "stop_signal": validate_stop_signal,
    "response": validate_response,
    "trial_end": validate_trial_end,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"trial_end"})


def _parse_number(values: pd.Series, column: str, *, allow_empty: bool) -> pd.Series:
    """A column of finite numbers >= 0 (float64); empty cells are NaN if allowed."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    empty = (values == "").to_numpy()
    finite = np.isfinite(numbers.to_numpy())
    bad = ~finite | (numbers.to_numpy() < 0)
    if allow_empty:
        bad &= ~empty
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        domain = "a number >= 0" + (" or an empty cell" if allow_empty else "")
        raise CsvValueError(
            column, f"expected {domain}, got {values.iloc[position]!r}", row_index=position
        )
    return numbers.where(~empty, np.nan)


def _parse_stop(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "stop")


def _parse_ssd(values: pd.Series) -> pd.Series:
    return _parse_number(values, "ssd_ms", allow_empty=True)


def _parse_rt(values: pd.Series) -> pd.Series:
    return _parse_number(values, "rt_ms", allow_empty=True)


def _parse_correct(values: pd.Series) -> pd.Series:
    """0/1 or empty (NaN); whether it may be empty depends on the row (csv_to_trials)."""
    empty = values == ""
    parsed = parse_binary_column(values.where(~empty, "0"), "correct").astype("float64")
    return parsed.where(~empty, np.nan)


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("stop", _parse_stop, description="1 on a stop-signal trial, 0 on a go trial"),
    CsvColumn(
        "ssd_ms",
        _parse_ssd,
        description="stop-signal delay in ms (number >= 0) on stop trials; empty on go trials",
    ),
    CsvColumn(
        "rt_ms", _parse_rt, description="response time in ms (number >= 0); empty = no response"
    ),
    CsvColumn(
        "correct",
        _parse_correct,
        description=(
            "go trials with a response: 1 = the key matched the arrow, 0 = the other key; "
            "may be empty (and is ignored) otherwise"
        ),
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "p_respond_signal",
        "Share of stop trials on which the candidate still pressed a key.",
        "fraction",
    ),
    Metric(
        "go_rt_mean_ms", "Mean response time on go trials with a press (right key or not).", "ms"
    ),
    Metric(
        "go_omission_rate", "Share of go trials without a press before the deadline.", "fraction"
    ),
    Metric(
        "go_error_rate",
        "Share of go trials with a press on which the other key was pressed.",
        "fraction",
    ),
    Metric(
        "mean_ssd_ms",
        "Mean stop-signal delay over stop trials (where the staircase settled).",
        "ms",
    ),
    Metric("signal_respond_rt_mean_ms", "Mean response time on stop trials with a press.", "ms"),
    Metric(
        "ssrt_ms",
        "Stop-signal reaction time, integration method with go omissions replaced by the "
        "slowest go RT: the type-6 quantile of go RTs at p_respond_signal minus mean_ssd_ms.",
        "ms",
    ),
    Metric(
        "ssrt_valid",
        "1 if 0.25 <= p_respond_signal <= 0.75 and signal-respond RTs are faster than go RTs "
        "(the race model's assumptions hold), else 0.",
        "0/1",
    ),
    Metric(
        "go_rt_sd_ms",
        "Standard deviation (ddof=1) of response times on go trials with a press; how steady "
        "the candidate's pace is.",
        "ms",
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "stop": "int64",
            "ssd_ms": "float64",
            "rt_ms": "float64",
            "correct": "float64",
        }
    )


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per trial from its ``trial_end`` event.

    Other event types are ignored. Should a stream ever hold two ``trial_end``
    events for one trial, the first (lowest ``seq``) is the one the candidate saw,
    so it wins.
    """
    ends = events.loc[
        events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "type", "data"]
    ]
    if ends.empty:
        return _empty_trials()
    ends = ends.sort_values(["session", "seq"], kind="stable")
    payloads = ends["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": ends["session"].to_numpy(),
            "trial": np.array([payload["trial"] for payload in payloads], dtype="int64"),
            "stop": np.array([int(payload["stop"]) for payload in payloads], dtype="int64"),
            "ssd_ms": np.array(
                [_float_or_nan(payload["ssd_ms"]) for payload in payloads], dtype="float64"
            ),
            "rt_ms": np.array(
                [_float_or_nan(payload["rt_ms"]) for payload in payloads], dtype="float64"
            ),
            "correct": np.array(
                [_float_or_nan(payload["correct"]) for payload in payloads], dtype="float64"
            ),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, a stop trial without ``ssd_ms``, a go
    trial with one (which would mean the ``stop`` column is wrong), a go trial with a
    response but no ``correct``, or a trial number repeated for one participant.
    ``correct`` on stop trials and on trials without a response is ignored.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    stop = parsed["stop"].to_numpy()
    ssd = parsed["ssd_ms"].to_numpy()
    rt = parsed["rt_ms"].to_numpy()
    correct = parsed["correct"].to_numpy()
    is_stop = stop == 1
    checks = (
        ("ssd_ms", is_stop & np.isnan(ssd), "a stop trial needs its stop-signal delay"),
        ("ssd_ms", ~is_stop & ~np.isnan(ssd), "must be empty on a go trial (stop = 0)"),
        (
            "correct",
            ~is_stop & ~np.isnan(rt) & np.isnan(correct),
            "a go trial with a response needs correct (0 or 1)",
        ),
    )
    for column_name, bad, message in checks:
        rows = np.flatnonzero(bad)
        if rows.size:
            raise CsvValueError(column_name, message, row_index=int(rows[0]))

    keep_correct = ~is_stop & ~np.isnan(rt)
    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "stop": stop.astype("int64"),
            "ssd_ms": ssd.astype("float64"),
            "rt_ms": rt.astype("float64"),
            "correct": np.where(keep_correct, correct, np.nan).astype("float64"),
        }
    )
    return ordered_trials(trials)


def _schedule(
    rng: np.random.Generator, n_blocks: int, block_size: int, stops_per_block: int
) -> list[dict[str, Any]]:
    """Blocks of trials: stop trials anywhere but first, directions balanced per kind."""
    schedule: list[dict[str, Any]] = []
    go_per_block = block_size - stops_per_block
    for _block in range(n_blocks):
        stop = np.zeros(block_size, dtype=bool)
        stop[1 + rng.choice(block_size - 1, size=stops_per_block, replace=False)] = True
        direction = np.empty(block_size, dtype=object)
        direction[~stop] = rng.permutation(np.repeat(DIRECTIONS, go_per_block // 2))
        direction[stop] = rng.permutation(np.repeat(DIRECTIONS, stops_per_block // 2))
        for position in range(block_size):
            schedule.append(
                {
                    "trial": len(schedule) + 1,
                    "stop": bool(stop[position]),
                    "direction": str(direction[position]),
                }
            )
    return schedule


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: every trial's arrow direction and kind.

    Each block of 32 trials has 8 stop trials at random positions other than the
    block's first, and 12 left and 12 right arrows among its go trials, 4 and 4
    among its stop trials, so neither the direction nor the trial kind can be
    guessed from the other. The SSD staircase settings, the deadline, the screen
    timings and the length of the practice go along, so the page needs nothing else
    (the practice's own arrows are drawn in the browser from the seed).

    ``short=True`` (demos and end-to-end tests) gives one block of 24 trials with 6
    stop trials (9 left and 9 right go arrows, 3 and 3 stop arrows) after a 4-trial
    practice: enough go and stop trials for every metric, the SSRT included, though
    an SSRT from 6 stop trials is a rough one.
    """
    n_blocks, block_size, stops = (
        (1, SHORT_BLOCK_SIZE, SHORT_STOPS_PER_BLOCK)
        if short
        else (N_BLOCKS, BLOCK_SIZE, STOPS_PER_BLOCK)
    )
    rng = np.random.default_rng(seed)
    schedule = _schedule(rng, n_blocks, block_size, stops)
    return {
        "seed": int(seed),
        "trials": len(schedule),
        "blocks": n_blocks,
        "block_size": block_size,
        "schedule": schedule,
        "ssd_start_ms": SSD_START_MS,
        "ssd_step_ms": SSD_STEP_MS,
        "ssd_min_ms": SSD_MIN_MS,
        "ssd_max_ms": SSD_MAX_MS,
        "go_deadline_ms": GO_DEADLINE_MS,
        "extended_go_deadline_ms": EXTENDED_GO_DEADLINE_MS,
        "fixation_ms": FIXATION_MS,
        "iti_ms": ITI_MS,
        "practice_trials": SHORT_PRACTICE_TRIALS if short else PRACTICE_TRIALS,
    }
