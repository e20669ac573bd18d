"""The Tower of London board as states, moves and a breadth-first-search solver.

Three pegs hold at most 3, 2 and 1 balls (Shallice 1982); three balls, red (R),
green (G) and blue (B), sit on them. A *layout* is written as text, one group of
ball letters per peg from the bottom up, pegs left to right separated by ``|``:
``"GR|B|"`` is green under red on peg 1, blue on peg 2 and peg 3 empty. The same
text is what the browser sends and what the schedule stores, so a layout is read
the same way everywhere.

The whole board has 36 layouts, so :func:`distances_to` (a breadth-first search
from the goal over reversed moves, which are moves too: every move can be undone
by one move) answers every "fewest moves from here" question of a problem at once.
The schedule, the event validators, the tests and the bot all take their minimum
move counts from here, never from hand-typed numbers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import permutations

#: How many balls each peg holds, left to right.
CAPACITIES: tuple[int, ...] = (3, 2, 1)
#: The balls: red, green, blue.
BALLS: tuple[str, ...] = ("R", "G", "B")
N_PEGS = len(CAPACITIES)

#: Pegs bottom-to-top, left to right: ``(("G", "R"), ("B",), ())``.
Layout = tuple[tuple[str, ...], ...]
#: A move of the top ball: ``(from_peg, to_peg)``, pegs numbered 0..2.
Move = tuple[int, int]


class LayoutError(ValueError):
    """A text is not a layout of this board."""


def parse_layout(text: str) -> Layout:
    """The layout written as ``text`` (see the module docstring), or LayoutError."""
    if not isinstance(text, str):
        raise LayoutError(f"must be a string, got {type(text).__name__}")
    pegs = text.split("|")
    if len(pegs) != N_PEGS:
        raise LayoutError(f"must have {N_PEGS} pegs separated by '|', got {text!r}")
    for index, (peg, capacity) in enumerate(zip(pegs, CAPACITIES, strict=True), start=1):
        if len(peg) > capacity:
            raise LayoutError(f"peg {index} holds at most {capacity} balls, got {peg!r}")
    letters = "".join(pegs)
    if sorted(letters) != sorted(BALLS):
        raise LayoutError(f"must hold the balls {', '.join(BALLS)} once each, got {text!r}")
    return tuple(tuple(peg) for peg in pegs)


def format_layout(layout: Layout) -> str:
    """The text of a layout, the inverse of :func:`parse_layout`."""
    return "|".join("".join(peg) for peg in layout)


def legal_moves(layout: Layout) -> Iterator[Move]:
    """Every move of a top ball to another peg with room, in (from, to) order."""
    for source in range(N_PEGS):
        if not layout[source]:
            continue
        for target in range(N_PEGS):
            if target != source and len(layout[target]) < CAPACITIES[target]:
                yield source, target


def apply_move(layout: Layout, move: Move) -> Layout:
    """The layout after ``move``; ValueError if the move is not legal here."""
    source, target = move
    if not (0 <= source < N_PEGS and 0 <= target < N_PEGS) or source == target:
        raise ValueError(f"no such move {move!r}")
    if not layout[source]:
        raise ValueError(f"peg {source + 1} is empty")
    if len(layout[target]) >= CAPACITIES[target]:
        raise ValueError(f"peg {target + 1} is full")
    pegs = [list(peg) for peg in layout]
    pegs[target].append(pegs[source].pop())
    return tuple(tuple(peg) for peg in pegs)


@cache
def all_layouts() -> tuple[Layout, ...]:
    """Every layout of the board (36), in a fixed order."""
    layouts: list[Layout] = []
    for order in permutations(BALLS):
        # Cut the ordered balls into three pegs of allowed heights.
        for first in range(CAPACITIES[0] + 1):
            for second in range(CAPACITIES[1] + 1):
                third = len(BALLS) - first - second
                if 0 <= third <= CAPACITIES[2]:
                    layout = (
                        tuple(order[:first]),
                        tuple(order[first : first + second]),
                        tuple(order[first + second :]),
                    )
                    if layout not in layouts:
                        layouts.append(layout)
    return tuple(layouts)


@cache
def distances_to(goal: Layout) -> Mapping[Layout, int]:
    """Fewest moves from every layout to ``goal``, by breadth-first search."""
    distance: dict[Layout, int] = {goal: 0}
    frontier: deque[Layout] = deque([goal])
    while frontier:
        layout = frontier.popleft()
        for move in legal_moves(layout):
            # Moves are reversible, so searching out from the goal finds the
            # distances *to* it.
            neighbour = apply_move(layout, move)
            if neighbour not in distance:
                distance[neighbour] = distance[layout] + 1
                frontier.append(neighbour)
    return distance


def min_moves(start: Layout, goal: Layout) -> int:
    """The fewest moves that turn ``start`` into ``goal``."""
    return distances_to(goal)[start]


def optimal_moves(layout: Layout, goal: Layout) -> list[Move]:
    """The moves from ``layout`` that bring it one move closer to ``goal``."""
    distance = distances_to(goal)
    here = distance[layout]
    return [move for move in legal_moves(layout) if distance[apply_move(layout, move)] == here - 1]
