"""What the cards game (Iowa Gambling Task, Bechara et al. 1994) records.

The candidate makes 100 choices from four decks, A, B, C and D, shown left to right,
starting with a balance of 2000. Every card pays a fixed gain (A and B 100, C and D
50) and some cards also take money away. The losses follow the classic fixed schedule
of the original task (Bechara et al. 1994; the card-by-card sequence later published
as "payoff scheme 1" in Steingroever et al. 2013), repeated after each deck's 40th
card, so no deck ever runs out within 100 choices:

* A: five losses of 150-350 in every 10 cards, summing 1250 (net -250 per 10 cards);
* B: one loss of 1250 in every 10 cards (net -250 per 10 cards);
* C: five losses of 25-75 in every 10 cards, summing 250 (net +250 per 10 cards);
* D: one loss of 250 in every 10 cards (net +250 per 10 cards).

The schedule is deliberately *not* shuffled by the seed: the fixed sequence is what
the published norms were collected with, and shuffling it changes the task (when the
first big loss of deck B arrives decides much of the early play). :func:`make_config`
stores the seed with the session all the same, as every game does, and hands the
browser the per-deck gain and loss sequences so the page and the bot draw the very
same cards.

Events, in the order the browser sends them for each choice::

    deck_shown {"trial": 1..100}                   the frame the decks became available
    choice     {"trial", "deck": "A".."D", "gain": int >= 0, "loss": int >= 0
                (magnitude), "rt_ms": float, ms from deck_shown to the click or key}

The practice draws shown before trial 1 come from a separate, labelled practice
schedule and are never sent to the server.

Only the ``choice`` events are needed to build the trial table (one row per choice:
``trial``, ``deck`` as a code 0..3 for A..D, ``gain``, ``loss`` magnitude and
``rt_ms``), which is also what an imported CSV file (columns ``deck``, ``gain``,
``loss``; ``rt_ms`` is NaN then) turns into.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    reject_unknown_keys,
    require_int,
    require_number,
)

KEY = "cards"
TITLE = "Cards"
EXTRACTOR_VERSION = 1

N_TRIALS = 100
#: Choices of the short schedule (``make_config(seed, short=True)``): the first block
#: of 20 and 4 choices of the second, so that the learning slope still exists.
SHORT_TRIALS = 24
DECKS: tuple[str, ...] = ("A", "B", "C", "D")
STARTING_BALANCE = 2000
BLOCK_SIZE = 20
N_BLOCKS = 5
#: Cards per deck before its schedule starts again.
SCHEDULE_LENGTH = 40

#: Every card of a deck pays this much.
GAINS: Mapping[str, int] = {"A": 100, "B": 100, "C": 50, "D": 50}

# The loss magnitude of each of a deck's 40 cards, one line of 10 cards per row.
# Every row of A sums to 1250 over 5 cards, of B to 1250 on 1 card, of C to 250
# over 5 cards and of D to 250 on 1 card (asserted in the tests).
# fmt: off
LOSSES: Mapping[str, tuple[int, ...]] = {
    "A": (
        0, 0, 150, 0, 300, 0, 200, 0, 250, 350,
        0, 350, 0, 250, 200, 0, 300, 150, 0, 0,
        0, 300, 0, 350, 0, 200, 250, 150, 0, 0,
        350, 200, 250, 0, 0, 0, 150, 300, 0, 0,
    ),
    "B": (
        0, 0, 0, 0, 0, 0, 0, 0, 1250, 0,
        0, 0, 0, 1250, 0, 0, 0, 0, 0, 0,
        1250, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 1250, 0, 0, 0, 0, 0, 0, 0, 0,
    ),
    "C": (
        0, 0, 50, 0, 50, 0, 50, 0, 50, 50,
        0, 25, 75, 0, 0, 0, 25, 75, 0, 50,
        0, 0, 0, 50, 25, 50, 0, 0, 75, 50,
        0, 0, 0, 25, 25, 0, 75, 0, 50, 75,
    ),
    "D": (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 250,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 250,
        0, 0, 0, 0, 0, 0, 0, 0, 250, 0,
        0, 0, 0, 0, 250, 0, 0, 0, 0, 0,
    ),
}
# fmt: on

#: The practice decks: small, plainly different amounts, so the practice teaches the
#: controls and the feedback without giving away anything about the real decks.
PRACTICE_DRAWS = 4
PRACTICE_GAINS: Mapping[str, int] = {"A": 20, "B": 20, "C": 20, "D": 20}
PRACTICE_LOSSES: Mapping[str, tuple[int, ...]] = {
    "A": (0, 30, 0, 0),
    "B": (0, 0, 10, 0),
    "C": (10, 0, 0, 0),
    "D": (0, 0, 0, 40),
}

#: Largest amount a single card can pay or take away; far above the schedule, so a
#: future variant of the schedule does not need a new validator.
MAX_AMOUNT = 100_000
#: Longest accepted time to a choice (ms). The task is self-paced, so the bound is
#: generous (one hour on one card); the page caps what it sends at this value.
MAX_RT_MS = 3_600_000.0

DECK_CODES: Mapping[str, int] = {deck: code for code, deck in enumerate(DECKS)}

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "deck", "gain", "loss", "rt_ms")


def _object(data: Mapping[str, Any], allowed: tuple[str, ...]) -> int:
    """Check the shape shared by every cards event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=N_TRIALS)


def validate_deck_shown(data: Mapping[str, Any]) -> None:
    """The four decks became available for this choice (the onset of ``rt_ms``)."""
    _object(data, ("trial",))


def validate_choice(data: Mapping[str, Any]) -> None:
    """The candidate took a card; the event carries the trial's whole outcome."""
    _object(data, ("trial", "deck", "gain", "loss", "rt_ms"))
    if "deck" not in data:
        raise EventDataError("deck", "is required")
    if not isinstance(data["deck"], str) or data["deck"] not in DECK_CODES:
        raise EventDataError("deck", f"must be one of {', '.join(DECKS)}")
    require_int(data, "gain", minimum=0, maximum=MAX_AMOUNT)
    require_int(data, "loss", minimum=0, maximum=MAX_AMOUNT)
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


EVENT_TYPES: Mapping[str, EventValidator] = {
    "deck_shown": validate_deck_shown,
    "choice": validate_choice,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"choice"})

_DECK_TEXT: Mapping[str, int] = {
    **{deck.lower(): code for deck, code in DECK_CODES.items()},
    **{str(code + 1): code for code in DECK_CODES.values()},
}


def _parse_deck(values: pd.Series) -> pd.Series:
    codes = values.str.lower().map(_DECK_TEXT)
    bad = np.flatnonzero(codes.isna().to_numpy())
    if bad.size:
        position = int(bad[0])
        raise CsvValueError(
            "deck",
            f"expected A, B, C or D (or 1-4), got {values.iloc[position]!r}",
            row_index=position,
        )
    return codes.astype("int64")


def _parse_amount(values: pd.Series, column: str, *, signed: bool) -> pd.Series:
    """A finite number; ``signed`` columns keep only the magnitude."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    if not signed:
        bad |= (numbers < 0).to_numpy()
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        domain = "a number" if signed else "a number >= 0"
        raise CsvValueError(
            column, f"expected {domain}, got {values.iloc[position]!r}", row_index=position
        )
    return numbers.abs() if signed else numbers


def _parse_gain(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "gain", signed=False)


def _parse_loss(values: pd.Series) -> pd.Series:
    return _parse_amount(values, "loss", signed=True)


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("deck", _parse_deck, description="deck chosen: A, B, C or D (or 1-4)"),
    CsvColumn("gain", _parse_gain, description="money won on the card (a number >= 0)"),
    CsvColumn(
        "loss",
        _parse_loss,
        description="money lost on the card (a number; its magnitude is used, sign ignored)",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "net_score",
        "Choices from the good decks C and D minus choices from the bad decks A and B.",
        "choices",
    ),
    *(
        Metric(
            f"net_score_block_{block}",
            f"Net score over choices {(block - 1) * BLOCK_SIZE + 1}-{block * BLOCK_SIZE}.",
            "choices",
        )
        for block in range(1, N_BLOCKS + 1)
    ),
    Metric(
        "learning_slope",
        "Least-squares slope of the block net scores on block number (1-5): how fast the "
        "choices moved towards the good decks.",
        "choices per block",
    ),
    *(
        Metric(f"deck_{deck.lower()}_rate", f"Fraction of choices from deck {deck}.")
        for deck in DECKS
    ),
    Metric("net_earnings", "Sum of all gains minus sum of all losses.", "points"),
    # Not in the SCIENCE list: the one metric that follows the learning rate of a
    # delta-rule learner (see bot.py); placed after the contract metrics.
    Metric(
        "win_stay_rate",
        "Of the choices that follow a card which took nothing away (no loss), the fraction "
        "that take the same deck again: how strongly the latest reward pulls the next choice "
        "(a recency or learning-rate signature; Worthy et al. 2013).",
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "deck": "int64",
            "gain": "float64",
            "loss": "float64",
            "rt_ms": "float64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per choice from its ``choice`` event.

    Other event types are ignored. Should a stream ever hold two ``choice`` events for
    one trial, the first (lowest ``seq``) is the card the candidate saw, so it wins.
    """
    choices = events.loc[
        events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "type", "data"]
    ]
    if choices.empty:
        return _empty_trials()
    choices = choices.sort_values(["session", "seq"], kind="stable")
    payloads = choices["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": choices["session"].to_numpy(),
            "trial": np.array([payload["trial"] for payload in payloads], dtype="int64"),
            "deck": np.array([DECK_CODES[payload["deck"]] for payload in payloads], dtype="int64"),
            "gain": np.array([payload["gain"] for payload in payloads], dtype="float64"),
            "loss": np.abs(np.array([payload["loss"] for payload in payloads], dtype="float64")),
            "rt_ms": np.array([payload["rt_ms"] for payload in payloads], dtype="float64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain or a trial number repeated for one
    participant. Imported files carry no reaction times, so ``rt_ms`` is NaN.
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
            "deck": parsed["deck"].to_numpy().astype("int64"),
            "gain": parsed["gain"].to_numpy().astype("float64"),
            "loss": parsed["loss"].to_numpy().astype("float64"),
            "rt_ms": np.full(len(table), np.nan),
        }
    )
    return ordered_trials(trials)


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's schedule: the classic fixed card sequence of every deck.

    The seed is stored (and reproduces the session like any other game's), but the
    cards themselves are the fixed published schedule (see the module docstring), so
    every candidate meets the same decks. ``gains[deck][i]`` and ``losses[deck][i]``
    are what the deck's (i + 1)-th card pays and takes away; card i of a deck beyond
    the 40th uses entry i modulo 40. The practice schedule is separate and labelled.

    ``short=True`` (demos and end-to-end tests) keeps the same decks but ends after
    24 choices: block 1 and the start of block 2, so the net score, the deck rates,
    the earnings and the learning slope (over two blocks) exist, while
    ``net_score_block_3`` .. ``_block_5`` are absent.
    """
    return {
        "seed": int(seed),
        "trials": SHORT_TRIALS if short else N_TRIALS,
        "decks": list(DECKS),
        "starting_balance": STARTING_BALANCE,
        "gains": {deck: [GAINS[deck]] * SCHEDULE_LENGTH for deck in DECKS},
        "losses": {deck: list(LOSSES[deck]) for deck in DECKS},
        "practice": {
            "draws": PRACTICE_DRAWS,
            "gains": {deck: [PRACTICE_GAINS[deck]] * PRACTICE_DRAWS for deck in DECKS},
            "losses": {deck: list(PRACTICE_LOSSES[deck]) for deck in DECKS},
        },
    }


def card_outcome(config: Mapping[str, Any], deck: str, draws_before: int) -> tuple[int, int]:
    """``(gain, loss magnitude)`` of a deck's next card after ``draws_before`` draws."""
    gains = config["gains"][deck]
    losses = config["losses"][deck]
    return int(gains[draws_before % len(gains)]), int(losses[draws_before % len(losses)])
