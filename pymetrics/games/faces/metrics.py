"""Faces metrics (SCIENCE.md section 1, "faces"): trial table in, one row per session out.

Every metric is a segment reduction over sessions: the trial table is sorted by
session and trial, sessions and labels are factorised to integer codes, and the
counts come from :func:`numpy.bincount` over (session, expression) cells, so
extracting one session or ten thousand is the same call.

With, for one session and expression e, ``shown_e`` faces showing e, ``used_e``
answers using the label e and ``hits_e`` faces showing e labelled e:

* ``accuracy`` = sum of hits / faces;
* ``accuracy_<e>`` = hits_e / shown_e, absent when e was never shown;
* ``unbiased_hit_rate_<e>`` (Wagner 1993) = hits_e^2 / (shown_e x used_e): the
  probability that a face showing e is labelled e *and* that the label e, when used,
  is right. 0 when there is no hit (used_e may then be 0 too); absent when e was
  never shown, since the rate is about recognising a face that was there;
* ``rt_correct_mean_ms`` = mean ``rt_ms`` of the correct answers, absent without one.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast`` and ``too_uniform`` - every answer has a time from the face's onset,
  so :func:`response_time_flags` applies to all of them.
* ``one_option_only`` - one label for every face (with at least two faces): the
  answers then say nothing about which expressions were recognised.
* ``mostly_omissions`` does not apply: the face stays until it is labelled, so no
  answer can be missed, and imported rows must carry a label too.
* ``ssrt_invalid`` belongs to the stop-signal task.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.faces.spec import EMOTIONS, METRICS
from pymetrics.games.quality import (
    MOSTLY_OMISSIONS,
    ONE_OPTION_ONLY,
    merge_flags,
    response_time_flags,
)

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)

N_EMOTIONS = len(EMOTIONS)
_EMOTION_CODES = {emotion: code for code, emotion in enumerate(EMOTIONS)}


def _codes(labels: np.ndarray) -> np.ndarray:
    return np.array([_EMOTION_CODES[label] for label in labels], dtype="int64")


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
    shown = _codes(trials["emotion"].to_numpy(dtype=object)[order])
    answered = _codes(trials["response"].to_numpy(dtype=object)[order])
    rt = trials["rt_ms"].to_numpy(dtype="float64")[order]
    hit = shown == answered

    def per_emotion(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
        cells = np.bincount(
            codes * N_EMOTIONS + labels,
            weights=mask.astype("float64"),
            minlength=n * N_EMOTIONS,
        )
        return cells.reshape(n, N_EMOTIONS)

    everything = np.ones(len(codes), dtype=bool)
    shown_count = per_emotion(shown, everything)
    used_count = per_emotion(answered, everything)
    hits = per_emotion(shown, hit)
    faces = np.bincount(codes, minlength=n).astype("float64")

    presented = shown_count > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy_by_emotion = np.where(
            presented, hits / np.where(presented, shown_count, 1), np.nan
        )
        # hits > 0 implies shown > 0 and used > 0; no hit is 0 by definition.
        denominator = np.where(hits > 0, shown_count * used_count, 1.0)
        unbiased = np.where(presented, np.where(hits > 0, hits**2 / denominator, 0.0), np.nan)

    timed = hit & ~np.isnan(rt)
    timed_count = np.bincount(codes, weights=timed.astype("float64"), minlength=n)
    timed_total = np.bincount(codes, weights=np.where(timed, rt, 0.0), minlength=n)

    columns: dict[str, np.ndarray] = {
        "accuracy": np.bincount(codes, weights=hit.astype("float64"), minlength=n) / faces,
    }
    for index, emotion in enumerate(EMOTIONS):
        columns[f"accuracy_{emotion}"] = accuracy_by_emotion[:, index]
    for index, emotion in enumerate(EMOTIONS):
        columns[f"unbiased_hit_rate_{emotion}"] = unbiased[:, index]
    with np.errstate(divide="ignore", invalid="ignore"):
        columns["rt_correct_mean_ms"] = np.where(
            timed_count > 0, timed_total / np.where(timed_count > 0, timed_count, 1), np.nan
        )

    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    one_label = (used_count.max(axis=1) == faces) & (faces >= 2)
    return ExtractionResult(metrics=metrics, flags=_flags(trials, sessions, one_label))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(
    trials: pd.DataFrame, sessions: pd.Index, one_label: np.ndarray
) -> dict[Hashable, list[str]]:
    option_flags: dict[Hashable, list[str]] = {
        session: [ONE_OPTION_ONLY] if flagged else []
        for session, flagged in zip(sessions, one_label, strict=True)
    }
    timing_flags = response_time_flags(trials["session"], trials["rt_ms"])
    # Every trial is answered; the shared helper's omission count is not this task's.
    timing_flags = {
        session: [code for code in codes if code != MOSTLY_OMISSIONS]
        for session, codes in timing_flags.items()
    }
    return merge_flags(option_flags, timing_flags)
