"""What the money_exchange_2 game (ultimatum and dictator games) records.

The candidate splits play money with partners in three parts, always in this order:

1. **Responder** (ultimatum game, Guth et al. 1982): a partner holding $10 offers
   the candidate part of it; the candidate accepts (both get the split) or rejects
   (neither gets anything). The offers are $1, $2, $3, $4 and $5 of $10, each three
   times, in a seeded order (15 rounds); offers under 30% of the total ($1 and $2)
   are the unfair ones, six rounds.
2. **Proposer** (ultimatum game): the candidate holds $10 and offers the partner any
   whole amount from $0 to $10 (5 rounds). The partner accepts or rejects by a fixed
   rule: it accepts exactly when the offer is at least its *minimum acceptable
   offer*, drawn for every round uniformly from $1..$4 (10-40% of the total, the
   range in which ultimatum responders typically start to reject; Guth et al. 1982)
   by the seed and stored in the schedule, so the verdicts are reproducible.
3. **Dictator** (Forsythe et al. 1994): the candidate holds $10 and gives the
   partner any whole amount from $0 to $10; the partner cannot refuse (5 rounds).

The partners are simulated players and the instructions say so. Every round's
``trial`` number runs on across the parts (1..25). The task is self-paced: no round
has a time limit, so no response can be missed.

Events, in the order the browser sends them for each round::

    round_start {"trial": 1..25, "role": "responder"|"proposer"|"dictator",
                 "total": int >= 1, "offer": int (responder rounds only)}
                 on the frame that shows the round's controls (the onset of rt_ms)
    decision    {"trial", "role", "total", "offer": int 0..total,
                 "accepted": bool (responder rounds only), "rt_ms": float}
                 at the click or key that accepts, rejects or confirms the amount
    outcome     {"trial", "role", "total", "offer",
                 "accepted": bool (responder: the candidate's answer; proposer: the
                 partner's verdict; absent for the dictator, who has no veto),
                 "payoff": int, the candidate's earnings in the round}
                 on the frame that shows the result

``offer`` is always the amount that goes (or would go) to the responder or the
dictator's recipient: offered *to* the candidate as responder, *by* the candidate as
proposer and dictator. ``payoff`` must follow from the others: an accepted offer
pays the responder ``offer`` and the proposer ``total - offer``, a rejected one pays
nothing, and the dictator keeps ``total - offer``.

The trial table is built from the ``outcome`` events (one row per round, ``role``,
``total``, ``offer``, ``accepted`` as 1.0/0.0, NaN for dictator rounds) with the
response time of the round's first ``decision``. An imported CSV file (columns
``role``, ``total``, ``offer``, ``accepted``) turns into the same table, without
response times. The practice rounds (one per role, with a $6 total) are never sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    first_event_per_trial,
    ordered_trials,
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_number,
)

KEY = "money_exchange_2"
TITLE = N_("Money Exchange 2")
EXTRACTOR_VERSION = 1

RESPONDER = "responder"
PROPOSER = "proposer"
DICTATOR = "dictator"
#: The roles, in the order the parts are played.
ROLES: tuple[str, ...] = (RESPONDER, PROPOSER, DICTATOR)

#: The amount split in every recorded round, in whole dollars.
TOTAL = 10
#: The offers a responder meets; each appears RESPONDER_REPEATS times (seeded order).
RESPONDER_OFFERS: tuple[int, ...] = (1, 2, 3, 4, 5)
RESPONDER_REPEATS = 3
PROPOSER_ROUNDS = 5
DICTATOR_ROUNDS = 5
#: The simulated responders' minimum acceptable offers are drawn from this range.
PARTNER_MIN_OFFER_LOW = 1
PARTNER_MIN_OFFER_HIGH = 4
#: The short schedule (demos, end-to-end tests): every offer once, 2 + 2 amounts.
SHORT_RESPONDER_REPEATS = 1
SHORT_PROPOSER_ROUNDS = 2
SHORT_DICTATOR_ROUNDS = 2
#: An offer below this share of the total is unfair (SCIENCE.md, money_exchange_2).
UNFAIR_BELOW = 0.3

N_TRIALS = len(RESPONDER_OFFERS) * RESPONDER_REPEATS + PROPOSER_ROUNDS + DICTATOR_ROUNDS
#: Largest total an event may carry; far above the schedule, so a variant with other
#: amounts does not need a new validator.
MAX_TOTAL = 100_000
#: Longest accepted time to a decision (ms). Self-paced, so the bound is generous
#: (an hour on one round); the page caps what it sends at this value.
MAX_RT_MS = 3_600_000.0

#: How long the result of a round stays on screen (ms; doubled under extended time).
FEEDBACK_MS = 1500
#: How long a simulated responder "considers" a proposal before its verdict shows (ms;
#: doubled under extended time).
PARTNER_MS = 800

#: One practice round per role, on a $6 total so that it gives nothing away about the
#: recorded rounds; never recorded.
PRACTICE_TOTAL = 6
PRACTICE_ROUNDS: tuple[dict[str, Any], ...] = (
    {"trial": 1, "role": RESPONDER, "total": PRACTICE_TOTAL, "offer": 2},
    {"trial": 2, "role": PROPOSER, "total": PRACTICE_TOTAL, "partner_min_offer": 2},
    {"trial": 3, "role": DICTATOR, "total": PRACTICE_TOTAL},
)

TRIAL_COLUMNS: tuple[str, ...] = (
    "session",
    "trial",
    "role",
    "total",
    "offer",
    "accepted",
    "rt_ms",
)


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> tuple[str, int]:
    """Check the shape every event shares; return its role and total."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    role = data.get("role")
    # ``accepted`` is a field of responder decisions and of proposer outcomes only.
    fields = set(allowed)
    if "accepted" in fields and role == DICTATOR:
        fields.discard("accepted")
    reject_unknown_keys(data, fields)
    require_int(data, "trial", minimum=1, maximum=N_TRIALS)
    role = require_choice(data, "role", ROLES)
    total = require_int(data, "total", minimum=1, maximum=MAX_TOTAL)
    return role, total


def _require_offer(data: Mapping[str, Any], total: int) -> int:
    offer = require_int(data, "offer", minimum=0, maximum=MAX_TOTAL)
    if offer > total:
        raise EventDataError("offer", f"must be <= total ({total}), got {offer}")
    return offer


def validate_round_start(data: Mapping[str, Any]) -> None:
    """A round's controls are on screen; a responder round shows its offer."""
    role, total = _event_fields(data, ("trial", "role", "total", "offer"))
    if role == RESPONDER:
        _require_offer(data, total)
    elif "offer" in data:
        raise EventDataError("offer", "is set by the candidate, not shown at the start")


def validate_decision(data: Mapping[str, Any]) -> None:
    """The candidate's answer (responder) or amount (proposer, dictator)."""
    role, total = _event_fields(data, ("trial", "role", "total", "offer", "accepted", "rt_ms"))
    _require_offer(data, total)
    if role == RESPONDER:
        require_bool(data, "accepted")
    elif "accepted" in data:
        raise EventDataError("accepted", "only a responder decides to accept")
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def validate_outcome(data: Mapping[str, Any]) -> None:
    """The round's result; ``payoff`` must be what the split pays the candidate."""
    role, total = _event_fields(data, ("trial", "role", "total", "offer", "accepted", "payoff"))
    offer = _require_offer(data, total)
    accepted = True if role == DICTATOR else require_bool(data, "accepted")
    payoff = require_int(data, "payoff", minimum=0, maximum=MAX_TOTAL)
    if not accepted:
        expected = 0
    elif role == RESPONDER:
        expected = offer
    else:
        expected = total - offer
    if payoff != expected:
        raise EventDataError("payoff", f"must be {expected} for this split, got {payoff}")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "round_start": validate_round_start,
    "decision": validate_decision,
    "outcome": validate_outcome,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"outcome", "decision"})


def _first_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _parse_role(values: pd.Series) -> pd.Series:
    lowered = values.astype(str).str.strip().str.lower().reset_index(drop=True)
    bad = ~lowered.isin(ROLES).to_numpy()
    if bad.any():
        position = _first_row(bad)
        raise CsvValueError(
            "role",
            f"expected responder, proposer or dictator, got {values.iloc[position]!r}",
            row_index=position,
        )
    return lowered.astype("object")


def _parse_amount(values: pd.Series, column: str, *, positive: bool) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True)
    array = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(array) | ((array <= 0) if positive else (array < 0))
    if bad.any():
        position = _first_row(bad)
        domain = "a number > 0" if positive else "a number >= 0"
        raise CsvValueError(
            column, f"expected {domain}, got {values.iloc[position]!r}", row_index=position
        )
    return numbers


def _parse_total(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "total", positive=True)


def _parse_offer(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "offer", positive=False)


def _parse_accepted(values: pd.Series) -> pd.Series:
    """0 or 1, or empty (NaN): only responder rows must say (checked with the role)."""
    text = values.astype(str).str.strip().reset_index(drop=True)
    parsed = text.map({"0": 0.0, "1": 1.0, "": np.nan})
    bad = (parsed.isna() & (text != "")).to_numpy()
    if bad.any():
        position = _first_row(bad)
        raise CsvValueError(
            "accepted", f"expected 0, 1 or empty, got {values.iloc[position]!r}", position
        )
    return parsed.astype("float64")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("role", _parse_role, description="the candidate's role: responder, proposer or "
              "dictator"),
    CsvColumn("total", _parse_total, description="the amount split in the round (a number > 0)"),
    CsvColumn(
        "offer",
        _parse_offer,
        description="the responder's or recipient's share: offered to the candidate as "
        "responder, by the candidate as proposer or dictator (0 to total)",
    ),
    CsvColumn(
        "accepted",
        _parse_accepted,
        description="1 if the offer was accepted, else 0: required on responder rows, "
        "optional on proposer rows (the partner's verdict), empty on dictator rows",
    ),
)  # fmt: skip

METRICS: tuple[Metric, ...] = (
    Metric(
        "acceptance_rate",
        "Share of the offers received as responder that were accepted (absent without "
        "responder rounds).",
        "fraction",
    ),
    Metric(
        "unfair_acceptance_rate",
        "Share of the unfair offers (under 30% of the total) received as responder that "
        "were accepted (absent without such offers).",
        "fraction",
    ),
    Metric(
        "min_accepted_offer",
        "The smallest offer accepted as responder, as a share of the total (absent when "
        "no offer was accepted).",
        "fraction of total",
    ),
    Metric(
        "offer_fraction",
        "Mean share of the total offered to the partner as proposer (absent without "
        "proposer rounds).",
        "fraction of total",
    ),
    Metric(
        "dictator_fraction",
        "Mean share of the total given to the partner as dictator (absent without dictator "
        "rounds).",
        "fraction of total",
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "role": "object",
            "total": "float64",
            "offer": "float64",
            "accepted": "float64",
            "rt_ms": "float64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per ``outcome`` event, with the response time of its ``decision``.

    Other event types are ignored. Should a stream hold two ``outcome`` (or two
    ``decision``) events for one round (a reload replays a round), the first, lowest
    ``seq``, is the one the candidate played, so it wins. A round without a
    ``decision`` event has no response time (NaN).
    """
    ends, end_data = first_event_per_trial(events, "outcome")
    if ends.empty:
        return _empty_trials()
    trials = ends.assign(
        role=np.array([d["role"] for d in end_data], dtype="object"),
        total=np.array([d["total"] for d in end_data], dtype="float64"),
        offer=np.array([d["offer"] for d in end_data], dtype="float64"),
        accepted=np.array(
            [float(d["accepted"]) if "accepted" in d else np.nan for d in end_data],
            dtype="float64",
        ),
    )
    decisions, decision_data = first_event_per_trial(events, "decision")
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
    missing column, a value outside its domain, an offer above its total, a responder
    row without 0/1 in ``accepted``, a dictator row with anything in it (a dictator's
    gift cannot be refused), or a trial number repeated for one participant.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    role = parsed["role"].to_numpy(dtype="object")
    total = parsed["total"].to_numpy(dtype="float64")
    offer = parsed["offer"].to_numpy(dtype="float64")
    accepted = parsed["accepted"].to_numpy(dtype="float64")
    above = offer > total
    if above.any():
        position = _first_row(above)
        raise CsvValueError(
            "offer",
            f"the offer {offer[position]:g} is more than the total {total[position]:g}",
            row_index=position,
        )
    unanswered = (role == RESPONDER) & np.isnan(accepted)
    if unanswered.any():
        raise CsvValueError(
            "accepted", "a responder row needs 0 or 1", row_index=_first_row(unanswered)
        )
    vetoed = (role == DICTATOR) & ~np.isnan(accepted)
    if vetoed.any():
        raise CsvValueError(
            "accepted",
            "must be empty on a dictator row (a dictator's gift cannot be refused)",
            row_index=_first_row(vetoed),
        )

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "role": role,
            "total": total,
            "offer": offer,
            "accepted": accepted,
            "rt_ms": np.full(len(table), np.nan),
        }
    )
    return ordered_trials(trials)


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: every round, in the order it is played.

    * Responder rounds: the offers $1..$5 of $10, each three times, shuffled by the
      seed (15 rounds, 6 of them unfair, i.e. under 30%).
    * Proposer rounds (5): each carries the simulated responder's
      ``partner_min_offer``, uniform on $1..$4; it accepts offers at least that large.
    * Dictator rounds (5): no partner decision.

    ``short=True`` gives the short schedule for demos and end-to-end tests: every
    responder offer once (5 rounds, 2 unfair), 2 proposer and 2 dictator rounds.
    ``rounds[i]`` is the round with ``trial`` i + 1. The practice rounds (one per
    role, $6 total) and the pauses ride along, so the browser and the bot play exactly
    what is stored.
    """
    rng = np.random.default_rng(seed)
    repeats = SHORT_RESPONDER_REPEATS if short else RESPONDER_REPEATS
    proposer_rounds = SHORT_PROPOSER_ROUNDS if short else PROPOSER_ROUNDS
    dictator_rounds = SHORT_DICTATOR_ROUNDS if short else DICTATOR_ROUNDS
    offers = rng.permutation(np.repeat(RESPONDER_OFFERS, repeats))
    minimums = rng.integers(
        PARTNER_MIN_OFFER_LOW, PARTNER_MIN_OFFER_HIGH, size=proposer_rounds, endpoint=True
    )
    rounds: list[dict[str, Any]] = [
        {"role": RESPONDER, "total": TOTAL, "offer": int(offer)} for offer in offers
    ]
    rounds += [
        {"role": PROPOSER, "total": TOTAL, "partner_min_offer": int(minimum)}
        for minimum in minimums
    ]
    rounds += [{"role": DICTATOR, "total": TOTAL} for _ in range(dictator_rounds)]
    return {
        "seed": int(seed),
        "short": bool(short),
        "rounds": [{"trial": trial, **item} for trial, item in enumerate(rounds, start=1)],
        "practice": [dict(item) for item in PRACTICE_ROUNDS],
        "feedback_ms": FEEDBACK_MS,
        "partner_ms": PARTNER_MS,
    }


def partner_accepts(item: Mapping[str, Any], offer: int) -> bool:
    """The simulated responder's verdict on a proposer round's offer."""
    return offer >= int(item["partner_min_offer"])


def payoff(role: str, total: int, offer: int, accepted: bool) -> int:
    """What a round pays the candidate (see the module docstring)."""
    if role == DICTATOR:
        return total - offer
    if not accepted:
        return 0
    return offer if role == RESPONDER else total - offer
