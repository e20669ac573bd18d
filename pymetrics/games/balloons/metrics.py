"""Balloons metrics (SCIENCE.md section 1, "balloons"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and sums and counts
come from :func:`numpy.bincount`, so extracting one session or ten thousand is the
same call. Blocks are positions in trial order (block k = positions
(k-1)*10+1 .. k*10), not balloon numbers, so imported files with gaps in their
trial numbers are blocked the same way as live sessions.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``one_option_only`` - every balloon was collected without a single pump, or every
  balloon burst. Either way the candidate never traded the bank against the risk,
  so adjusted pumps says nothing about risk taking (it is absent, or 0 by default).
* ``too_fast``, ``too_uniform``, ``mostly_omissions`` and ``ssrt_invalid`` do not
  apply: the BART is self-paced with no stimulus to react to, no deadline to miss
  and no stop signal, and the trial table holds no response times.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.balloons.spec import BLOCK_SIZE, CENTS_PER_PUMP, METRICS, N_BLOCKS
from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import ONE_OPTION_ONLY

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Segment means with NaN (absent) where the segment is empty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


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
    pumps = trials["pumps"].to_numpy(dtype="float64")[order]
    burst = trials["burst"].to_numpy()[order] == 1
    kept = ~burst

    balloons = np.bincount(codes, minlength=n_sessions)
    all_pumps = np.bincount(codes, weights=pumps, minlength=n_sessions)
    kept_balloons = np.bincount(codes, weights=kept, minlength=n_sessions)
    kept_pumps = np.bincount(codes, weights=pumps * kept, minlength=n_sessions)
    bursts = np.bincount(codes, weights=burst, minlength=n_sessions)

    # Rows are sorted by session, so a row's position is its offset from the
    # session's first row.
    first_row = np.cumsum(balloons) - balloons
    block = (np.arange(len(codes)) - first_row[codes]) // BLOCK_SIZE
    in_blocks = kept & (block < N_BLOCKS)
    cell = codes[in_blocks] * N_BLOCKS + block[in_blocks]
    size = n_sessions * N_BLOCKS
    block_balloons = np.bincount(cell, minlength=size).reshape(n_sessions, N_BLOCKS)
    block_pumps = np.bincount(cell, weights=pumps[in_blocks], minlength=size).reshape(
        n_sessions, N_BLOCKS
    )

    columns: dict[str, np.ndarray] = {
        "adjusted_pumps": _mean(kept_pumps, kept_balloons),
        "mean_pumps": all_pumps / balloons,
        "bursts": bursts,
        "earnings_cents": CENTS_PER_PUMP * kept_pumps,
    }
    block_means = _mean(block_pumps, block_balloons)
    for block_index in range(N_BLOCKS):
        columns[f"adjusted_pumps_block_{block_index + 1}"] = block_means[:, block_index]

    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    never_pumped = np.bincount(codes, weights=kept & (pumps == 0), minlength=n_sessions)
    one_option = (never_pumped == balloons) | (bursts == balloons)
    return ExtractionResult(metrics=metrics, flags=_flags(sessions, one_option))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(sessions: pd.Index, one_option: np.ndarray) -> dict[Hashable, list[str]]:
    return {
        session: [ONE_OPTION_ONLY] if flagged else []
        for session, flagged in zip(sessions, one_option, strict=True)
    }
