"""Cards metrics (SCIENCE.md section 1, "cards"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and counts and sums come
from :func:`numpy.bincount` over (session, deck) and (session, block) cells, so
extracting one session or ten thousand is the same call. Blocks are positions in
trial order (block k = choices (k-1)*20+1 .. k*20), not trial numbers, so imported
files with gaps in their trial numbers are blocked the same way as live sessions.
Choices past the 100th position count towards the whole-session metrics but belong
to no block.

``win_stay_rate`` is the one metric added beyond SCIENCE.md: no listed metric follows
the learning rate of a delta-rule learner (the bot's ``learning_rate``), and the
tendency to take a deck again right after it paid without a loss does.

``learning_slope`` reading: the block net scores are regressed on their block
numbers over the blocks that *exist*, i.e. hold at least one choice. A partial last
block exists and enters the fit with its own, unscaled net score (a session of 50
choices fits blocks 1, 2 and 3, block 3 holding 10 choices). Because blocks are
positions, the existing blocks are always 1..K; with K < 2 the slope is absent.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``one_option_only`` - every choice came from a single deck, so the session shows
  nothing about how choices follow gains and losses.
* ``too_fast`` and ``too_uniform`` - from ``rt_ms`` (time from the decks becoming
  available to the choice) where the trial table has it; imported files carry no
  times and are never flagged for them.
* ``mostly_omissions`` and ``ssrt_invalid`` do not apply: the task is self-paced,
  so no choice can be missed, and there is no stop signal.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.cards.spec import BLOCK_SIZE, DECKS, METRICS, N_BLOCKS
from pymetrics.games.quality import (
    MOSTLY_OMISSIONS,
    ONE_OPTION_ONLY,
    merge_flags,
    response_time_flags,
)

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)

N_DECKS = len(DECKS)
#: +1 for a choice from a good deck (C, D), -1 for a bad one (A, B), by deck code.
_DECK_SIGN = np.array([-1.0, -1.0, 1.0, 1.0])


def _slope(y: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Row-wise least-squares slope of ``y`` on 1..n over the ``present`` cells.

    NaN (absent) for rows with fewer than two present cells.
    """
    x = np.arange(1, y.shape[1] + 1, dtype="float64")[None, :]
    weight = present.astype("float64")
    count = weight.sum(axis=1)
    enough = count >= 2
    safe_count = np.where(count > 0, count, 1.0)
    x_mean = (weight * x).sum(axis=1) / safe_count
    y_filled = np.where(present, y, 0.0)
    y_mean = (weight * y_filled).sum(axis=1) / safe_count
    dx = (x - x_mean[:, None]) * weight
    sxx = (dx * dx).sum(axis=1)
    sxy = (dx * (y_filled - y_mean[:, None])).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(enough & (sxx > 0), sxy / np.where(sxx > 0, sxx, 1.0), np.nan)


def extract(trials: pd.DataFrame) -> ExtractionResult:
    """Metrics and quality flags for every session in the trial table."""
    if trials.empty:
        empty = pd.DataFrame(columns=list(METRIC_NAMES), dtype="float64")
        empty.index.name = "session"
        return ExtractionResult(metrics=empty, flags={})

    session_codes, sessions = pd.factorize(trials["session"], sort=True)
    order = np.lexsort((trials["trial"].to_numpy(), session_codes))
    codes = session_codes[order]
    n_sessions = len(sessions)
    deck = trials["deck"].to_numpy(dtype="int64")[order]
    gain = trials["gain"].to_numpy(dtype="float64")[order]
    loss = np.abs(trials["loss"].to_numpy(dtype="float64")[order])

    choices = np.bincount(codes, minlength=n_sessions).astype("float64")
    per_deck = np.bincount(codes * N_DECKS + deck, minlength=n_sessions * N_DECKS).reshape(
        n_sessions, N_DECKS
    )
    sign = _DECK_SIGN[deck]

    # Rows are sorted by session, so a row's position is its offset from the
    # session's first row.
    counts = choices.astype("int64")
    first_row = np.cumsum(counts) - counts
    block = (np.arange(len(codes)) - first_row[codes]) // BLOCK_SIZE
    in_blocks = block < N_BLOCKS
    cell = codes[in_blocks] * N_BLOCKS + block[in_blocks]
    size = n_sessions * N_BLOCKS
    block_choices = np.bincount(cell, minlength=size).reshape(n_sessions, N_BLOCKS)
    block_net = np.bincount(cell, weights=sign[in_blocks], minlength=size).reshape(
        n_sessions, N_BLOCKS
    )
    block_present = block_choices > 0

    columns: dict[str, np.ndarray] = {
        "net_score": np.bincount(codes, weights=sign, minlength=n_sessions),
    }
    for block_index in range(N_BLOCKS):
        columns[f"net_score_block_{block_index + 1}"] = np.where(
            block_present[:, block_index], block_net[:, block_index], np.nan
        )
    columns["learning_slope"] = _slope(block_net, block_present)
    for deck_index, name in enumerate(DECKS):
        columns[f"deck_{name.lower()}_rate"] = per_deck[:, deck_index] / choices
    columns["net_earnings"] = np.bincount(codes, weights=gain - loss, minlength=n_sessions)
    # win_stay_rate: pairs of consecutive choices within a session whose first card
    # took nothing away; the share of those pairs that repeat the deck.
    same_session = codes[1:] == codes[:-1]
    after_win = same_session & (loss[:-1] == 0)
    stayed = after_win & (deck[1:] == deck[:-1])
    wins = np.bincount(codes[1:], weights=after_win, minlength=n_sessions)
    stays = np.bincount(codes[1:], weights=stayed, minlength=n_sessions)
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["win_stay_rate"] = np.where(wins > 0, stays / np.where(wins > 0, wins, 1), np.nan)

    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    one_option = per_deck.max(axis=1) == counts
    return ExtractionResult(metrics=metrics, flags=_flags(trials, sessions, one_option))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(
    trials: pd.DataFrame, sessions: pd.Index, one_option: np.ndarray
) -> dict[Hashable, list[str]]:
    option_flags: dict[Hashable, list[str]] = {
        session: [ONE_OPTION_ONLY] if flagged else []
        for session, flagged in zip(sessions, one_option, strict=True)
    }
    rt = pd.to_numeric(trials["rt_ms"], errors="coerce").astype("float64")
    # Every choice that has a time is a response; a missing time (imported rows) is
    # not a missed choice, as the task cannot be missed.
    timing_flags = response_time_flags(trials["session"], rt, needs_response=rt.notna())
    timing_flags = {
        session: [code for code in codes if code != MOSTLY_OMISSIONS]
        for session, codes in timing_flags.items()
    }
    return merge_flags(option_flags, timing_flags)
