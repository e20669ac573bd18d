"""Keypresses metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.keypresses import GAME
from pymetrics.games.keypresses.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.keypresses.spec import TRIAL_COLUMNS, events_to_trials
from pymetrics.games.quality import TOO_UNIFORM
from pymetrics.games.trial_files import TrialFileError, read_trial_file

ABSENT = math.nan
D, N = "dominant", "non_dominant"
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Trial = tuple[int, str, int, list[float]]


def _table(sessions: dict[str, list[Trial]]) -> pd.DataFrame:
    """A trial table: a trial row per (trial, hand, duration_ms, taps) and a row per tap.

    Rows are listed taps first and trials last, so the extractor has to sort them.
    """
    rows: list[tuple[object, ...]] = []
    trial_rows: list[tuple[object, ...]] = []
    for session, trials in sessions.items():
        for trial, hand, duration, taps in trials:
            trial_rows.append((session, trial, "trial", hand, duration, math.nan))
            rows.extend((session, trial, "tap", hand, duration, t) for t in reversed(taps))
    return pd.DataFrame(rows + trial_rows, columns=list(TRIAL_COLUMNS))


# Session "a": three 10 s trials (trial numbers given out of order):
#   trial 1 (dominant)      taps 100, 300, 600        -> 3 taps, ITIs 200, 300
#   trial 2 (non-dominant)  taps 50, 250              -> 2 taps, ITI 200
#   trial 3 (dominant)      taps 0, 400, 700, 1000    -> 4 taps, ITIs 400, 300, 300
#   (the 600 -> 50 step from trial 1 to trial 2 is not an interval: ITIs stay in a trial)
#   taps_per_s = 9 / 30 s = 0.3
#   ITIs 200, 300, 200, 400, 300, 300: sum 1700, n 6 -> iti_mean_ms = 850/3
#   deviations -250/3, 50/3, -250/3, 350/3, 50/3, 50/3; squares sum
#   (2 * 62500 + 3 * 2500 + 122500) / 9 = 255000/9; / (6 - 1) -> variance 17000/3
#   iti_sd_ms = sqrt(17000/3) = 75.2773...; iti_cv = sqrt(17000/3) / (850/3) = 0.265685...
#   fatigue_slope: positions 1, 2, 3 with taps 3, 2, 4 -> means 2 and 3,
#   Sxy = (-1)(0) + (0)(-1) + (1)(1) = 1, Sxx = 2 -> 0.5
#   hand_asymmetry = (3 + 4 - 2) / 9 = 5/9
# Session "b": a 5 s trial, a 10 s trial without a tap, and trial 4 (no trial 3):
#   trial 1 (dominant, 5 s)       taps 100, 250, 450, 700 -> ITIs 150, 200, 250
#   trial 2 (non-dominant, 10 s)  no taps
#   trial 4 (dominant, 10 s)      taps 1000, 1200         -> ITI 200
#   taps_per_s = 6 / (5 + 10 + 10) s = 0.24
#   ITIs 150, 200, 250, 200 -> mean 200; squares 2500 + 0 + 2500 + 0 = 5000; / 3
#   iti_sd_ms = sqrt(5000/3) = 40.8248...; iti_cv = sqrt(5000/3) / 200
#   fatigue_slope: positions 1, 2, 3 (not trial numbers) with taps 4, 0, 2:
#   Sxy = (-1)(4 - 2) + 0 + (1)(2 - 2) = -2, Sxx = 2 -> -1
#   hand_asymmetry = (6 - 0) / 6 = 1 (the non-dominant trial had no tap)
# Session "c": a single tap, one trial, the non-dominant hand only:
#   trial 1 (non-dominant) tap 500 -> taps_per_s = 1 / 10 s = 0.1
#   no interval -> iti_mean_ms, iti_sd_ms, iti_cv absent; one trial -> fatigue_slope absent
#   hand_asymmetry = (0 - 1) / 1 = -1
# Session "d": one interval in all:
#   trial 1 (dominant) taps 100, 350 -> ITI 250; trial 2 (non-dominant) tap 200
#   taps_per_s = 3 / 20 s = 0.15; iti_mean_ms = 250; one interval -> SD and CV absent
#   fatigue_slope: taps 2, 1 on positions 1, 2 -> -1; hand_asymmetry = (2 - 1) / 3 = 1/3
# Session "e": two trials without a single tap:
#   taps_per_s = 0 / 20 s = 0; no intervals -> ITI metrics absent
#   fatigue_slope: taps 0, 0 -> Sxy = 0, Sxx = 0.5 -> 0; no taps -> hand_asymmetry absent
HAND_TRIALS = _table(
    {
        "b": [(4, D, 10000, [1000, 1200]), (1, D, 5000, [100, 250, 450, 700]), (2, N, 10000, [])],
        "a": [
            (3, D, 10000, [0, 400, 700, 1000]),
            (1, D, 10000, [100, 300, 600]),
            (2, N, 10000, [50, 250]),
        ],
        "c": [(1, N, 10000, [500])],
        "d": [(1, D, 10000, [100, 350]), (2, N, 10000, [200])],
        "e": [(1, D, 10000, []), (2, N, 10000, [])],
    }
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "taps_per_s": 0.3,
        "iti_mean_ms": 850 / 3,
        "iti_sd_ms": math.sqrt(17000 / 3),
        "iti_cv": math.sqrt(17000 / 3) / (850 / 3),
        "fatigue_slope": 0.5,
        "hand_asymmetry": 5 / 9,
    },
    "b": {
        "taps_per_s": 0.24,
        "iti_mean_ms": 200,
        "iti_sd_ms": math.sqrt(5000 / 3),
        "iti_cv": math.sqrt(5000 / 3) / 200,
        "fatigue_slope": -1,
        "hand_asymmetry": 1,
    },
    "c": {
        "taps_per_s": 0.1,
        "iti_mean_ms": ABSENT,
        "iti_sd_ms": ABSENT,
        "iti_cv": ABSENT,
        "fatigue_slope": ABSENT,
        "hand_asymmetry": -1,
    },
    "d": {
        "taps_per_s": 0.15,
        "iti_mean_ms": 250,
        "iti_sd_ms": ABSENT,
        "iti_cv": ABSENT,
        "fatigue_slope": -1,
        "hand_asymmetry": 1 / 3,
    },
    "e": {
        "taps_per_s": 0,
        "iti_mean_ms": ABSENT,
        "iti_sd_ms": ABSENT,
        "iti_cv": ABSENT,
        "fatigue_slope": 0,
        "hand_asymmetry": ABSENT,
    },
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for whole numbers; approx only where a true division or root rounds."""
    if math.isnan(expected):
        assert math.isnan(actual)
    elif float(expected).is_integer():
        assert actual == expected
    else:
        assert actual == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("session", "metric", "expected"),
    [
        pytest.param(session, metric, value, id=f"{session}-{metric}")
        for session, values in HAND_EXPECTED.items()
        for metric, value in values.items()
    ],
)
def test_hand_computed_metric(session: str, metric: str, expected: float) -> None:
    result = extract(HAND_TRIALS)

    _assert_metric(_metric(result, session, metric), expected)


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.index) == ["a", "b", "c", "d", "e"]
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_absent_metrics_are_left_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    single_tap = result.session_values("c")
    no_taps = result.session_values("e")

    assert single_tap == pytest.approx({"taps_per_s": 0.1, "hand_asymmetry": -1.0})
    for metric in ("iti_mean_ms", "iti_sd_ms", "iti_cv", "fatigue_slope"):
        assert metric not in single_tap
    assert no_taps == {"taps_per_s": 0.0, "fatigue_slope": 0.0}
    assert "hand_asymmetry" not in no_taps
    assert "iti_sd_ms" not in result.session_values("d")
    assert "iti_cv" not in result.session_values("d")


def test_one_session_alone_gives_the_same_values_as_in_a_batch() -> None:
    alone = extract(HAND_TRIALS.loc[HAND_TRIALS["session"] == "a"])

    assert alone.session_values("a") == pytest.approx(extract(HAND_TRIALS).session_values("a"))


def _events(rows: list[tuple[int, str, dict[str, object]]], session: str = "s") -> pd.DataFrame:
    return pd.DataFrame(
        [(session, seq, float(seq), kind, data) for seq, kind, data in rows],
        columns=["session", "seq", "t", "type", "data"],
    )


def test_a_trial_without_taps_counts_from_the_event_stream() -> None:
    # Trial 1 (dominant, 10 s) taps at 120 and 320.5 ms; trial 2 (non-dominant, 10 s) has
    # no tap at all; trial 3 (dominant, 10 s) one tap at 90 ms.
    #   taps_per_s = 3 / 30 s = 0.1
    #   ITIs: only 320.5 - 120 = 200.5 -> iti_mean_ms = 200.5, SD and CV absent
    #   fatigue_slope: taps 2, 0, 1 on positions 1, 2, 3: Sxy = (-1)(1) + 0 + (1)(0) = -1,
    #   Sxx = 2 -> -0.5 (without the empty trial it would be taps 2, 1 -> -1)
    #   hand_asymmetry = (3 - 0) / 3 = 1
    events = _events(
        [
            (1, "trial_start", {"trial": 1, "hand": D, "duration_ms": 10000}),
            (2, "tap", {"trial": 1, "t_ms": 120}),
            (3, "tap", {"trial": 1, "t_ms": 320.5}),
            (4, "trial_end", {"trial": 1, "hand": D, "taps": 2, "duration_ms": 10000}),
            (5, "trial_start", {"trial": 2, "hand": N, "duration_ms": 10000}),
            (6, "trial_end", {"trial": 2, "hand": N, "taps": 0, "duration_ms": 10000}),
            (7, "trial_start", {"trial": 3, "hand": D, "duration_ms": 10000}),
            (8, "tap", {"trial": 3, "t_ms": 90}),
            (9, "trial_end", {"trial": 3, "hand": D, "taps": 1, "duration_ms": 10000}),
        ]
    )

    values = extract(events_to_trials(events)).session_values("s")

    assert values == pytest.approx(
        {"taps_per_s": 0.1, "iti_mean_ms": 200.5, "fatigue_slope": -0.5, "hand_asymmetry": 1.0}
    )


@pytest.mark.parametrize(
    ("taps", "expected"),
    [
        # ITIs all 200 -> SD 0, CV 0 < 0.02
        pytest.param([0, 200, 400, 600, 800], [TOO_UNIFORM], id="metronome"),
        # ITIs 100, 102: mean 101, SD sqrt(2) -> CV 0.0140 < 0.02
        pytest.param([0, 100, 202], [TOO_UNIFORM], id="cv-0.014"),
        # ITIs 100, 104: mean 102, SD sqrt(8) -> CV 0.0277 >= 0.02
        pytest.param([0, 100, 204], [], id="cv-0.028"),
        # one interval: cannot be judged
        pytest.param([0, 200], [], id="one-interval"),
        pytest.param([], [], id="no-taps"),
    ],
)
def test_too_uniform_flag_from_the_intervals(taps: list[float], expected: list[str]) -> None:
    result = extract(_table({"s": [(1, D, 10000, taps)]}))

    assert result.flags == {"s": expected}


def test_metronome_metrics_and_flags_per_session() -> None:
    # "m": ITIs 200 x 4 -> mean 200, SD 0, CV 0 (flagged); "a" is human (CV 0.27).
    table = pd.concat(
        [_table({"m": [(1, D, 10000, [0, 200, 400, 600, 800])]}), HAND_TRIALS], ignore_index=True
    )

    result = extract(table)

    assert result.session_values("m") == pytest.approx(
        {
            "taps_per_s": 0.5,
            "iti_mean_ms": 200.0,
            "iti_sd_ms": 0.0,
            "iti_cv": 0.0,
            "hand_asymmetry": 1.0,
        }
    )
    assert quality_flags(table) == {
        "a": [],
        "b": [],
        "c": [],
        "d": [],
        "e": [],
        "m": [TOO_UNIFORM],
    }


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_table({}))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


# tests/data/sample.csv (one row per tap; rows out of order, mixed-case hands, an
# extra "note" column, empty duration_ms = 10000):
#   p1 trial 1 dominant taps 100, 300, 450; trial 2 non_dominant taps 200, 500 (10 s each)
#     taps_per_s = 5 / 20 s = 0.25
#     ITIs 200, 150 (trial 1), 300 (trial 2): mean 650/3;
#     deviations -50/3, -200/3, 250/3 -> squares (2500 + 40000 + 62500)/9 = 105000/9; / 2
#     -> variance 17500/3; iti_sd_ms = sqrt(17500/3) = 76.376...
#     fatigue_slope: taps 3, 2 -> -1; hand_asymmetry = (3 - 2) / 5 = 0.2
#   p2 trials of 5000 ms: trial 1 dominant taps 1000.5, 1250.5; trial 2 non_dominant 4999
#     taps_per_s = 3 / 10 s = 0.3; ITI 250 only -> mean 250, SD and CV absent
#     fatigue_slope: taps 2, 1 -> -1; hand_asymmetry = (2 - 1) / 3 = 1/3
SAMPLE_EXPECTED: dict[str, dict[str, float]] = {
    "p1": {
        "taps_per_s": 0.25,
        "iti_mean_ms": 650 / 3,
        "iti_sd_ms": math.sqrt(17500 / 3),
        "iti_cv": math.sqrt(17500 / 3) / (650 / 3),
        "fatigue_slope": -1.0,
        "hand_asymmetry": 0.2,
    },
    "p2": {
        "taps_per_s": 0.3,
        "iti_mean_ms": 250.0,
        "fatigue_slope": -1.0,
        "hand_asymmetry": 1 / 3,
    },
}


def test_sample_file_metrics_by_hand() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    for participant, expected in SAMPLE_EXPECTED.items():
        assert result.session_values(participant) == pytest.approx(expected, rel=1e-12)
    assert result.flags == {"p1": [], "p2": []}


def test_a_bad_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "taps.csv"
    path.write_text("participant,trial,hand,t_ms\np1,1,dominant,100\np1,1,dominant,-3\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (3, "t_ms")


def test_a_file_without_a_required_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "taps.csv"
    path.write_text("participant,trial,t_ms\np1,1,100\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (1, "hand")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    """1.5 million tap rows: one vectorised pass, no loop per session, trial or tap."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials, n_taps = 5_000, 6, 50
    sessions = np.array([f"session-{i}" for i in range(n_sessions)], dtype=object)
    trial_rows = pd.DataFrame(
        {
            "session": np.repeat(sessions, n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "kind": "trial",
            "hand": np.tile([D, N], n_sessions * n_trials // 2),
            "duration_ms": 10000,
            "t_ms": np.nan,
        }
    )
    tap_rows = trial_rows.loc[trial_rows.index.repeat(n_taps)].assign(
        kind="tap",
        # intervals of 100-190 ms, so every trial's 50 taps end within its 10 s
        t_ms=rng.uniform(100, 190, (n_sessions * n_trials, n_taps)).cumsum(axis=1).ravel(),
    )
    trials = pd.concat([trial_rows, tap_rows], ignore_index=True)

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
