"""Arrows metrics (SCIENCE.md section 1, "arrows"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and sums and counts
come from :func:`numpy.bincount`, so extracting one session or ten thousand is the
same call. "Switch" and "repeat" compare a trial's rule with the rule of the trial
just before it *in trial order within the session* (the row above after sorting),
so imported files with gaps in their trial numbers are handled like live sessions;
a session's first trial has no previous trial and is neither.

RT means use correct trials only (an error's RT mixes in whatever led to the
error). A correct trial always has an RT (the spec and the CSV import refuse a
correct omission); the mask still requires one, so a NaN can never leak into a
mean. A difference of two means is absent (NaN here) when either cell is empty.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast``, ``too_uniform`` and ``mostly_omissions`` - every trial is a speeded
  response to a display with a deadline, so :func:`response_time_flags` applies to
  all trials (each one needs a response; omissions have no RT).
* ``one_option_only`` does not apply: there is no free choice between options, and
  always pressing one key already shows as accuracy near 0.5.
* ``ssrt_invalid`` belongs to the stop-signal task.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.arrows.spec import METRICS
from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import response_time_flags

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
    n = len(sessions)
    congruent = trials["congruent"].to_numpy()[order] == 1
    rule = trials["rule"].to_numpy(dtype=object)[order]
    rt = trials["rt_ms"].to_numpy(dtype="float64")[order]
    correct = trials["correct"].to_numpy()[order] == 1
    timed = correct & ~np.isnan(rt)
    rt_timed = np.where(timed, rt, 0.0)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=mask.astype("float64"), minlength=n)

    def rt_mean(mask: np.ndarray) -> np.ndarray:
        cell = timed & mask
        return _mean(np.bincount(codes, weights=rt_timed * cell, minlength=n), count(cell))

    trials_per_session = np.bincount(codes, minlength=n)
    # Rows are sorted by session then trial: a trial's previous trial is the row above,
    # unless that row belongs to another session (then this is the session's first).
    follows = np.zeros(len(codes), dtype=bool)
    follows[1:] = codes[1:] == codes[:-1]
    same_rule = np.zeros(len(codes), dtype=bool)
    same_rule[1:] = rule[1:] == rule[:-1]
    switch = follows & ~same_rule
    repeat = follows & same_rule

    columns: dict[str, np.ndarray] = {
        "accuracy": count(correct) / trials_per_session,
        "rt_mean_ms": rt_mean(np.ones(len(codes), dtype=bool)),
        "congruency_effect_rt_ms": rt_mean(~congruent) - rt_mean(congruent),
        "congruency_effect_accuracy": _mean(count(correct & congruent), count(congruent))
        - _mean(count(correct & ~congruent), count(~congruent)),
        "switch_cost_rt_ms": rt_mean(switch) - rt_mean(repeat),
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    flags = response_time_flags(trials["session"], trials["rt_ms"])
    return ExtractionResult(metrics=metrics, flags={s: flags.get(s, []) for s in sessions})


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)
