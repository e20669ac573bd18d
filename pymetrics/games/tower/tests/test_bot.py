"""The simulated tower player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.tower import GAME
from pymetrics.games.tower.bot import RECOVERY_TARGETS, Latent, planned_actions, sample_latent
from pymetrics.games.tower.solver import apply_move, format_layout, parse_layout
from pymetrics.games.tower.spec import make_config

LATENTS = [
    pytest.param(Latent(planning_depth=3.0, impulsivity=0.3), id="typical"),
    pytest.param(Latent(planning_depth=6.0, impulsivity=0.0), id="planner"),
    pytest.param(Latent(planning_depth=1.0, impulsivity=1.0, undo_rate=1.0), id="impulsive"),
    pytest.param(Latent(planning_depth=0.5, impulsivity=0.5, move_ms=20_000.0), id="slow"),
]


def _replay(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    """Every move event follows from the one before it, and the end matches the moves."""
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] == 0.0
    assert all(later >= earlier for earlier, later in itertools.pairwise(times))

    problems = {problem["problem"]: problem for problem in config["problems"]}
    layout = None
    history: list[tuple[int, int]] = []
    moves = 0
    onset = 0.0
    for event in stream:
        data = event["data"]
        if event["type"] == "problem_start":
            problem = problems[data["problem"]]
            assert data == {"problem": problem["problem"], "min_moves": problem["min_moves"],
                            "start": problem["start"], "goal": problem["goal"]}  # fmt: skip
            layout, history, moves, onset = parse_layout(problem["start"]), [], 0, event["t"]
        elif event["type"] == "move":
            assert layout is not None
            if data["kind"] == "move":
                move = (data["from"] - 1, data["to"] - 1)
                layout = apply_move(layout, move)
                history.append(move)
                moves += 1
            elif data["kind"] == "undo":
                last = history.pop()
                assert (data["from"] - 1, data["to"] - 1) == (last[1], last[0])
                layout = apply_move(layout, (last[1], last[0]))
            else:
                layout = parse_layout(problems[data["problem"]]["start"])
                history = []
            assert data["layout"] == format_layout(layout)
            assert data["moves"] == moves
        else:
            assert layout is not None
            problem = problems[data["problem"]]
            assert data["moves"] == moves
            assert data["solved"] == (format_layout(layout) == problem["goal"])
            assert data["total_ms"] == pytest.approx(event["t"] - onset, abs=0.11)
            if data["end"] == "time_limit":
                assert data["total_ms"] == config["time_limit_ms"]
            if data["end"] == "move_limit":
                assert moves == config["move_limit"]
    assert sum(event["type"] == "problem_end" for event in stream) == len(problems)


@pytest.mark.parametrize("latent", LATENTS)
def test_stream_invariants(latent: Latent) -> None:
    config = make_config(3)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _replay(stream, config)


def test_a_perfect_planner_solves_every_problem_in_the_fewest_moves() -> None:
    stream = GAME.play(
        Latent(planning_depth=5.0, impulsivity=0.0, undo_rate=0.0),
        np.random.default_rng(1),
        make_config(2),
    )

    ends = [event["data"] for event in stream if event["type"] == "problem_end"]
    assert [end["moves"] for end in ends] == [end["min_moves"] for end in ends]
    assert all(end["solved"] for end in ends)


def test_a_slow_player_runs_into_the_time_limit() -> None:
    stream = GAME.play(
        Latent(planning_depth=2.0, impulsivity=0.0, move_ms=40_000.0, think_ms=30_000.0),
        np.random.default_rng(4),
        make_config(2),
    )

    ends = [event["data"]["end"] for event in stream if event["type"] == "problem_end"]
    assert "time_limit" in ends


def test_the_short_schedule_gives_four_problems() -> None:
    config = make_config(3, short=True)

    stream = GAME.play(
        Latent(planning_depth=2.5, impulsivity=0.5), np.random.default_rng(1), config
    )

    assert sorted(planned_actions(stream)) == [1, 2, 3, 4]
    _replay(stream, config)


def test_planned_actions_lists_moves_undos_and_resets() -> None:
    stream = [
        {"seq": 1, "t": 0.0, "type": "problem_start",
         "data": {"problem": 1, "min_moves": 3, "start": "GR|B|", "goal": "GBR||"}},
        {"seq": 2, "t": 1.0, "type": "move",
         "data": {"problem": 1, "kind": "move", "from": 1, "to": 3, "moves": 1,
                  "layout": "G|B|R"}},
        {"seq": 3, "t": 2.0, "type": "move",
         "data": {"problem": 1, "kind": "undo", "from": 3, "to": 1, "moves": 1,
                  "layout": "GR|B|"}},
        {"seq": 4, "t": 3.0, "type": "move",
         "data": {"problem": 1, "kind": "reset", "moves": 1, "layout": "GR|B|"}},
    ]  # fmt: skip

    assert planned_actions(stream) == {1: [("move", 1, 3), ("undo",), ("reset",)]}


def test_same_seed_gives_the_same_stream() -> None:
    latent = sample_latent(np.random.default_rng(21))
    config = make_config(9)

    first = GAME.play(latent, np.random.default_rng(4), config)
    second = GAME.play(latent, np.random.default_rng(4), config)
    other = GAME.play(latent, np.random.default_rng(5), config)

    assert first == second
    assert first != other


def test_sample_latent_draws_a_realistic_population() -> None:
    rng = np.random.default_rng(2)

    population = [sample_latent(rng) for _ in range(500)]

    depth = np.array([latent.planning_depth for latent in population])
    impulsivity = np.array([latent.impulsivity for latent in population])
    assert 1.0 <= depth.min() < 1.1
    assert 4.9 < depth.max() <= 5.0
    assert 0.0 <= impulsivity.min() < 0.05
    assert 0.95 < impulsivity.max() <= 1.0
    assert all(2000.0 <= latent.think_ms <= 4500.0 for latent in population)
    assert all(600.0 <= latent.move_ms <= 1400.0 for latent in population)
    assert all(0.0 <= latent.undo_rate <= 0.5 for latent in population)


def test_metrics_recover_planning_depth_and_impulsivity() -> None:
    """Across 200 simulated players (fixed seed), each latent trait ranks its metric.

    ``perfect_solutions`` measures ``planning_depth`` (a deeper search solves more
    problems in the fewest moves) and ``planning_time_ms`` falls with
    ``impulsivity`` (an impulsive player picks up the first ball sooner). Spearman
    rho must be >= 0.7 for each; at this seed they are about 0.87 and 0.89.
    ``excess_moves`` falls with planning depth too (about -0.83 here).
    """
    rng = np.random.default_rng(2024)
    latents: list[Latent] = []
    streams: list[pd.DataFrame] = []
    for player in range(200):
        latent = sample_latent(rng)
        stream = GAME.play(latent, rng, make_config(10_000 + player))
        latents.append(latent)
        streams.append(pd.DataFrame(stream).assign(session=player))
    events = pd.concat(streams, ignore_index=True)

    result = GAME.extract(GAME.events_to_trials(events))

    assert set(RECOVERY_TARGETS) == {"planning_depth", "impulsivity"}
    rhos = {}
    for name, measure in GAME.recovery_targets.items():
        sign = -1.0 if measure.startswith("-") else 1.0
        values = sign * result.metrics.loc[list(range(200)), measure.lstrip("-")].to_numpy()
        truth = [getattr(latent, name) for latent in latents]
        rhos[name] = spearmanr(truth, values).statistic
        assert rhos[name] >= 0.7, (name, measure, rhos[name])
    depth = [latent.planning_depth for latent in latents]
    excess = result.metrics.loc[list(range(200)), "excess_moves"].to_numpy()
    assert spearmanr(depth, excess).statistic <= -0.7
    # Real-looking players raise no quality flags.
    assert not any(result.flags.values())


latents = st.builds(
    Latent,
    planning_depth=st.floats(min_value=0.0, max_value=7.0),
    impulsivity=st.floats(min_value=0.0, max_value=1.0),
    think_ms=st.floats(min_value=1.0, max_value=60_000.0),
    move_ms=st.floats(min_value=1.0, max_value=30_000.0),
    rt_log_sd=st.floats(min_value=0.0, max_value=1.5),
    undo_rate=st.floats(min_value=0.0, max_value=1.0),
)


@settings(max_examples=40, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed, short=seed % 2 == 0)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _replay(stream, config)
