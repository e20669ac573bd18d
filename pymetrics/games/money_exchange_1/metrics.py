"""Money exchange 1 metrics (SCIENCE.md section 1, "money_exchange_1"): trials in, sessions out.

Both metrics are segment means over sessions: the trial table is sorted by session
and trial, sessions are factorised to integer codes, and the sums and counts come
from :func:`numpy.bincount`, so extracting one session or ten thousand is the same
call.

* ``fraction_sent`` = mean over investor rounds of ``sent / endowment``; absent
  without an investor round.
* ``fraction_returned`` = mean over trustee rounds with ``received > 0`` of
  ``returned / received``; absent without such a round (a trustee who received
  nothing had nothing to return, so the round says nothing about returning).

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast`` and ``too_uniform`` - from ``rt_ms``, the time from the round
  appearing to the confirmed decision, where the trial table has it (imported files
  carry no times and are never flagged for them). A decision needs an amount set
  and a confirmation, so decisions under 150 ms, or times that hardly vary over the
  rounds, are not a person deciding.
* ``mostly_omissions`` does not apply: the task is self-paced and every round ends
  with a decision, so none can be missed.
* ``one_option_only`` does not apply: sending everything or nothing in every round,
  or always returning the same share, is a common and meaningful strategy in the
  trust game, and the metrics measure exactly it; flagging it would mark ordinary
  players.
* ``ssrt_invalid`` does not apply: there is no stop signal.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.money_exchange_1.spec import METRICS
from pymetrics.games.quality import MOSTLY_OMISSIONS, response_time_flags

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)


def _segment_mean(codes: np.ndarray, values: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Per-session mean of ``values`` over the ``mask`` rows; NaN (absent) without any."""
    count = np.bincount(codes[mask], minlength=n)
    total = np.bincount(codes[mask], weights=values[mask], minlength=n)
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
    role = trials["role"].to_numpy()[order]
    endowment = trials["endowment"].to_numpy(dtype="float64")[order]
    sent = trials["sent"].to_numpy(dtype="float64")[order]
    received = trials["received"].to_numpy(dtype="float64")[order]
    returned = trials["returned"].to_numpy(dtype="float64")[order]

    investor = role == "investor"
    returning = (role == "trustee") & (received > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_sent = np.where(investor, sent / np.where(investor, endowment, 1.0), 0.0)
        share_returned = np.where(returning, returned / np.where(returning, received, 1.0), 0.0)

    columns: dict[str, np.ndarray] = {
        "fraction_sent": _segment_mean(codes, share_sent, investor, n_sessions),
        "fraction_returned": _segment_mean(codes, share_returned, returning, n_sessions),
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")
    return ExtractionResult(metrics=metrics, flags=quality_flags(trials))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    rt = pd.to_numeric(trials["rt_ms"], errors="coerce").astype("float64")
    # Every decision that has a time is a response; a missing time (imported rows) is
    # not a missed decision, as none can be missed.
    flags = response_time_flags(trials["session"], rt, needs_response=rt.notna())
    return {
        session: [code for code in codes if code != MOSTLY_OMISSIONS]
        for session, codes in flags.items()
    }
