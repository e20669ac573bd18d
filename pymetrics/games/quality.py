"""Session quality flags shared by every game (SCIENCE.md section 3).

A flag never removes data: a flagged session is still scored, and the recruiter sees
the plain-English reason from :data:`FLAG_DESCRIPTIONS` beside its scores. Game
extractors raise the flags that need their trial table (for example
``one_option_only``); this module raises the ones any game's raw event stream
shows (``focus_lost`` from the common ``visibility``/``focus`` events,
``timing_unreliable`` from timestamps) and merges the two sets.

Pure pandas/numpy; no Django import.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import pandas as pd

TOO_FAST = "too_fast"
TOO_UNIFORM = "too_uniform"
MOSTLY_OMISSIONS = "mostly_omissions"
ONE_OPTION_ONLY = "one_option_only"
SSRT_INVALID = "ssrt_invalid"
FOCUS_LOST = "focus_lost"
TIMING_UNRELIABLE = "timing_unreliable"

#: Flag code -> the reason a recruiter reads next to a flagged session's scores.
FLAG_DESCRIPTIONS: Mapping[str, str] = {
    TOO_FAST: (
        "More than 10% of responses came faster than 150 ms, quicker than a person can "
        "react, so some answers were probably given without looking."
    ),
    TOO_UNIFORM: (
        "Response or tapping times were almost identical from one to the next, which "
        "people do not produce; an automated tool may have been used."
    ),
    MOSTLY_OMISSIONS: (
        "More than 30% of the trials got no response, so the scores rest on few answers."
    ),
    ONE_OPTION_ONLY: (
        "The candidate used a single option or strategy throughout, so the game could "
        "not observe how their choices change."
    ),
    SSRT_INVALID: (
        "The stop-signal results break the assumptions of the race model, so the stopping "
        "speed (SSRT) cannot be trusted."
    ),
    FOCUS_LOST: (
        "The game window was hidden or out of focus for more than 10% of the game, so the "
        "candidate may have been distracted or doing something else."
    ),
    TIMING_UNRELIABLE: (
        "The browser reported event times out of order, so reaction times from this "
        "session may be inaccurate."
    ),
}

#: Share of the game the window may be hidden or blurred before ``focus_lost``.
FOCUS_LOST_FRACTION = 0.10
#: ``too_fast``: more than this share of response times below TOO_FAST_RT_MS.
TOO_FAST_RT_MS = 150.0
TOO_FAST_FRACTION = 0.10
#: ``too_uniform``: a coefficient of variation below this (ddof=1), over >= 2 values.
TOO_UNIFORM_CV = 0.02
#: ``mostly_omissions``: more than this share of trials needing a response got none.
MOSTLY_OMISSIONS_FRACTION = 0.30

_OFF_STATES: Mapping[str, str] = {"visibility": "hidden", "focus": "blur"}


def session_timing_stats(events: pd.DataFrame) -> pd.DataFrame:
    """Per-session ``duration_ms`` (max ``t``) and ``out_of_order`` event counts.

    The inputs :func:`session_quality_flags` needs, for callers that hold the events
    rather than computing the statistics in the database. An event is out of order
    when its ``t`` is lower than that of the event with the previous ``seq``.
    """
    ordered = events.sort_values(["session", "seq"], kind="stable", ignore_index=True)
    previous_t = ordered.groupby("session", sort=False)["t"].shift(1)
    out_of_order = (ordered["t"] < previous_t).astype("int64")
    grouped_t = ordered.groupby("session")["t"]
    stats = pd.DataFrame(
        {
            "duration_ms": grouped_t.max().astype("float64"),
            "out_of_order": out_of_order.groupby(ordered["session"]).sum(),
        }
    )
    stats.index.name = "session"
    return stats


def away_ms(events: pd.DataFrame, duration_ms: pd.Series) -> pd.Series:
    """Milliseconds each session's window was hidden or blurred (the union of both).

    The common events are replayed in ``seq`` order: each sets the state of its own
    channel (``visibility`` hidden/visible, ``focus`` blur/focus), states carry
    forward until changed, and the window counts as away while either channel is
    off, so overlapping hidden and blurred spells are counted once. A spell still
    open at the last event runs to ``duration_ms``. The window starts visible and
    focused.
    """
    common = events.loc[
        events["type"].isin(list(_OFF_STATES)), ["session", "seq", "t", "type", "data"]
    ].sort_values(["session", "seq"], kind="stable", ignore_index=True)
    if common.empty:
        return pd.Series(0.0, index=duration_ms.index, name="away_ms")

    event_type = common["type"].to_numpy()
    state = np.array(
        [data.get("state") if isinstance(data, Mapping) else None for data in common["data"]],
        dtype=object,
    )
    channels = pd.DataFrame(index=common.index)
    for channel, off_state in _OFF_STATES.items():
        is_channel = event_type == channel
        channels[channel] = np.where(is_channel, (state == off_state).astype("float64"), np.nan)
    session = common["session"]
    carried = channels.groupby(session, sort=False).ffill().fillna(0.0)
    away = (carried > 0).any(axis=1).to_numpy()

    start = common["t"].astype("float64")
    end = start.groupby(session, sort=False).shift(-1)
    end = end.fillna(session.map(duration_ms.astype("float64")))
    # Out-of-order timestamps are flagged separately; they must not make time negative.
    spell = (end - start).clip(lower=0.0).where(away, 0.0)
    totals = spell.groupby(session).sum(min_count=1)
    return totals.reindex(duration_ms.index).fillna(0.0).rename("away_ms")


def session_quality_flags(events: pd.DataFrame, stats: pd.DataFrame) -> dict[Hashable, list[str]]:
    """``focus_lost`` and ``timing_unreliable`` for every session in ``stats``.

    ``events`` has columns session, seq, t, type, data (only ``visibility`` and
    ``focus`` rows are read); ``stats`` is indexed by session with ``duration_ms``
    (max ``t``) and ``out_of_order`` (see :func:`session_timing_stats`).
    """
    duration = stats["duration_ms"].astype("float64")
    away = away_ms(events, duration)
    with np.errstate(divide="ignore", invalid="ignore"):
        away_fraction = (away / duration.where(duration > 0)).to_numpy()
    focus_lost = np.nan_to_num(away_fraction, nan=0.0) > FOCUS_LOST_FRACTION
    timing_unreliable = stats["out_of_order"].fillna(0).to_numpy() > 0
    return {
        session: [
            code for code, raised in ((FOCUS_LOST, lost), (TIMING_UNRELIABLE, late)) if raised
        ]
        for session, lost, late in zip(stats.index, focus_lost, timing_unreliable, strict=True)
    }


def merge_flags(*flag_sets: Mapping[Hashable, list[str]]) -> dict[Hashable, list[str]]:
    """Combine flags from several sources: every session, each code once, sorted."""
    merged: dict[Hashable, set[str]] = {}
    for flag_set in flag_sets:
        for session, codes in flag_set.items():
            merged.setdefault(session, set()).update(codes)
    return {session: sorted(codes) for session, codes in merged.items()}


def response_time_flags(
    session: pd.Series, rt_ms: pd.Series, needs_response: pd.Series | None = None
) -> dict[Hashable, list[str]]:
    """``too_fast``, ``too_uniform`` and ``mostly_omissions`` from a trial table.

    ``rt_ms`` is NaN where no response came. ``needs_response`` marks the trials on
    which a response was expected (all of them by default; only go trials in the
    stop-signal task): omissions are counted among those. Every session present in
    ``session`` gets an entry, empty when nothing is raised.
    """
    rt = pd.to_numeric(rt_ms, errors="coerce").astype("float64").reset_index(drop=True)
    keys = session.reset_index(drop=True)
    needed = (
        pd.Series(True, index=rt.index)
        if needs_response is None
        else needs_response.reset_index(drop=True).astype(bool)
    )
    frame = pd.DataFrame(
        {
            "session": keys,
            "responded": rt.notna(),
            "fast": rt < TOO_FAST_RT_MS,
            "needed": needed,
            "missed": needed & rt.isna(),
            "rt": rt,
        }
    )
    grouped = frame.groupby("session", sort=True)
    responses = grouped["responded"].sum()
    fast_share = grouped["fast"].sum() / responses.where(responses > 0)
    mean = grouped["rt"].mean()
    cv = grouped["rt"].std(ddof=1) / mean.where(mean > 0)
    needed_count = grouped["needed"].sum()
    omission_share = grouped["missed"].sum() / needed_count.where(needed_count > 0)

    too_fast = (fast_share > TOO_FAST_FRACTION).to_numpy()
    too_uniform = (cv < TOO_UNIFORM_CV).to_numpy()
    mostly_omissions = (omission_share > MOSTLY_OMISSIONS_FRACTION).to_numpy()
    return {
        key: [
            code
            for code, raised in (
                (MOSTLY_OMISSIONS, omissions),
                (TOO_FAST, fast),
                (TOO_UNIFORM, uniform),
            )
            if raised
        ]
        for key, fast, uniform, omissions in zip(
            responses.index, too_fast, too_uniform, mostly_omissions, strict=True
        )
    }


def too_uniform_flags(session: pd.Series, values: pd.Series) -> dict[Hashable, list[str]]:
    """``too_uniform`` when the coefficient of variation of ``values`` is below 0.02.

    For intervals that are not response times, e.g. the gaps between finger taps.
    Sessions with fewer than two values cannot be judged and are not flagged.
    """
    frame = pd.DataFrame(
        {
            "session": session.reset_index(drop=True),
            "value": pd.to_numeric(values, errors="coerce").reset_index(drop=True),
        }
    )
    grouped = frame.groupby("session", sort=True)["value"]
    mean = grouped.mean()
    cv = grouped.std(ddof=1) / mean.where(mean > 0)
    return {key: [TOO_UNIFORM] if bool(low) else [] for key, low in (cv < TOO_UNIFORM_CV).items()}
