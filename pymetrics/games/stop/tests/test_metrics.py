"""Stop metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.quality import MOSTLY_OMISSIONS, SSRT_INVALID, TOO_FAST, TOO_UNIFORM
from pymetrics.games.stop import GAME
from pymetrics.games.stop.metrics import METRIC_NAMES, extract, quality_flags, type6_quantiles
from pymetrics.games.trial_files import TrialFileError, read_trial_file

ABSENT = math.nan
NONE = math.nan
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Row = tuple[str, int, int, float, float, float]


def _trials(rows: list[Row]) -> pd.DataFrame:
    """Rows of (session, trial, stop, ssd_ms, rt_ms, correct); NONE for an empty cell."""
    return pd.DataFrame(rows, columns=["session", "trial", "stop", "ssd_ms", "rt_ms", "correct"])


def go(session: str, trial: int, rt: float = NONE, correct: float = NONE) -> Row:
    return (session, trial, 0, NONE, rt, correct)


def stop(session: str, trial: int, ssd: float, rt: float = NONE) -> Row:
    return (session, trial, 1, ssd, rt, NONE)


# Session "a", 10 trials (rows given out of order on purpose):
#   go 1: 400 right   go 2: 500 right   stop 3: SSD 250, pressed at 350
#   go 4: 600 other key   go 5: missed   stop 6: SSD 200, held back
#   go 7: 300 right   stop 8: SSD 250, held back   go 9: 450 right
#   stop 10: SSD 300, pressed at 420
#   go trials 6, presses 5: 400 + 500 + 600 + 300 + 450 = 2250 -> go_rt_mean 450
#   go_omission_rate 1/6; go_error_rate 1/5 = 0.2
#   go_rt_sd: deviations -50, 50, 150, -150, 0 -> squares 50000 / 4 = 12500 -> 50 sqrt(5)
#   stop trials 4, pressed 2 -> p_respond_signal 0.5
#   mean_ssd (250 + 200 + 250 + 300) / 4 = 250; signal_respond_rt (350 + 420) / 2 = 385
#   SSRT: the miss becomes the slowest go RT (600): sorted 300 400 450 500 600 600,
#   n = 6, h = (6 + 1) * 0.5 = 3.5 -> x3 + 0.5 (x4 - x3) = 450 + 25 = 475; 475 - 250 = 225
#   ssrt_valid: 0.25 <= 0.5 <= 0.75 and 385 < 450 -> 1; no flags
# Session "b", no press on any stop trial (p = 0):
#   go 1: 500, stop 2: SSD 250 held, go 3: 300, go 4: 700, stop 5: SSD 300 held (all right key)
#   go_rt_mean 1500 / 3 = 500; sd: deviations 0, -200, 200 -> 80000 / 2 -> 200
#   p 0 / 2 = 0; mean_ssd 275; signal_respond_rt absent (no stop press)
#   SSRT: type-6 at p = 0 -> h = 0 clamped to 1 -> the minimum, 300; 300 - 275 = 25
#   ssrt_valid 0 (p outside 0.25..0.75, no signal-respond RT) -> ssrt_invalid
# Session "c", every go trial missed: go 1, 3, 4 no press; stop 2: SSD 250, pressed at 200
#   go_omission_rate 3/3 = 1; go_rt_mean, go_error_rate, go_rt_sd absent
#   p 1/1 = 1; mean_ssd 250; signal_respond_rt 200
#   ssrt absent (no go RT to take a quantile of) -> ssrt_valid absent
#   flags: mostly_omissions (3 of 3 go trials > 30%)
# Session "d", no stop trials at all: go 250 right, 350 other key, 300 right
#   go_rt_mean 300; sd: -50, 50, 0 -> 5000 / 2 -> 50; omission 0; error 1/3
#   p, mean_ssd, signal_respond_rt, ssrt, ssrt_valid absent; no flags
# Session "e", only stop trials: SSD 250 pressed at 300, SSD 200 held, SSD 250 pressed at 280
#   p 2/3; mean_ssd 700/3; signal_respond_rt (300 + 280) / 2 = 290
#   every go metric absent, ssrt and ssrt_valid absent; no flags
# Session "f", a single go press, signal-respond slower than go:
#   go 1: 400 right, stop 2: SSD 100 pressed at 450, go 3: missed, stop 4: SSD 150 held
#   go_rt_mean 400; go_rt_sd absent (one press); omission 1/2; error 0/1 = 0
#   p 1/2; mean_ssd 125; signal_respond_rt 450
#   SSRT: the miss becomes 400: sorted 400 400, h = 1.5 -> 400; 400 - 125 = 275
#   ssrt_valid: p in range but 450 < 400 fails -> 0
#   flags: mostly_omissions (1 of 2 go trials), ssrt_invalid
HAND_TRIALS = _trials(
    [
        stop("a", 10, 300, 420),
        go("a", 1, 400, 1),
        go("a", 2, 500, 1),
        stop("a", 3, 250, 350),
        go("a", 4, 600, 0),
        go("a", 5),
        stop("a", 6, 200),
        go("a", 7, 300, 1),
        stop("a", 8, 250),
        go("a", 9, 450, 1),
        go("b", 1, 500, 1),
        stop("b", 2, 250),
        go("b", 3, 300, 1),
        go("b", 4, 700, 1),
        stop("b", 5, 300),
        go("c", 1),
        stop("c", 2, 250, 200),
        go("c", 3),
        go("c", 4),
        go("d", 1, 250, 1),
        go("d", 2, 350, 0),
        go("d", 3, 300, 1),
        stop("e", 1, 250, 300),
        stop("e", 2, 200),
        stop("e", 3, 250, 280),
        go("f", 1, 400, 1),
        stop("f", 2, 100, 450),
        go("f", 3),
        stop("f", 4, 150),
    ]
)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "p_respond_signal": 0.5,
        "go_rt_mean_ms": 450,
        "go_omission_rate": 1 / 6,
        "go_error_rate": 0.2,
        "mean_ssd_ms": 250,
        "signal_respond_rt_mean_ms": 385,
        "ssrt_ms": 225,
        "ssrt_valid": 1,
        "go_rt_sd_ms": 50 * math.sqrt(5),
    },
    "b": {
        "p_respond_signal": 0,
        "go_rt_mean_ms": 500,
        "go_omission_rate": 0,
        "go_error_rate": 0,
        "mean_ssd_ms": 275,
        "signal_respond_rt_mean_ms": ABSENT,
        "ssrt_ms": 25,
        "ssrt_valid": 0,
        "go_rt_sd_ms": 200,
    },
    "c": {
        "p_respond_signal": 1,
        "go_rt_mean_ms": ABSENT,
        "go_omission_rate": 1,
        "go_error_rate": ABSENT,
        "mean_ssd_ms": 250,
        "signal_respond_rt_mean_ms": 200,
        "ssrt_ms": ABSENT,
        "ssrt_valid": ABSENT,
        "go_rt_sd_ms": ABSENT,
    },
    "d": {
        "p_respond_signal": ABSENT,
        "go_rt_mean_ms": 300,
        "go_omission_rate": 0,
        "go_error_rate": 1 / 3,
        "mean_ssd_ms": ABSENT,
        "signal_respond_rt_mean_ms": ABSENT,
        "ssrt_ms": ABSENT,
        "ssrt_valid": ABSENT,
        "go_rt_sd_ms": 50,
    },
    "e": {
        "p_respond_signal": 2 / 3,
        "go_rt_mean_ms": ABSENT,
        "go_omission_rate": ABSENT,
        "go_error_rate": ABSENT,
        "mean_ssd_ms": 700 / 3,
        "signal_respond_rt_mean_ms": 290,
        "ssrt_ms": ABSENT,
        "ssrt_valid": ABSENT,
        "go_rt_sd_ms": ABSENT,
    },
    "f": {
        "p_respond_signal": 0.5,
        "go_rt_mean_ms": 400,
        "go_omission_rate": 0.5,
        "go_error_rate": 0,
        "mean_ssd_ms": 125,
        "signal_respond_rt_mean_ms": 450,
        "ssrt_ms": 275,
        "ssrt_valid": 0,
        "go_rt_sd_ms": ABSENT,
    },
}

HAND_FLAGS: dict[str, list[str]] = {
    "a": [],
    "b": [SSRT_INVALID],
    "c": [MOSTLY_OMISSIONS],
    "d": [],
    "e": [],
    "f": [MOSTLY_OMISSIONS, SSRT_INVALID],
}


def _metric(result: ExtractionResult, session: str, metric: str) -> float:
    return float(result.metrics[metric].to_dict()[session])


def _assert_metric(actual: float, expected: float) -> None:
    """Exact for counts and whole numbers; approx only where a true division rounds."""
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


def test_hand_computed_flags() -> None:
    assert extract(HAND_TRIALS).flags == HAND_FLAGS
    assert quality_flags(HAND_TRIALS) == HAND_FLAGS


def test_each_session_alone_gives_the_same_values_as_in_the_batch() -> None:
    batch = extract(HAND_TRIALS)

    for session in HAND_EXPECTED:
        alone = extract(HAND_TRIALS[HAND_TRIALS["session"] == session])
        assert alone.session_values(session) == batch.session_values(session)
        assert alone.flags == {session: HAND_FLAGS[session]}


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.index) == ["a", "b", "c", "d", "e", "f"]
    assert result.metrics.index.name == "session"
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_absent_metrics_are_left_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    no_stop_press = result.session_values("b")
    all_missed = result.session_values("c")
    no_stop_trials = result.session_values("d")
    only_stop_trials = result.session_values("e")

    assert "signal_respond_rt_mean_ms" not in no_stop_press
    assert no_stop_press["ssrt_valid"] == 0.0
    for metric in ("go_rt_mean_ms", "go_error_rate", "go_rt_sd_ms", "ssrt_ms", "ssrt_valid"):
        assert metric not in all_missed
    assert all_missed["go_omission_rate"] == 1.0
    assert set(no_stop_trials) == {
        "go_rt_mean_ms",
        "go_omission_rate",
        "go_error_rate",
        "go_rt_sd_ms",
    }
    assert set(only_stop_trials) == {"p_respond_signal", "mean_ssd_ms", "signal_respond_rt_mean_ms"}


# The p_respond_signal bounds of ssrt_valid are inclusive. Both sessions have seven go
# trials with presses at 200, 300, ..., 800 (go_rt_mean 3500 / 7 = 500) and four stop
# trials at SSD 100, 150, 200, 250 (mean 175); pressed stop trials at 250, 300, 350.
#   "p75": three presses -> p = 0.75, h = 8 * 0.75 = 6 -> x6 = 700; SSRT 700 - 175 = 525;
#          signal_respond_rt (250 + 300 + 350) / 3 = 300 < 500 -> valid 1
#   "p25": one press (250) -> p = 0.25, h = 8 * 0.25 = 2 -> x2 = 300; SSRT 300 - 175 = 125;
#          signal_respond_rt 250 < 500 -> valid 1
def _boundary_session(session: str, stop_rts: list[float]) -> list[Row]:
    rows = [go(session, i, 100.0 * (i + 1), 1) for i in range(1, 8)]
    rts = stop_rts + [NONE] * (4 - len(stop_rts))
    rows += [stop(session, 8 + i, 100.0 + 50 * i, rt) for i, rt in enumerate(rts)]
    return rows


@pytest.mark.parametrize(
    ("session", "stop_rts", "ssrt"),
    [
        pytest.param("p75", [250.0, 300.0, 350.0], 525.0, id="p-0.75"),
        pytest.param("p25", [250.0], 125.0, id="p-0.25"),
    ],
)
def test_ssrt_valid_bounds_are_inclusive(session: str, stop_rts: list[float], ssrt: float) -> None:
    result = extract(_trials(_boundary_session(session, stop_rts)))

    values = result.session_values(session)
    assert values["ssrt_ms"] == ssrt
    assert values["ssrt_valid"] == 1.0
    assert values["go_rt_mean_ms"] == 500.0
    assert result.flags == {session: []}


def test_ssrt_uses_every_go_trial_including_errors() -> None:
    # go RTs 300 (right), 500 (other key), 700 (right); one stop trial at SSD 200, pressed.
    # p = 1 -> h = 4 clamped to 3 -> the maximum, 700; SSRT 700 - 200 = 500.
    trials = _trials(
        [go("s", 1, 300, 1), go("s", 2, 500, 0), go("s", 3, 700, 1), stop("s", 4, 200, 250)]
    )

    assert extract(trials).session_values("s")["ssrt_ms"] == 500.0


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            [go("s", i, rt, 1) for i, rt in enumerate([100, 400, 420, 440, 460], 1)],
            [TOO_FAST],
            id="one-go-rt-in-five-below-150",
        ),
        pytest.param(
            [go("s", i, rt, 1) for i, rt in enumerate([140, *range(400, 1300, 100)], 1)],
            [],
            id="one-in-ten-is-not-more-than-10-percent",
        ),
        pytest.param(
            [go("s", i, rt, 1) for i, rt in enumerate([400, 401, 400, 401], 1)],
            [TOO_UNIFORM],
            id="machine-steady-go-rts",
        ),
        pytest.param(
            [go("s", 1, 400, 1), go("s", 2, 500, 1), go("s", 3, 600, 1)]
            + [stop("s", 3 + i, 100, 100) for i in range(1, 5)],
            [SSRT_INVALID],
            id="fast-stop-trial-presses-do-not-count-as-too-fast",
        ),
        pytest.param(
            [go("s", 1, 400, 1), go("s", 2, 500, 1), go("s", 3)]
            + [stop("s", 3 + i, 250) for i in range(1, 5)],
            [MOSTLY_OMISSIONS, SSRT_INVALID],
            id="one-go-miss-in-three",
        ),
        pytest.param(
            [go("s", i, 300 + 10 * i, 1) for i in range(1, 8)]
            + [go("s", 8), go("s", 9, 500, 1), go("s", 10, 520, 1)]
            + [stop("s", 10 + i, 250) for i in range(1, 5)],
            [SSRT_INVALID],
            id="held-stop-trials-are-not-omissions",
        ),
    ],
)
def test_response_time_flags(rows: list[Row], expected: list[str]) -> None:
    assert extract(_trials(rows)).flags == {"s": expected}


def test_type6_quantiles_equal_numpy_weibull_on_random_data() -> None:
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 40, size=300)
    codes = np.repeat(np.arange(300), sizes)
    values = rng.gamma(4.0, 120.0, size=codes.size).round(1)
    probabilities = rng.uniform(0.0, 1.0, size=300)
    probabilities[:20] = 0.0
    probabilities[20:40] = 1.0
    probabilities[40:60] = rng.integers(0, 8, size=20) / 8

    ours = type6_quantiles(values, codes, probabilities)

    expected = [
        np.quantile(values[codes == k], probabilities[k], method="weibull") for k in range(300)
    ]
    assert ours.tolist() == [float(value) for value in expected]


def test_type6_quantiles_leave_segments_without_values_or_probability_empty() -> None:
    values = np.array([3.0, 1.0, 2.0])
    codes = np.array([0, 0, 2])

    result = type6_quantiles(values, codes, np.array([0.5, 0.5, np.nan]))

    assert result[0] == 2.0  # (1, 3): h = 1.5 -> 1 + 0.5 * 2
    assert np.isnan(result[1])  # no values
    assert np.isnan(result[2])  # no probability


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert dict(result.flags) == {}


# tests/data/sample.csv (headers in mixed case, an extra "notes" column that is ignored):
# P01: go 420 right, go 380 right, stop SSD 250 pressed at 300, go 500 other key,
#      stop SSD 200 held, go missed, go 450 right, stop SSD 250 pressed at 330
#   go trials 5, presses 4: 420 + 380 + 500 + 450 = 1750 -> go_rt_mean 437.5
#   go_omission_rate 1/5 = 0.2; go_error_rate 1/4 = 0.25
#   go_rt_sd: deviations -17.5, -57.5, 62.5, 12.5 -> squares 306.25 + 3306.25 + 3906.25
#             + 156.25 = 7675, / 3 -> sqrt(7675 / 3)
#   p 2/3; mean_ssd (250 + 200 + 250) / 3 = 700/3; signal_respond_rt (300 + 330) / 2 = 315
#   SSRT: the miss becomes 500: sorted 380 420 450 500 500, h = 6 * 2/3 = 4 -> x4 = 500;
#         500 - 700/3 = 800/3
#   ssrt_valid: 2/3 in range and 315 < 437.5 -> 1; no flags
# P02: go 600, stop SSD 250 held, go 640, go 560 (all right key)
#   go_rt_mean 600; sd: 0, 40, -40 -> 3200 / 2 -> 40; omission 0; error 0
#   p 0; mean_ssd 250; no signal-respond RT; SSRT: the minimum 560 - 250 = 310; valid 0
SAMPLE_EXPECTED: dict[str, dict[str, float]] = {
    "P01": {
        "p_respond_signal": 2 / 3,
        "go_rt_mean_ms": 437.5,
        "go_omission_rate": 0.2,
        "go_error_rate": 0.25,
        "mean_ssd_ms": 700 / 3,
        "signal_respond_rt_mean_ms": 315,
        "ssrt_ms": 800 / 3,
        "ssrt_valid": 1,
        "go_rt_sd_ms": math.sqrt(7675 / 3),
    },
    "P02": {
        "p_respond_signal": 0,
        "go_rt_mean_ms": 600,
        "go_omission_rate": 0,
        "go_error_rate": 0,
        "mean_ssd_ms": 250,
        "ssrt_ms": 310,
        "ssrt_valid": 0,
        "go_rt_sd_ms": 40,
    },
}


def test_sample_file_gives_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert list(result.metrics.index) == ["P01", "P02"]
    for participant, expected in SAMPLE_EXPECTED.items():
        values = result.session_values(participant)
        assert set(values) == set(expected)
        for metric, value in expected.items():
            _assert_metric(values[metric], value)
    assert result.flags == {"P01": [], "P02": [SSRT_INVALID]}


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        pytest.param("p,1,0,,400,1\np,2,1,,,\n", 3, "ssd_ms", id="stop-trial-without-ssd"),
        pytest.param("p,1,0,,400,1\n\np,2,0,,fast,1\n", 4, "rt_ms", id="rt-text-after-blank"),
        pytest.param("p,1,0,,400,1\np,2,0,,400,\n", 3, "correct", id="go-press-without-correct"),
        pytest.param("p,1,0,,400,1\np,1,1,250,,\n", 3, "trial", id="trial-repeated"),
    ],
)
def test_bad_file_names_line_and_column(tmp_path: Path, body: str, line: int, column: str) -> None:
    path = tmp_path / "stop.csv"
    path.write_text("participant,trial,stop,ssd_ms,rt_ms,correct\n" + body)

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (line, column)


def test_file_without_a_game_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stop.csv"
    path.write_text("participant,trial,stop,rt_ms,correct\np,1,0,400,1\n")

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (1, "ssd_ms")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_trials = 10_000, 128
    size = n_sessions * n_trials
    is_stop = rng.random(size) < 0.25
    rt = rng.gamma(8.0, 60.0, size)
    rt[rng.random(size) < 0.3] = np.nan
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"session-{i}" for i in range(n_sessions)], n_trials),
            "trial": np.tile(np.arange(1, n_trials + 1), n_sessions),
            "stop": is_stop.astype("int64"),
            "ssd_ms": np.where(is_stop, rng.integers(0, 24, size) * 50.0, np.nan),
            "rt_ms": rt,
            "correct": np.where(~is_stop & ~np.isnan(rt), rng.integers(0, 2, size), np.nan),
        }
    )

    result = extract(trials)

    assert len(result.metrics) == n_sessions
    for session in result.metrics.index[[0, 1, len(result.metrics) // 2, -1]]:
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(result.session_values(session))
        assert alone.flags[session] == result.flags[session]
