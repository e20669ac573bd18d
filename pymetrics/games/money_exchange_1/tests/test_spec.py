"""Money exchange 1 event validators, trial-table conversions, CSV import and schedule."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.games.base import CsvValueError, EventDataError
from pymetrics.games.money_exchange_1 import GAME, spec
from pymetrics.games.money_exchange_1.bot import Latent, planned_amounts
from pymetrics.games.registry import get_game
from pymetrics.games.trial_files import TrialFileError, read_trial_file

SAMPLE = Path(__file__).parent / "data" / "sample.csv"

INVESTOR_START = {"round": 1, "role": "investor", "endowment": 10}
TRUSTEE_START = {"round": 6, "role": "trustee", "endowment": 10, "sent": 4, "received": 12}
DECISION = {"round": 1, "role": "investor", "amount": 6, "rt_ms": 3812.4}
# investor: 10 - 6 + 5 = 9
OUTCOME = {
    "round": 1,
    "role": "investor",
    "endowment": 10,
    "sent": 6,
    "received": 18,
    "returned": 5,
    "payoff": 9,
}
# trustee: 12 - 7 = 5
TRUSTEE_OUTCOME = {
    "round": 6,
    "role": "trustee",
    "endowment": 10,
    "sent": 4,
    "received": 12,
    "returned": 7,
    "payoff": 5,
}

GOOD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("round_start", INVESTOR_START),
    ("round_start", {**INVESTOR_START, "round": 10}),
    ("round_start", TRUSTEE_START),
    ("round_start", {**TRUSTEE_START, "sent": 0, "received": 0}),
    ("round_start", {**TRUSTEE_START, "sent": 10, "received": 30}),
    ("decision", DECISION),
    ("decision", {**DECISION, "amount": 0, "rt_ms": 0}),
    ("decision", {**DECISION, "amount": 10, "rt_ms": 3_600_000}),
    ("decision", {**DECISION, "role": "trustee", "amount": 30}),
    ("outcome", OUTCOME),
    ("outcome", {**OUTCOME, "sent": 0, "received": 0, "returned": 0, "payoff": 10}),
    ("outcome", {**OUTCOME, "sent": 10, "received": 30, "returned": 30, "payoff": 30}),
    ("outcome", TRUSTEE_OUTCOME),
    ("outcome", {**TRUSTEE_OUTCOME, "returned": 0, "payoff": 12}),
]


@pytest.mark.parametrize(
    ("event_type", "data"),
    [pytest.param(t, d, id=f"{t}-{json.dumps(d, sort_keys=True)}") for t, d in GOOD_EVENTS],
)
def test_validator_accepts_good_data(event_type: str, data: dict[str, Any]) -> None:
    spec.EVENT_TYPES[event_type](data)


_DROP = object()


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = {**base, **changes}
    return {key: value for key, value in data.items() if value is not _DROP}


BAD_EVENTS: list[tuple[str, str, Any, str]] = [
    # (id, event type, data, field the error must name)
    ("start-not-an-object", "round_start", [1], ""),
    ("start-missing-round", "round_start", _with(INVESTOR_START, round=_DROP), "round"),
    ("start-round-0", "round_start", _with(INVESTOR_START, round=0), "round"),
    ("start-round-11", "round_start", _with(INVESTOR_START, round=11), "round"),
    ("start-round-float", "round_start", _with(INVESTOR_START, round=1.0), "round"),
    ("start-round-bool", "round_start", _with(INVESTOR_START, round=True), "round"),
    ("start-missing-role", "round_start", _with(INVESTOR_START, role=_DROP), "role"),
    ("start-role-unknown", "round_start", _with(INVESTOR_START, role="banker"), "role"),
    ("start-role-upper", "round_start", _with(INVESTOR_START, role="Investor"), "role"),
    ("start-missing-endowment", "round_start", _with(INVESTOR_START, endowment=_DROP),
     "endowment"),
    ("start-endowment-20", "round_start", _with(INVESTOR_START, endowment=20), "endowment"),
    ("start-endowment-string", "round_start", _with(INVESTOR_START, endowment="10"),
     "endowment"),
    ("start-investor-with-sent", "round_start", _with(INVESTOR_START, sent=3), "sent"),
    ("start-unknown-key", "round_start", _with(INVESTOR_START, partner="x"), "partner"),
    ("start-trustee-missing-sent", "round_start", _with(TRUSTEE_START, sent=_DROP), "sent"),
    ("start-trustee-sent-11", "round_start", _with(TRUSTEE_START, sent=11, received=33),
     "sent"),
    ("start-trustee-sent-negative", "round_start", _with(TRUSTEE_START, sent=-1, received=-3),
     "sent"),
    ("start-trustee-missing-received", "round_start", _with(TRUSTEE_START, received=_DROP),
     "received"),
    ("start-trustee-received-not-tripled", "round_start", _with(TRUSTEE_START, received=8),
     "received"),
    ("start-trustee-received-float", "round_start", _with(TRUSTEE_START, received=12.0),
     "received"),
    ("start-trustee-unknown-key", "round_start", _with(TRUSTEE_START, returned=2), "returned"),
    ("decision-not-an-object", "decision", "6", ""),
    ("decision-missing-round", "decision", _with(DECISION, round=_DROP), "round"),
    ("decision-role-unknown", "decision", _with(DECISION, role="dictator"), "role"),
    ("decision-missing-amount", "decision", _with(DECISION, amount=_DROP), "amount"),
    ("decision-amount-negative", "decision", _with(DECISION, amount=-1), "amount"),
    ("decision-investor-amount-11", "decision", _with(DECISION, amount=11), "amount"),
    ("decision-trustee-amount-31", "decision", _with(DECISION, role="trustee", amount=31),
     "amount"),
    ("decision-amount-float", "decision", _with(DECISION, amount=2.5), "amount"),
    ("decision-amount-string", "decision", _with(DECISION, amount="6"), "amount"),
    ("decision-amount-bool", "decision", _with(DECISION, amount=True), "amount"),
    ("decision-missing-rt", "decision", _with(DECISION, rt_ms=_DROP), "rt_ms"),
    ("decision-rt-negative", "decision", _with(DECISION, rt_ms=-0.1), "rt_ms"),
    ("decision-rt-too-long", "decision", _with(DECISION, rt_ms=3_600_000.1), "rt_ms"),
    ("decision-rt-nan", "decision", _with(DECISION, rt_ms=math.nan), "rt_ms"),
    ("decision-rt-inf", "decision", _with(DECISION, rt_ms=math.inf), "rt_ms"),
    ("decision-rt-null", "decision", _with(DECISION, rt_ms=None), "rt_ms"),
    ("decision-unknown-key", "decision", _with(DECISION, sent=6), "sent"),
    ("outcome-not-an-object", "outcome", None, ""),
    ("outcome-missing-round", "outcome", _with(OUTCOME, round=_DROP), "round"),
    ("outcome-missing-role", "outcome", _with(OUTCOME, role=_DROP), "role"),
    ("outcome-endowment-9", "outcome", _with(OUTCOME, endowment=9), "endowment"),
    ("outcome-missing-sent", "outcome", _with(OUTCOME, sent=_DROP), "sent"),
    ("outcome-sent-11", "outcome", _with(OUTCOME, sent=11, received=33), "sent"),
    ("outcome-received-not-tripled", "outcome", _with(OUTCOME, received=12), "received"),
    ("outcome-missing-returned", "outcome", _with(OUTCOME, returned=_DROP), "returned"),
    ("outcome-returned-above-received", "outcome", _with(OUTCOME, returned=19), "returned"),
    ("outcome-returned-negative", "outcome", _with(OUTCOME, returned=-1), "returned"),
    ("outcome-returned-float", "outcome", _with(OUTCOME, returned=5.0), "returned"),
    ("outcome-missing-payoff", "outcome", _with(OUTCOME, payoff=_DROP), "payoff"),
    ("outcome-investor-payoff-wrong", "outcome", _with(OUTCOME, payoff=13), "payoff"),
    ("outcome-trustee-payoff-as-investor", "outcome", _with(TRUSTEE_OUTCOME, payoff=7),
     "payoff"),
    ("outcome-payoff-string", "outcome", _with(OUTCOME, payoff="9"), "payoff"),
    ("outcome-unknown-key", "outcome", _with(OUTCOME, balance=9), "balance"),
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
        GAME.validate_event("offer", {"round": 1})

    assert error.value.field == ""


def test_partner_returns_and_payoffs() -> None:
    # 18 * 33% = 5.94 -> 6; 15 * 10% = 1.5 -> 2 (half up); 3 * 16% = 0.48 -> 0
    assert spec.partner_returned(18, 33) == 6
    assert spec.partner_returned(15, 10) == 2
    assert spec.partner_returned(3, 16) == 0
    assert spec.partner_returned(30, 50) == 15
    assert spec.partner_returned(0, 50) == 0
    assert spec.payoff("investor", 10, 6, 18, 6) == 10
    assert spec.payoff("trustee", 10, 6, 18, 6) == 12


def _events(rows: list[tuple[Any, int, float, str, dict[str, Any]]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "seq", "t", "type", "data"])


def test_events_to_trials_joins_decision_times_and_ignores_other_events() -> None:
    events = _events(
        [
            ("s2", 3, 30.0, "outcome", {**TRUSTEE_OUTCOME, "round": 2}),
            ("s2", 2, 20.0, "decision", {"round": 2, "role": "trustee", "amount": 7,
                                         "rt_ms": 1500}),
            ("s1", 1, 0.0, "round_start", INVESTOR_START),
            ("s1", 2, 5.0, "visibility", {"state": "hidden"}),
            ("s1", 3, 900.5, "decision", DECISION),
            ("s1", 4, 917.2, "outcome", OUTCOME),
            ("s1", 5, 3000.0, "outcome", {**OUTCOME, "round": 2, "sent": 0, "received": 0,
                                          "returned": 0, "payoff": 10}),
        ]
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)
    records = trials.to_dict("records")
    assert records[:2] == [
        {"session": "s1", "trial": 1, "role": "investor", "endowment": 10.0, "sent": 6.0,
         "received": 18.0, "returned": 5.0, "rt_ms": 3812.4},
        {"session": "s1", "trial": 2, "role": "investor", "endowment": 10.0, "sent": 0.0,
         "received": 0.0, "returned": 0.0, "rt_ms": records[1]["rt_ms"]},
    ]  # fmt: skip
    assert math.isnan(records[1]["rt_ms"])  # no decision event for that round
    assert records[2] == {
        "session": "s2", "trial": 2, "role": "trustee", "endowment": 10.0, "sent": 4.0,
        "received": 12.0, "returned": 7.0, "rt_ms": 1500.0,
    }  # fmt: skip
    assert trials["trial"].dtype == np.int64
    assert trials["sent"].dtype == np.float64


def test_events_to_trials_keeps_the_first_outcome_and_decision_of_a_round() -> None:
    events = _events(
        [
            ("s", 4, 9.0, "outcome", {**OUTCOME, "sent": 0, "received": 0, "returned": 0,
                                      "payoff": 10}),
            ("s", 2, 7.0, "outcome", OUTCOME),
            ("s", 3, 8.0, "decision", {**DECISION, "rt_ms": 99.0}),
            ("s", 1, 6.0, "decision", DECISION),
        ]
    )  # fmt: skip

    trials = spec.events_to_trials(events)

    assert trials[["trial", "sent", "returned", "rt_ms"]].to_dict("records") == [
        {"trial": 1, "sent": 6.0, "returned": 5.0, "rt_ms": 3812.4}
    ]


def test_events_to_trials_without_outcomes_is_an_empty_table() -> None:
    trials = spec.events_to_trials(_events([("s", 1, 0.0, "round_start", INVESTOR_START)]))

    assert trials.empty
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_events_to_trials_on_a_bot_stream_matches_the_bot_decisions() -> None:
    config = spec.make_config(11)
    stream = GAME.play(Latent(trust=0.6, reciprocity=0.4), np.random.default_rng(5), config)

    trials = spec.events_to_trials(pd.DataFrame(stream).assign(session="s1"))

    amounts = planned_amounts(stream)
    assert trials["trial"].tolist() == list(range(1, 11))
    assert trials["role"].tolist() == ["investor"] * 5 + ["trustee"] * 5
    assert trials["sent"].tolist()[:5] == [float(amount) for amount in amounts[:5]]
    assert trials["returned"].tolist()[5:] == [float(amount) for amount in amounts[5:]]
    partners = config["rounds"]
    assert trials["sent"].tolist()[5:] == [float(r["partner_sent"]) for r in partners[5:]]
    assert trials["received"].tolist() == [3 * sent for sent in trials["sent"]]
    assert trials["returned"].tolist()[:5] == [
        float(spec.partner_returned(3 * amount, r["partner_return_percent"]))
        for amount, r in zip(amounts[:5], partners[:5], strict=True)
    ]
    decisions = [event["data"] for event in stream if event["type"] == "decision"]
    assert trials["rt_ms"].tolist() == [decision["rt_ms"] for decision in decisions]


Row = tuple[str, int, str, str, str, str, str]
CSV_HEADER = ("role", "endowment", "sent", "received", "returned")


def _csv(rows: list[Row], header: tuple[str, ...] = CSV_HEADER) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["session", "trial", *header])


def test_csv_to_trials_parses_and_sorts() -> None:
    table = _csv(
        [
            ("p2", 1, "trustee", "10", "4", "12", "6"),
            ("p1", 2, " Trustee ", "10", "2.5", "7.5", "7.5"),
            ("p1", 1, "INVESTOR", "20", "20", "40", "0"),
        ]
    )

    trials = spec.csv_to_trials(table)

    assert trials.drop(columns="rt_ms").to_dict("records") == [
        {"session": "p1", "trial": 1, "role": "investor", "endowment": 20.0, "sent": 20.0,
         "received": 40.0, "returned": 0.0},
        {"session": "p1", "trial": 2, "role": "trustee", "endowment": 10.0, "sent": 2.5,
         "received": 7.5, "returned": 7.5},
        {"session": "p2", "trial": 1, "role": "trustee", "endowment": 10.0, "sent": 4.0,
         "received": 12.0, "returned": 6.0},
    ]  # fmt: skip
    assert trials["rt_ms"].isna().all()
    assert list(trials.columns) == list(spec.TRIAL_COLUMNS)


def test_csv_to_trials_matches_column_names_case_insensitively() -> None:
    table = _csv(
        [("p1", 1, "investor", "10", "3", "9", "1")],
        header=("Role", "ENDOWMENT", "Sent", "Received", "returned"),
    )

    trials = spec.csv_to_trials(table)

    assert trials[["role", "sent", "returned"]].to_dict("records") == [
        {"role": "investor", "sent": 3.0, "returned": 1.0}
    ]


GOOD_ROW = ("p", 1, "investor", "10", "5", "15", "4")


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        pytest.param(("p", 2, "banker", "10", "5", "15", "4"), "role", id="role-unknown"),
        pytest.param(("p", 2, "", "10", "5", "15", "4"), "role", id="role-empty"),
        pytest.param(("p", 2, "investor", "0", "0", "0", "0"), "endowment", id="endowment-0"),
        pytest.param(("p", 2, "investor", "ten", "5", "15", "4"), "endowment",
                     id="endowment-text"),
        pytest.param(("p", 2, "investor", "10", "-1", "0", "0"), "sent", id="sent-negative"),
        pytest.param(("p", 2, "investor", "10", "", "15", "4"), "sent", id="sent-empty"),
        pytest.param(("p", 2, "investor", "10", "11", "33", "4"), "sent",
                     id="sent-above-endowment"),
        pytest.param(("p", 2, "investor", "10", "5", "inf", "4"), "received",
                     id="received-infinite"),
        pytest.param(("p", 2, "trustee", "10", "5", "15", "x"), "returned", id="returned-text"),
        pytest.param(("p", 2, "trustee", "10", "5", "15", "16"), "returned",
                     id="returned-above-received"),
        pytest.param(("p", 1, "trustee", "10", "5", "15", "4"), "trial", id="trial-repeated"),
    ],
)  # fmt: skip
def test_csv_to_trials_rejects_bad_values_naming_column_and_row(bad_row: Row, column: str) -> None:
    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(_csv([GOOD_ROW, bad_row]))

    assert (error.value.column, error.value.row_index) == (column, 1)


@pytest.mark.parametrize("missing", ["role", "endowment", "sent", "received", "returned"])
def test_csv_to_trials_requires_every_game_column(missing: str) -> None:
    table = _csv([GOOD_ROW]).drop(columns=missing)

    with pytest.raises(CsvValueError) as error:
        spec.csv_to_trials(table)

    assert (error.value.column, error.value.row_index) == (missing, None)


# The sample file (9 rows, a "note" column that is ignored, p2's rows out of order):
#   p1 investor: 5/10, 10/10, 0/10 -> fraction_sent (0.5 + 1 + 0) / 3 = 0.5
#   p1 trustee: 6/12 = 0.5, 0/6 = 0, and a round that received 0 (left out)
#     -> fraction_returned (0.5 + 0) / 2 = 0.25
#   p2 investor only: 3/10, 8/10, 5/20 -> (0.3 + 0.8 + 0.25) / 3 = 0.45;
#     no trustee round -> fraction_returned absent
def test_sample_file_imports_and_gives_hand_computed_metrics() -> None:
    trials = read_trial_file(SAMPLE, GAME)
    result = GAME.extract(trials)

    assert trials["session"].tolist() == ["p1"] * 6 + ["p2"] * 3
    assert trials.loc[trials["session"] == "p2", "trial"].tolist() == [1, 2, 3]
    assert result.session_values("p1") == pytest.approx(
        {"fraction_sent": 0.5, "fraction_returned": 0.25}, rel=1e-12
    )
    assert result.session_values("p2") == pytest.approx({"fraction_sent": 0.45}, rel=1e-12)
    assert result.flags == {"p1": [], "p2": []}


def test_bad_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "participant,trial,role,endowment,sent,received,returned\n"
        "p1,1,investor,10,5,15,4\n"
        "\n"
        "p1,2,trustee,10,5,15,4\n"
        "p1,3,trustee,10,2,6,7\n",
        encoding="utf-8",
    )

    with pytest.raises(TrialFileError) as error:
        read_trial_file(path, GAME)

    assert (error.value.line, error.value.column) == (5, "returned")


def test_file_without_a_game_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("participant,trial,role,endowment,sent,received\np1,1,investor,10,5,15\n")

    with pytest.raises(TrialFileError) as error:
        read_trial_file(path, GAME)

    assert (error.value.line, error.value.column) == (1, "returned")


def test_make_config_is_seeded_and_json_serialisable() -> None:
    config = spec.make_config(42)

    assert config == spec.make_config(42)
    assert config != spec.make_config(43)
    assert json.loads(json.dumps(config)) == config
    assert {key: config[key] for key in ("seed", "short", "endowment", "multiplier")} == {
        "seed": 42,
        "short": False,
        "endowment": 10,
        "multiplier": 3,
    }
    assert config["practice_rounds"] == [
        {"round": 1, "role": "investor", "endowment": 10, "partner_return_percent": 30},
        {"round": 2, "role": "trustee", "endowment": 10, "partner_sent": 4},
    ]


@pytest.mark.parametrize(("short", "per_role"), [(False, 5), (True, 2)])
@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 2**31 - 1])
def test_schedule_properties(seed: int, short: bool, per_role: int) -> None:
    rounds = spec.make_config(seed, short=short)["rounds"]

    assert [r["round"] for r in rounds] == list(range(1, 2 * per_role + 1))
    assert [r["role"] for r in rounds] == ["investor"] * per_role + ["trustee"] * per_role
    assert all(r["endowment"] == 10 for r in rounds)
    percents = [r["partner_return_percent"] for r in rounds[:per_role]]
    assert all(type(p) is int and 0 <= p <= 50 for p in percents)
    sent = [r["partner_sent"] for r in rounds[per_role:]]
    assert all(type(s) is int and 1 <= s <= 10 for s in sent)
    assert len(set(sent)) == per_role
    assert set(rounds[0]) == {"round", "role", "endowment", "partner_return_percent"}
    assert set(rounds[-1]) == {"round", "role", "endowment", "partner_sent"}


def test_schedules_cover_the_partner_ranges() -> None:
    configs = [spec.make_config(seed) for seed in range(200)]

    percents = {r["partner_return_percent"] for c in configs for r in c["rounds"][:5]}
    sent = {r["partner_sent"] for c in configs for r in c["rounds"][5:]}

    assert percents == set(range(51))
    assert sent == set(range(1, 11))


def test_metrics_declared_for_every_extracted_column() -> None:
    assert [metric.name for metric in spec.METRICS] == ["fraction_sent", "fraction_returned"]
    assert all(metric.description and metric.unit == "fraction" for metric in spec.METRICS)


def test_game_wires_the_spec_extractor_and_bot() -> None:
    assert (GAME.key, GAME.title, GAME.extractor_version) == (
        "money_exchange_1",
        "Money Exchange 1",
        1,
    )
    assert GAME.trial_event_types == frozenset({"outcome", "decision"})
    assert set(GAME.event_types) == {"round_start", "decision", "outcome"}
    assert [column.name for column in GAME.csv_columns] == [
        "role",
        "endowment",
        "sent",
        "received",
        "returned",
    ]
    assert GAME.recovery_targets == {
        "trust": "fraction_sent",
        "reciprocity": "fraction_returned",
    }
    assert GAME.description
    assert GAME.measured
    assert get_game("money_exchange_1") is GAME
