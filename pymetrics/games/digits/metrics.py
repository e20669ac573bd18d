"""Digits metrics (SCIENCE.md section 1, "digits"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: sessions are factorised to integer
codes, counts come from :func:`numpy.bincount` and the longest correct length from
:func:`numpy.maximum.at`, so extracting one session or ten thousand is the same call.

* ``forward_span`` / ``backward_span``: the longest length with at least one correct
  sequence in that direction, 0 when the direction has trials but none is correct
  (SCIENCE.md says 0, and failing both length-3 sequences is a real result). A
  direction with *no* trials at all (an imported file holding forward rows only, or a
  session that ended before the backward part) has no span: absent, not 0.
* ``total_correct``: correct sequences over both directions.

The span is the longest correct length, not the last length reached: in a live
session they agree (the part stops after a length with two failures), and in
imported files that did not follow the stopping rule the longest correct sequence is
still what SCIENCE.md defines.

Quality flags (SCIENCE.md section 3): none is raised from the trial table, and why:

* ``too_fast``, ``too_uniform`` and ``mostly_omissions`` are response-time flags. Digit
  span recall is self-paced: there is no stimulus to react to quickly, no deadline to
  miss (every trial gets an answer, possibly empty, when the candidate presses Done)
  and the time to type several digits varies with the answer's length, so a fast or
  uniform recall time says nothing about whether the candidate attended. The trial
  table (and the CSV format) holds no response times either.
* ``one_option_only`` does not apply: there are no options to choose between.
* ``ssrt_invalid`` belongs to the stop-signal task.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.

Every session still gets an (empty) flag list.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.digits.spec import BACKWARD, FORWARD, METRICS

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)


def _span(
    codes: np.ndarray,
    n_sessions: int,
    in_direction: np.ndarray,
    length: np.ndarray,
    correct: np.ndarray,
) -> np.ndarray:
    """Longest correct length per session within a direction; 0 if none; NaN without trials."""
    trials = np.bincount(codes[in_direction], minlength=n_sessions)
    longest = np.zeros(n_sessions, dtype="float64")
    hits = in_direction & correct
    np.maximum.at(longest, codes[hits], length[hits])
    return np.where(trials > 0, longest, np.nan)


def extract(trials: pd.DataFrame) -> ExtractionResult:
    """Metrics and quality flags for every session in the trial table."""
    if trials.empty:
        empty = pd.DataFrame(columns=list(METRIC_NAMES), dtype="float64")
        empty.index.name = "session"
        return ExtractionResult(metrics=empty, flags={})

    codes, sessions = pd.factorize(trials["session"], sort=True)
    n_sessions = len(sessions)
    direction = trials["direction"].to_numpy(dtype=object)
    length = trials["length"].to_numpy(dtype="float64")
    correct = trials["correct"].to_numpy() == 1

    columns: dict[str, np.ndarray] = {
        "forward_span": _span(codes, n_sessions, direction == FORWARD, length, correct),
        "backward_span": _span(codes, n_sessions, direction == BACKWARD, length, correct),
        "total_correct": np.bincount(codes, weights=correct, minlength=n_sessions),
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")
    return ExtractionResult(metrics=metrics, flags=_flags(sessions))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (none apply; see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(sessions: pd.Index) -> dict[Hashable, list[str]]:
    return {session: [] for session in sessions}
