"""Money exchange 2 metrics checked against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.money_exchange_2 import GAME
from pymetrics.games.money_exchange_2.metrics import METRIC_NAMES, extract, quality_flags
from pymetrics.games.quality import ONE_OPTION_ONLY, TOO_FAST, TOO_UNIFORM
from pymetrics.games.trial_files import TrialFileError, read_trial_file

NA = math.nan  # no answer (dictator rounds) or no response time (imported rows)
SAMPLE = Path(__file__).parent / "data" / "sample.csv"

Row = tuple[str, int, str, float, float, float, float]


def _trials(rows: list[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["session", "trial", "role", "total", "offer", "accepted", "rt_ms"]
    )


# Session "a", every role (rows given out of order on purpose):
#   trial  role       total offer accepted  rt
#     1    responder   10     1      0     1500   unfair
#     2    responder   10     2      1     1200   unfair
#     3    responder   10     5      1      900
#     4    responder   10     3      0     1100   3/10 = 0.3 is not < 0.3
#     5    proposer    10     4      1     2500
#     6    proposer    10     3      0     2700
#     7    dictator    10     2      -     3000
#     8    dictator    10     5      -     2000
#   acceptance_rate = 2 accepted / 4 responder rounds = 0.5
#   unfair_acceptance_rate = 1 (offer 2) / 2 unfair offers = 0.5
#   min_accepted_offer = min(2/10, 5/10) = 0.2
#   offer_fraction = (4/10 + 3/10) / 2 = 0.35
#   dictator_fraction = (2/10 + 5/10) / 2 = 0.35
#   flags: none (both answers given, times vary, none under 150 ms)
SESSION_A: list[Row] = [
    ("a", 5, "proposer", 10, 4, 1, 2500.0),
    ("a", 1, "responder", 10, 1, 0, 1500.0),
    ("a", 8, "dictator", 10, 5, NA, 2000.0),
    ("a", 3, "responder", 10, 5, 1, 900.0),
    ("a", 2, "responder", 10, 2, 1, 1200.0),
    ("a", 7, "dictator", 10, 2, NA, 3000.0),
    ("a", 4, "responder", 10, 3, 0, 1100.0),
    ("a", 6, "proposer", 10, 3, 0, 2700.0),
]

# Session "b", no responder rounds, other totals:
#   proposer 5 of 10 (accepted); dictator 0 of 20 and 10 of 20
#   acceptance_rate, unfair_acceptance_rate, min_accepted_offer absent (no responder rounds)
#   offer_fraction = 5/10 = 0.5; dictator_fraction = (0 + 10/20) / 2 = 0.25
#   flags: none (one_option_only needs responder rounds)
SESSION_B: list[Row] = [
    ("b", 1, "proposer", 10, 5, 1, 2000.0),
    ("b", 2, "dictator", 20, 0, NA, 2600.0),
    ("b", 3, "dictator", 20, 10, NA, 3100.0),
]

# Session "c", responder only, every offer rejected, two answers under 150 ms:
#   offers 1/10, 5/10, 3/10, all rejected
#   acceptance_rate = 0/3 = 0; unfair_acceptance_rate = 0/1 (only 1/10 is unfair) = 0
#   min_accepted_offer absent (nothing accepted); offer_fraction, dictator_fraction absent
#   flags: one_option_only (one answer throughout), too_fast (2 of 3 < 150 ms)
SESSION_C: list[Row] = [
    ("c", 1, "responder", 10, 1, 0, 100.0),
    ("c", 2, "responder", 10, 5, 0, 120.0),
    ("c", 3, "responder", 10, 3, 0, 900.0),
]

# Session "d", responder only, every offer accepted, times almost identical:
#   offers 3/10, 4/10, 6/20 (= 0.3), all accepted; none is under 30%
#   acceptance_rate = 1; unfair_acceptance_rate absent (no unfair offer)
#   min_accepted_offer = min(0.3, 0.4, 0.3) = 0.3
#   flags: one_option_only, too_uniform (rt 1000, 1000, 1001: CV = 0.577/1000.33 < 0.02)
SESSION_D: list[Row] = [
    ("d", 1, "responder", 10, 3, 1, 1000.0),
    ("d", 2, "responder", 10, 4, 1, 1000.0),
    ("d", 3, "responder", 20, 6, 1, 1001.0),
]

HAND_TRIALS = _trials(SESSION_D + SESSION_B + SESSION_A + SESSION_C)

HAND_EXPECTED: dict[str, dict[str, float]] = {
    "a": {
        "acceptance_rate": 0.5,
        "unfair_acceptance_rate": 0.5,
        "min_accepted_offer": 0.2,
        "offer_fraction": 0.35,
        "dictator_fraction": 0.35,
    },
    "b": {
        "acceptance_rate": NA,
        "unfair_acceptance_rate": NA,
        "min_accepted_offer": NA,
        "offer_fraction": 0.5,
        "dictator_fraction": 0.25,
    },
    "c": {
        "acceptance_rate": 0.0,
        "unfair_acceptance_rate": 0.0,
        "min_accepted_offer": NA,
        "offer_fraction": NA,
        "dictator_fraction": NA,
    },
    "d": {
        "acceptance_rate": 1.0,
        "unfair_acceptance_rate": NA,
        "min_accepted_offer": 0.3,
        "offer_fraction": NA,
        "dictator_fraction": NA,
    },
}


@pytest.mark.parametrize(
    ("session", "metric"),
    [
        pytest.param(session, metric, id=f"{session}-{metric}")
        for session in HAND_EXPECTED
        for metric in METRIC_NAMES
    ],
)
def test_hand_computed_metrics(session: str, metric: str) -> None:
    value = extract(HAND_TRIALS).session_values(session).get(metric, math.nan)

    expected = HAND_EXPECTED[session][metric]
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12)


def test_absent_metrics_are_left_out_of_stored_values() -> None:
    result = extract(HAND_TRIALS)

    assert result.session_values("b") == {"offer_fraction": 0.5, "dictator_fraction": 0.25}
    assert result.session_values("c") == {"acceptance_rate": 0.0, "unfair_acceptance_rate": 0.0}


def test_metrics_frame_has_every_metric_in_order() -> None:
    result = extract(HAND_TRIALS)

    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert result.metrics.index.tolist() == ["a", "b", "c", "d"]
    assert all(dtype == np.float64 for dtype in result.metrics.dtypes)


def test_hand_table_flags() -> None:
    assert quality_flags(HAND_TRIALS) == {
        "a": [],
        "b": [],
        "c": [ONE_OPTION_ONLY, TOO_FAST],
        "d": [ONE_OPTION_ONLY, TOO_UNIFORM],
    }


def test_a_session_alone_gives_the_same_values_as_in_a_batch() -> None:
    batch = extract(HAND_TRIALS)

    for session in HAND_EXPECTED:
        alone = extract(HAND_TRIALS[HAND_TRIALS["session"] == session])
        assert alone.session_values(session) == batch.session_values(session)


def test_an_offer_of_exactly_thirty_percent_is_not_unfair_whatever_the_total() -> None:
    # 0.3 * 10 is 3.0000000000000004 in binary floating point; the share 3/10 is 0.3.
    # Offers 3/10, 6/20, 2.1/7 (all exactly 30%) accepted, 0.29/1 rejected:
    #   only 0.29/1 is unfair -> unfair_acceptance_rate = 0/1 = 0
    trials = _trials(
        [
            ("s", 1, "responder", 10, 3, 1, NA),
            ("s", 2, "responder", 20, 6, 1, NA),
            ("s", 3, "responder", 7, 2.1, 1, NA),
            ("s", 4, "responder", 1, 0.29, 0, NA),
        ]
    )

    values = extract(trials).session_values("s")

    assert values["unfair_acceptance_rate"] == 0.0
    assert values["acceptance_rate"] == 0.75
    assert values["min_accepted_offer"] == pytest.approx(0.3, rel=1e-12)


def test_proposer_verdicts_do_not_count_as_responder_answers() -> None:
    # The partner accepted both proposals; the candidate rejected the one offer received.
    trials = _trials(
        [
            ("s", 1, "responder", 10, 1, 0, 800.0),
            ("s", 2, "proposer", 10, 1, 1, 1900.0),
            ("s", 3, "proposer", 10, 2, 1, 2100.0),
        ]
    )

    values = extract(trials).session_values("s")

    assert values == {
        "acceptance_rate": 0.0,
        "unfair_acceptance_rate": 0.0,
        "offer_fraction": pytest.approx(0.15, rel=1e-12),
    }


def test_empty_trial_table_gives_no_sessions() -> None:
    result = extract(_trials([]))

    assert result.metrics.empty
    assert list(result.metrics.columns) == list(METRIC_NAMES)
    assert result.flags == {}


def test_sample_file_metrics() -> None:
    """tests/data/sample.csv, worked out by hand.

    p1: responder 1/10 rejected, 5/10, 2/10, 3/10 accepted
        -> acceptance 3/4, unfair (1/10, 2/10) 1/2, smallest accepted 2/10;
        proposer 4/10, 2/10 -> 0.3; dictator 3/10, 0/10 -> 0.15.
    p2: responder 4/20 (unfair) and 10/20, both accepted -> acceptance 1, unfair 1,
        smallest accepted 0.2; dictator 5/20 = 0.25; no proposer rounds.
    """
    trials = read_trial_file(SAMPLE, GAME)

    result = GAME.extract(trials)

    assert trials["rt_ms"].isna().all()
    assert result.session_values("p1") == pytest.approx(
        {
            "acceptance_rate": 0.75,
            "unfair_acceptance_rate": 0.5,
            "min_accepted_offer": 0.2,
            "offer_fraction": 0.3,
            "dictator_fraction": 0.15,
        },
        rel=1e-12,
    )
    assert result.session_values("p2") == pytest.approx(
        {
            "acceptance_rate": 1.0,
            "unfair_acceptance_rate": 1.0,
            "min_accepted_offer": 0.2,
            "dictator_fraction": 0.25,
        },
        rel=1e-12,
    )
    assert dict(result.flags) == {"p1": [], "p2": [ONE_OPTION_ONLY]}


def test_a_bad_sample_row_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "participant,trial,role,total,offer,accepted\np1,1,responder,10,2,1\np1,2,dictator,10,12,\n"
    )

    with pytest.raises(TrialFileError) as raised:
        read_trial_file(path, GAME)

    assert (raised.value.line, raised.value.column) == (3, "offer")


def test_a_large_batch_gives_every_session_the_metrics_it_gets_alone() -> None:
    """Vectorised over sessions: a big batch keeps every session apart."""
    rng = np.random.default_rng(7)
    n_sessions, n_rounds = 2_000, 25
    roles = np.array(["responder"] * 15 + ["proposer"] * 5 + ["dictator"] * 5, dtype=object)
    size = n_sessions * n_rounds
    role = np.tile(roles, n_sessions)
    accepted = np.where(role == "dictator", np.nan, rng.integers(0, 2, size).astype(float))
    trials = pd.DataFrame(
        {
            "session": np.repeat([f"s{i}" for i in range(n_sessions)], n_rounds),
            "trial": np.tile(np.arange(1, n_rounds + 1), n_sessions),
            "role": role,
            "total": 10.0,
            "offer": rng.integers(0, 11, size).astype(float),
            "accepted": accepted,
            "rt_ms": rng.uniform(300, 3000, size),
        }
    ).sample(frac=1.0, random_state=1)

    batch = extract(trials)

    for session in ("s0", "s977", "s1999"):
        alone = extract(trials[trials["session"] == session])
        assert alone.session_values(session) == pytest.approx(
            batch.session_values(session), rel=1e-12
        )
    rows = trials[trials["session"] == "s977"]
    responder = rows[rows["role"] == "responder"]
    assert batch.metrics.loc["s977", "acceptance_rate"] == pytest.approx(
        responder["accepted"].mean(), rel=1e-12
    )
    assert batch.metrics.loc["s977", "dictator_fraction"] == pytest.approx(
        (rows.loc[rows["role"] == "dictator", "offer"] / 10).mean(), rel=1e-12
    )
