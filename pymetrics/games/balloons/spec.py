"""What the balloons game (Balloon Analogue Risk Task, Lejuez et al. 2002) records.

The candidate inflates 30 balloons one at a time. Each pump adds 5 cents to a
temporary bank; collecting moves the bank to the total, and a burst loses it. Each
balloon's burst point is drawn uniformly from 1..128 with the session's seed
(:func:`make_config`); the balloon bursts on the pump whose count reaches its burst
point, so at most ``burst_point - 1`` pumps can be banked.

Events, in the order the browser sends them for each balloon::

    balloon_start {"balloon": 1..30}
    pump          {"balloon", "pumps": count so far, 1..128}   (once per pump)
    collect       {"balloon", "pumps": 0..128}                 or
    burst         {"balloon", "pumps": 1..128}

A balloon ends with exactly one ``collect`` or ``burst`` whose ``pumps`` equals its
number of ``pump`` events. The practice balloon shown before balloon 1 is never sent
to the server: it teaches the controls and must not count towards any metric.

Only the ``collect`` and ``burst`` events are needed to build the trial table (one
row per balloon: ``trial`` = balloon number, ``pumps``, ``burst`` 0/1), which is also
what an imported CSV file (columns ``pumps``, ``burst``) turns into.
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
    ordered_trials,
    parse_binary_column,
    parse_int_column,
    reject_unknown_keys,
    require_int,
)

KEY = "balloons"
TITLE = "Balloons"
EXTRACTOR_VERSION = 1

N_BALLOONS = 30
#: Balloons of the short schedule (``make_config(seed, short=True)``).
SHORT_BALLOONS = 6
MAX_PUMPS = 128
CENTS_PER_PUMP = 5
BLOCK_SIZE = 10
N_BLOCKS = 3

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "pumps", "burst")


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every balloons event and return its balloon number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "balloon", minimum=1, maximum=N_BALLOONS)


def validate_balloon_start(data: Mapping[str, Any]) -> None:
    """A new balloon appears."""
    _event_fields(data, ("balloon",))


def validate_pump(data: Mapping[str, Any]) -> None:
    """One pump; ``pumps`` counts this balloon's pumps including this one."""
    _event_fields(data, ("balloon", "pumps"))
    require_int(data, "pumps", minimum=1, maximum=MAX_PUMPS)


def validate_collect(data: Mapping[str, Any]) -> None:
    """The candidate banks the balloon (possibly without pumping it at all)."""
    _event_fields(data, ("balloon", "pumps"))
    require_int(data, "pumps", minimum=0, maximum=MAX_PUMPS)


def validate_burst(data: Mapping[str, Any]) -> None:
    """The balloon burst on its last pump, so at least one pump happened."""
    _event_fields(data, ("balloon", "pumps"))
    require_int(data, "pumps", minimum=1, maximum=MAX_PUMPS)


EVENT_TYPES: Mapping[str, EventValidator] = {
    "balloon_start": validate_balloon_start,
    "pump": validate_pump,
    "collect": validate_collect,
    "burst": validate_burst,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"collect", "burst"})


def _parse_pumps(values: pd.Series) -> pd.Series:
    return parse_int_column(values, "pumps", minimum=0)


def _parse_burst(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "burst")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("pumps", _parse_pumps, description="pumps on this balloon (integer >= 0)"),
    CsvColumn("burst", _parse_burst, description="1 if the balloon burst, else 0"),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "adjusted_pumps",
        "Mean pumps over balloons that did not burst (the standard BART risk score).",
        "pumps",
    ),
    Metric("mean_pumps", "Mean pumps over all balloons.", "pumps"),
    Metric("bursts", "Number of balloons that burst.", "balloons"),
    Metric(
        "earnings_cents", "Money banked: 5 cents per pump on balloons that did not burst.", "cents"
    ),
    *(
        Metric(
            f"adjusted_pumps_block_{block}",
            f"Adjusted pumps over balloons {(block - 1) * BLOCK_SIZE + 1}-{block * BLOCK_SIZE}.",
            "pumps",
        )
        for block in range(1, N_BLOCKS + 1)
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "pumps": "int64",
            "burst": "int64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per balloon from its ``collect`` or ``burst`` event.

    Other event types are ignored. Should a stream ever hold two ending events for
    one balloon, the first (lowest ``seq``) is the one the candidate saw, so it wins.
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
            "trial": np.array([payload["balloon"] for payload in payloads], dtype="int64"),
            "pumps": np.array([payload["pumps"] for payload in payloads], dtype="int64"),
            "burst": (ends["type"].to_numpy() == "burst").astype("int64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, a burst balloon with no pumps, or a
    trial number repeated for one participant.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    pumps = parsed["pumps"].to_numpy()
    burst = parsed["burst"].to_numpy()
    burst_without_pump = np.flatnonzero((burst == 1) & (pumps == 0))
    if burst_without_pump.size:
        raise CsvValueError(
            "pumps",
            "a balloon that burst must have at least 1 pump",
            row_index=int(burst_without_pump[0]),
        )

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "pumps": pumps.astype("int64"),
            "burst": burst.astype("int64"),
        }
    )
    return ordered_trials(trials)


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: the burst point of every balloon.

    The standard schedule has 30 balloons. ``short=True`` gives 6 (for demos and
    end-to-end tests), drawn the same way: every whole-session metric still exists,
    but the balloons fill only the first block of 10, so
    ``adjusted_pumps_block_2`` and ``_block_3`` are absent.
    """
    n_balloons = SHORT_BALLOONS if short else N_BALLOONS
    rng = np.random.default_rng(seed)
    burst_points = rng.integers(1, MAX_PUMPS, size=n_balloons, endpoint=True)
    return {
        "seed": int(seed),
        "balloons": n_balloons,
        "burst_points": [int(point) for point in burst_points],
        "cents_per_pump": CENTS_PER_PUMP,
        "max_pumps": MAX_PUMPS,
    }
