"""Money exchange 1 metrics checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import ExtractionResult
from pymetrics.games.money_exchange_1 import GAME
from pymetrics.games.money_exchange_1.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.money_exchange_1.spec import TRIAL_COLUMNS
from pymetrics.games.quality import TOO_FAST, TOO_UNIFORM

ABSENT = math.nan
NO_RT = math.nan
INV, TRU = "investor", "trustee"

Row = tuple[str, int, str, float, float, float, float, float]


def _trials(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))


# Columns: session, trial, role, endowment, sent, received, returned, rt_ms.
#
# Session "a", the full game (rows out of order on purpose):
#   investor rounds 1-5: sent 2, 4, 6, 8, 10 of 10 -> shares .2 .4 .6 .8 1
#     fraction_sent = 3.0 / 5 = 0.6
#   trustee rounds 6-10: received 3, 6, 9, 12, 15, returned 1, 2, 3, 6, 0
#     -> shares 1/3 1/3 1/3 1/2 0 -> fraction_returned = 1.5 / 5 = 0.3
#   decision times 2000..6500 ms: no flag
SESSION_A: list[Row] = [
    ("a", 7, TRU, 10, 2, 6, 2, 4500.0),
    ("a", 1, INV, 10, 2, 6, 1, 2000.0),
    ("a", 2, INV, 10, 4, 12, 4, 3000.0),
    ("a", 3, INV, 10, 6, 18, 0, 2500.0),
    ("a", 4, INV, 10, 8, 24, 12, 4000.0),
    ("a", 5, INV, 10, 10, 30, 9, 3500.0),
    ("a", 6, TRU, 10, 1, 3, 1, 6500.0),
    ("a", 8, TRU, 10, 3, 9, 3, 5000.0),
    ("a", 10, TRU, 10, 5, 15, 0, 5500.0),
    ("a", 9, TRU, 10, 4, 12, 6, 6000.0),
]

# Session "b", investor rounds only, imported from a variant with endowment 20:
#   sent 5 and 0 of 20 -> (0.25 + 0) / 2 = 0.125; no trustee round -> fraction_returned
#   absent; no times -> no flag
SESSION_B: list[Row] = [
    ("b", 1, INV, 20, 5, 15, 3, NO_RT),
    ("b", 2, INV, 20, 0, 0, 0, NO_RT),
]

# Session "c", trustee rounds only; two received nothing and are left out:
#   received 0, 30 (returned 30), 0 -> fraction_returned = 30 / 30 = 1; fraction_sent
#   absent
SESSION_C: list[Row] = [
    ("c", 1, TRU, 10, 0, 0, 0, 3000.0),
    ("c", 2, TRU, 10, 10, 30, 30, 4200.0),
    ("c", 3, TRU, 10, 0, 0, 0, 3900.0),
]

# Session "d", one trustee round that received nothing: both metrics absent.
SESSION_D: list[Row] = [("d", 1, TRU, 10, 0, 0, 0, 2500.0)]

# Session "e", everything sent every round, two of three decisions under 150 ms:
#   fraction_sent = 1 (one option throughout is a strategy, not a flag); too_fast
SESSION_E: list[Row] = [
    ("e", 1, INV, 10, 10, 30, 15, 90.0),
    ("e", 2, INV, 10, 10, 30, 0, 120.0),
    ("e", 3, INV, 10, 10, 30, 3, 2000.0),
]

# Session "f", decision times that hardly vary (CV = 0.577 / 3000.33 < 0.02):
#   fraction_sent = (0.3 + 0.5) / 2 = 0.4; fraction_returned = 4 / 12 = 1/3; too_uniform
SESSION_F: list[Row] = [
    ("f", 1, INV, 10, 3, 9, 2, 3000.0),
    ("f", 2, INV, 10, 5, 15, 5, 3000.0),
    ("f", 3, TRU, 10, 4, 12, 4, 3001.0),
]

HAND_TRIALS = _trials(SESSION_F + SESSION_C + SESSION_A + SESSION_E + SESSION_D + SESSION_B)

EXPECTED: dict[str, dict[str, float]] = {
    "a": {"fraction_sent": 0.6, "fraction_returned": 0.3},
    "b": {"fraction_sent": 0.125, "fraction_returned": ABSENT},
    "c": {"fraction_sent": ABSENT, "fraction_returned": 1.0},
    "d": {"fraction_sent": ABSENT, "fraction_returned": ABSENT},
    "e": {"fraction_sent": 1.0, "fraction_returned": ABSENT},
    "f": {"fraction_sent": 0.4, "fraction_returned": 1 / 3},
}


@pytest.fixture(scope="module")
def hand_result() -> ExtractionResult:
    return extract(HAND_TRIALS)


@pytest.mark.parametrize(
    ("session", "metric", "expected"),
    [
        pytest.param(session, metric, value, id=f"{session}-{metric}")
        for session, values in EXPECTED.items()
        for metric, value in values.items()
    ],
)
def test_hand_computed_metric(
    hand_result: ExtractionResult, session: str, metric: str, expected: float
) -> None:
    value = hand_result.session_values(session).get(metric, ABSENT)

    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_metrics_frame_has_one_float_row_per_session_and_the_contract_columns(
    hand_result: ExtractionResult,
) -> None:
    assert list(hand_result.metrics.columns) == list(METRIC_NAMES)
    assert list(METRIC_NAMES) == ["fraction_sent", "fraction_returned"]
    assert hand_result.metrics.index.tolist() == ["a", "b", "c", "d", "e", "f"]
    assert hand_result.metrics.index.name == "session"
    assert all(dtype == np.float64 for dtype in hand_result.metrics.dtypes)


def test_absent_metrics_are_left_out_of_stored_values(hand_result: ExtractionResult) -> None:
    assert hand_result.session_values("b") == {"fraction_sent": 0.125}
    assert hand_result.session_values("c") == {"fraction_returned": 1.0}
    assert hand_result.session_values("d") == {}


def test_hand_table_flags(hand_result: ExtractionResult) -> None:
    assert hand_result.flags == {
        "a": [],
        "b": [],
        "c": [],
        "d": [],
        "e": [TOO_FAST],
        "f": [TOO_UNIFORM],
    }
    assert quality_flags(HAND_TRIALS) == hand_result.flags


def test_imported_rows_without_times_are_not_missed_decisions() -> None:
    rows: list[Row] = [("p", trial, INV, 10, 5, 15, 5, NO_RT) for trial in range(1, 6)]

    result = extract(_trials(rows))

    assert result.flags == {"p": []}
    assert result.session_values("p") == {"fraction_sent": 0.5}


def test_a_session_alone_gives_the_same_values_as_in_a_batch(
    hand_result: ExtractionResult,
) -> None:
    alone = extract(_trials(SESSION_F))

    pd.testing.assert_frame_equal(alone.metrics, hand_result.metrics.loc[["f"]])
    assert alone.flags == {"f": [TOO_UNIFORM]}


def test_empty_trial_table_gives_empty_result() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert result.flags == {}


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    rng = np.random.default_rng(5)
    config = GAME.make_config(3)
    streams = [
        pd.DataFrame(GAME.play(GAME.sample_latent(rng), rng, config)).assign(session=player)
        for player in range(40)
    ]
    trials = GAME.events_to_trials(pd.concat(streams, ignore_index=True))

    batch = extract(trials.sample(frac=1.0, random_state=1))

    for player in (0, 17, 39):
        alone = extract(trials[trials["session"] == player])
        pd.testing.assert_frame_equal(alone.metrics, batch.metrics.loc[[player]])
