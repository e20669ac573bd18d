"""Money exchange 2 event validators, trial-table conversions and the seeded schedule."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.money_exchange_2 import GAME, spec
from pymetrics.games.registry import get_game

_DROP = object()


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


START = {"trial": 1, "role": "responder", "total": 10, "offer": 3}
DECISION = {"trial": 1, "role": "responder", "total": 10, "offer": 3, "accepted": True,
            "rt_ms": 1234.5}  # fmt: skip
AMOUNT = {"trial": 16, "role": "proposer", "total": 10, "offer": 4, "rt_ms": 2000}
OUTCOME = {"trial": 1, "role": "responder", "total": 10, "offer": 3, "accepted": True,
           "payoff": 3}  # fmt: skip
GIFT = {"trial": 21, "role": "dictator", "total": 10, "offer": 2, "payoff": 8}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("round_start", START),
    ("round_start", {"trial": 25, "role": "proposer", "total": 10}),
    ("round_start", {"trial": 21, "role": "dictator", "total": 100_000}),
    ("round_start", _with(START, offer=0)),
    ("round_start", _with(START, offer=10)),
    ("decision", DECISION),
    ("decision", _with(DECISION, accepted=False, rt_ms=0)),
    ("decision", _with(DECISION, rt_ms=3_600_000)),
    ("decision", AMOUNT),
    ("decision", _with(AMOUNT, role="dictator", offer=0)),
    ("decision", _with(AMOUNT, offer=10)),
    ("outcome", OUTCOME),
    ("outcome", _with(OUTCOME, accepted=False, payoff=0)),
    ("outcome", {"trial": 16, "role": "proposer", "total": 10, "offer": 4, "accepted": True,
                 "payoff": 6}),
    ("outcome", {"trial": 16, "role": "proposer", "total": 10, "offer": 1, "accepted": False,
                 "payoff": 0}),
    ("outcome", GIFT),
    ("outcome", _with(GIFT, offer=10, payoff=0)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "round_start", [1], ""),
    ("start-unknown-key", "round_start", _with(START, accepted=True), "accepted"),
    ("start-missing-trial", "round_start", _with(START, trial=_DROP), "trial"),
    ("start-trial-zero", "round_start", _with(START, trial=0), "trial"),
    ("start-trial-26", "round_start", _with(START, trial=26), "trial"),
    ("start-trial-float", "round_start", _with(START, trial=1.0), "trial"),
    ("start-missing-role", "round_start", _with(START, role=_DROP), "role"),
    ("start-role-unknown", "round_start", _with(START, role="investor"), "role"),
    ("start-role-capital", "round_start", _with(START, role="Responder"), "role"),
    ("start-role-number", "round_start", _with(START, role=1), "role"),
    ("start-missing-total", "round_start", _with(START, total=_DROP), "total"),
    ("start-total-zero", "round_start", _with(START, total=0), "total"),
    ("start-total-huge", "round_start", _with(START, total=100_001), "total"),
    ("start-total-string", "round_start", _with(START, total="10"), "total"),
    ("start-total-bool", "round_start", _with(START, total=True), "total"),
    ("start-responder-no-offer", "round_start", _with(START, offer=_DROP), "offer"),
    ("start-offer-negative", "round_start", _with(START, offer=-1), "offer"),
    ("start-offer-above-total", "round_start", _with(START, offer=11), "offer"),
    ("start-offer-float", "round_start", _with(START, offer=3.5), "offer"),
    ("start-proposer-offer", "round_start", _with(START, role="proposer"), "offer"),
    ("start-dictator-offer", "round_start", _with(START, role="dictator"), "offer"),
    ("decision-not-an-object", "decision", "accept", ""),
    ("decision-unknown-key", "decision", _with(DECISION, payoff=3), "payoff"),
    ("decision-missing-offer", "decision", _with(DECISION, offer=_DROP), "offer"),
    ("decision-offer-above-total", "decision", _with(AMOUNT, offer=11), "offer"),
    ("decision-offer-negative", "decision", _with(AMOUNT, offer=-2), "offer"),
    ("decision-offer-string", "decision", _with(AMOUNT, offer="4"), "offer"),
    ("decision-offer-null", "decision", _with(AMOUNT, offer=None), "offer"),
    ("decision-missing-accepted", "decision", _with(DECISION, accepted=_DROP), "accepted"),
    ("decision-accepted-int", "decision", _with(DECISION, accepted=1), "accepted"),
    ("decision-accepted-string", "decision", _with(DECISION, accepted="yes"), "accepted"),
    ("decision-proposer-accepted", "decision", _with(AMOUNT, accepted=True), "accepted"),
    ("decision-dictator-accepted", "decision", _with(AMOUNT, role="dictator", accepted=True),
     "accepted"),
    ("decision-missing-rt", "decision", _with(DECISION, rt_ms=_DROP), "rt_ms"),
    ("decision-rt-negative", "decision", _with(DECISION, rt_ms=-0.1), "rt_ms"),
    ("decision-rt-too-long", "decision", _with(DECISION, rt_ms=3_600_000.1), "rt_ms"),
    ("decision-rt-nan", "decision", _with(DECISION, rt_ms=math.nan), "rt_ms"),
    ("decision-rt-inf", "decision", _with(DECISION, rt_ms=math.inf), "rt_ms"),
    ("decision-rt-string", "decision", _with(DECISION, rt_ms="900"), "rt_ms"),
    ("decision-rt-bool", "decision", _with(DECISION, rt_ms=False), "rt_ms"),
    ("decision-trial-26", "decision", _with(DECISION, trial=26), "trial"),
    ("decision-role-missing", "decision", _with(DECISION, role=_DROP), "role"),
    ("decision-total-negative", "decision", _with(DECISION, total=-10), "total"),
    ("outcome-not-an-object", "outcome", None, ""),
    ("outcome-unknown-key", "outcome", _with(OUTCOME, rt_ms=10.0), "rt_ms"),
    ("outcome-missing-offer", "outcome", _with(OUTCOME, offer=_DROP), "offer"),
    ("outcome-offer-above-total", "outcome", _with(OUTCOME, offer=12, payoff=12), "offer"),
    ("outcome-responder-no-accepted", "outcome", _with(OUTCOME, accepted=_DROP), "accepted"),
    ("outcome-proposer-no-accepted", "outcome",
     {"trial": 16, "role": "proposer", "total": 10, "offer": 4, "payoff": 6}, "accepted"),
    ("outcome-accepted-int", "outcome", _with(OUTCOME, accepted=0), "accepted"),
    ("outcome-dictator-accepted", "outcome", _with(GIFT, accepted=True), "accepted"),
    ("outcome-missing-payoff", "outcome", _with(OUTCOME, payoff=_DROP), "payoff"),
    ("outcome-payoff-float", "outcome", _with(OUTCOME, payoff=3.0), "payoff"),
    ("outcome-payoff-negative", "outcome", _with(OUTCOME, payoff=-3), "payoff"),
    ("outcome-responder-payoff-kept-share", "outcome", _with(OUTCOME, payoff=7), "payoff"),
    ("outcome-rejected-payoff", "outcome", _with(OUTCOME, accepted=False), "payoff"),
    ("outcome-proposer-payoff-offer", "outcome",
     {"trial": 16, "role": "proposer", "total": 10, "offer": 4, "accepted": True,
      "payoff": 4}, "payoff"),
    ("outcome-proposer-rejected-payoff", "outcome",
     {"trial": 16, "role": "proposer", "total": 10, "offer": 4, "accepted": False,
      "payoff": 6}, "payoff"),
    ("outcome-dictator-payoff-gift", "outcome", _with(GIFT, payoff=2), "payoff"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("event_type", "data", "field"),
    [pytest.param(t, d, f, id=case_id) for case_id, t, d, f in BAD_EVENTS],
)
def test_validator_rejects_bad_data_naming_the_field(
    event_type: str, data: Any, field: str
) -> None:
    with pytest.raises(EventDataError) as error:
        spec.EVENT_TYPES[event_type](data)

    assert error.value.field == field


def test_game_validates_common_events_and_refuses_unknown_types() -> None:
    GAME.validate_event("visibility", {"state": "hidden"})
    GAME.validate_event("focus", {"state": "blur"})

    with pytest.raises(EventDataError) as error:
        GAME.validate_event("offer", {"trial": 1})

    assert error.value.field == ""


def _events(rows: list[tuple[str, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def test_events_to_trials_builds_one_row_per_outcome_with_the_decision_time() -> None:
    events = _events(
        [
            ("s2", 3, 30.0, "outcome", {"trial": 2, "role": "dictator", "total": 10,
                                        "offer": 4, "payoff": 6}),
            ("s2", 2, 20.0, "decision", {"trial": 2, "role": "dictator", "total": 10,
                                         "offer": 4, "rt_ms": 2100.5}),
            ("s2", 1, 10.0, "round_start", {"trial": 2, "role": "dictator", "total": 10}),
            ("s1", 1, 0.0, "round_start", {"trial": 1, "role": "responder", "total": 10,
                                           "offer": 2}),
            ("s1", 2, 900.0, "decision", {"trial": 1, "role": "responder", "total": 10,
                                          "offer": 2, "accepted": False, "rt_ms": 900.0}),
            ("s1", 3, 917.0, "outcome", {"trial": 1, "role": "responder", "total": 10,
                                         "offer": 2, "accepted": False, "payoff": 0}),
            ("s1", 4, 950.0, "visibility", {"state": "hidden"}),
            ("s1", 5, 6000.0, "decision", {"trial": 2, "role": "proposer", "total": 10,
                                           "offer": 3, "rt_ms": 1500}),
            ("s1", 6, 6800.0, "outcome", {"trial": 2, "role": "proposer", "total": 10,
                                          "offer": 3, "accepted": True, "payoff": 7}),
        ]
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    records = trials.to_dict("records")
    assert math.isnan(records[2].pop("accepted"))
    assert records == [
        {"session": "s1", "trial": 1, "role": "responder", "total": 10.0, "offer": 2.0,
         "accepted": 0.0, "rt_ms": 900.0},
        {"session": "s1", "trial": 2, "role": "proposer", "total": 10.0, "offer": 3.0,
         "accepted": 1.0, "rt_ms": 1500.0},
        {"session": "s2", "trial": 2, "role": "dictator", "total": 10.0, "offer": 4.0,
         "rt_ms": 2100.5},
    ]  # fmt: skip
    assert trials["trial"].dtype == np.int64
    assert trials["accepted"].dtype == np.float64


def test_events_to_trials_keeps_the_first_round_a_reload_replays() -> None:
    first = {"trial": 1, "role": "responder", "total": 10, "offer": 1}
    events = _events(
        [
            ("s", 4, 50.0, "decision", {**first, "accepted": True, "rt_ms": 400.0}),
            ("s", 5, 51.0, "outcome", {**first, "accepted": True, "payoff": 1}),
            ("s", 1, 0.0, "decision", {**first, "accepted": False, "rt_ms": 700.0}),
            ("s", 2, 1.0, "outcome", {**first, "accepted": False, "payoff": 0}),
        ]
    )

    trials = spec.events_to_trials(events)

    assert trials[["trial", "accepted", "rt_ms"]].to_dict("records") == [
        {"trial": 1, "accepted": 0.0, "rt_ms": 700.0}
    ]


def test_an_outcome_without_its_decision_has_no_response_time() -> None:
    events = _events(
        [("s", 1, 0.0, "outcome", {"trial": 21, "role": "dictator", "total": 10, "offer": 5,
                                   "payoff": 5})]
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert trials["offer"].tolist() == [5.0]
    assert trials["rt_ms"].isna().tolist() == [True]


def test_events_to_trials_without_outcomes_is_an_empty_table() -> None:
    events = _events([("s", 1, 0.0, "round_start", {"trial": 1, "role": "proposer",
                                                    "total": 10})])  # fmt: skip

    trials = spec.events_to_trials(events)

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


Cells = tuple[str, int, str, str, str, str]


def _csv(
    rows: list[Cells],
    header: tuple[str, str, str, str] = ("role", "total", "offer", "accepted"),
) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, " Dictator ", "20", "5", ""),
            ("p1", 2, "PROPOSER", "10", "4", ""),
            ("p1", 1, "responder", "10", "2.5", "0"),
            ("p1", 3, "proposer", "10", "0", "1"),
        ]
    )

    trials = spec.csv_to_trials(table)

    records = trials.drop(columns="rt_ms").to_dict("records")
    assert math.isnan(records[1].pop("accepted"))
    assert math.isnan(records[3].pop("accepted"))
    assert records == [
        {"session": "p1", "trial": 1, "role": "responder", "total": 10.0, "offer": 2.5,
         "accepted": 0.0},
        {"session": "p1", "trial": 2, "role": "proposer", "total": 10.0, "offer": 4.0},
        {"session": "p1", "trial": 3, "role": "proposer", "total": 10.0, "offer": 0.0,
         "accepted": 1.0},
        {"session": "p2", "trial": 1, "role": "dictator", "total": 20.0, "offer": 5.0},
    ]  # fmt: skip
    assert trials["rt_ms"].isna().all()
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv([("p", 1, "responder", "10", "5", "1")], header=("Role", "TOTAL", "Offer",
                                                                   "Accepted"))  # fmt: skip

    trials = spec.csv_to_trials(table)

    assert trials.drop(columns="rt_ms").to_dict("records") == [
        {"session": "p", "trial": 1, "role": "responder", "total": 10.0, "offer": 5.0,
         "accepted": 1.0}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "column", "row_index"),
    [
        pytest.param([("p", 1, "responder", "10", "5", "1"), ("p", 2, "investor", "10", "5", "1")],
                     "role", 1, id="role-unknown"),
        pytest.param([("p", 1, "", "10", "5", "1")], "role", 0, id="role-empty"),
        pytest.param([("p", 1, "dictator", "0", "0", "")], "total", 0, id="total-zero"),
        pytest.param([("p", 1, "dictator", "-10", "0", "")], "total", 0, id="total-negative"),
        pytest.param([("p", 1, "dictator", "ten", "0", "")], "total", 0, id="total-text"),
        pytest.param([("p", 1, "dictator", "inf", "0", "")], "total", 0, id="total-infinite"),
        pytest.param([("p", 1, "dictator", "", "0", "")], "total", 0, id="total-empty"),
        pytest.param([("p", 1, "proposer", "10", "-1", "")], "offer", 0, id="offer-negative"),
        pytest.param([("p", 1, "proposer", "10", "", "")], "offer", 0, id="offer-empty"),
        pytest.param([("p", 1, "proposer", "10", "half", "")], "offer", 0, id="offer-text"),
        pytest.param([("p", 1, "proposer", "10", "5", ""), ("p", 2, "proposer", "10", "11", "")],
                     "offer", 1, id="offer-above-total"),
        pytest.param([("p", 1, "responder", "10", "5", "yes")], "accepted", 0,
                     id="accepted-yes"),
        pytest.param([("p", 1, "responder", "10", "5", "2")], "accepted", 0, id="accepted-2"),
        pytest.param([("p", 1, "responder", "10", "5", "1"), ("p", 2, "responder", "10", "5", "")],
                     "accepted", 1, id="responder-without-answer"),
        pytest.param([("p", 1, "dictator", "10", "5", "1")], "accepted", 0,
                     id="dictator-with-answer"),
        pytest.param([("p", 1, "dictator", "10", "5", ""), ("p", 1, "dictator", "10", "4", "")],
                     "trial", 1, id="trial-repeated"),
    ],
)  # fmt: skip
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(
    rows: list[Cells], column: str, row_index: int
) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv(rows))

    assert (error.value.column, error.value.row_index) == (column, row_index)


def test_csv_to_trials_requires_every_game_column() -> None:
    table = pd.DataFrame(
        {"session": ["p"], "trial": [1], "role": ["dictator"], "total": ["10"], "offer": ["2"]}
    )

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == ("accepted", None)


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config["rounds"] != spec.make_config(43)["rounds"]
    assert json.loads(json.dumps(config)) == config
    assert (config["seed"], config["short"]) == (42, False)
    assert (config["feedback_ms"], config["partner_ms"]) == (1500, 800)
    rounds = config["rounds"]
    assert [item["trial"] for item in rounds] == list(range(1, 26))
    assert [item["role"] for item in rounds] == ["responder"] * 15 + ["proposer"] * 5 + [
        "dictator"
    ] * 5
    assert all(item["total"] == 10 for item in rounds)
    # Every offer of $1..$5 three times; $1 and $2 are the six unfair ones.
    offers = [item["offer"] for item in rounds[:15]]
    assert Counter(offers) == {1: 3, 2: 3, 3: 3, 4: 3, 5: 3}
    assert sum(offer / 10 < spec.UNFAIR_BELOW for offer in offers) == 6
    assert all(set(item) == {"trial", "role", "total", "offer"} for item in rounds[:15])
    assert all(1 <= item["partner_min_offer"] <= 4 for item in rounds[15:20])
    assert all(set(item) == {"trial", "role", "total"} for item in rounds[20:])
    assert [item["role"] for item in config["practice"]] == ["responder", "proposer", "dictator"]
    assert all(item["total"] == 6 for item in config["practice"])


def test_the_seed_shuffles_the_offers_and_draws_the_partners() -> None:
    orders = {tuple(item["offer"] for item in spec.make_config(seed)["rounds"][:15])
              for seed in range(20)}  # fmt: skip
    minimums = Counter(
        item["partner_min_offer"]
        for seed in range(200)
        for item in spec.make_config(seed)["rounds"][15:20]
    )

    assert len(orders) == 20
    assert set(minimums) == {1, 2, 3, 4}
    assert min(minimums.values()) > 200  # 1000 draws, about 250 each


def test_the_short_schedule_has_every_kind_of_round() -> None:
    config = spec.make_config(7, short=True)

    rounds = config["rounds"]
    assert config["short"] is True
    assert [item["trial"] for item in rounds] == list(range(1, 10))
    assert [item["role"] for item in rounds] == ["responder"] * 5 + ["proposer"] * 2 + [
        "dictator"
    ] * 2
    assert sorted(item["offer"] for item in rounds[:5]) == [1, 2, 3, 4, 5]
    assert spec.make_config(7, short=True) == config


@pytest.mark.parametrize(
    ("role", "offer", "accepted", "expected"),
    [
        ("responder", 3, True, 3),
        ("responder", 3, False, 0),
        ("proposer", 3, True, 7),
        ("proposer", 3, False, 0),
        ("dictator", 3, True, 7),
    ],
)
def test_payoff(role: str, offer: int, accepted: bool, expected: int) -> None:
    assert spec.payoff(role, 10, offer, accepted) == expected


def test_partner_accepts_offers_at_least_its_minimum() -> None:
    item = {"trial": 16, "role": "proposer", "total": 10, "partner_min_offer": 3}

    assert [spec.partner_accepts(item, offer) for offer in range(6)] == [
        False,
        False,
        False,
        True,
        True,
        True,
    ]


def test_metrics_declared_in_the_contract_order() -> None:
    assert [metric.name for metric in spec.METRICS] == [
        "acceptance_rate",
        "unfair_acceptance_rate",
        "min_accepted_offer",
        "offer_fraction",
        "dictator_fraction",
    ]
    assert all(metric.description and metric.unit for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == (
        "money_exchange_2",
        "Money Exchange 2",
        1,
    )
    assert GAME.trial_event_types == frozenset({"outcome", "decision"})
    assert set(GAME.event_types) == {"round_start", "decision", "outcome"}
    assert [column.name for column in GAME.csv_columns] == ["role", "total", "offer", "accepted"]
    assert GAME.recovery_targets == {
        "fairness_threshold": "min_accepted_offer",
        "generosity": "dictator_fraction",
    }
    assert GAME.description
    assert GAME.measured
    assert GAME.make_config(5, short=True) == spec.make_config(5, short=True)
    assert get_game("money_exchange_2") is GAME
