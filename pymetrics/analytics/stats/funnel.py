"""How candidates move through an assessment: invited -> started -> completed, game by game.

Pure numpy; the selectors count rows in the database and hand the counts here, so
the arithmetic of the funnel is tested on plain numbers.

A battery is played in order, so a candidate who started and has not finished
every game *left off* at the first game of the battery they have not finished:
that is where the drop-off is counted. Someone still playing is counted there
too (their game is not finished yet); the live panel tells the two apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FunnelStage:
    """One stage of the funnel and its share of the stage before and of the first."""

    stage: str
    count: int
    #: count / the previous stage's count (None for the first stage or an empty one)
    of_previous: float | None
    #: count / the first stage's count (None when nobody is in the first stage)
    of_first: float | None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def funnel_stages(stages: Sequence[tuple[str, int]]) -> list[FunnelStage]:
    """Each stage with its conversion from the previous stage and from the first one."""
    result: list[FunnelStage] = []
    first = stages[0][1] if stages else 0
    previous: int | None = None
    for name, count in stages:
        result.append(
            FunnelStage(
                stage=name,
                count=int(count),
                of_previous=None if previous is None else _share(int(count), previous),
                of_first=_share(int(count), first),
            )
        )
        previous = int(count)
    return result


@dataclass(frozen=True)
class GameDropoff:
    """One game of the battery (by its index) as the candidates who started went through it."""

    index: int
    #: started candidates who finished every game before this one: they got this far in order
    reached: int
    #: started candidates who finished this game
    finished: int
    #: started candidates whose first unfinished game is this one: where they left off
    stopped_here: int
    #: stopped_here / reached (None when nobody reached it)
    stop_rate: float | None


def game_dropoff(
    *, started: int, finished: Sequence[int], first_unfinished: Sequence[int]
) -> list[GameDropoff]:
    """Per game (battery order): reached, finished, left off here, and the stop rate.

    ``started`` counts the candidates who started; ``finished[i]`` those of them who
    finished game ``i``; ``first_unfinished`` holds, for each started candidate who
    has not finished every game, the index of the first game they have not finished.
    Those who stopped before game ``i`` did not reach it:
    ``reached[i] = started - sum(stopped_here[:i])``.
    """
    games = len(finished)
    positions = np.asarray(first_unfinished, dtype=np.int64)
    if positions.size and (positions.min() < 0 or positions.max() >= games):
        raise ValueError("first_unfinished holds an index outside the battery")
    stopped = np.bincount(positions, minlength=games) if games else np.zeros(0, dtype=np.int64)
    stopped_before = np.concatenate(([0], np.cumsum(stopped)[:-1])) if games else stopped
    reached = started - stopped_before
    return [
        GameDropoff(
            index=index,
            reached=int(reached[index]),
            finished=int(finished[index]),
            stopped_here=int(stopped[index]),
            stop_rate=_share(int(stopped[index]), int(reached[index])),
        )
        for index in range(games)
    ]
