"""Tower metrics (SCIENCE.md section 1, "tower"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and sums and counts come
from :func:`numpy.bincount`, so extracting one session or ten thousand is the same
call.

Readings of the formulas:

* ``excess_moves`` averages over *solved* problems only (an unsolved problem has no
  finished solution to compare with the minimum); absent when none was solved.
* ``perfect_solutions`` is a count, so 0 is a real value, present for every session.
* ``planning_time_ms`` and ``execution_time_ms`` average over the problems with a
  first move, solved or not: a problem that ended without a ball ever being picked
  up has no first-move latency, and both are absent when no problem has one.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast``, ``too_uniform`` and ``mostly_omissions`` - from the first-move
  latencies, the task's response times: more than 10% of first moves within 150 ms
  of the problem appearing (too quick to have looked at the goal), latencies with a
  coefficient of variation below 0.02, or more than 30% of the problems left without
  a single move (timed out untouched).
* ``one_option_only`` does not apply: there are no options to choose between, each
  problem asks for its own sequence of moves. ``ssrt_invalid`` does not apply: there
  is no stop signal.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import response_time_flags
from pymetrics.games.tower.spec import METRICS

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
    fewest = trials["min_moves"].to_numpy(dtype="float64")[order]
    moves = trials["moves"].to_numpy(dtype="float64")[order]
    first = trials["first_move_ms"].to_numpy(dtype="float64")[order]
    total = trials["total_ms"].to_numpy(dtype="float64")[order]
    solved = trials["solved"].to_numpy(dtype="int64")[order] == 1

    def per_session(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=n_sessions)

    problems = np.bincount(codes, minlength=n_sessions).astype("float64")
    n_solved = per_session(solved.astype("float64"))
    timed = ~np.isnan(first)
    n_timed = per_session(timed.astype("float64"))
    first_timed = np.where(timed, first, 0.0)

    columns: dict[str, np.ndarray] = {
        "excess_moves": _mean(per_session(np.where(solved, moves - fewest, 0.0)), n_solved),
        "perfect_solutions": per_session((solved & (moves == fewest)).astype("float64")),
        "planning_time_ms": _mean(per_session(first_timed), n_timed),
        "execution_time_ms": _mean(per_session(np.where(timed, total - first_timed, 0.0)), n_timed),
        "solved_rate": n_solved / problems,
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")
    return ExtractionResult(metrics=metrics, flags=_flags(trials))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    # Every problem asks for a move; one without a first move is a missed response.
    return response_time_flags(
        trials["session"], pd.to_numeric(trials["first_move_ms"], errors="coerce")
    )
