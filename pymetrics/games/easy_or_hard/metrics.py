"""Easy-or-hard metrics (SCIENCE.md section 1, "easy_or_hard"): trial table in, session rows out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and sums and counts
come from :func:`numpy.bincount`, so extracting one session or ten thousand is the
same call. ``reward_sensitivity`` is the Pearson correlation computed from
per-session centred sums; whether a session's choices or rewards vary at all is
decided from counts and per-session minima and maxima, not from a variance that
floating-point rounding could leave a hair above zero.

Every trial counts, including those whose task was assigned because the choice
timed out (the contract counts trials, and the timeouts are flagged, see below).

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``one_option_only`` - every trial easy, or every trial hard: the candidate never
  traded effort against reward, so the choice rates cannot show how offers sway them
  (and ``reward_sensitivity`` is absent).
* ``too_fast``, ``too_uniform`` and ``mostly_omissions`` - from the choice response
  times, where the trial table has them (live sessions; imported files have none):
  more than 10% of choices faster than 150 ms, choice times with a coefficient of
  variation below 0.02, or more than 30% of offers left to time out (those tasks were
  assigned, not chosen). Trials without a known response time and without a timeout
  (imported rows) are not counted as missed.
* ``ssrt_invalid`` does not apply: there is no stop signal. Pressing rhythm is not
  judged for uniformity: the press events are the detailed record and are not loaded
  for extraction, and a steady fast rhythm is exactly what the task asks for.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.easy_or_hard.spec import METRICS, PROBABILITIES
from pymetrics.games.quality import ONE_OPTION_ONLY, merge_flags, response_time_flags

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)
#: Metric suffix of each probability level, in PROBABILITIES order.
_LEVEL_SUFFIXES: tuple[str, ...] = ("p12", "p50", "p88")


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
    hard = (trials["choice"].to_numpy()[order] == "hard").astype("float64")
    reward = trials["reward"].to_numpy(dtype="float64")[order]
    probability = trials["probability"].to_numpy(dtype="float64")[order]
    completed = trials["completed"].to_numpy(dtype="float64")[order]

    n_trials = np.bincount(codes, minlength=n_sessions).astype("float64")
    n_hard = np.bincount(codes, weights=hard, minlength=n_sessions)

    columns: dict[str, np.ndarray] = {
        "hard_choice_rate": n_hard / n_trials,
        "completion_rate": np.bincount(codes, weights=completed, minlength=n_sessions) / n_trials,
    }

    level = np.argmin(np.abs(probability[:, None] - np.array(PROBABILITIES)[None, :]), axis=1)
    n_levels = len(PROBABILITIES)
    cell = codes * n_levels + level
    size = n_sessions * n_levels
    level_trials = np.bincount(cell, minlength=size).reshape(n_sessions, n_levels)
    level_hard = np.bincount(cell, weights=hard, minlength=size).reshape(n_sessions, n_levels)
    level_rates = _mean(level_hard, level_trials)
    for index, suffix in enumerate(_LEVEL_SUFFIXES):
        columns[f"hard_choice_rate_{suffix}"] = level_rates[:, index]

    columns["reward_sensitivity"] = _pearson(codes, n_sessions, n_trials, hard, reward)

    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    one_option = (n_hard == 0) | (n_hard == n_trials)
    option_flags: dict[Hashable, list[str]] = {
        session: [ONE_OPTION_ONLY] if flagged else []
        for session, flagged in zip(sessions, one_option, strict=True)
    }
    rt_ms = trials["rt_ms"].to_numpy(dtype="float64")[order]
    timed_out = trials["timed_out"].to_numpy()[order] == 1
    rt_flags = response_time_flags(
        pd.Series(sessions[codes]),
        pd.Series(rt_ms),
        needs_response=pd.Series(~np.isnan(rt_ms) | timed_out),
    )
    return ExtractionResult(metrics=metrics, flags=merge_flags(option_flags, rt_flags))


def _pearson(
    codes: np.ndarray, n_sessions: int, n_trials: np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Per-session Pearson correlation of x and y; NaN where either does not vary."""
    x_mean = np.bincount(codes, weights=x, minlength=n_sessions) / n_trials
    y_mean = np.bincount(codes, weights=y, minlength=n_sessions) / n_trials
    dx = x - x_mean[codes]
    dy = y - y_mean[codes]
    sxy = np.bincount(codes, weights=dx * dy, minlength=n_sessions)
    sxx = np.bincount(codes, weights=dx * dx, minlength=n_sessions)
    syy = np.bincount(codes, weights=dy * dy, minlength=n_sessions)

    # Rows are sorted by session: the per-session extremes decide "does it vary".
    starts = np.cumsum(n_trials.astype("int64")) - n_trials.astype("int64")
    varies = (np.maximum.reduceat(x, starts) > np.minimum.reduceat(x, starts)) & (
        np.maximum.reduceat(y, starts) > np.minimum.reduceat(y, starts)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    return np.where(varies, np.clip(r, -1.0, 1.0), np.nan)


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)
