"""Stop metrics (SCIENCE.md section 1, "stop"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions are factorised to integer codes, and sums and counts
come from :func:`numpy.bincount`, so extracting one session or ten thousand is the
same call. The SSRT needs a per-session quantile; it is computed for all sessions
at once by sorting every session's go RTs in one :func:`numpy.lexsort` and
interpolating between order statistics by index arithmetic
(:func:`type6_quantiles`, numerically identical to
``np.quantile(x, p, method="weibull")``).

``go_rt_sd_ms`` (SD, ddof=1, of go RTs with a press) is one metric beyond SCIENCE.md's
list, placed last: none of the listed ones measures how variable the go responses
are, which the simulated player's ``go_rt_sd`` needs for its recovery check.

Absent metrics (NaN here): ``p_respond_signal``, ``mean_ssd_ms`` without stop
trials; ``go_rt_mean_ms``, ``go_error_rate`` without a go trial with a press;
``go_omission_rate`` without go trials; ``signal_respond_rt_mean_ms`` without a
stop trial with a press; ``go_rt_sd_ms`` with fewer than two go presses;
``ssrt_ms`` without stop trials or without a go press (there is no go RT
distribution to take a quantile of). ``ssrt_valid`` is absent exactly when
``ssrt_ms`` is; when ``ssrt_ms`` exists but ``signal_respond_rt_mean_ms`` does not
(no press on any stop trial, p_respond_signal = 0), it is 0: p = 0 is already
outside 0.25..0.75, and a candidate who never responded to a signal gives the race
model nothing to check.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast`` and ``too_uniform`` - from the go trials' RTs (responses that
  anticipate the arrow, or a machine's steady pace). Stop trials with a press are
  left out: they are the fast tail of the go process cut short by the signal,
  not an independent sample.
* ``mostly_omissions`` - over 30% of go trials without a press. Stop trials are not
  counted: withholding there is the task.
* ``ssrt_invalid`` - ``ssrt_valid`` is 0: the SSRT rests on broken race-model
  assumptions and should not be trusted.
* ``one_option_only`` does not apply: the candidate does not choose between
  options, the arrow says which key is right.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import SSRT_INVALID, merge_flags, response_time_flags
from pymetrics.games.stop.spec import METRICS

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)

#: ``ssrt_valid`` needs p_respond_signal within these bounds (Verbruggen et al. 2019).
P_RESPOND_MIN = 0.25
P_RESPOND_MAX = 0.75


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Segment means with NaN (absent) where the segment is empty."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)


def type6_quantiles(values: np.ndarray, codes: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per-segment type-6 sample quantiles (Hyndman & Fan 1996; R ``type = 6``).

    ``values`` and ``codes`` (segment of each value, 0..k-1) are parallel arrays;
    ``probabilities`` holds one probability per segment (k entries; NaN for none).
    With the segment's order statistics x_1 <= .. <= x_n, h = (n + 1) p is clamped
    to [1, n] and the quantile interpolates linearly between x_floor(h) and the next
    one. The arithmetic follows numpy's ``method="weibull"`` step by step (0-based
    virtual index n*p + p - 1 and its two-sided lerp), so results agree to the last
    bit. A segment without values or without a probability gives NaN.
    """
    n_segments = len(probabilities)
    counts = np.bincount(codes, minlength=n_segments)
    order = np.lexsort((values, codes))
    ordered = values[order]
    start = np.cumsum(counts) - counts
    p = probabilities.astype("float64")
    usable = (counts > 0) & ~np.isnan(p)
    n = counts.astype("float64")
    virtual = np.where(usable, n * p + p - 1, 0.0)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous = np.where(above, n - 1, previous)
    following = np.where(above, n - 1, following)
    below = virtual < 0
    previous = np.where(below, 0.0, previous)
    following = np.where(below, 0.0, following)
    gamma = virtual - previous
    last = max(len(ordered) - 1, 0)
    if not len(ordered):
        return np.full(n_segments, np.nan)
    low_index = np.clip(start + np.where(usable, previous, 0).astype("int64"), 0, last)
    high_index = np.clip(start + np.where(usable, following, 0).astype("int64"), 0, last)
    low = ordered[low_index]
    high = ordered[high_index]
    # Segments that are not usable may read stray values (even infinities): they are
    # masked below, so their arithmetic warnings mean nothing.
    with np.errstate(invalid="ignore"):
        difference = high - low
        interpolated = np.where(
            gamma >= 0.5, high - difference * (1 - gamma), low + difference * gamma
        )
    return np.where(usable, interpolated, np.nan)


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
    stop = trials["stop"].to_numpy()[order] == 1
    go = ~stop
    rt = trials["rt_ms"].to_numpy(dtype="float64")[order]
    ssd = trials["ssd_ms"].to_numpy(dtype="float64")[order]
    correct = trials["correct"].to_numpy(dtype="float64")[order]
    responded = ~np.isnan(rt)
    go_pressed = go & responded
    stop_pressed = stop & responded

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=mask, minlength=n_sessions)

    def total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=np.where(mask, values, 0.0), minlength=n_sessions)

    go_trials = count(go)
    go_presses = count(go_pressed)
    stop_trials = count(stop)
    stop_presses = count(stop_pressed)

    go_rt_mean = _mean(total(go_pressed, rt), go_presses)
    squares = total(go_pressed, (rt - go_rt_mean[codes]) ** 2)
    with np.errstate(invalid="ignore"):
        go_rt_sd = np.sqrt(_mean(squares, go_presses - 1))
    go_rt_sd = np.where(go_presses >= 2, go_rt_sd, np.nan)
    p_respond = _mean(stop_presses, stop_trials)
    mean_ssd = _mean(total(stop, ssd), stop_trials)
    signal_respond_rt = _mean(total(stop_pressed, rt), stop_presses)

    # Integration method with replacement of go omissions: a missed go trial counts
    # as the session's slowest go RT, so the go distribution keeps every go trial.
    slowest = np.full(n_sessions, -np.inf)
    np.maximum.at(slowest, codes[go_pressed], rt[go_pressed])
    go_values = np.where(responded, rt, slowest[codes])[go]
    quantile = type6_quantiles(go_values, codes[go], np.where(go_presses > 0, p_respond, np.nan))
    ssrt = quantile - mean_ssd

    in_range = (p_respond >= P_RESPOND_MIN) & (p_respond <= P_RESPOND_MAX)
    with np.errstate(invalid="ignore"):
        faster_than_go = signal_respond_rt < go_rt_mean
    ssrt_valid = np.where(np.isnan(ssrt), np.nan, (in_range & faster_than_go).astype("float64"))

    columns: dict[str, np.ndarray] = {
        "p_respond_signal": p_respond,
        "go_rt_mean_ms": go_rt_mean,
        "go_omission_rate": _mean(go_trials - go_presses, go_trials),
        "go_error_rate": _mean(count(go_pressed & (correct == 0)), go_presses),
        "mean_ssd_ms": mean_ssd,
        "signal_respond_rt_mean_ms": signal_respond_rt,
        "ssrt_ms": ssrt,
        "ssrt_valid": ssrt_valid,
        "go_rt_sd_ms": go_rt_sd,
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    session_column = pd.Series(sessions.take(codes))
    timing_flags = response_time_flags(
        session_column, pd.Series(np.where(go, rt, np.nan)), pd.Series(go)
    )
    invalid_flags: dict[Hashable, list[str]] = {
        session: [SSRT_INVALID] if valid == 0 else []
        for session, valid in zip(sessions, ssrt_valid, strict=True)
    }
    return ExtractionResult(metrics=metrics, flags=merge_flags(invalid_flags, timing_flags))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)
