"""The simulated balloons player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.balloons import GAME
from pymetrics.games.balloons.bot import Latent, planned_pumps, sample_latent
from pymetrics.games.balloons.spec import make_config

NEVER_PUMPS = Latent(target_pumps=0.0, pump_sd=0.0, pump_interval_ms=300.0)
ALWAYS_BURSTS = Latent(target_pumps=128.0, pump_sd=0.0, pump_interval_ms=200.0)
LATENTS = [
    pytest.param(Latent(target_pumps=30.0, pump_sd=8.0, pump_interval_ms=350.0), id="typical"),
    pytest.param(NEVER_PUMPS, id="never-pumps"),
    pytest.param(ALWAYS_BURSTS, id="always-bursts"),
    pytest.param(Latent(target_pumps=60.0, pump_sd=40.0, pump_interval_ms=100.0), id="erratic"),
]


def _balloons(stream: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    by_balloon: dict[int, list[dict[str, Any]]] = {}
    for event in stream:
        by_balloon.setdefault(event["data"]["balloon"], []).append(event)
    return by_balloon


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    assert times[0] >= 0

    by_balloon = _balloons(stream)
    assert list(by_balloon) == list(range(1, config["balloons"] + 1))
    for balloon, events in by_balloon.items():
        types = [event["type"] for event in events]
        pumps = [event["data"]["pumps"] for event in events if event["type"] == "pump"]
        burst_point = config["burst_points"][balloon - 1]
        assert types[0] == "balloon_start"
        assert types[1:-1] == ["pump"] * len(pumps)
        assert types[-1] in ("collect", "burst")
        assert pumps == list(range(1, len(pumps) + 1))
        assert events[-1]["data"]["pumps"] == len(pumps)
        if types[-1] == "burst":
            assert len(pumps) == burst_point
        else:
            assert len(pumps) < burst_point


@pytest.mark.parametrize("latent", LATENTS)
def test_stream_invariants(latent: Latent) -> None:
    config = make_config(3)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    _assert_stream_invariants(stream, config)


@pytest.mark.parametrize(
    ("latent", "ending"),
    [
        pytest.param(NEVER_PUMPS, {"collect"}, id="never-pumps-always-collects"),
        pytest.param(ALWAYS_BURSTS, {"burst"}, id="max-pumps-always-bursts"),
    ],
)
def test_extreme_players_end_every_balloon_the_same_way(latent: Latent, ending: set[str]) -> None:
    stream = GAME.play(latent, np.random.default_rng(0), make_config(1))

    assert {event["type"] for event in stream} - {"balloon_start", "pump"} == ending


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

    targets = np.array([latent.target_pumps for latent in population])
    assert targets.min() >= 10.0
    assert targets.max() <= 70.0
    assert 30.0 < targets.mean() < 45.0
    assert all(latent.pump_sd > 0 and latent.pump_interval_ms > 0 for latent in population)


def test_planned_pumps_stay_within_the_game() -> None:
    latent = Latent(target_pumps=120.0, pump_sd=60.0, pump_interval_ms=300.0)

    plans = planned_pumps(latent, np.random.default_rng(1), 500)

    assert len(plans) == 500
    assert min(plans) == 0
    assert max(plans) == 128
    assert all(type(plan) is int for plan in plans)


def test_adjusted_pumps_recovers_target_pumps() -> None:
    rng = np.random.default_rng(2024)
    targets: list[float] = []
    streams: list[pd.DataFrame] = []
    for player in range(200):
        latent = sample_latent(rng)
        stream = GAME.play(latent, rng, make_config(10_000 + player))
        targets.append(latent.target_pumps)
        streams.append(pd.DataFrame(stream).assign(session=player))
    events = pd.concat(streams, ignore_index=True)

    result = GAME.extract(GAME.events_to_trials(events))

    (measure,) = GAME.recovery_targets.values()
    recovered = result.metrics.loc[list(range(200)), measure].to_numpy()
    assert spearmanr(targets, recovered).statistic >= 0.9


latents = st.builds(
    Latent,
    target_pumps=st.floats(min_value=0.0, max_value=140.0),
    pump_sd=st.floats(min_value=0.0, max_value=50.0),
    pump_interval_ms=st.floats(min_value=1.0, max_value=2000.0),
    start_latency_ms=st.floats(min_value=1.0, max_value=3000.0),
    collect_latency_ms=st.floats(min_value=1.0, max_value=3000.0),
)


@settings(max_examples=60, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)
