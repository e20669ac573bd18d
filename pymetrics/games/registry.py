"""Registry of the games in the catalogue, looked up by key.

Adding a game means adding its folder and one line to ``_GAME_MODULES``; every
other part of the platform (ingestion, extraction, import, export, simulation)
finds it here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from pymetrics.games.base import Game

_GAME_MODULES: tuple[str, ...] = (
    "pymetrics.games.balloons",
    "pymetrics.games.cards",
    "pymetrics.games.stop",
    "pymetrics.games.arrows",
    "pymetrics.games.digits",
    "pymetrics.games.keypresses",
    "pymetrics.games.easy_or_hard",
    "pymetrics.games.lengths",
    "pymetrics.games.tower",
    "pymetrics.games.faces",
    "pymetrics.games.money_exchange_1",
    "pymetrics.games.money_exchange_2",
)


class UnknownGameError(KeyError):
    """No game with that key is in the catalogue."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown game {self.key!r}; known games: {', '.join(game_keys())}"


@cache
def _games() -> dict[str, Game]:
    games: dict[str, Game] = {}
    for module_name in _GAME_MODULES:
        game: Game = import_module(module_name).GAME
        games[game.key] = game
    return games


def get_game(key: str) -> Game:
    """The game with this key, or UnknownGameError."""
    try:
        return _games()[key]
    except KeyError:
        raise UnknownGameError(key) from None


def all_games() -> list[Game]:
    """Every game in catalogue order."""
    return list(_games().values())


def game_keys() -> list[str]:
    return list(_games())
