"""The trait map: version 1 is SCIENCE.md section 2's table, and malformed maps are refused."""

from __future__ import annotations

import copy
import importlib
import importlib.util
import json
from typing import Any

import pytest

from pymetrics.psychometrics.trait_map import (
    DATA_DIR,
    Trait,
    TraitMap,
    TraitMapError,
    TraitMetric,
    load_trait_map,
)

# SCIENCE.md section 2, "Trait map version 1", row by row:
# (trait, (pole 1, pole 2), [(game, metric, sign), ...])
SCIENCE_TABLE: list[tuple[str, tuple[str, str], list[tuple[str, str, int]]]] = [
    (
        "attention",
        ("focused", "broad"),
        [("digits", "forward_span", 1), ("arrows", "congruency_effect_rt_ms", -1)],
    ),
    (
        "decision_making",
        ("deliberate", "instinctive"),
        [
            ("tower", "planning_time_ms", 1),
            ("tower", "excess_moves", -1),
            ("arrows", "rt_mean_ms", 1),
        ],
    ),
    (
        "effort",
        ("persistent", "economical"),
        [("easy_or_hard", "hard_choice_rate", 1), ("keypresses", "taps_per_s", 1)],
    ),
    (
        "emotion",
        ("face-reading", "context-reading"),
        [("faces", "accuracy", 1), ("faces", "rt_correct_mean_ms", -1)],
    ),
    (
        "fairness",
        ("fairness-driven", "pragmatic"),
        [
            ("money_exchange_2", "unfair_acceptance_rate", -1),
            ("money_exchange_2", "offer_fraction", 1),
        ],
    ),
    (
        "focus",
        ("controlled", "spontaneous"),
        [("stop", "ssrt_ms", -1), ("keypresses", "iti_cv", -1), ("arrows", "accuracy", 1)],
    ),
    (
        "generosity",
        ("giving", "self-focused"),
        [
            ("money_exchange_1", "fraction_sent", 1),
            ("money_exchange_1", "fraction_returned", 1),
            ("money_exchange_2", "dictator_fraction", 1),
        ],
    ),
    (
        "learning",
        ("feedback-led", "exploratory"),
        [("cards", "learning_slope", 1), ("lengths", "response_bias", 1)],
    ),
    (
        "risk_tolerance",
        ("risk-seeking", "cautious"),
        [("balloons", "adjusted_pumps", 1), ("easy_or_hard", "hard_choice_rate_p12", 1)],
    ),
]

EXPECTED_V1 = TraitMap(
    version=1,
    traits=tuple(
        Trait(
            name=name,
            poles=poles,
            metrics=tuple(TraitMetric(game, metric, sign) for game, metric, sign in metrics),
            default_reliability=0.7,
        )
        for name, poles, metrics in SCIENCE_TABLE
    ),
)


def test_version_1_is_the_science_table_exactly() -> None:
    assert load_trait_map(1) == EXPECTED_V1
    assert load_trait_map() == EXPECTED_V1
    assert [trait.name for trait in load_trait_map(1).traits] == [row[0] for row in SCIENCE_TABLE]


def test_version_1_file_documents_its_default_reliability() -> None:
    data = json.loads((DATA_DIR / "trait_map_v1.json").read_text(encoding="utf-8"))
    assert set(data) == {"version", "notes", "traits"}
    assert "0.70" in data["notes"]
    assert all(trait["default_reliability"] == 0.7 for trait in data["traits"])
    # The file is the map's to_dict plus its notes: nothing else hides in it.
    del data["notes"]
    assert data == EXPECTED_V1.to_dict()


def test_metric_keys_are_unique_and_in_first_seen_order() -> None:
    assert load_trait_map(1).metric_keys() == [
        "digits.forward_span",
        "arrows.congruency_effect_rt_ms",
        "tower.planning_time_ms",
        "tower.excess_moves",
        "arrows.rt_mean_ms",
        "easy_or_hard.hard_choice_rate",
        "keypresses.taps_per_s",
        "faces.accuracy",
        "faces.rt_correct_mean_ms",
        "money_exchange_2.unfair_acceptance_rate",
        "money_exchange_2.offer_fraction",
        "stop.ssrt_ms",
        "keypresses.iti_cv",
        "arrows.accuracy",
        "money_exchange_1.fraction_sent",
        "money_exchange_1.fraction_returned",
        "money_exchange_2.dictator_fraction",
        "cards.learning_slope",
        "lengths.response_bias",
        "balloons.adjusted_pumps",
        "easy_or_hard.hard_choice_rate_p12",
    ]
    shared = TraitMap.from_dict(
        {
            "version": 1,
            "traits": [
                _trait("a", [("g", "x", 1), ("g", "y", -1)]),
                _trait("b", [("g", "y", 1), ("h", "z", 1)]),
            ],
        }
    )
    assert shared.metric_keys() == ["g.x", "g.y", "h.z"]


def test_every_metric_of_an_existing_game_is_one_its_extractor_produces() -> None:
    # Games not built yet (tower, faces, lengths, money_exchange_*) are skipped: their
    # metrics are simply absent until they exist.
    checked = 0
    for key in load_trait_map(1).metric_keys():
        game, metric = key.split(".")
        module = f"pymetrics.games.{game}.spec"
        if importlib.util.find_spec(f"pymetrics.games.{game}") is None:
            continue
        names = {m.name for m in importlib.import_module(module).METRICS}
        assert metric in names, key
        checked += 1
    assert checked >= 11  # the seven games that exist today cover 11 of the 21 keys


def test_trait_lookup_and_metric_key() -> None:
    focus = load_trait_map(1).trait("focus")
    assert focus.poles == ("controlled", "spontaneous")
    assert [m.key for m in focus.metrics] == [
        "stop.ssrt_ms",
        "keypresses.iti_cv",
        "arrows.accuracy",
    ]
    assert TraitMetric("stop", "ssrt_ms", -1).key == "stop.ssrt_ms"
    with pytest.raises(KeyError):
        load_trait_map(1).trait("charisma")


def test_to_dict_round_trips_through_json() -> None:
    trait_map = load_trait_map(1)
    assert TraitMap.from_dict(json.loads(json.dumps(trait_map.to_dict()))) == trait_map


def test_unknown_version_is_an_error() -> None:
    with pytest.raises(TraitMapError, match="no trait map version 99"):
        load_trait_map(99)
    with pytest.raises(TraitMapError):
        load_trait_map(True)
    assert issubclass(TraitMapError, ValueError)


def _trait(
    name: str, metrics: list[tuple[str, str, int]], reliability: float = 0.7
) -> dict[str, Any]:
    return {
        "name": name,
        "poles": ["high", "low"],
        "metrics": [{"game": g, "metric": m, "sign": s} for g, m, s in metrics],
        "default_reliability": reliability,
    }


VALID: dict[str, Any] = {
    "version": 2,
    "notes": "two traits",
    "traits": [_trait("a", [("g", "x", 1), ("g", "y", -1)]), _trait("b", [("h", "z", 1)], 0.5)],
}


def _broken(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """VALID with the entry at ``path`` set to ``value`` (or deleted for ``...``)."""
    data = copy.deepcopy(VALID)
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_a_valid_map_builds() -> None:
    trait_map = TraitMap.from_dict(VALID)
    assert trait_map.version == 2
    assert trait_map.trait("b") == Trait("b", ("high", "low"), (TraitMetric("h", "z", 1),), 0.5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_broken(("colour",), "blue"), "unknown key 'colour'"),
        (_broken(("version",), ...), "missing key 'version'"),
        (_broken(("version",), 0), "version must be a positive integer"),
        (_broken(("version",), "1"), "version must be a positive integer"),
        (_broken(("traits",), []), "traits must be a non-empty list"),
        (_broken(("traits", 0, "weight"), 1), r"traits\[0\]: unknown key 'weight'"),
        (_broken(("traits", 0, "poles"), ["one"]), "poles must be two non-empty strings"),
        (_broken(("traits", 0, "poles"), ["same", "same"]), "poles must differ"),
        (_broken(("traits", 0, "metrics"), []), "trait 'a': metrics must be a non-empty list"),
        (_broken(("traits", 0, "name"), ""), r"traits\[0\]\.name must be a non-empty string"),
        (_broken(("traits", 0, "name"), "a__b"), "must not contain '__'"),
        (_broken(("traits", 1, "name"), "a"), "duplicate trait 'a'"),
        (_broken(("traits", 0, "metrics", 0, "sign"), 0), r"sign must be 1 or -1, got 0"),
        (_broken(("traits", 0, "metrics", 0, "sign"), 2), r"sign must be 1 or -1, got 2"),
        (_broken(("traits", 0, "metrics", 0, "sign"), True), "sign must be 1 or -1, got True"),
        (_broken(("traits", 0, "metrics", 0, "sign"), 1.0), "sign must be 1 or -1, got 1.0"),
        (_broken(("traits", 0, "metrics", 0, "weight"), 2), "unknown key 'weight'"),
        (_broken(("traits", 0, "metrics", 0, "game"), ...), "missing key 'game'"),
        (_broken(("traits", 0, "metrics", 0, "metric"), "a.b"), "must not contain '.'"),
        (_broken(("traits", 0, "metrics", 1, "metric"), "x"), "duplicate metric 'g.x'"),
        (_broken(("traits", 0, "default_reliability"), 0), r"in \(0, 1\), got 0"),
        (_broken(("traits", 0, "default_reliability"), 1), r"in \(0, 1\), got 1"),
        (_broken(("traits", 0, "default_reliability"), 1.2), r"in \(0, 1\), got 1.2"),
        (_broken(("traits", 0, "default_reliability"), -0.1), r"in \(0, 1\), got -0.1"),
        (_broken(("traits", 0, "default_reliability"), "0.7"), r"in \(0, 1\), got '0.7'"),
        (_broken(("traits", 0, "default_reliability"), float("nan")), r"in \(0, 1\)"),
    ],
)
def test_malformed_maps_are_refused_with_the_problem_named(data: Any, message: str) -> None:
    with pytest.raises(TraitMapError, match=message):
        TraitMap.from_dict(data)
