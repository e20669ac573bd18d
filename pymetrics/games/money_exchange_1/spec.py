"""What the money_exchange_1 game (trust game, Berg, Dickhaut & McCabe 1995) records.

The candidate plays ten one-shot exchanges, each with a new anonymous partner, in two
blocks (the order is fixed, so every candidate meets the roles alike):

* rounds 1-5, **investor** (Player A on screen): the candidate holds an endowment of
  10 points and sends any whole number of them, 0..10, to the partner; the amount
  sent is tripled on its way, and the partner returns some of what arrived. The
  candidate ends the round with ``endowment - sent + returned``.
* rounds 6-10, **trustee** (Player B on screen): a partner who also held 10 points
  has sent some; the candidate receives three times that and returns any whole
  number of it, 0..received, keeping ``received - returned``.

The partners are simulated, and the instructions say so in neutral words ("their
decisions are simulated, modelled on choices people make in this game"). Their
policies are fixed by the session's seed (:func:`make_config`):

* a simulated **trustee** returns ``partner_return_percent`` percent (a whole number
  drawn uniformly from 0..50, one per round) of what it received, rounded half up
  to a whole point: ``returned = (received * percent + 50) // 100`` (the page does
  the same integer arithmetic, so page and bot agree to the point);
* a simulated **investor** sends ``partner_sent`` points, five different amounts
  drawn from 1..10. None sends 0: a trustee who receives nothing has no decision to
  make, and ``fraction_returned`` would lose the round.

No partner reacts to the candidate, so the rounds are independent one-shot games and
nothing the candidate does changes what the next partner does.

Events, in the order the browser sends them for each round::

    round_start {"round": 1..10, "role": "investor", "endowment": 10}
                {"round", "role": "trustee", "endowment": 10, "sent": 0..10,
                 "received": 3 * sent}              on the frame the round is painted
    decision    {"round", "role", "amount": int, "rt_ms": float}
                amount = points sent (investor, 0..endowment) or returned (trustee,
                0..received); rt_ms from the round_start frame to the confirming
                click or Enter key
    outcome     {"round", "role", "endowment", "sent", "received", "returned",
                 "payoff"}                          on the frame the result is painted
                payoff = endowment - sent + returned (investor) or
                received - returned (trustee): the candidate's points that round

``endowment`` is the investor's endowment of the exchange in both roles (in a trustee
round, the simulated investor's), so every row of the trial table describes one whole
exchange. The two practice rounds played before round 1 (one in each role, with a
labelled practice partner) are never sent to the server.

The trial table (``session``, ``trial`` = round, ``role``, ``endowment``, ``sent``,
``received``, ``returned``, ``rt_ms``) is built from the first ``outcome`` of each
round, with ``rt_ms`` from the round's first ``decision``. An imported CSV file
(columns ``role``, ``endowment``, ``sent``, ``received``, ``returned``) turns into the
same table without times; it may come from a variant with another multiplier, so
``received`` is taken as written (only ``sent <= endowment`` and
``returned <= received`` are required).

The task is self-paced: no decision has a time limit, so the extended-time
accommodation has no deadline to change (see the plugin).
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
    first_event_per_trial,
    ordered_trials,
    reject_unknown_keys,
    require_choice,
    require_int,
    require_number,
)

KEY = "money_exchange_1"
TITLE = "Money Exchange 1"
EXTRACTOR_VERSION = 1

ROLES: tuple[str, ...] = ("investor", "trustee")
#: Points the investor holds at the start of every round.
ENDOWMENT = 10
#: What the investor sends arrives multiplied by this (Berg et al. 1995).
MULTIPLIER = 3
ROUNDS_PER_ROLE = 5
SHORT_ROUNDS_PER_ROLE = 2
#: Highest round number of the full game (investor rounds first, then trustee rounds).
N_ROUNDS = 2 * ROUNDS_PER_ROLE
#: Simulated trustees return a whole percentage in 0..this of what they received.
PARTNER_RETURN_MAX_PERCENT = 50
#: Simulated investors send a whole number of points in this range.
PARTNER_SENT_MIN = 1
PARTNER_SENT_MAX = ENDOWMENT
#: Longest accepted decision time (an hour): the task is self-paced, so the bound only
#: refuses nonsense; the page caps what it sends at this value.
MAX_RT_MS = 3_600_000.0

#: The practice rounds (not recorded): one in each role with a fixed practice partner.
PRACTICE_ROUNDS: tuple[dict[str, Any], ...] = (
    {"round": 1, "role": "investor", "endowment": ENDOWMENT, "partner_return_percent": 30},
    {"round": 2, "role": "trustee", "endowment": ENDOWMENT, "partner_sent": 4},
)

TRIAL_COLUMNS: tuple[str, ...] = (
    "session",
    "trial",
    "role",
    "endowment",
    "sent",
    "received",
    "returned",
    "rt_ms",
)


def partner_returned(received: int, percent: int) -> int:
    """What a simulated trustee returns: ``percent`` % of ``received``, half rounded up."""
    return (received * percent + 50) // 100


def payoff(role: str, endowment: int, sent: int, received: int, returned: int) -> int:
    """The candidate's points from one exchange in ``role``."""
    if role == "investor":
        return endowment - sent + returned
    return received - returned


# --- event validators ----------------------------------------------------------


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> str:
    """Check the shape shared by every event; return the round's role."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    require_int(data, "round", minimum=1, maximum=N_ROUNDS)
    return require_choice(data, "role", ROLES)


def _require_endowment(data: Mapping[str, Any]) -> int:
    return require_int(data, "endowment", minimum=ENDOWMENT, maximum=ENDOWMENT)


def _require_sent_and_received(data: Mapping[str, Any], endowment: int) -> tuple[int, int]:
    sent = require_int(data, "sent", minimum=0, maximum=endowment)
    received = require_int(data, "received", minimum=0, maximum=MULTIPLIER * endowment)
    if received != MULTIPLIER * sent:
        raise EventDataError(
            "received", f"must be {MULTIPLIER} x sent = {MULTIPLIER * sent}, got {received}"
        )
    return sent, received


def validate_round_start(data: Mapping[str, Any]) -> None:
    """A round is on screen; a trustee round also shows what the partner sent."""
    if isinstance(data, Mapping) and data.get("role") == "trustee":
        _event_fields(data, ("round", "role", "endowment", "sent", "received"))
        _require_sent_and_received(data, _require_endowment(data))
        return
    _event_fields(data, ("round", "role", "endowment"))
    _require_endowment(data)


def validate_decision(data: Mapping[str, Any]) -> None:
    """The amount the candidate confirmed: points sent (investor) or returned (trustee)."""
    role = _event_fields(data, ("round", "role", "amount", "rt_ms"))
    most = ENDOWMENT if role == "investor" else MULTIPLIER * ENDOWMENT
    require_int(data, "amount", minimum=0, maximum=most)
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def validate_outcome(data: Mapping[str, Any]) -> None:
    """The whole exchange of a round and the candidate's points from it."""
    role = _event_fields(
        data, ("round", "role", "endowment", "sent", "received", "returned", "payoff")
    )
    endowment = _require_endowment(data)
    sent, received = _require_sent_and_received(data, endowment)
    returned = require_int(data, "returned", minimum=0, maximum=received)
    expected = payoff(role, endowment, sent, received, returned)
    value = require_int(data, "payoff", minimum=0, maximum=MULTIPLIER * endowment)
    if value != expected:
        raise EventDataError("payoff", f"must be {expected} for this exchange, got {value}")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "round_start": validate_round_start,
    "decision": validate_decision,
    "outcome": validate_outcome,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"outcome", "decision"})


# --- CSV columns ------------------------------------------------------------------


def _parse_role(values: pd.Series) -> pd.Series:
    lowered = values.astype(str).str.strip().str.lower().reset_index(drop=True)
    bad = ~lowered.isin(ROLES)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise CsvValueError(
            "role", f"expected 'investor' or 'trustee', got {values.iloc[position]!r}", position
        )
    return lowered.astype("object")


def _parse_amount(values: pd.Series, column: str, *, positive: bool = False) -> pd.Series:
    """A finite number >= 0 (> 0 when ``positive``), naming the first bad row."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True)
    array = numbers.to_numpy()
    bad = ~np.isfinite(array)
    bad |= array <= 0 if positive else array < 0
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        domain = "a number > 0" if positive else "a number >= 0"
        raise CsvValueError(
            column, f"expected {domain}, got {values.iloc[position]!r}", row_index=position
        )
    return numbers


def _parse_endowment(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "endowment", positive=True)


def _parse_sent(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "sent")


def _parse_received(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "received")


def _parse_returned(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "returned")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("role", _parse_role, description="the candidate's role: investor or trustee"),
    CsvColumn(
        "endowment",
        _parse_endowment,
        description="the investor's points at the start of the exchange (a number > 0)",
    ),
    CsvColumn(
        "sent",
        _parse_sent,
        description="points the investor sent (a number from 0 to the endowment)",
    ),
    CsvColumn(
        "received",
        _parse_received,
        description="points the trustee received, i.e. sent times the multiplier (>= 0)",
    ),
    CsvColumn(
        "returned",
        _parse_returned,
        description="points the trustee returned (a number from 0 to received)",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "fraction_sent",
        "Mean over the investor rounds of the share of the endowment sent to the partner "
        "(sent / endowment).",
        "fraction",
    ),
    Metric(
        "fraction_returned",
        "Mean over the trustee rounds in which something was received of the share of it "
        "returned to the partner (returned / received).",
        "fraction",
    ),
)


# --- trial tables ------------------------------------------------------------------


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "role": "object",
            "endowment": "float64",
            "sent": "float64",
            "received": "float64",
            "returned": "float64",
            "rt_ms": "float64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per round from its ``outcome``, timed by the round's ``decision``.

    Other event types are ignored. Should a stream ever hold two ``outcome`` (or two
    ``decision``) events for one round, the first (lowest ``seq``) is the one the
    candidate saw, so it wins. A round without a ``decision`` has no time (NaN).
    """
    outcomes, outcome_data = first_event_per_trial(events, "outcome", key="round")
    if outcomes.empty:
        return _empty_trials()
    trials = outcomes.assign(
        role=np.array([d["role"] for d in outcome_data], dtype="object"),
        **{
            column: np.array([d[column] for d in outcome_data], dtype="float64")
            for column in ("endowment", "sent", "received", "returned")
        },
    )
    decisions, decision_data = first_event_per_trial(events, "decision", key="round")
    decisions = decisions.assign(
        rt_ms=np.array([float(d["rt_ms"]) for d in decision_data], dtype="float64")
    )
    trials = trials.merge(decisions, on=["session", "trial"], how="left", validate="one_to_one")
    trials["rt_ms"] = trials["rt_ms"].astype("float64")
    trials = trials[list(TRIAL_COLUMNS)]
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain (``sent`` above the row's
    ``endowment``, ``returned`` above its ``received``), or a trial number repeated
    for one participant. Imported rows carry no decision times (``rt_ms`` NaN).
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    endowment = parsed["endowment"].to_numpy(dtype="float64")
    sent = parsed["sent"].to_numpy(dtype="float64")
    received = parsed["received"].to_numpy(dtype="float64")
    returned = parsed["returned"].to_numpy(dtype="float64")
    over = sent > endowment
    if over.any():
        position = int(np.flatnonzero(over)[0])
        raise CsvValueError(
            "sent",
            f"sent {sent[position]:g} is more than the endowment {endowment[position]:g}",
            row_index=position,
        )
    over = returned > received
    if over.any():
        position = int(np.flatnonzero(over)[0])
        raise CsvValueError(
            "returned",
            f"returned {returned[position]:g} is more than received {received[position]:g}",
            row_index=position,
        )

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "role": parsed["role"].to_numpy(dtype="object"),
            "endowment": endowment,
            "sent": sent,
            "received": received,
            "returned": returned,
            "rt_ms": np.full(len(table), np.nan),
        }
    )
    return ordered_trials(trials)


# --- schedule ---------------------------------------------------------------------


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: every round's role and its simulated partner.

    ``rounds`` lists the rounds in play order: ``ROUNDS_PER_ROLE`` (5) investor
    rounds numbered 1..5, then as many trustee rounds numbered 6..10. An investor
    round carries its partner's ``partner_return_percent`` (uniform whole percent in
    0..50); a trustee round its partner's ``partner_sent`` (distinct amounts drawn
    from 1..10 without replacement). ``short=True`` plays 2 rounds of each role
    (rounds 1-2 investor, 3-4 trustee), drawn the same way, for demos and end-to-end
    tests. ``practice_rounds`` is the fixed, unrecorded practice (one per role). The
    constants ride along so the page plays exactly what is stored.
    """
    per_role = SHORT_ROUNDS_PER_ROLE if short else ROUNDS_PER_ROLE
    rng = np.random.default_rng(seed)
    return_percents = rng.integers(0, PARTNER_RETURN_MAX_PERCENT, size=per_role, endpoint=True)
    partner_sent = rng.choice(
        np.arange(PARTNER_SENT_MIN, PARTNER_SENT_MAX + 1), size=per_role, replace=False
    )
    rounds: list[dict[str, Any]] = [
        {
            "round": index + 1,
            "role": "investor",
            "endowment": ENDOWMENT,
            "partner_return_percent": int(percent),
        }
        for index, percent in enumerate(return_percents)
    ]
    rounds += [
        {
            "round": per_role + index + 1,
            "role": "trustee",
            "endowment": ENDOWMENT,
            "partner_sent": int(amount),
        }
        for index, amount in enumerate(partner_sent)
    ]
    return {
        "seed": int(seed),
        "short": bool(short),
        "endowment": ENDOWMENT,
        "multiplier": MULTIPLIER,
        "rounds": rounds,
        "practice_rounds": [dict(practice) for practice in PRACTICE_ROUNDS],
    }
