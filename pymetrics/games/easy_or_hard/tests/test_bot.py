"""The simulated easy_or_hard player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.easy_or_hard import GAME
from pymetrics.games.easy_or_hard.bot import (
    Latent,
    hard_probabilities,
    planned_choices,
    sample_latent,
)
from pymetrics.games.easy_or_hard.spec import make_config

TYPICAL = Latent(effort_cost=0.3, reward_sensitivity=1.5, press_rate_hz=5.5)
LATENTS = [
    pytest.param(TYPICAL, id="typical"),
    pytest.param(Latent(effort_cost=20.0, reward_sensitivity=0.0, press_rate_hz=6.0), id="lazy"),
    pytest.param(Latent(effort_cost=-20.0, reward_sensitivity=0.0, press_rate_hz=6.0), id="eager"),
    pytest.param(Latent(effort_cost=0.0, reward_sensitivity=2.0, press_rate_hz=2.0), id="slow"),
    pytest.param(
        Latent(effort_cost=0.0, reward_sensitivity=1.0, press_rate_hz=6.0, choice_latency_ms=6000),
        id="hesitant",
    ),
]


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] >= 0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    by_trial: dict[int, list[dict[str, Any]]] = {}
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
        by_trial.setdefault(event["data"]["trial"], []).append(event)
    assert list(by_trial) == list(range(1, config["trials"] + 1))
    for trial, events in by_trial.items():
        index = trial - 1
        types = [event["type"] for event in events]
        offer, choice, end = events[0]["data"], events[1]["data"], events[-1]["data"]
        presses = [event["data"]["presses"] for event in events[2:-1]]
        assert types == ["offer", "choice", *["press"] * len(presses), "trial_end"]
        assert offer["probability"] == end["probability"] == config["probabilities"][index]
        assert offer["reward"] == end["reward"] == config["rewards"][index]
        assert end["choice"] == choice["choice"]
        if choice["timed_out"]:
            assert choice["choice"] == config["fallback_choices"][index]
            assert choice["rt_ms"] > config["choice_time_ms"]
        else:
            assert choice["rt_ms"] <= config["choice_time_ms"]
        # rt_ms is the time from the offer's frame to the choice.
        assert choice["rt_ms"] == pytest.approx(events[1]["t"] - events[0]["t"], abs=0.11)
        needed = config[f"{choice['choice']}_presses"]
        assert presses == list(range(1, len(presses) + 1))
        assert len(presses) <= needed
        assert end["completed"] == int(len(presses) == needed)
        won = end["completed"] == 1 and config["win_draws"][index] < end["probability"]
        assert end["won"] == int(won)
        if presses:
            # Every counted press falls within the task's time after the ready pause.
            limit = config[f"{choice['choice']}_time_ms"]
            assert events[-2]["t"] - events[1]["t"] <= 1000.0 + limit + 0.1


@pytest.mark.parametrize("latent", LATENTS)
def test_stream_invariants(latent: Latent) -> None:
    config = make_config(3)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    _assert_stream_invariants(stream, config)


def test_extreme_players_choose_one_task_and_slow_pressers_fail() -> None:
    config = make_config(1)

    def trials(latent: Latent) -> pd.DataFrame:
        stream = GAME.play(latent, np.random.default_rng(0), config)
        return GAME.events_to_trials(pd.DataFrame(stream).assign(session=1))

    lazy = trials(Latent(effort_cost=20.0, reward_sensitivity=0.0, press_rate_hz=6.0))
    eager = trials(Latent(effort_cost=-20.0, reward_sensitivity=0.0, press_rate_hz=6.0))
    slow = trials(Latent(effort_cost=-20.0, reward_sensitivity=0.0, press_rate_hz=2.0))

    assert set(lazy["choice"]) == {"easy"}
    assert set(eager["choice"]) == {"hard"}
    assert lazy["completed"].tolist() == [1] * 30
    # Two presses a second give about 42 of 100 presses in 21 s.
    assert slow["completed"].tolist() == [0] * 30


def test_hesitant_player_times_out_and_gets_the_fallback_task() -> None:
    config = make_config(5)
    latent = Latent(
        effort_cost=0.0, reward_sensitivity=1.0, press_rate_hz=6.0, choice_latency_ms=9000
    )

    stream = GAME.play(latent, np.random.default_rng(2), config)

    choices = [event["data"] for event in stream if event["type"] == "choice"]
    timed_out = [c for c in choices if c["timed_out"]]
    assert len(timed_out) > 20
    result = GAME.extract(GAME.events_to_trials(pd.DataFrame(stream).assign(session=1)))
    assert "mostly_omissions" in result.flags[1]


def test_same_seed_gives_the_same_stream() -> None:
    latent = sample_latent(np.random.default_rng(21))
    config = make_config(9)

    first = GAME.play(latent, np.random.default_rng(4), config)
    second = GAME.play(latent, np.random.default_rng(4), config)
    other = GAME.play(latent, np.random.default_rng(5), config)

    assert first == second
    assert first != other


def test_planned_choices_come_first_from_the_generator() -> None:
    latent = sample_latent(np.random.default_rng(3))
    config = make_config(12)

    plans = planned_choices(latent, np.random.default_rng(77), config)
    stream = GAME.play(latent, np.random.default_rng(77), config)

    made = {
        event["data"]["trial"]: event["data"]["choice"]
        for event in stream
        if event["type"] == "choice" and not event["data"]["timed_out"]
    }
    assert made
    assert all(plans[trial - 1] == choice for trial, choice in made.items())


def test_hard_probability_rises_with_reward_and_falls_with_effort_cost() -> None:
    config = {"rewards": [1.24, 2.77, 4.30], "probabilities": [0.5, 0.5, 0.5]}

    keen = hard_probabilities(Latent(0.0, 2.0, 5.0), config)
    costly = hard_probabilities(Latent(1.0, 2.0, 5.0), config)

    assert keen[1] == pytest.approx(0.5)
    assert keen[0] < keen[1] < keen[2]
    assert all(costly < keen)


def test_sample_latent_draws_a_realistic_population() -> None:
    rng = np.random.default_rng(2)

    population = [sample_latent(rng) for _ in range(500)]

    costs = np.array([latent.effort_cost for latent in population])
    sensitivity = np.array([latent.reward_sensitivity for latent in population])
    rates = np.array([latent.press_rate_hz for latent in population])
    assert abs(costs.mean()) < 0.2
    assert 1.0 < costs.std() < 1.4
    assert sensitivity.min() >= 0.0
    assert sensitivity.max() <= 3.0
    assert rates.min() >= 4.0
    assert rates.max() <= 7.0
    assert all(latent.choice_latency_ms > 0 for latent in population)


def _measure(metrics: pd.DataFrame, target: str) -> np.ndarray:
    """A recovery target's metric, negated for a leading "-" as the simulate command does."""
    sign = -1.0 if target.startswith("-") else 1.0
    return np.asarray(sign * metrics[target.lstrip("-")].to_numpy(), dtype="float64")


def test_metrics_recover_the_latent_traits() -> None:
    """Spearman rho over 200 simulated players (seed 2024), each >= 0.7.

    * ``effort_cost`` is measured by ``-hard_choice_rate`` (the more costly effort
      feels, the fewer hard tasks): rho about 0.88.
    * ``reward_sensitivity`` is measured by ``reward_sensitivity`` (the correlation
      between choosing hard and the hard reward on offer), over the players whose
      metric is present (both choices and rewards vary): rho about 0.77.
    * ``press_rate_hz`` is measured by ``completion_rate``: rho about 0.88.
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

    metrics = GAME.extract(GAME.events_to_trials(events)).metrics.loc[list(range(200))]

    rhos: dict[str, float] = {}
    for name, target in GAME.recovery_targets.items():
        truth = np.array([getattr(latent, name) for latent in latents])
        measured = _measure(metrics, target)
        present = ~np.isnan(measured)
        assert present.sum() >= 190
        rhos[name] = float(spearmanr(truth[present], measured[present]).statistic)
    assert set(rhos) == {"effort_cost", "reward_sensitivity", "press_rate_hz"}
    assert all(rho >= 0.7 for rho in rhos.values()), rhos


latents = st.builds(
    Latent,
    effort_cost=st.floats(min_value=-30.0, max_value=30.0),
    reward_sensitivity=st.floats(min_value=-5.0, max_value=10.0),
    press_rate_hz=st.floats(min_value=0.1, max_value=20.0),
    probability_weight=st.floats(min_value=-5.0, max_value=10.0),
    press_rate_sd=st.floats(min_value=0.0, max_value=0.5),
    choice_latency_ms=st.floats(min_value=1.0, max_value=20_000.0),
)


@settings(max_examples=40, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    _assert_stream_invariants(stream, config)
