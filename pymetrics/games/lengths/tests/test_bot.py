"""The simulated lengths player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.lengths import GAME
from pymetrics.games.lengths.bot import (
    RECOVERY_TARGETS,
    Latent,
    planned_responses,
    sample_latent,
)
from pymetrics.games.lengths.spec import RewardLedger, make_config

LATENTS = [
    pytest.param(Latent(discriminability=1.5, learning_rate=0.01), id="typical"),
    pytest.param(Latent(discriminability=8.0, learning_rate=0.0), id="perfect"),
    pytest.param(Latent(discriminability=0.0, learning_rate=0.2, start_bias=-1.0), id="guessing"),
    pytest.param(
        Latent(discriminability=1.0, learning_rate=0.01, lapse_rate=0.3, rt_median_ms=2500.0),
        id="slow-and-lapsing",
    ),
]


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] > 0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    ledger = RewardLedger()
    trials = iter(config["schedule"])
    position = 0
    while position < len(stream):
        entry = next(trials)
        start = stream[position]
        face = {key: entry[key] for key in ("trial", "block", "length", "stimulus")}
        assert (start["type"], start["data"]) == ("trial_start", face)
        answered = stream[position + 1]["type"] == "response"
        if answered:
            response = stream[position + 1]
            assert response["data"]["trial"] == entry["trial"]
            # rt_ms is the time from the mouth's onset to the answer.
            assert response["data"]["rt_ms"] == pytest.approx(response["t"] - start["t"], abs=0.11)
            assert response["data"]["rt_ms"] < config["response_deadline_ms"]
            feedback = stream[position + 2]
            position += 3
        else:
            feedback = stream[position + 1]
            position += 2
        data = feedback["data"]
        assert feedback["type"] == "feedback"
        assert {key: data[key] for key in face} == face
        if answered:
            assert data["response"] == response["data"]["response"]
            assert data["rt_ms"] == response["data"]["rt_ms"]
            assert data["correct"] == int(data["response"] == entry["length"])
        else:
            assert (data["response"], data["correct"], data["rt_ms"]) == (None, None, None)
        # Rewards follow the controlled schedule exactly.
        assert data["rewarded"] == ledger.settle(entry, data["correct"] == 1)
    assert next(trials, None) is None


@pytest.mark.parametrize("short", [False, True], ids=["full", "short"])
@pytest.mark.parametrize("latent", LATENTS)
def test_stream_invariants(latent: Latent, short: bool) -> None:
    config = make_config(3, short=short)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    _assert_stream_invariants(stream, config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])


def test_events_to_trials_round_trip_gives_every_scheduled_trial() -> None:
    config = make_config(11)
    latent = Latent(discriminability=1.2, learning_rate=0.01, lapse_rate=0.05)
    stream = GAME.play(latent, np.random.default_rng(5), config)
    feedback = [event["data"] for event in stream if event["type"] == "feedback"]

    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="s"))

    schedule = config["schedule"]
    assert trials["trial"].tolist() == list(range(1, 301))
    assert trials["block"].tolist() == [entry["block"] for entry in schedule]
    assert trials["stimulus"].tolist() == [entry["stimulus"] for entry in schedule]
    assert trials["correct"].fillna(-1).tolist() == [
        -1 if data["correct"] is None else data["correct"] for data in feedback
    ]
    assert trials["correct"].isna().sum() == sum(r is None for r in planned_responses(stream))
    assert trials["correct"].isna().sum() > 0  # the lapses show up as missed trials


def test_a_perfect_player_earns_exactly_the_scheduled_rewards() -> None:
    config = make_config(4)

    stream = GAME.play(
        Latent(discriminability=20.0, learning_rate=0.0), np.random.default_rng(1), config
    )

    outcomes = [event["data"] for event in stream if event["type"] == "feedback"]
    assert all(data["correct"] == 1 for data in outcomes)
    for block in (1, 2, 3):
        rewarded = [d["stimulus"] for d in outcomes if d["block"] == block and d["rewarded"]]
        assert (rewarded.count("rich"), rewarded.count("lean")) == (30, 10)


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

    d_prime = np.array([latent.discriminability for latent in population])
    rates = np.array([latent.learning_rate for latent in population])
    assert d_prime.min() >= 0.5
    assert d_prime.max() <= 2.5
    assert rates.min() >= 0.0
    assert rates.max() <= 0.02
    assert abs(float(np.std([latent.start_bias for latent in population])) - 0.1) < 0.02
    assert all(0.0 <= latent.lapse_rate <= 0.02 for latent in population)
    assert all(450.0 <= latent.rt_median_ms <= 900.0 for latent in population)


def test_rewards_pull_the_answers_towards_the_rich_length() -> None:
    """Sanity of the model: a fast learner ends up naming the rich length more often."""
    config = make_config(1)
    learner = GAME.play(
        Latent(discriminability=1.0, learning_rate=0.03), np.random.default_rng(3), config
    )
    trials = GAME.events_to_trials(pd.DataFrame(learner).assign(session="s"))

    values = GAME.extract(trials).session_values("s")

    assert values["response_bias_block_3"] > values["response_bias_block_1"] + 0.2
    assert values["rich_accuracy"] > values["lean_accuracy"]


def test_metrics_recover_discriminability_and_learning_rate() -> None:
    """Across 200 simulated players (fixed seed), each latent trait ranks its metric.

    ``discriminability`` (log d) measures the perceptual d' and ``response_bias``
    (log b) measures the learning rate, the criterion's drift towards the rich length
    per reward. Spearman rho must be >= 0.7 for each; at this seed they are about
    0.96 (discriminability) and 0.79 (learning_rate).
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

    assert set(RECOVERY_TARGETS) == {"discriminability", "learning_rate"}
    for name, measure in GAME.recovery_targets.items():
        sign = -1.0 if measure.startswith("-") else 1.0
        values = sign * result.metrics.loc[list(range(200)), measure.lstrip("-")].to_numpy()
        truth = [getattr(latent, name) for latent in latents]
        rho = spearmanr(truth, values).statistic
        assert rho >= 0.7, (name, measure, rho)
    # Real-looking players raise no quality flags.
    assert not any(result.flags.values())


latents = st.builds(
    Latent,
    discriminability=st.floats(min_value=0.0, max_value=10.0),
    learning_rate=st.floats(min_value=0.0, max_value=1.0),
    start_bias=st.floats(min_value=-3.0, max_value=3.0),
    lapse_rate=st.floats(min_value=0.0, max_value=1.0),
    rt_median_ms=st.floats(min_value=1.0, max_value=20_000.0),
    rt_log_sd=st.floats(min_value=0.0, max_value=1.5),
)


@settings(max_examples=30, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed, short=True)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)
