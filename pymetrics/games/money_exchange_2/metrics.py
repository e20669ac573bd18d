"""Money exchange 2 metrics (SCIENCE.md section 1, "money_exchange_2"): trials in, sessions out.

Every metric is a segment reduction over sessions: sessions are factorised to integer
codes and counts, sums and minima come from :func:`numpy.bincount` and
:func:`numpy.minimum.at` over the rounds of one role, so extracting one session or
ten thousand is the same call. Each metric reads only the rounds of its role and is
absent when the session has none of them (or, for ``min_accepted_offer``, when no
offer was accepted).

An offer is unfair when ``offer / total < 0.3``, computed as written: the share is
compared, not the offer with ``0.3 * total``, whose rounding (``0.3 * 10`` is
3.0000000000000004 in binary floating point) would count an offer of exactly 30% as
unfair.

Quality flags (SCIENCE.md section 3) raised here, and why only these:

* ``one_option_only`` - every offer received as responder, from the even split to
  the most unfair, got the same answer (all accepted or all rejected): the session
  cannot show where the candidate starts to refuse. Amounts are not judged: giving
  the same amount every time (an even split, or nothing) is a common, meaningful
  answer as proposer and dictator.
* ``too_fast`` and ``too_uniform`` - from ``rt_ms`` (time from the round's controls
  appearing to the answer or the confirmed amount) where the trial table has it;
  imported files carry no times and are never flagged for them.
* ``mostly_omissions`` and ``ssrt_invalid`` do not apply: the game is self-paced,
  so no round can be missed, and there is no stop signal.
* ``focus_lost`` and ``timing_unreliable`` come from the raw event stream, for every
  game alike, in :mod:`pymetrics.games.quality`.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from pymetrics.games.base import ExtractionResult
from pymetrics.games.money_exchange_2.spec import (
    DICTATOR,
    METRICS,
    PROPOSER,
    RESPONDER,
    UNFAIR_BELOW,
)
from pymetrics.games.quality import (
    MOSTLY_OMISSIONS,
    ONE_OPTION_ONLY,
    merge_flags,
    response_time_flags,
)

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` per session, NaN (absent) where ``whole`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), np.nan)


def extract(trials: pd.DataFrame) -> ExtractionResult:
    """Metrics and quality flags for every session in the trial table."""
    if trials.empty:
        empty = pd.DataFrame(columns=list(METRIC_NAMES), dtype="float64")
        empty.index.name = "session"
        return ExtractionResult(metrics=empty, flags={})

    codes, sessions = pd.factorize(trials["session"], sort=True)
    n_sessions = len(sessions)
    role = trials["role"].to_numpy(dtype="object")
    fraction = trials["offer"].to_numpy(dtype="float64") / trials["total"].to_numpy(dtype="float64")
    accepted = np.nan_to_num(trials["accepted"].to_numpy(dtype="float64"), nan=0.0) == 1.0

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=n_sessions).astype("float64")

    def total(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], weights=fraction[mask], minlength=n_sessions)

    responder = role == RESPONDER
    unfair = responder & (fraction < UNFAIR_BELOW)
    responder_rounds = count(responder)
    responder_accepted = count(responder & accepted)
    proposer = role == PROPOSER
    dictator = role == DICTATOR

    smallest = np.full(n_sessions, np.inf)
    taken = responder & accepted
    np.minimum.at(smallest, codes[taken], fraction[taken])

    columns: dict[str, np.ndarray] = {
        "acceptance_rate": _share(responder_accepted, responder_rounds),
        "unfair_acceptance_rate": _share(count(unfair & accepted), count(unfair)),
        "min_accepted_offer": np.where(np.isfinite(smallest), smallest, np.nan),
        "offer_fraction": _share(total(proposer), count(proposer)),
        "dictator_fraction": _share(total(dictator), count(dictator)),
    }
    metrics = pd.DataFrame(columns, index=pd.Index(sessions, name="session"))
    metrics = metrics[list(METRIC_NAMES)].astype("float64")

    one_answer = (responder_rounds > 0) & (
        (responder_accepted == 0) | (responder_accepted == responder_rounds)
    )
    return ExtractionResult(metrics=metrics, flags=_flags(trials, sessions, one_answer))


def quality_flags(trials: pd.DataFrame) -> dict[Hashable, list[str]]:
    """The trial-table quality flags of every session (see the module docstring)."""
    return dict(extract(trials).flags)


def _flags(
    trials: pd.DataFrame, sessions: pd.Index, one_answer: np.ndarray
) -> dict[Hashable, list[str]]:
    option_flags: dict[Hashable, list[str]] = {
        session: [ONE_OPTION_ONLY] if flagged else []
        for session, flagged in zip(sessions, one_answer, strict=True)
    }
    rt = pd.to_numeric(trials["rt_ms"], errors="coerce").astype("float64")
    # Every round with a time is a response; a missing time (imported rows) is not a
    # missed round, as the game cannot be missed.
    timing_flags = response_time_flags(trials["session"], rt, needs_response=rt.notna())
    timing_flags = {
        session: [code for code in codes if code != MOSTLY_OMISSIONS]
        for session, codes in timing_flags.items()
    }
    return merge_flags(option_flags, timing_flags)
