"""The faces game as the catalogue shows it, and the stability of its stored schedule."""

from __future__ import annotations

import hashlib
import json
import re

from pymetrics.games.faces import GAME, spec

#: Words that would grade the candidate; what a game measured is described, not judged.
JUDGING_WORDS = frozenset(
    {"good", "better", "best", "bad", "worse", "worst", "high", "low", "ability", "score"}
)


def test_title_is_the_spec_title() -> None:
    assert GAME.title == spec.TITLE


def test_description_and_measured_are_set() -> None:
    assert GAME.description.strip()
    assert GAME.measured.startswith("This game looked at ")
    assert GAME.measured.endswith(".")


def test_measured_is_short_and_neutral() -> None:
    words = set(re.findall(r"[a-z]+", GAME.measured.lower()))

    assert not words & JUDGING_WORDS
    assert len(GAME.measured) <= 160


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = spec.make_config(42)

    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    assert digest == "7a2d46a9b60b30e81ed356b3927d6d4c9e0ef20475e48d794a3ee28313135573"
