"""The trait map (SCIENCE.md section 2): which metrics make up which trait, and with what sign.

A trait map is versioned data, not code: version 1 lives in
``data/trait_map_v1.json`` and every trait score records the version it was computed
with, so a later map (other metrics, weights or reliabilities) never silently changes
the meaning of a stored score. :meth:`TraitMap.from_dict` is strict - unknown keys,
a sign other than +1/-1, a reliability outside (0, 1), duplicate traits or metrics -
because a typo in a map would otherwise show up only as a trait that is never scored.

Metric keys are ``"<game>.<metric>"`` (e.g. ``"digits.forward_span"``), the same keys
the metric tables and norm tables use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: Where the shipped trait maps live: next to this module, found from the source tree
#: and from an installed package alike.
DATA_DIR = Path(__file__).resolve().parent / "data"

_MAP_KEYS = frozenset({"version", "traits", "notes"})
_TRAIT_KEYS = frozenset({"name", "poles", "metrics", "default_reliability"})
_METRIC_KEYS = frozenset({"game", "metric", "sign"})


class TraitMapError(ValueError):
    """A trait map is malformed; the message names the offending entry."""


@dataclass(frozen=True)
class TraitMetric:
    """One metric of a trait; ``sign`` -1 means the metric falls as the trait rises."""

    game: str
    metric: str
    sign: int

    @property
    def key(self) -> str:
        """The metric's key in metric and norm tables, ``"game.metric"``."""
        return f"{self.game}.{self.metric}"


@dataclass(frozen=True)
class Trait:
    """A bi-directional trait: the first pole is where high scores lie, neither is better."""

    name: str
    poles: tuple[str, str]
    metrics: tuple[TraitMetric, ...]
    #: Reliability r used for the score interval when no split-half estimate exists.
    default_reliability: float


@dataclass(frozen=True)
class TraitMap:
    """A versioned set of traits, in display order."""

    version: int
    traits: tuple[Trait, ...]

    def metric_keys(self) -> list[str]:
        """Every metric key the map uses, once each, in first-seen order."""
        keys = (metric.key for trait in self.traits for metric in trait.metrics)
        return list(dict.fromkeys(keys))

    def trait(self, name: str) -> Trait:
        """The trait called ``name``; KeyError if the map has none."""
        for trait in self.traits:
            if trait.name == name:
                return trait
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, the same shape as the shipped files (without ``notes``)."""
        return {
            "version": self.version,
            "traits": [
                {
                    "name": trait.name,
                    "poles": list(trait.poles),
                    "metrics": [
                        {"game": m.game, "metric": m.metric, "sign": m.sign} for m in trait.metrics
                    ],
                    "default_reliability": trait.default_reliability,
                }
                for trait in self.traits
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TraitMap:
        """Validate and build a map; TraitMapError names the first problem found.

        A top-level ``notes`` string is allowed (the shipped files document their
        choices in it) and dropped.
        """
        if not isinstance(data, Mapping):
            raise TraitMapError(f"a trait map must be an object, got {type(data).__name__}")
        _reject_unknown(data, _MAP_KEYS, "trait map")
        _require(data, ("version", "traits"), "trait map")
        version = data["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TraitMapError(f"version must be a positive integer, got {version!r}")
        notes = data.get("notes", "")
        if not isinstance(notes, str):
            raise TraitMapError("notes must be a string")
        raw_traits = data["traits"]
        if not isinstance(raw_traits, list) or not raw_traits:
            raise TraitMapError("traits must be a non-empty list")
        traits = tuple(_trait(raw, f"traits[{i}]") for i, raw in enumerate(raw_traits))
        seen: set[str] = set()
        for trait in traits:
            if trait.name in seen:
                raise TraitMapError(f"duplicate trait {trait.name!r}")
            seen.add(trait.name)
        return cls(version=version, traits=traits)


def load_trait_map(version: int = 1) -> TraitMap:
    """The shipped trait map ``version``; TraitMapError for a version that does not exist."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise TraitMapError(f"a trait map version is an integer, got {version!r}")
    return _load(version)


def shipped_trait_map_versions() -> list[int]:
    """The versions shipped as data files, ascending (at least version 1)."""
    versions = []
    for path in DATA_DIR.glob("trait_map_v*.json"):
        number = path.stem.removeprefix("trait_map_v")
        if number.isdigit():
            versions.append(int(number))
    return sorted(versions)


@cache
def _load(version: int) -> TraitMap:
    # Cached: the map is immutable and read on every scoring call.
    path = DATA_DIR / f"trait_map_v{version}.json"
    if not path.is_file():
        raise TraitMapError(f"no trait map version {version}")
    trait_map = TraitMap.from_dict(json.loads(path.read_text(encoding="utf-8")))
    if trait_map.version != version:
        raise TraitMapError(f"{path.name} holds version {trait_map.version}, not {version}")
    return trait_map


def _trait(raw: Any, where: str) -> Trait:
    if not isinstance(raw, Mapping):
        raise TraitMapError(f"{where} must be an object")
    _reject_unknown(raw, _TRAIT_KEYS, where)
    _require(raw, ("name", "poles", "metrics", "default_reliability"), where)
    name = _name(raw["name"], f"{where}.name")
    # "__" is reserved: raw-score tables name count columns "<trait>__present".
    if "__" in name:
        raise TraitMapError(f"{where}.name must not contain '__', got {name!r}")
    where = f"trait {name!r}"
    poles = raw["poles"]
    if (
        not isinstance(poles, list | tuple)
        or len(poles) != 2
        or not all(isinstance(p, str) and p.strip() for p in poles)
    ):
        raise TraitMapError(f"{where}: poles must be two non-empty strings, got {poles!r}")
    if poles[0] == poles[1]:
        raise TraitMapError(f"{where}: the two poles must differ, got {poles[0]!r} twice")
    raw_metrics = raw["metrics"]
    if not isinstance(raw_metrics, list) or not raw_metrics:
        raise TraitMapError(f"{where}: metrics must be a non-empty list")
    metrics = tuple(_metric(m, f"{where}: metrics[{i}]") for i, m in enumerate(raw_metrics))
    keys = [m.key for m in metrics]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise TraitMapError(f"{where}: duplicate metric {duplicates[0]!r}")
    reliability = raw["default_reliability"]
    if (
        isinstance(reliability, bool)
        or not isinstance(reliability, int | float)
        or not math.isfinite(reliability)
        or not 0 < reliability < 1
    ):
        raise TraitMapError(
            f"{where}: default_reliability must be a number in (0, 1), got {reliability!r}"
        )
    return Trait(
        name=name,
        poles=(poles[0], poles[1]),
        metrics=metrics,
        default_reliability=float(reliability),
    )


def _metric(raw: Any, where: str) -> TraitMetric:
    if not isinstance(raw, Mapping):
        raise TraitMapError(f"{where} must be an object")
    _reject_unknown(raw, _METRIC_KEYS, where)
    _require(raw, ("game", "metric", "sign"), where)
    game = _name(raw["game"], f"{where}.game")
    metric = _name(raw["metric"], f"{where}.metric")
    # "." separates game from metric in keys, so neither part may contain one.
    for label, value in (("game", game), ("metric", metric)):
        if "." in value:
            raise TraitMapError(f"{where}.{label} must not contain '.', got {value!r}")
    sign = raw["sign"]
    if isinstance(sign, bool) or sign not in (1, -1) or not isinstance(sign, int):
        raise TraitMapError(f"{where}.sign must be 1 or -1, got {sign!r}")
    return TraitMetric(game=game, metric=metric, sign=sign)


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise TraitMapError(f"{where} must be a non-empty string without outer spaces")
    return value


def _reject_unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise TraitMapError(f"{where}: unknown key {unknown[0]!r}")


def _require(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    for key in keys:
        if key not in data:
            raise TraitMapError(f"{where}: missing key {key!r}")
