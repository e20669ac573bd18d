"""The tower game as the catalogue shows it: its title and the texts around the game."""

from __future__ import annotations

import re

from pymetrics.games.tower import GAME, spec

#: Words that would grade the candidate; what a game measured is described, not judged.
JUDGING_WORDS = frozenset(
    {"good", "better", "best", "bad", "worse", "worst", "high", "low", "ability", "score"}
)


def test_title_is_the_spec_title() -> None:
    assert GAME.title == spec.TITLE == "Tower"


def test_description_and_measured_are_set() -> None:
    assert "pegs" in GAME.description
    assert GAME.measured.startswith("This game looked at ")
    assert GAME.measured.endswith(".")


def test_measured_is_short_and_neutral() -> None:
    words = set(re.findall(r"[a-z]+", GAME.measured.lower()))

    assert not words & JUDGING_WORDS
    assert len(GAME.measured) <= 160
