"""Keypresses metrics (SCIENCE.md section 1, "keypresses"): trial table in, one row per session out.

The trial table has trial rows and tap rows (:mod:`pymetrics.games.keypresses.spec`).
Every metric is a segment reduction: sessions are factorised to integer codes, each
tap is matched to its trial row by a searchsorted on one integer key per
(session, trial), and sums and counts come from :func:`numpy.bincount`, so
extracting one session or ten thousand is the same call with no loop over sessions,
trials or taps.

* ``taps_per_s`` = all taps / (sum of the trials' ``duration_ms`` / 1000); trials
  without a tap count in the duration.
* Inter-tap intervals (ITIs) are differences of consecutive ``t_ms`` within one
  trial (never across two trials), pooled over the session's trials:
  ``iti_mean_ms``, ``iti_sd_ms`` (ddof=1) and ``iti_cv`` = SD / mean. Absent with no
  interval (SD and CV: with fewer than two).
* ``fatigue_slope``: least-squares slope of taps per trial on the trial's position
  1..n in ``trial`` order (positions, not trial numbers, so imported files with
  gaps are treated like live sessions); trials without a tap count as 0. Absent
  with fewer than two trials.
* ``hand_asymmetry`` = (dominant taps - non-dominant taps) / all taps; absent with
  no tap at all.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_uniform`` - the session's ITIs have a coefficient of variation below 0.02
  (:func:`pymetrics.games.quality.too_uniform_flags`): no human taps that evenly, an
  auto-clicker does.
* ``too_fast`` does not apply: taps are not responses to a stimulus, so there is no
  reaction time to be implausibly short; fast tapping is the task.
* ``mostly_omissions`` does not apply: nothing asks for a response that could be
  missed; a trial without taps is part of the measure (0 taps, lowering
  ``taps_per_s`` and shaping ``fatigue_slope``).
* ``one_option_only`` does not apply: there is no choice between options.
* ``ssrt_invalid`` belongs to the stop-signal task.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.keypresses.spec import DOMINANT, KIND_TRIAL, METRICS
from pymetrics.games.quality import merge_flags, too_uniform_flags

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise ratio, NaN (absent) where the denominator is 0 or NaN."""
    valid = np.isfinite(denominator) & (denominator != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, numerator / np.where(valid, denominator, 1.0), np.nan)


def _empty_result() -> ExtractionResult:
    empty = pd.DataFrame(columns=list(METRIC_NAMES), dtype="float64")
    empty.index.name = "session"
    return ExtractionResult(metrics=empty, flags={})


def extract(trials: pd.DataFrame) -> ExtractionResult:
    """Metrics and quality flags for every session in the trial table."""
    if trials.empty:
        return _empty_result()

    session_codes, sessions = pd.factorize(trials["session"], sort=True)
    n_sessions = len(sessions)
    trial_numbers = trials["trial"].to_numpy(dtype="int64")
    kind = trials["kind"].to_numpy()
    # One integer key per (session, trial), ordered like (session, trial).
    span = int(trial_numbers.max()) + 1
    keys = session_codes.astype("int64") * span + trial_numbers

    # --- trial rows, in (session, trial) order ---------------------------------
    is_trial = kind == KIND_TRIAL
    trial_keys = keys[is_trial]
    order = np.argsort(trial_keys, kind="stable")
    trial_keys = trial_keys[order]
    trial_codes = session_codes[is_trial][order]
    duration_s = trials["duration_ms"].to_numpy(dtype="float64")[is_trial][order] / 1000.0
    dominant = trials["hand"].to_numpy()[is_trial][order] == DOMINANT

    # --- tap rows, each matched to its trial row, in time order within a trial ----
    is_tap = ~is_trial
    tap_keys = keys[is_tap]
    tap_t = trials["t_ms"].to_numpy(dtype="float64")[is_tap]
    slot = np.searchsorted(trial_keys, tap_keys)
    slot_clipped = np.minimum(slot, max(len(trial_keys) - 1, 0))
    matched = (
        (slot < len(trial_keys)) & (trial_keys[slot_clipped] == tap_keys)
        if len(trial_keys)
        else np.zeros(len(tap_keys), dtype=bool)
    )
    tap_slot = slot[matched]
    tap_t = tap_t[matched]
    step_slot = np.diff(tap_slot)
    in_order = bool(np.all((step_slot > 0) | ((step_slot == 0) & (np.diff(tap_t) >= 0))))
    if not in_order:
        # The spec's conversions already sort taps; other callers may not.
        tap_order = np.lexsort((tap_t, tap_slot))
        tap_slot = tap_slot[tap_order]
        tap_t = tap_t[tap_order]
    n_trials = len(trial_keys)
    taps_per_trial = np.bincount(tap_slot, minlength=n_trials).astype("float64")

    # --- rates and hands --------------------------------------------------------
    taps = np.bincount(trial_codes, weights=taps_per_trial, minlength=n_sessions)
    seconds = np.bincount(trial_codes, weights=duration_s, minlength=n_sessions)
    dominant_taps = np.bincount(
        trial_codes, weights=taps_per_trial * dominant, minlength=n_sessions
    )
    other_taps = taps - dominant_taps
    trials_per_session = np.bincount(trial_codes, minlength=n_sessions)

    # --- inter-tap intervals, within a trial only ---------------------------------
    same_trial = tap_slot[1:] == tap_slot[:-1]
    iti = (tap_t[1:] - tap_t[:-1])[same_trial]
    iti_codes = trial_codes[tap_slot[1:][same_trial]]
    n_iti = np.bincount(iti_codes, minlength=n_sessions).astype("float64")
    iti_mean = _ratio(np.bincount(iti_codes, weights=iti, minlength=n_sessions), n_iti)
    deviation = iti - iti_mean[iti_codes]
    squares = np.bincount(iti_codes, weights=deviation * deviation, minlength=n_sessions)
    iti_sd = np.sqrt(_ratio(squares, np.where(n_iti >= 2, n_iti - 1, 0.0)))

    # --- fatigue: OLS slope of taps per trial on position 1..n ---------------------
    first_trial = np.cumsum(trials_per_session) - trials_per_session
    position = (np.arange(n_trials) - first_trial[trial_codes] + 1).astype("float64")
    counts = trials_per_session.astype("float64")
    mean_position = _ratio(np.bincount(trial_codes, weights=position, minlength=n_sessions), counts)
    mean_taps = _ratio(taps, counts)
    dx = position - mean_position[trial_codes]
    dy = taps_per_trial - mean_taps[trial_codes]
    sxy = np.bincount(trial_codes, weights=dx * dy, minlength=n_sessions)
    sxx = np.bincount(trial_codes, weights=dx * dx, minlength=n_sessions)
    slope = np.where(trials_per_session >= 2, _ratio(sxy, sxx), np.nan)

    columns: dict[str, np.ndarray] = {
        "taps_per_s": _ratio(taps, seconds),
        "iti_mean_ms": iti_mean,
        "iti_sd_ms": iti_sd,
        "iti_cv": _ratio(iti_sd, iti_mean),
        "fatigue_slope": slope,
        "hand_asymmetry": _ratio(dominant_taps - other_taps, taps),
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    every_session: dict[Hashable, list[str]] = {session: [] for session in sessions}
    # Grouped by integer session code (much cheaper than by id), then named.
    uniform_by_code = too_uniform_flags(pd.Series(iti_codes), pd.Series(iti, dtype="float64"))
    labels: list[Hashable] = list(sessions)
    uniform: dict[Hashable, list[str]] = {
        labels[cast(int, code)]: flags for code, flags in uniform_by_code.items()
    }
    return ExtractionResult(metrics=metrics, flags=merge_flags(every_session, uniform))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)
