"""Session quality flags shared by every game."""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.quality import (
    FLAG_DESCRIPTIONS,
    FOCUS_LOST,
    ONE_OPTION_ONLY,
    TIMING_UNRELIABLE,
    away_ms,
    merge_flags,
    session_quality_flags,
    session_timing_stats,
)

EVENT_COLUMNS = ["session", "seq", "t", "type", "data"]


def _events(session: Hashable, changes: list[tuple[float, str, str]]) -> pd.DataFrame:
    """A stream of common events; ``seq`` follows list order, a balloon event in between."""
    rows: list[tuple[Hashable, int, float, str, dict[str, object]]] = [
        (session, 1, 0.0, "balloon_start", {"balloon": 1})
    ]
    for seq, (t, event_type, state) in enumerate(changes, start=2):
        rows.append((session, seq, t, event_type, {"state": state}))
    return pd.DataFrame(rows, columns=EVENT_COLUMNS)


def _stats(
    durations: dict[Hashable, float], out_of_order: dict[Hashable, int] | None = None
) -> pd.DataFrame:
    stats = pd.DataFrame({"duration_ms": pd.Series(durations, dtype="float64")})
    stats["out_of_order"] = pd.Series(out_of_order or {}, dtype="int64")
    stats["out_of_order"] = stats["out_of_order"].fillna(0).astype("int64")
    return stats


# Every case runs on a 10 000 ms game, so 10% is 1 000 ms and the flag needs more.
FOCUS_CASES = [
    pytest.param([(1000.0, "visibility", "hidden"), (1999.0, "visibility", "visible")], 999.0,
                 [], id="hidden-just-under-10pc"),
    pytest.param([(1000.0, "visibility", "hidden"), (2000.0, "visibility", "visible")], 1000.0,
                 [], id="hidden-exactly-10pc"),
    pytest.param([(1000.0, "visibility", "hidden"), (2001.0, "visibility", "visible")], 1001.0,
                 [FOCUS_LOST], id="hidden-just-over-10pc"),
    pytest.param([(1000.0, "focus", "blur"), (2001.0, "focus", "focus")], 1001.0,
                 [FOCUS_LOST], id="blur-just-over-10pc"),
    pytest.param([(9100.0, "focus", "blur")], 900.0, [], id="open-blur-at-end-under"),
    pytest.param([(8900.0, "visibility", "hidden")], 1100.0, [FOCUS_LOST],
                 id="open-hidden-at-end-over"),
    # hidden 1000-1600 and blur 1400-1900: union 1000-1900 = 900 ms (the sum would be 1100)
    pytest.param([(1000.0, "visibility", "hidden"), (1400.0, "focus", "blur"),
                  (1600.0, "visibility", "visible"), (1900.0, "focus", "focus")], 900.0,
                 [], id="overlap-counted-once-under"),
    # blur 1000-2000 with hidden 1200-1500 inside: union 1000 ms, exactly 10% (sum 1300)
    pytest.param([(1000.0, "focus", "blur"), (1200.0, "visibility", "hidden"),
                  (1500.0, "visibility", "visible"), (2000.0, "focus", "focus")], 1000.0,
                 [], id="nested-counted-once"),
    # hidden 1000-1700 and blur 1500-2200: union 1000-2200 = 1200 ms
    pytest.param([(1000.0, "visibility", "hidden"), (1500.0, "focus", "blur"),
                  (1700.0, "visibility", "visible"), (2200.0, "focus", "focus")], 1200.0,
                 [FOCUS_LOST], id="overlap-over"),
    # two separate spells, 600 + 500 = 1100 ms
    pytest.param([(1000.0, "visibility", "hidden"), (1600.0, "visibility", "visible"),
                  (5000.0, "focus", "blur"), (5500.0, "focus", "focus")], 1100.0,
                 [FOCUS_LOST], id="separate-spells-add-up"),
    # a repeated "hidden" does not restart the spell: 1000-1900 = 900 ms
    pytest.param([(1000.0, "visibility", "hidden"), (1500.0, "visibility", "hidden"),
                  (1900.0, "visibility", "visible")], 900.0, [], id="repeated-hidden"),
    # back and visible without ever leaving: nothing to count
    pytest.param([(3000.0, "visibility", "visible"), (4000.0, "focus", "focus")], 0.0,
                 [], id="only-returns"),
    # blur still open after a visibility round trip: 8000-10000 = 2000 ms
    pytest.param([(8000.0, "focus", "blur"), (8500.0, "visibility", "hidden"),
                  (9000.0, "visibility", "visible")], 2000.0, [FOCUS_LOST],
                 id="open-blur-survives-visibility-return"),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected_away", "expected_flags"), FOCUS_CASES)
def test_focus_lost(
    changes: list[tuple[float, str, str]], expected_away: float, expected_flags: list[str]
) -> None:
    events = _events("s", changes)
    stats = _stats({"s": 10_000.0})

    away = away_ms(events, stats["duration_ms"])
    flags = session_quality_flags(events, stats)

    assert away["s"] == expected_away
    assert flags == {"s": expected_flags}


@pytest.mark.parametrize(
    ("out_of_order", "expected"),
    [
        pytest.param(0, [], id="in-order"),
        pytest.param(1, [TIMING_UNRELIABLE], id="one-out-of-order"),
        pytest.param(7, [TIMING_UNRELIABLE], id="many-out-of-order"),
    ],
)
def test_timing_unreliable(out_of_order: int, expected: list[str]) -> None:
    events = _events("s", [])
    stats = _stats({"s": 10_000.0}, {"s": out_of_order})

    assert session_quality_flags(events, stats) == {"s": expected}


def test_flags_for_many_sessions_at_once_including_ones_without_common_events() -> None:
    events = pd.concat(
        [
            _events("lost", [(0.0, "visibility", "hidden"), (5000.0, "visibility", "visible")]),
            _events("late", []),
            _events("both", [(100.0, "focus", "blur")]),
            _events("clean", []),
        ],
        ignore_index=True,
    )
    stats = _stats(
        {"lost": 10_000.0, "late": 10_000.0, "both": 10_000.0, "clean": 10_000.0, "silent": 0.0},
        {"late": 2, "both": 1},
    )

    flags = session_quality_flags(events, stats)

    assert flags == {
        "lost": [FOCUS_LOST],
        "late": [TIMING_UNRELIABLE],
        "both": [FOCUS_LOST, TIMING_UNRELIABLE],
        "clean": [],
        "silent": [],
    }


def test_out_of_order_timestamps_never_count_negative_time() -> None:
    # hidden at 3000, then "visible" stamped 2000 by a jumpy clock: 0 ms, not -1000
    events = _events("s", [(3000.0, "visibility", "hidden"), (2000.0, "visibility", "visible")])

    away = away_ms(events, pd.Series({"s": 10_000.0}))

    assert away["s"] == 0.0


def test_session_timing_stats() -> None:
    events = pd.DataFrame(
        [
            ("a", 2, 50.0, "pump", {}),
            ("a", 1, 10.0, "balloon_start", {}),
            ("a", 3, 40.0, "pump", {}),
            ("a", 4, 45.0, "pump", {}),
            ("a", 5, 30.0, "collect", {}),
            ("b", 1, 0.0, "balloon_start", {}),
            ("b", 2, 120.5, "collect", {}),
        ],
        columns=EVENT_COLUMNS,
    )

    stats = session_timing_stats(events)

    # a in seq order: 10, 50, 40 (< 50), 45, 30 (< 45) -> 2 out of order; max t 50
    assert stats.to_dict("index") == {
        "a": {"duration_ms": 50.0, "out_of_order": 2},
        "b": {"duration_ms": 120.5, "out_of_order": 0},
    }


def test_merge_flags_unions_sessions_and_sorts_unique_codes() -> None:
    merged = merge_flags(
        {"a": [TIMING_UNRELIABLE], "b": []},
        {"a": [FOCUS_LOST, TIMING_UNRELIABLE], "c": [ONE_OPTION_ONLY]},
    )

    assert merged == {
        "a": [FOCUS_LOST, TIMING_UNRELIABLE],
        "b": [],
        "c": [ONE_OPTION_ONLY],
    }


def test_every_section_3_flag_has_a_recruiter_facing_reason() -> None:
    assert set(FLAG_DESCRIPTIONS) == {
        "too_fast",
        "too_uniform",
        "mostly_omissions",
        "one_option_only",
        "ssrt_invalid",
        "focus_lost",
        "timing_unreliable",
    }
    assert all(reason.endswith(".") for reason in FLAG_DESCRIPTIONS.values())


def test_response_time_flags_by_hand() -> None:
    from pymetrics.games.quality import response_time_flags, too_uniform_flags

    # s1: 10 responses, 2 below 150 ms (20% > 10%) -> too_fast; 0 omissions.
    # s2: 4 go trials needing a response, 2 missed (50% > 30%); one no-go trial without
    #     a response is not an omission.
    # s3: identical RTs -> CV 0 -> too_uniform.
    # s4: one response: CV cannot be computed; 1 of 1 fast (100%) -> too_fast.
    session = pd.Series(["s1"] * 10 + ["s2"] * 5 + ["s3"] * 3 + ["s4"])
    rt = pd.Series(
        [
            *[120, 140, 300, 320, 350, 400, 420, 450, 500, 520],
            *[400, np.nan, 500, np.nan, np.nan],
            *[400, 400, 400],
            100,
        ],
        dtype="float64",
    )
    needs = pd.Series([True] * 10 + [True, True, True, True, False] + [True] * 4)

    flags = response_time_flags(session, rt, needs)

    assert flags == {
        "s1": ["too_fast"],
        "s2": ["mostly_omissions"],
        "s3": ["too_uniform"],
        "s4": ["too_fast"],
    }
    # 25% omissions (1 of 4) is not "over 30%".
    assert response_time_flags(pd.Series(["a"] * 4), pd.Series([300.0, 310, 290, np.nan])) == {
        "a": []
    }
    # Taps 100 ms apart +-1 ms: CV = 0.0082 -> too_uniform; a single interval is not judged.
    taps = too_uniform_flags(pd.Series(["x"] * 3 + ["y"]), pd.Series([100.0, 101, 99, 100]))
    assert taps == {"x": ["too_uniform"], "y": []}
