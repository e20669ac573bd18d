"""Faces metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from pymetrics.games.faces import GAME
from pymetrics.games.faces.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.faces.spec import EMOTIONS
from pymetrics.games.quality import ONE_OPTION_ONLY, TOO_FAST, TOO_UNIFORM
from pymetrics.games.trial_files import read_trial_file

ABSENT = math.nan
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Row = tuple[str, int, str, str, float]


def _trials(rows: list[Row]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["session", "trial", "emotion", "response", "rt_ms"])
    return frame.assign(intensity=math.nan)[
        ["session", "trial", "emotion", "intensity", "response", "rt_ms"]
    ]


# Session "a", 8 faces (rows given out of order on purpose):
#   trial  shown      answered   rt
#     1    happy      happy       900  hit
#     2    sad        neutral    1500
#     3    angry      disgusted  1300
#     4    fearful    surprised  1600
#     5    surprised  surprised  1000  hit
#     6    disgusted  disgusted  1200  hit
#     7    neutral    neutral    1100  hit
#     8    happy      happy       800  hit
#   accuracy = 5/8 = 0.625
#   shown: happy 2, every other expression 1
#   used:  happy 2, neutral 2, disgusted 2, surprised 2, sad/angry/fearful 0
#   hits:  happy 2, surprised 1, disgusted 1, neutral 1, sad/angry/fearful 0
#   accuracy_<e>: happy 2/2 = 1, surprised 1, disgusted 1, neutral 1, the rest 0
#   unbiased_hit_rate_<e> = hits^2 / (shown x used):
#     happy 4 / (2 x 2) = 1; surprised, disgusted, neutral 1 / (1 x 2) = 0.5;
#     sad, angry, fearful: no hit -> 0 (their labels were never used either)
#   rt_correct_mean_ms = (900 + 1000 + 1200 + 1100 + 800) / 5 = 1000
SESSION_A: list[Row] = [
    ("a", 5, "surprised", "surprised", 1000.0),
    ("a", 1, "happy", "happy", 900.0),
    ("a", 8, "happy", "happy", 800.0),
    ("a", 3, "angry", "disgusted", 1300.0),
    ("a", 2, "sad", "neutral", 1500.0),
    ("a", 4, "fearful", "surprised", 1600.0),
    ("a", 7, "neutral", "neutral", 1100.0),
    ("a", 6, "disgusted", "disgusted", 1200.0),
]
EXPECTED_A: dict[str, float] = {
    "accuracy": 0.625,
    "accuracy_happy": 1.0,
    "accuracy_sad": 0.0,
    "accuracy_angry": 0.0,
    "accuracy_fearful": 0.0,
    "accuracy_surprised": 1.0,
    "accuracy_disgusted": 1.0,
    "accuracy_neutral": 1.0,
    "unbiased_hit_rate_happy": 1.0,
    "unbiased_hit_rate_sad": 0.0,
    "unbiased_hit_rate_angry": 0.0,
    "unbiased_hit_rate_fearful": 0.0,
    "unbiased_hit_rate_surprised": 0.5,
    "unbiased_hit_rate_disgusted": 0.5,
    "unbiased_hit_rate_neutral": 0.5,
    "rt_correct_mean_ms": 1000.0,
}

# Session "b", only happy and sad faces:
#   1 happy->happy 700 (hit), 2 sad->happy 900, 3 happy->happy 1100 (hit), 4 sad->sad 1300 (hit)
#   accuracy 3/4; accuracy_happy 2/2 = 1, accuracy_sad 1/2
#   used happy 3, sad 1 -> unbiased happy 2^2 / (2 x 3) = 2/3, sad 1^2 / (2 x 1) = 1/2
#   the five expressions never shown: absent, both metrics
#   rt_correct_mean_ms = (700 + 1100 + 1300) / 3 = 3100/3
SESSION_B: list[Row] = [
    ("b", 1, "happy", "happy", 700.0),
    ("b", 2, "sad", "happy", 900.0),
    ("b", 3, "happy", "happy", 1100.0),
    ("b", 4, "sad", "sad", 1300.0),
]
EXPECTED_B: dict[str, float] = {
    "accuracy": 0.75,
    **{f"accuracy_{emotion}": ABSENT for emotion in EMOTIONS},
    **{f"unbiased_hit_rate_{emotion}": ABSENT for emotion in EMOTIONS},
    "accuracy_happy": 1.0,
    "accuracy_sad": 0.5,
    "unbiased_hit_rate_happy": 2 / 3,
    "unbiased_hit_rate_sad": 0.5,
    "rt_correct_mean_ms": 3100 / 3,
}

# Session "c", every face called neutral, faster than anyone can read a face:
#   fearful->neutral 100, angry->neutral 120, neutral->neutral 90 (hit)
#   accuracy 1/3; accuracy fearful 0, angry 0, neutral 1
#   unbiased: fearful 0, angry 0 (no hits), neutral 1^2 / (1 x 3) = 1/3
#   rt_correct_mean_ms = 90; flags one_option_only, too_fast (3 of 3 < 150 ms)
SESSION_C: list[Row] = [
    ("c", 1, "fearful", "neutral", 100.0),
    ("c", 2, "angry", "neutral", 120.0),
    ("c", 3, "neutral", "neutral", 90.0),
]
EXPECTED_C: dict[str, float] = {
    "accuracy": 1 / 3,
    **{f"accuracy_{emotion}": ABSENT for emotion in EMOTIONS},
    **{f"unbiased_hit_rate_{emotion}": ABSENT for emotion in EMOTIONS},
    "accuracy_fearful": 0.0,
    "accuracy_angry": 0.0,
    "accuracy_neutral": 1.0,
    "unbiased_hit_rate_fearful": 0.0,
    "unbiased_hit_rate_angry": 0.0,
    "unbiased_hit_rate_neutral": 1 / 3,
    "rt_correct_mean_ms": 90.0,
}

# Session "d", no face named as shown, times that hardly vary:
#   happy->sad 1000, sad->happy 1001
#   accuracy 0; accuracy and unbiased rates of happy and sad 0; the rest absent
#   rt_correct_mean_ms absent (no correct answer); flags too_uniform
#   (CV = 0.707 / 1000.5 < 0.02), not one_option_only (two labels used)
SESSION_D: list[Row] = [
    ("d", 1, "happy", "sad", 1000.0),
    ("d", 2, "sad", "happy", 1001.0),
]
EXPECTED_D: dict[str, float] = {
    "accuracy": 0.0,
    **{f"accuracy_{emotion}": ABSENT for emotion in EMOTIONS},
    **{f"unbiased_hit_rate_{emotion}": ABSENT for emotion in EMOTIONS},
    "accuracy_happy": 0.0,
    "accuracy_sad": 0.0,
    "unbiased_hit_rate_happy": 0.0,
    "unbiased_hit_rate_sad": 0.0,
    "rt_correct_mean_ms": ABSENT,
}

# Session "e", a single face named right: everything 1 for happy; one face cannot show
# a one-label strategy, so no flag.
SESSION_E: list[Row] = [("e", 1, "happy", "happy", 1500.0)]
EXPECTED_E: dict[str, float] = {
    "accuracy": 1.0,
    **{f"accuracy_{emotion}": ABSENT for emotion in EMOTIONS},
    **{f"unbiased_hit_rate_{emotion}": ABSENT for emotion in EMOTIONS},
    "accuracy_happy": 1.0,
    "unbiased_hit_rate_happy": 1.0,
    "rt_correct_mean_ms": 1500.0,
}

HAND_TRIALS = _trials(SESSION_D + SESSION_A + SESSION_E + SESSION_C + SESSION_B)


def _assert_metrics(metrics: pd.DataFrame, session: str, expected: dict[str, float]) -> None:
    """Exact where binary floating point is (whole numbers, halves, quarters, eighths);
    approx only where a true division rounds (thirds)."""
    assert list(metrics.columns) == list(METRIC_NAMES)
    for name in METRIC_NAMES:
        actual = float(metrics[name].to_dict()[session])
        if math.isnan(expected[name]):
            assert math.isnan(actual), name
        elif float(expected[name] * 8).is_integer():
            assert actual == expected[name], name
        else:
            assert actual == pytest.approx(expected[name], rel=1e-12), name


@pytest.mark.parametrize(
    ("session", "expected"),
    [
        pytest.param("a", EXPECTED_A, id="every-expression"),
        pytest.param("b", EXPECTED_B, id="two-expressions"),
        pytest.param("c", EXPECTED_C, id="one-label-too-fast"),
        pytest.param("d", EXPECTED_D, id="no-hit"),
        pytest.param("e", EXPECTED_E, id="single-face"),
    ],
)
def test_metrics_by_hand(session: str, expected: dict[str, float]) -> None:
    result = extract(HAND_TRIALS)

    _assert_metrics(result.metrics, session, expected)


def test_sessions_come_out_sorted_with_their_flags() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.index) == ["a", "b", "c", "d", "e"]
    assert result.flags == {
        "a": [],
        "b": [],
        "c": [ONE_OPTION_ONLY, TOO_FAST],
        "d": [TOO_UNIFORM],
        "e": [],
    }
    assert quality_flags(HAND_TRIALS) == result.flags


def test_absent_metrics_are_left_out_of_a_session_s_values() -> None:
    values = extract(HAND_TRIALS).session_values("d")

    assert values == {
        "accuracy": 0.0,
        "accuracy_happy": 0.0,
        "accuracy_sad": 0.0,
        "unbiased_hit_rate_happy": 0.0,
        "unbiased_hit_rate_sad": 0.0,
    }


def test_one_session_alone_gives_what_it_gives_among_many() -> None:
    alone = extract(_trials(SESSION_A))

    _assert_metrics(alone.metrics, "a", EXPECTED_A)


def test_an_empty_trial_table_gives_no_rows() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert result.flags == {}


def test_the_sample_file_imports_with_hand_computed_metrics() -> None:
    """tests/data/sample.csv holds sessions "a" (as p1, label variants) and "b" (as p2)."""
    result = GAME.extract(read_trial_file(SAMPLE, GAME))

    _assert_metrics(result.metrics, "p1", EXPECTED_A)
    _assert_metrics(result.metrics, "p2", EXPECTED_B)
    assert result.flags == {"p1": [], "p2": []}
