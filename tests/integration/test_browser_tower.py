"""A candidate's browser plays tower (Tower of London) through the real page.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
To keep the test short, the session's config is replaced by the short schedule of a
fixed seed (``make_config(2024, short=True)``: one problem each of 2, 3, 4 and 5
minimum moves) after the game page has opened, and the page is reloaded. The
candidate reads the instructions, solves the 2 practice problems in the fewest moves
(from the solver), presses Start, then makes exactly the moves, undos and the reset a
simulated player (the tower bot, with a seed chosen so that its plan uses both Undo
and Reset) made on the same problems, with the keys 1-3, clicks on the pegs and the
Undo and Reset buttons in turn. The board follows the rules alone, so the same
actions give the same layouts, move counts and outcomes: the stored metrics must be
the plan's, apart from the times, which are the browser's own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.tower import GAME
from pymetrics.games.tower.bot import Latent, planned_actions
from pymetrics.games.tower.solver import apply_move, optimal_moves, parse_layout
from pymetrics.games.tower.spec import make_config
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 2024
#: The bot and its seed: on the short schedule of SEED its plan solves all four
#: problems, with three undos (one on problem 2, two on problem 3) and a reset on
#: problem 3.
PLAYER = Latent(planning_depth=1.5, impulsivity=0.5, undo_rate=0.8, think_ms=1000, move_ms=400)
PLAYER_SEED = 78
#: How long the candidate looks at each problem before the first pick-up (ms).
THINK_MS = (900, 600, 1200, 700)


def _wait_for_play(page: Any, problem: int, timeout: float = 15_000) -> None:
    page.wait_for_selector(
        f"[data-testid=tower-game][data-state=play][data-problem='{problem}']", timeout=timeout
    )


def _move(page: Any, source: int, target: int, *, by_keys: bool) -> None:
    """Pick up the top ball of peg ``source`` and put it on peg ``target`` (1-based)."""
    if by_keys:
        page.keyboard.press(str(source))
    else:
        page.click(f"[data-testid=tower-peg-{source}]")
    page.wait_for_selector("[data-testid=tower-game][data-state=holding]")
    if by_keys:
        page.keyboard.press(str(target))
    else:
        page.click(f"[data-testid=tower-peg-{target}]")


def _solve_in_fewest_moves(page: Any, start: str, goal: str) -> None:
    layout, target = parse_layout(start), parse_layout(goal)
    while layout != target:
        source, to = optimal_moves(layout, target)[0]
        _move(page, source + 1, to + 1, by_keys=True)
        layout = apply_move(layout, (source, to))


def test_candidate_plays_tower_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "tower", accommodations={"colour_safe": True})
    page = run.page
    missing: list[str] = []
    page.on(
        "response",
        lambda response: missing.append(response.url) if response.status == 404 else None,
    )
    page.wait_for_selector("#jspsych-instructions-next")
    # Let the first load settle before reloading, so no request of it is cut off.
    page.wait_for_load_state("networkidle")
    assert run.console_errors == []
    game_session = run.game_session()
    config = make_config(SEED, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    # Instructions: three pages; the limits are stated.
    assert "There are 4 problems" in page.inner_text(".game-instructions")
    page.click("#jspsych-instructions-next")
    assert "20 moves or 90 seconds" in page.inner_text(".game-instructions")
    for _ in range(2):
        page.click("#jspsych-instructions-next")

    # Practice: two unrecorded problems, solved in the fewest moves, then Continue.
    classes = page.get_attribute("[data-testid=tower-game]", "class") or ""
    assert {"tol--colour-safe", "tol--practice"} <= set(classes.split())
    for number, problem in enumerate(config["practice"], start=1):
        _wait_for_play(page, number)
        assert page.inner_text("[data-testid=tower-counter]") == f"Practice problem {number} of 2"
        _solve_in_fewest_moves(page, problem["start"], problem["goal"])
    page.wait_for_selector("[data-testid=tower-continue]:not([hidden])")
    assert "Solved in 2 moves (fewest possible: 2)." in page.inner_text(
        "[data-testid=tower-status]"
    )
    page.click("[data-testid=tower-continue]")
    page.click("[data-testid=game-ready]")

    plan_stream = GAME.play(PLAYER, np.random.default_rng(PLAYER_SEED), config)
    plan = planned_actions(plan_stream)
    kinds = [step[0] for steps in plan.values() for step in steps]
    assert kinds.count("undo") == 3
    assert kinds.count("reset") == 1
    plan_ends = [event["data"] for event in plan_stream if event["type"] == "problem_end"]
    assert [end["end"] for end in plan_ends] == ["solved"] * 4

    action = 0
    for number, problem in enumerate(config["problems"], start=1):
        _wait_for_play(page, number)
        assert page.inner_text("[data-testid=tower-counter]") == f"Problem {number} of 4"
        assert page.inner_text("[data-testid=tower-min]") == str(problem["min_moves"])
        assert page.get_attribute("[data-testid=tower-game]", "data-layout") == problem["start"]
        page.wait_for_timeout(THINK_MS[number - 1])
        steps = plan[number]
        for index, step in enumerate(steps):
            if index > 0:
                _wait_for_play(page, number)
            action += 1
            if step[0] == "move":
                _move(page, step[1], step[2], by_keys=action % 2 == 0)
            elif step[0] == "undo":
                if action % 2 == 0:
                    page.keyboard.press("u")
                else:
                    page.click("[data-testid=tower-undo]")
            else:
                page.click("[data-testid=tower-reset]")
            if number == 3 and index == 2:
                page.screenshot(path=str(ARTIFACTS / "tower-game.png"))
        page.wait_for_selector(
            f"[data-testid=tower-game][data-state=feedback][data-problem='{number}']"
        )
        moves = sum(step[0] == "move" for step in steps)
        assert page.inner_text("[data-testid=tower-moves]") == str(moves)

    assert missing == []
    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))

    # The stored moves are the plan's, board for board.
    events = events_frame(game_session_ids=[game_session.pk])
    recorded = [
        (kind, data) for kind, data in zip(events["type"], events["data"], strict=True)
        if kind in ("problem_start", "move", "problem_end")
    ]  # fmt: skip
    planned = [
        (event["type"], event["data"])
        for event in plan_stream
        if event["type"] in ("problem_start", "move")
    ]
    assert [item for item in recorded if item[0] != "problem_end"] == planned
    ends = [data for kind, data in recorded if kind == "problem_end"]
    assert [(end["moves"], end["solved"], end["end"]) for end in ends] == [
        (end["moves"], end["solved"], end["end"]) for end in plan_ends
    ]
    for end, think_ms in zip(ends, THINK_MS, strict=True):
        assert think_ms - 5 <= end["first_move_ms"] < think_ms + 3000
        assert end["first_move_ms"] < end["total_ms"]

    # The move metrics are the plan's; the times are the browser's.
    plan_frame = pd.DataFrame(plan_stream).assign(session=game_session.pk)
    expected = GAME.extract(GAME.events_to_trials(plan_frame)).session_values(game_session.pk)
    for name in ("excess_moves", "perfect_solutions", "solved_rate"):
        assert stored[name] == pytest.approx(expected[name])
    excess = [end["moves"] - end["min_moves"] for end in plan_ends]
    assert stored["excess_moves"] == pytest.approx(sum(excess) / 4)
    assert stored["perfect_solutions"] == sum(value == 0 for value in excess)
    assert stored["solved_rate"] == 1.0
    assert stored["planning_time_ms"] >= sum(THINK_MS) / 4 - 5
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []


def test_tower_with_every_accommodation_and_the_keyboard_alone(
    services: Services, browser: Any
) -> None:
    """Extended time, reduced motion and the colour-safe palette, played with keys alone.

    The schedule is the short one as above. The instructions give the doubled time
    limit; the held ball does not animate; every problem is solved in the fewest moves
    with the keys 1-3, Undo by U once, and the feedback pause between problems is
    doubled.
    """
    run = open_game(
        services,
        browser,
        "tower",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    config = make_config(SEED, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    page.keyboard.press("ArrowRight")
    assert "20 moves or 180 seconds" in page.inner_text(".game-instructions")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    classes = page.get_attribute("[data-testid=tower-game]", "class") or ""
    assert {"tol--colour-safe", "tol--reduced-motion", "tol--practice"} <= set(classes.split())
    for number, problem in enumerate(config["practice"], start=1):
        _wait_for_play(page, number)
        _solve_in_fewest_moves(page, problem["start"], problem["goal"])
    page.wait_for_selector("[data-testid=tower-continue]:not([hidden])")
    page.keyboard.press("Enter")
    page.click("[data-testid=game-ready]")

    for number, problem in enumerate(config["problems"], start=1):
        _wait_for_play(page, number)
        if number == 1:
            # A move taken back with U: it stays counted, so problem 1 is not perfect.
            layout = parse_layout(problem["start"])
            source, target = next(
                move
                for move in ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))
                if move not in optimal_moves(layout, parse_layout(problem["goal"]))
                and len(layout[move[0]]) > 0
                and len(layout[move[1]]) < (3, 2, 1)[move[1]]
            )
            page.keyboard.press(str(source + 1))
            animation = page.eval_on_selector(
                ".tol-ball--held", "node => getComputedStyle(node).animationName"
            )
            assert animation == "none"
            page.keyboard.press(str(target + 1))
            _wait_for_play(page, number)
            page.keyboard.press("u")
            _wait_for_play(page, number)
            assert page.get_attribute("[data-testid=tower-game]", "data-layout") == problem["start"]
        _solve_in_fewest_moves(page, problem["start"], problem["goal"])

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    # Problem 1: 3 moves for 2 (the undone one counts); the others perfect.
    assert stored["excess_moves"] == 0.25
    assert stored["perfect_solutions"] == 3.0
    assert stored["solved_rate"] == 1.0

    # Extended time doubles the 1.5 s pause between a problem's end and the next onset.
    events = events_frame(game_session_ids=[game_session.pk])
    times = {
        (kind, data["problem"]): t
        for kind, data, t in zip(events["type"], events["data"], events["t"], strict=True)
        if kind in ("problem_start", "problem_end")
    }
    for number in (1, 2, 3):
        gap = times[("problem_start", number + 1)] - times[("problem_end", number)]
        assert gap >= 3000.0 - 17.0
