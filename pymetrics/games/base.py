"""The contract every game in the catalogue implements.

A game is one folder under ``pymetrics.games`` holding four parts that share this
shape, so the platform can treat every game the same way:

* ``spec.py`` - a :class:`GameSpec`: event types and how to validate their ``data``,
  the CSV columns for imported trial data, and the conversions from events or CSV
  rows to the *trial table*.
* ``metrics.py`` - a pure extractor: trial table of many sessions in, one row of
  metrics (and one set of quality flags) per session out.
* ``bot.py`` - a simulated player driven by latent parameters.
* ``static/`` - the jsPsych plugin the candidate plays.

Nothing in this package imports Django: it is tested on arrays alone and can be
reused from notebooks or other tools.

The trial table is a :class:`pandas.DataFrame` with one row per trial, a ``session``
column (any hashable id: a game session id, or a participant id from a CSV file),
a ``trial`` column (1-based order within the session) and the game's own columns.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd


def N_(text: str) -> str:
    """Mark a user-facing string for translation; it is translated where it is shown.

    The games are pure (no Django), so they cannot translate: ``makemessages``
    collects these (``--keyword=N_``) and the pages pass them through ``gettext``.
    """
    return text


class EventDataError(ValueError):
    """An event's ``data`` does not follow its game's spec.

    ``field`` names the offending key inside ``data`` (``""`` when the problem is
    the object as a whole) so the API can tell the client exactly what to fix.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CsvValueError(ValueError):
    """A value in an imported trial file is not valid for its column."""

    def __init__(self, column: str, message: str, row_index: int | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.message = message
        #: 0-based index of the data row (header excluded) when known.
        self.row_index = row_index


EventValidator = Callable[[Mapping[str, Any]], None]


def empty_trials(columns: Mapping[str, str]) -> pd.DataFrame:
    """A trial table without rows whose columns have their usual dtypes.

    Extractors and concatenations then see the same columns and types whether a
    session has trials or not.
    """
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in columns.items()})


def ordered_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """An imported trial table sorted by session and trial, each trial once.

    Raises CsvValueError naming the first row whose (participant, trial) was seen
    before, so an import stops at the line a person can find and fix.
    """
    repeated = np.flatnonzero(trials.duplicated(["session", "trial"]).to_numpy())
    if repeated.size:
        position = int(repeated[0])
        raise CsvValueError(
            "trial",
            f"trial {trials['trial'].iat[position]} appears twice for participant "
            f"{trials['session'].iat[position]!r}",
            row_index=position,
        )
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class CsvColumn:
    """One column of a game's trial-level import format (SCIENCE.md section 1).

    ``parse`` turns the raw text column (a pandas Series of str, stripped; empty
    cells are ``""``) into typed values, raising :class:`CsvValueError` with the
    offending row index for anything outside the column's domain.
    """

    name: str
    parse: Callable[[pd.Series], pd.Series]
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class Metric:
    """A metric the extractor can produce, documented once for reports and exports."""

    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class ExtractionResult:
    """What an extractor returns for a batch of sessions.

    ``metrics`` has one row per session (index = session id) and one column per
    metric; a metric that cannot be computed for a session is NaN here and is
    *absent* once stored (never stored as NaN or 0). ``flags`` maps each session id
    to its sorted list of quality-flag codes (SCIENCE.md section 3).
    """

    metrics: pd.DataFrame
    flags: Mapping[Any, list[str]] = field(default_factory=dict)

    def session_values(self, session: Any) -> dict[str, float]:
        """The metrics of one session as plain floats, absent ones left out."""
        if session not in self.metrics.index:
            return {}
        row = self.metrics.loc[session]
        return {str(k): float(v) for k, v in row.items() if not pd.isna(v)}


class GameSpec(Protocol):
    """The attributes and functions a game's ``spec`` module exposes."""

    KEY: str
    TITLE: str
    EXTRACTOR_VERSION: int
    #: event type -> validator of that event's ``data`` (raises EventDataError).
    EVENT_TYPES: Mapping[str, EventValidator]
    #: the event types events_to_trials needs; the loader fetches only these.
    TRIAL_EVENT_TYPES: frozenset[str]
    CSV_COLUMNS: Sequence[CsvColumn]
    METRICS: Sequence[Metric]

    def events_to_trials(self, events: pd.DataFrame) -> pd.DataFrame:
        """Events (columns session, seq, t, type, data) to the trial table."""
        ...

    def csv_to_trials(self, table: pd.DataFrame) -> pd.DataFrame:
        """Parsed CSV columns (participant renamed to session) to the trial table."""
        ...


class Extractor(Protocol):
    def __call__(self, trials: pd.DataFrame) -> ExtractionResult: ...


@dataclass(frozen=True)
class SubscoreTarget:
    """A latent parameter measured by a few of a game's trials, and how to recover it.

    A subscale of a handful of trials (six faces of one expression) is recovered by
    its augmented subscore (``pymetrics.psychometrics.subscores``): the best linear
    predictor of its true value from the subscale's proportion correct and the whole
    game's, with weights from the group's own covariances.
    """

    #: proportion correct over the subscale's trials (a metric)
    subscore: str
    #: proportion correct over all the trials (a metric)
    total: str
    #: ``items(config) -> (subscale trials, all trials)`` of a session's schedule
    items: Callable[[Mapping[str, Any]], tuple[int, int]]

    @property
    def label(self) -> str:
        return f"{self.subscore} augmented by {self.total}"


@dataclass(frozen=True)
class Game:
    """A game as the registry exposes it: its spec, extractor and bot together."""

    key: str
    title: str
    extractor_version: int
    event_types: Mapping[str, EventValidator]
    trial_event_types: frozenset[str]
    csv_columns: Sequence[CsvColumn]
    metrics: Sequence[Metric]
    events_to_trials: Callable[[pd.DataFrame], pd.DataFrame]
    csv_to_trials: Callable[[pd.DataFrame], pd.DataFrame]
    extract: Extractor
    #: ``play(latent, rng, config) -> list[event dict]`` with seq/t/type/data.
    play: Callable[..., list[dict[str, Any]]]
    #: ``sample_latent(rng) -> latent dataclass`` for a simulated population.
    sample_latent: Callable[[np.random.Generator], Any]
    #: latent parameter name -> metric meant to recover it; a leading ``-`` marks a
    #: metric expected to fall as the parameter rises (e.g. ``"-hard_choice_rate"``).
    recovery_targets: Mapping[str, str]
    #: ``make_config(seed, short=False) -> dict``: the game's seeded schedule for one
    #: session; ``short=True`` is a much shorter one (a few trials of every kind) that
    #: an assessment may choose for demos and end-to-end tests.
    make_config: Callable[..., dict[str, Any]]
    #: shown in the lobby before the game: what the candidate will do (``N_``-marked)
    description: str = ""
    estimated_minutes: float = 5.0
    #: the same for the short schedule (``make_config(seed, short=True)``)
    short_estimated_minutes: float = 1.0
    #: shown when the game ends: what it measured, in neutral words (no better or
    #: worse, ``N_``-marked)
    measured: str = ""
    #: latent parameter name -> subscale that recovers it (see :class:`SubscoreTarget`)
    subscore_targets: Mapping[str, SubscoreTarget] = field(default_factory=dict)
    #: ``latent_parameters(latent) -> {name: value}``: parameters derived from the
    #: latent dataclass's fields (a subscale's own sensitivity, say), added to them
    latent_parameters: Callable[[Any], Mapping[str, float]] | None = None

    def minutes(self, *, short: bool = False) -> float:
        """About how long a candidate plays it, instructions and practice included."""
        return self.short_estimated_minutes if short else self.estimated_minutes

    def latent_values(self, latent: Any) -> dict[str, float]:
        """Every parameter of a bot: its dataclass fields and the derived ones."""
        values = {name: float(value) for name, value in dataclasses.asdict(latent).items()}
        if self.latent_parameters is not None:
            values.update(self.latent_parameters(latent))
        return values

    def validate_event(self, event_type: str, data: Mapping[str, Any]) -> None:
        """Raise EventDataError unless ``data`` is valid for ``event_type``.

        Common client events (``visibility``, ``focus``, ``frame``) are accepted by
        every game; they feed quality flags, not metrics.
        """
        validator = self.event_types.get(event_type) or COMMON_EVENT_TYPES.get(event_type)
        if validator is None:
            raise EventDataError("", f"unknown event type {event_type!r} for game {self.key!r}")
        validator(data)


def _validate_visibility(data: Mapping[str, Any]) -> None:
    reject_unknown_keys(data, ("state",))
    state = data.get("state")
    if state not in ("hidden", "visible"):
        raise EventDataError("state", "must be 'hidden' or 'visible'")


def _validate_focus(data: Mapping[str, Any]) -> None:
    reject_unknown_keys(data, ("state",))
    state = data.get("state")
    if state not in ("blur", "focus"):
        raise EventDataError("state", "must be 'blur' or 'focus'")


#: Events every game's client may send, whatever the game.
COMMON_EVENT_TYPES: Mapping[str, EventValidator] = {
    "visibility": _validate_visibility,
    "focus": _validate_focus,
}


def require_int(
    data: Mapping[str, Any], key: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """The integer at ``data[key]`` within bounds, or EventDataError naming ``key``."""
    if key not in data:
        raise EventDataError(key, "is required")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventDataError(key, f"must be an integer, got {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise EventDataError(key, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise EventDataError(key, f"must be <= {maximum}, got {value}")
    return value


def require_number(data: Mapping[str, Any], key: str, *, minimum: float, maximum: float) -> float:
    """The finite number at ``data[key]`` within bounds, or EventDataError naming ``key``.

    JSON has one number type, so an integral ``rt_ms`` (``812``) is as good as
    ``812.0``; booleans, strings, NaN and infinities are refused (no clock makes them).
    """
    if key not in data:
        raise EventDataError(key, "is required")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventDataError(key, f"must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise EventDataError(key, "must be a finite number")
    if number < minimum:
        raise EventDataError(key, f"must be >= {minimum:g}, got {number:g}")
    if number > maximum:
        raise EventDataError(key, f"must be <= {maximum:g}, got {number:g}")
    return number


def require_bool(data: Mapping[str, Any], key: str) -> bool:
    """The JSON boolean at ``data[key]``; 0 and 1 are refused, they are not booleans."""
    if key not in data:
        raise EventDataError(key, "is required")
    value = data[key]
    if not isinstance(value, bool):
        raise EventDataError(key, f"must be true or false, got {type(value).__name__}")
    return value


def require_choice(data: Mapping[str, Any], key: str, choices: Iterable[str]) -> str:
    """The string at ``data[key]``, one of ``choices``, or EventDataError naming ``key``."""
    if key not in data:
        raise EventDataError(key, "is required")
    value = data[key]
    allowed = tuple(choices)
    if not isinstance(value, str) or value not in allowed:
        raise EventDataError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def reject_unknown_keys(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse keys a spec does not define, so typos do not pass silently."""
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise EventDataError(extra[0], "is not a field of this event")


def first_event_per_trial(
    events: pd.DataFrame, event_type: str, *, key: str = "trial"
) -> tuple[pd.DataFrame, list[Any]]:
    """Session and trial of the first ``event_type`` event of each trial, with its data.

    ``key`` names the data field holding the trial number (``"round"`` in games
    played in rounds). A repeated event of the same trial (a resent duplicate the
    client made with a new seq) is ignored: the first one in seq order counts.
    """
    rows = events.loc[events["type"] == event_type, ["session", "seq", "data"]]
    rows = rows.sort_values(["session", "seq"], kind="stable")
    payloads = rows["data"].tolist()
    keys = pd.DataFrame(
        {
            "session": rows["session"].to_numpy(),
            "trial": np.array([payload[key] for payload in payloads], dtype="int64"),
        }
    )
    first = ~keys.duplicated(["session", "trial"], keep="first").to_numpy()
    return keys.loc[first].reset_index(drop=True), [
        payload for payload, keep in zip(payloads, first, strict=True) if keep
    ]


def parse_int_column(
    values: pd.Series, column: str, *, minimum: int | None = None, maximum: int | None = None
) -> pd.Series:
    """Parse a text column of integers, naming the first bad row."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers != np.floor(numbers))
    if minimum is not None:
        bad |= numbers < minimum
    if maximum is not None:
        bad |= numbers > maximum
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raw = values.iloc[position]
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum}")
        if maximum is not None:
            bounds.append(f"<= {maximum}")
        domain = "an integer" + (f" {' and '.join(bounds)}" if bounds else "")
        raise CsvValueError(column, f"expected {domain}, got {raw!r}", row_index=position)
    return numbers.astype("int64")


def parse_binary_column(values: pd.Series, column: str) -> pd.Series:
    """Parse a 0/1 column."""
    return parse_int_column(values, column, minimum=0, maximum=1)
