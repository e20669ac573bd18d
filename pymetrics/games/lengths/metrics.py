"""Lengths metrics (SCIENCE.md section 1, "lengths"): trial table in, one row per session out.

Signal detection on the answered trials: rc, ri, lc and li count rich correct, rich
incorrect, lean correct and lean incorrect answers, each plus 0.5 (Hautus 1995), so
a perfect or a one-sided block still gives finite values:

* ``response_bias`` (log b) = 0.5 * log10((rc * li) / (ri * lc)),
* ``discriminability`` (log d) = 0.5 * log10((rc * lc) / (ri * li)),
* ``response_bias_block_1`` .. ``_block_3``: log b within each block,
* ``bias_change``: log b of the last block minus that of the first block,
* ``rich_accuracy``, ``lean_accuracy``: correct / answered, without the correction.

Trials without an answer (``correct`` NaN) are left out of every count. Blocks are
the trials' ``block`` numbers (the schedule's blocks, which the events and imported
files carry) rather than positions, so a session cut short still puts each trial in
the block it was played in. Every count is a :func:`numpy.bincount` over (session)
or (session, block) cells, so one session or ten thousand is the same call.

When a metric is absent: log b and log d need at least one answered rich and one
answered lean trial (with none of a kind the corrected counts are the bare 0.5 and
the ratio says nothing about the candidate); the same holds per block.
``bias_change`` needs two blocks with a block bias and uses the first and the last of
them (an assessment of two blocks compares block 2 with block 1). Each accuracy needs
an answered trial of its kind.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``too_fast`` and ``too_uniform`` - from the answered trials' ``rt_ms`` (time from
  the mouth's onset); imported rows without times are not judged.
* ``mostly_omissions`` - more than 30% of the trials got no answer before the
  deadline. Counted from ``correct`` (empty = no answer), not from ``rt_ms``, because
  imported files may have answers without times.
* ``one_option_only`` - the candidate gave the same answer on every answered trial
  (all rich trials right and all lean trials wrong, or the reverse), so the session
  shows a fixed answer rather than how rewards shift it. Judged only with at least
  one answered trial of each kind.
* ``ssrt_invalid`` does not apply (no stop signal); ``focus_lost`` and
  ``timing_unreliable`` come from the raw event stream, for every game alike, in
  :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.lengths.spec import METRICS, N_BLOCKS
from pymetrics.games.quality import (
    MOSTLY_OMISSIONS,
    MOSTLY_OMISSIONS_FRACTION,
    ONE_OPTION_ONLY,
    merge_flags,
    response_time_flags,
)

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)

#: Hautus (1995) log-linear correction added to each of the four counts.
CORRECTION = 0.5


def _bias_and_discriminability(
    rc: np.ndarray, ri: np.ndarray, lc: np.ndarray, li: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """log b and log d from raw counts; NaN where a kind has no answered trial."""
    present = ((rc + ri) > 0) & ((lc + li) > 0)
    rc, ri, lc, li = (count + CORRECTION for count in (rc, ri, lc, li))
    bias = 0.5 * np.log10((rc * li) / (ri * lc))
    discriminability = 0.5 * np.log10((rc * lc) / (ri * li))
    return np.where(present, bias, np.nan), np.where(present, discriminability, np.nan)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), np.nan)


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
    rich = (trials["stimulus"].to_numpy() == "rich")[order]
    correct = trials["correct"].to_numpy(dtype="float64")[order]
    block = trials["block"].to_numpy(dtype="int64")[order] - 1
    answered = ~np.isnan(correct)
    right = answered & (correct == 1)
    wrong = answered & (correct == 0)
    # The four cells, in the order rc, ri, lc, li.
    cells = (right & rich, wrong & rich, right & ~rich, wrong & ~rich)

    counts = [np.bincount(codes, weights=cell, minlength=n_sessions) for cell in cells]
    rc, ri, lc, li = counts
    bias, discriminability = _bias_and_discriminability(rc, ri, lc, li)

    in_blocks = (block >= 0) & (block < N_BLOCKS)
    cell_index = codes[in_blocks] * N_BLOCKS + block[in_blocks]
    size = n_sessions * N_BLOCKS
    block_counts = [
        np.bincount(cell_index, weights=cell[in_blocks], minlength=size).reshape(
            n_sessions, N_BLOCKS
        )
        for cell in cells
    ]
    block_bias, _ = _bias_and_discriminability(*block_counts)

    columns: dict[str, np.ndarray] = {
        "response_bias": bias,
        "discriminability": discriminability,
    }
    for index in range(N_BLOCKS):
        columns[f"response_bias_block_{index + 1}"] = block_bias[:, index]
    present = ~np.isnan(block_bias)
    first = present.argmax(axis=1)
    last = N_BLOCKS - 1 - present[:, ::-1].argmax(axis=1)
    rows = np.arange(n_sessions)
    columns["bias_change"] = np.where(
        present.sum(axis=1) >= 2, block_bias[rows, last] - block_bias[rows, first], np.nan
    )
    columns["rich_accuracy"] = _share(rc, rc + ri)
    columns["lean_accuracy"] = _share(lc, lc + li)

    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    n_trials = np.bincount(codes, minlength=n_sessions).astype("float64")
    n_answered = rc + ri + lc + li
    mostly_omissions = (n_trials - n_answered) / n_trials > MOSTLY_OMISSIONS_FRACTION
    both_kinds = ((rc + ri) > 0) & ((lc + li) > 0)
    always_rich_length = (ri == 0) & (lc == 0)
    always_lean_length = (rc == 0) & (li == 0)
    one_option = both_kinds & (always_rich_length | always_lean_length)
    trial_flags: dict[Hashable, list[str]] = {
        session: [
            code
            for code, raised in ((MOSTLY_OMISSIONS, omissions), (ONE_OPTION_ONLY, single))
            if raised
        ]
        for session, omissions, single in zip(sessions, mostly_omissions, one_option, strict=True)
    }
    rt = np.where(answered, trials["rt_ms"].to_numpy(dtype="float64")[order], np.nan)
    timing_flags = response_time_flags(pd.Series(sessions.take(codes)), pd.Series(rt))
    timing_flags = {
        session: [code for code in flags if code != MOSTLY_OMISSIONS]
        for session, flags in timing_flags.items()
    }
    return ExtractionResult(metrics=metrics, flags=merge_flags(trial_flags, timing_flags))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)
