"""What the keypresses game (finger tapping, Halstead-Reitan battery) records.

The candidate taps one key (Space, or the big on-screen "Tap" pad with a finger or
the mouse) as fast as they can for 10 s. There are 6 trials, 3 with each hand,
alternating and starting with the dominant hand. The game never asks which hand
that is: the screen says "your writing hand" (``dominant``) and "your other hand"
(``non_dominant``), which is what the procedure needs and keeps handedness, a
personal trait, out of the data. Holding the key down counts once: the browser
ignores auto-repeat and counts a key press only after the key has been released.

Events, in the order the browser sends them for each trial::

    trial_start {"trial": 1..6, "hand", "duration_ms"}   on the frame that paints "Go"
    tap         {"trial", "t_ms"}                        once per counted tap
    trial_end   {"trial", "hand", "taps", "duration_ms"}

``t_ms`` is the tap's time in ms since the trial's start (the key or pointer
event's own timestamp minus the timestamp of the frame that painted "Go"), a float
in ``0..duration_ms``; taps before "Go" or after ``duration_ms`` are not counted and
not sent. ``trial_end.taps`` is the count shown to the candidate and equals the
number of the trial's ``tap`` events. The practice trial before trial 1 is never
sent: it teaches the controls and must not count towards any metric.

The trial table
---------------
Tapping needs two kinds of rows, so the table has a ``kind`` column:

* ``kind == "trial"``: one row per completed trial (``trial``, ``hand``,
  ``duration_ms``; ``t_ms`` is NaN). From the trial's ``trial_end`` event. A trial
  without a single tap still has this row, so it counts in ``taps_per_s``'s total
  duration and as 0 taps in ``fatigue_slope``.
* ``kind == "tap"``: one row per tap (``t_ms`` since the trial's start; ``hand`` and
  ``duration_ms`` copied from its trial).

Rows are sorted by session, trial, then the trial row before its taps, taps by
``t_ms``. The metrics count a trial's taps from its tap rows: the tap events are the
detailed record; ``trial_end.taps`` is only what the candidate was shown. Tap events
of a trial that never ended (no ``trial_end``) are dropped with it.

An imported CSV file has one row per *tap* (``trial``, ``hand``, ``t_ms``, optional
``duration_ms``, default 10000), so a trial there always has at least one tap; its
trial rows are made from its taps.
"""

from __future__ import annotations

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
    parse_int_column,
    reject_unknown_keys,
    require_int,
    require_number,
)

KEY = "keypresses"
TITLE = "Keypresses"
EXTRACTOR_VERSION = 1

N_TRIALS = 6
#: Trials of the short schedule (``make_config(seed, short=True)``): 2 per hand.
SHORT_TRIALS = 4
DOMINANT = "dominant"
NON_DOMINANT = "non_dominant"
HANDS: tuple[str, str] = (DOMINANT, NON_DOMINANT)
#: The standard trial length; it is the measure, so it is the same under extended time.
DURATION_MS = 10_000
#: Trial lengths outside this range are not a finger-tapping trial.
MIN_DURATION_MS = 1_000
MAX_DURATION_MS = 60_000
#: Far above any human tapping rate (about 12 taps/s at best) over the longest trial.
MAX_TAPS = 2_000
#: The unrecorded practice trial, the "3, 2, 1" countdown steps and the rest between trials.
PRACTICE_DURATION_MS = 5_000
COUNTDOWN_STEPS = 3
COUNTDOWN_STEP_MS = 1_000
REST_MS = 5_000

KIND_TRIAL = "trial"
KIND_TAP = "tap"
TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "kind", "hand", "duration_ms", "t_ms")


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every keypresses event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=N_TRIALS)


def require_hand(data: Mapping[str, Any], key: str = "hand") -> str:
    """``data[key]`` as one of :data:`HANDS`, or EventDataError naming ``key``."""
    if key not in data:
        raise EventDataError(key, "is required")
    value = data[key]
    if value not in HANDS:
        raise EventDataError(key, f"must be 'dominant' or 'non_dominant', got {value!r}")
    return str(value)


def _require_duration(data: Mapping[str, Any]) -> int:
    return require_int(data, "duration_ms", minimum=MIN_DURATION_MS, maximum=MAX_DURATION_MS)


def validate_trial_start(data: Mapping[str, Any]) -> None:
    """ "Go" is painted: the trial (and its clock, ``t_ms`` = 0) starts."""
    _event_fields(data, ("trial", "hand", "duration_ms"))
    require_hand(data)
    _require_duration(data)


def validate_tap(data: Mapping[str, Any]) -> None:
    """One counted tap, ``t_ms`` after the trial's start."""
    _event_fields(data, ("trial", "t_ms"))
    require_number(data, "t_ms", minimum=0.0, maximum=float(MAX_DURATION_MS))


def validate_trial_end(data: Mapping[str, Any]) -> None:
    """The trial's time is up; ``taps`` is the count the candidate was shown."""
    _event_fields(data, ("trial", "hand", "taps", "duration_ms"))
    require_hand(data)
    require_int(data, "taps", minimum=0, maximum=MAX_TAPS)
    _require_duration(data)


EVENT_TYPES: Mapping[str, EventValidator] = {
    "trial_start": validate_trial_start,
    "tap": validate_tap,
    "trial_end": validate_trial_end,
}

#: Taps give the intervals, trial ends the trials (including those without a tap).
TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"tap", "trial_end"})


def _parse_hand(values: pd.Series) -> pd.Series:
    """``dominant`` or ``non_dominant`` (any letter case)."""
    hands = values.str.lower()
    bad = np.flatnonzero(~hands.isin(HANDS).to_numpy())
    if bad.size:
        position = int(bad[0])
        raise CsvValueError(
            "hand",
            f"expected 'dominant' or 'non_dominant', got {values.iloc[position]!r}",
            row_index=position,
        )
    return hands


def _parse_t_ms(values: pd.Series) -> pd.Series:
    """A finite number of ms >= 0 (fractions allowed); the upper bound is the trial's."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = np.flatnonzero((~np.isfinite(numbers.to_numpy())) | (numbers.to_numpy() < 0))
    if bad.size:
        position = int(bad[0])
        raise CsvValueError(
            "t_ms",
            f"expected a number of ms >= 0, got {values.iloc[position]!r}",
            row_index=position,
        )
    return numbers


def _parse_duration_ms(values: pd.Series) -> pd.Series:
    """An integer number of ms; an empty cell means the standard 10000."""
    filled = values.where(values != "", str(DURATION_MS))
    return parse_int_column(filled, "duration_ms", minimum=MIN_DURATION_MS, maximum=MAX_DURATION_MS)


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("hand", _parse_hand, description="dominant or non_dominant (the hand that tapped)"),
    CsvColumn("t_ms", _parse_t_ms, description="time of the tap in ms since the trial's start"),
    CsvColumn(
        "duration_ms",
        _parse_duration_ms,
        required=False,
        description=(
            f"length of the trial in ms ({MIN_DURATION_MS}-{MAX_DURATION_MS}; "
            f"empty or missing = {DURATION_MS})"
        ),
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric("taps_per_s", "All taps divided by all trials' durations in seconds.", "taps/s"),
    Metric(
        "iti_mean_ms",
        "Mean interval between consecutive taps within a trial, pooled over trials.",
        "ms",
    ),
    Metric(
        "iti_sd_ms",
        "Standard deviation (ddof=1) of the intervals between consecutive taps within a "
        "trial, pooled over trials.",
        "ms",
    ),
    Metric("iti_cv", "Tapping variability: iti_sd_ms / iti_mean_ms.", ""),
    Metric(
        "fatigue_slope",
        "Least-squares slope of taps per trial on trial position (1, 2, ...): negative when "
        "tapping slows over the game.",
        "taps/trial",
    ),
    Metric(
        "hand_asymmetry",
        "(Dominant-hand taps - other-hand taps) / all taps: +1 all with the writing hand, "
        "-1 all with the other hand.",
        "",
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "kind": "object",
            "hand": "object",
            "duration_ms": "int64",
            "t_ms": "float64",
        }
    )


def _sorted_table(table: pd.DataFrame) -> pd.DataFrame:
    """Sessions, then trials, the trial row before its taps, taps in time order."""
    table = table.assign(_tap=(table["kind"] == KIND_TAP).astype("int64"))
    table = table.sort_values(["session", "trial", "_tap", "t_ms"], kind="stable")
    return table.drop(columns="_tap").reset_index(drop=True)[list(TRIAL_COLUMNS)]


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """The trial table (see the module docstring) from ``tap`` and ``trial_end`` events.

    Other event types are ignored. Should a stream ever hold two ``trial_end`` events
    for one trial, the first (lowest ``seq``) is the one the candidate saw, so it
    wins. Taps of trials without a ``trial_end``, and taps after the trial's
    ``duration_ms`` (which the browser does not send), are dropped.
    """
    wanted = events.loc[
        events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "type", "data"]
    ]
    if wanted.empty:
        return _empty_trials()
    wanted = wanted.sort_values(["session", "seq"], kind="stable")
    is_end = (wanted["type"] == "trial_end").to_numpy()

    ends = wanted.loc[is_end]
    end_payloads = ends["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": ends["session"].to_numpy(),
            "trial": np.array([p["trial"] for p in end_payloads], dtype="int64"),
            "kind": KIND_TRIAL,
            "hand": np.array([p["hand"] for p in end_payloads], dtype="object"),
            "duration_ms": np.array([p["duration_ms"] for p in end_payloads], dtype="int64"),
            "t_ms": np.nan,
        }
    ).drop_duplicates(["session", "trial"], keep="first")
    if trials.empty:
        return _empty_trials()

    taps = wanted.loc[~is_end]
    tap_payloads = taps["data"].tolist()
    tap_rows = pd.DataFrame(
        {
            "session": taps["session"].to_numpy(),
            "trial": np.array([p["trial"] for p in tap_payloads], dtype="int64"),
            "t_ms": np.array([p["t_ms"] for p in tap_payloads], dtype="float64"),
        }
    )
    tap_rows = tap_rows.merge(
        trials[["session", "trial", "hand", "duration_ms"]], on=["session", "trial"], how="inner"
    )
    tap_rows = tap_rows.loc[tap_rows["t_ms"] <= tap_rows["duration_ms"]].assign(kind=KIND_TAP)
    table = pd.concat([trials, tap_rows[list(TRIAL_COLUMNS)]], ignore_index=True)
    return _sorted_table(table)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported tap rows (``session``, parsed ``trial``, raw text).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, a tap after its trial's
    ``duration_ms``, a trial whose rows disagree on ``hand`` or ``duration_ms``, or
    the same tap (trial and ``t_ms``) twice for one participant. Rows are taps, so a
    trial number appears once per tap.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            if column.required:
                raise CsvValueError(column.name, f"column {column.name!r} is required")
            raw = pd.Series([""] * len(table), dtype="object")
        else:
            raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    taps = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "kind": KIND_TAP,
            "hand": parsed["hand"].to_numpy().astype("object"),
            "duration_ms": parsed["duration_ms"].to_numpy().astype("int64"),
            "t_ms": parsed["t_ms"].to_numpy().astype("float64"),
        }
    )
    late = np.flatnonzero((taps["t_ms"] > taps["duration_ms"]).to_numpy())
    if late.size:
        position = int(late[0])
        raise CsvValueError(
            "t_ms",
            f"a tap at {taps['t_ms'].iat[position]:g} ms is after the end of its trial "
            f"({taps['duration_ms'].iat[position]} ms)",
            row_index=position,
        )
    for name in ("hand", "duration_ms"):
        first = taps.groupby(["session", "trial"], sort=False)[name].transform("first")
        differs = np.flatnonzero((taps[name] != first).to_numpy())
        if differs.size:
            position = int(differs[0])
            raise CsvValueError(
                name,
                f"trial {taps['trial'].iat[position]} of participant "
                f"{taps['session'].iat[position]!r} has more than one {name}",
                row_index=position,
            )
    repeated = np.flatnonzero(taps.duplicated(["session", "trial", "t_ms"]).to_numpy())
    if repeated.size:
        position = int(repeated[0])
        raise CsvValueError(
            "t_ms",
            f"the tap at {taps['t_ms'].iat[position]:g} ms of trial "
            f"{taps['trial'].iat[position]} appears twice for participant "
            f"{taps['session'].iat[position]!r}",
            row_index=position,
        )

    trials = taps.drop_duplicates(["session", "trial"]).assign(kind=KIND_TRIAL, t_ms=np.nan)
    return _sorted_table(pd.concat([trials, taps], ignore_index=True))


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's schedule: 6 trials of 10 s, hands alternating, writing hand first.

    Nothing in the standard procedure is random, so every seed gives the same
    schedule; the seed is stored with it as for every game. ``short=True`` (demos
    and end-to-end tests) gives 4 trials, 2 per hand, still 10 s each (the trial
    length is part of the measure): every metric still exists.
    """
    n_trials = SHORT_TRIALS if short else N_TRIALS
    return {
        "seed": int(seed),
        "trials": [
            {"trial": trial, "hand": HANDS[(trial - 1) % 2], "duration_ms": DURATION_MS}
            for trial in range(1, n_trials + 1)
        ],
        "practice_duration_ms": PRACTICE_DURATION_MS,
        "countdown_steps": COUNTDOWN_STEPS,
        "countdown_step_ms": COUNTDOWN_STEP_MS,
        "rest_ms": REST_MS,
    }
