"""A simulated tower player: a depth-limited planner with known traits.

Before each move the bot searches every sequence of up to ``k`` moves from the board
(a breadth-first search limited to ``k`` plies; its first move never simply undoes
its own last move).
If one of them reaches the goal it takes the first move of the shortest such
sequence, which is an optimal move; otherwise it takes the first move of the
sequence whose end puts the most balls in their goal places (peg and height), ties
broken at random. That greedy fallback walks into the Tower of London's classic
traps (a ball placed early that must move again), so the further it looks ahead,
the fewer moves it wastes. ``k`` is drawn for each problem as
``floor(planning_depth + U(0, 1))``, so a depth of 2.3 plans 3 moves ahead on 30% of
the problems: the trait is continuous.

Impulsivity acts twice: the first pick-up comes sooner (the latency to the first
move shrinks as ``exp(-1.8 * impulsivity)``), and with probability
``0.2 * impulsivity`` the first move of a problem is made looking one move ahead
only, before any plan.

The bot also uses the game's controls: after a move that took it further from the
goal it sometimes notices and presses Undo (``undo_rate``), never making that move
from that board again in the problem; when it is lost (``2 * min_moves + 2`` moves
made and further from the goal than at the start) it presses Reset, once per
problem. Both are recorded exactly as the page
records them, and the moves they take back stay counted.

Recovery (:data:`RECOVERY_TARGETS`): ``planning_depth`` -> ``perfect_solutions``
(Shallice's own score: problems solved in the fewest moves; ``excess_moves`` falls
with it too, a little less closely), ``impulsivity`` -> ``planning_time_ms``
(falling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.tower.solver import (
    Layout,
    Move,
    apply_move,
    distances_to,
    format_layout,
    legal_moves,
    parse_layout,
)
from pymetrics.games.tower.spec import (
    END_MOVE_LIMIT,
    END_SOLVED,
    END_TIME_LIMIT,
    MOVE,
    RESET,
    UNDO,
)

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "planning_depth": "perfect_solutions",
    "impulsivity": "-planning_time_ms",
}

#: The next problem's frame comes this long after the feedback pause ends.
FRAME_MS = 16.7
#: From picking a ball up to putting it down (pointer or keys), median ms.
DROP_MS = 350.0
#: Nobody picks up a ball sooner than this after a problem appears.
MIN_FIRST_MOVE_MS = 250.0
#: Nor acts on the board again sooner than this.
MIN_ACTION_MS = 120.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``planning_depth`` (>= 0.5; moves searched ahead, see the module docstring);
    ``impulsivity`` (0..1) shortens the time before the first move and sometimes
    makes that move unplanned. The first move's latency is log-normal with median
    ``think_ms * (1 + 0.3 * moves planned) * exp(-1.8 * impulsivity)``; later moves
    take a log-normal ``move_ms`` each (median), all with log-SD ``rt_log_sd``.
    ``undo_rate`` is the chance of undoing a move that went the wrong way.
    """

    planning_depth: float
    impulsivity: float
    think_ms: float = 3000.0
    move_ms: float = 900.0
    rt_log_sd: float = 0.35
    undo_rate: float = 0.3


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    Planning depth uniform on 1..5 moves (adults solve most 4-move problems without
    excess moves, children and patients with frontal lesions plan 1-2 moves ahead;
    Shallice 1982, Krikorian et al. 1994), impulsivity uniform on 0..1, a base
    latency to the first move of 2-4.5 s and 0.6-1.4 s per later move (first-move
    latencies of adults on 2-5 move problems run 2-12 s; Owen et al. 1990).
    """
    return Latent(
        planning_depth=float(rng.uniform(1.0, 5.0)),
        impulsivity=float(rng.uniform(0.0, 1.0)),
        think_ms=float(rng.uniform(2000.0, 4500.0)),
        move_ms=float(rng.uniform(600.0, 1400.0)),
        rt_log_sd=float(rng.uniform(0.25, 0.45)),
        undo_rate=float(rng.uniform(0.0, 0.5)),
    )


def _placed(layout: Layout, goal: Layout) -> int:
    """Balls on the same peg at the same height as in the goal."""
    return sum(
        1
        for peg, goal_peg in zip(layout, goal, strict=True)
        for height, ball in enumerate(peg)
        if height < len(goal_peg) and goal_peg[height] == ball
    )


def _choose_move(
    layout: Layout,
    goal: Layout,
    depth: int,
    last: Move | None,
    banned: set[tuple[Layout, Move]],
    visits: Mapping[Layout, int],
    rng: np.random.Generator,
) -> Move:
    """The first move of the best sequence of up to ``depth`` moves (module docstring)."""
    reverse = (last[1], last[0]) if last is not None else None
    first_moves = [
        move for move in legal_moves(layout) if move != reverse and (layout, move) not in banned
    ] or list(legal_moves(layout))
    # Breadth-first over sequences, one ply at a time; a board reached again through
    # the same first move adds nothing, so each ply holds at most 36 x 4 entries.
    frontier = {(apply_move(layout, move), move) for move in first_moves}
    best_score = -math.inf
    best: list[Move] = []
    # A first move back to a board already seen in this problem goes round in a
    # circle: each earlier visit costs as much as a ball out of place, so a player
    # who is stuck tries something new rather than looping.
    revisit = {move: visits.get(apply_move(layout, move), 0) for move in first_moves}
    for ply in range(1, max(1, depth) + 1):
        reached = sorted(first for board, first in frontier if board == goal)
        if reached:
            return reached[int(rng.integers(len(reached)))]
        for board, first in sorted(frontier):
            score = _placed(board, goal) - revisit[first]
            if score > best_score:
                best_score, best = score, [first]
            elif score == best_score and first not in best:
                best.append(first)
        if ply < depth:
            frontier = {
                (apply_move(board, move), first)
                for board, first in frontier
                for move in legal_moves(board)
            }
    return best[int(rng.integers(len(best)))]


def _lognormal(rng: np.random.Generator, median: float, log_sd: float) -> float:
    return float(median * math.exp(rng.normal(0.0, log_sd)))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    For each problem: ``problem_start`` on its frame, one ``move`` event per move,
    undo or reset (at the moment the ball is put down, or the button pressed), then
    ``problem_end`` with the same time as the solving move, or at the move or time
    limit. ``t`` is in milliseconds since the game started, rounded to 0.1 ms.
    """
    move_limit = int(config["move_limit"])
    time_limit = float(config["time_limit_ms"])
    feedback = float(config["feedback_ms"])
    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(at: float, event_type: str, data: dict[str, Any]) -> None:
        events.append({"seq": len(events) + 1, "t": round(at, 1), "type": event_type, "data": data})

    for index, problem in enumerate(config["problems"]):
        number = int(problem["problem"])
        fewest = int(problem["min_moves"])
        start = parse_layout(problem["start"])
        goal = parse_layout(problem["goal"])
        distance = distances_to(goal)
        if index > 0:
            clock += feedback + FRAME_MS
        onset = round(clock, 1)
        deadline = onset + time_limit
        emit(onset, "problem_start", {"problem": number, **problem_fields(problem)})

        depth = math.floor(latent.planning_depth + rng.random())
        impulsive = rng.random() < 0.2 * latent.impulsivity
        planned = min(depth, fewest)
        first_latency = max(
            MIN_FIRST_MOVE_MS,
            _lognormal(
                rng,
                latent.think_ms * (1.0 + 0.3 * planned) * math.exp(-1.8 * latent.impulsivity),
                latent.rt_log_sd,
            ),
        )

        layout = start
        history: list[tuple[Layout, Move]] = []
        banned: set[tuple[Layout, Move]] = set()
        visits: dict[Layout, int] = {start: 1}
        moves = 0
        reset_done = False
        first_move: float | None = None
        now = onset
        end = END_TIME_LIMIT
        while True:
            lost = moves >= 2 * fewest + 2 and distance[layout] > fewest
            if lost and not reset_done:
                action_at = now + max(MIN_ACTION_MS, _lognormal(rng, latent.move_ms, 0.3))
                if action_at > deadline:
                    break
                now = action_at
                reset_done = True
                layout, history = start, []
                emit(now, "move", _move_data(number, RESET, None, moves, layout))
                continue
            last = history[-1][1] if history else None
            look_ahead = 1 if impulsive and moves == 0 else depth
            move = _choose_move(layout, goal, look_ahead, last, banned, visits, rng)
            think = (
                first_latency
                if first_move is None
                else max(MIN_ACTION_MS, _lognormal(rng, latent.move_ms, latent.rt_log_sd))
            )
            pick_at = now + think
            if pick_at > deadline:
                break
            if first_move is None:
                first_move = pick_at - onset
            drop_at = pick_at + max(MIN_ACTION_MS, _lognormal(rng, DROP_MS, 0.3))
            if drop_at > deadline:
                break
            now = drop_at
            before = layout
            layout = apply_move(layout, move)
            history.append((before, move))
            visits[layout] = visits.get(layout, 0) + 1
            moves += 1
            emit(now, "move", _move_data(number, MOVE, move, moves, layout))
            if layout == goal:
                end = END_SOLVED
                break
            if moves >= move_limit:
                end = END_MOVE_LIMIT
                break
            if distance[layout] > distance[before] and rng.random() < latent.undo_rate:
                undo_at = now + max(MIN_ACTION_MS, _lognormal(rng, latent.move_ms, 0.3))
                if undo_at > deadline:
                    break
                now = undo_at
                history.pop()
                banned.add((before, move))
                layout = before
                emit(now, "move", _move_data(number, UNDO, (move[1], move[0]), moves, layout))
        end_at = now if end != END_TIME_LIMIT else deadline
        emit(
            end_at,
            "problem_end",
            {
                "problem": number,
                "min_moves": fewest,
                "moves": moves,
                "first_move_ms": None if first_move is None else round(first_move, 1),
                "total_ms": round(round(end_at, 1) - onset, 1),
                "solved": end == END_SOLVED,
                "end": end,
            },
        )
        clock = end_at
    return events


def problem_fields(problem: Mapping[str, Any]) -> dict[str, Any]:
    """The ``problem_start`` fields of a scheduled problem, besides its number."""
    return {"min_moves": problem["min_moves"], "start": problem["start"], "goal": problem["goal"]}


def _move_data(
    problem: int, kind: str, move: Move | None, moves: int, layout: Layout
) -> dict[str, Any]:
    data: dict[str, Any] = {"problem": problem, "kind": kind}
    if move is not None:
        data["from"], data["to"] = move[0] + 1, move[1] + 1
    data["moves"] = moves
    data["layout"] = format_layout(layout)
    return data


def planned_actions(stream: Sequence[Mapping[str, Any]]) -> dict[int, list[tuple[Any, ...]]]:
    """Each problem's actions in order, as the browser test plays them.

    ``("move", from, to)`` with pegs 1..3, ``("undo",)`` or ``("reset",)``.
    """
    actions: dict[int, list[tuple[Any, ...]]] = {}
    for event in stream:
        data = event["data"]
        if event["type"] == "problem_start":
            actions[int(data["problem"])] = []
        elif event["type"] == "move":
            kind = data["kind"]
            step = (MOVE, data["from"], data["to"]) if kind == MOVE else (kind,)
            actions[int(data["problem"])].append(step)
    return actions
