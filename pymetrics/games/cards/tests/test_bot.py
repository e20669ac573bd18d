"""The simulated cards player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.cards import GAME
from pymetrics.games.cards.bot import RECOVERY_TARGETS, Latent, planned_decks, sample_latent
from pymetrics.games.cards.spec import DECKS, card_outcome, make_config

LATENTS = [
    pytest.param(Latent(learning_rate=0.2, loss_aversion=1.0), id="typical"),
    pytest.param(Latent(learning_rate=0.9, loss_aversion=0.0, consistency=20.0), id="greedy"),
    pytest.param(Latent(learning_rate=0.01, loss_aversion=3.0, shape=0.3), id="slow"),
    pytest.param(Latent(learning_rate=1.0, loss_aversion=0.5, rt_median_ms=50.0), id="hasty"),
]


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] >= 0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    n_trials = config["trials"]
    assert [event["type"] for event in stream] == ["deck_shown", "choice"] * n_trials
    draws = dict.fromkeys(DECKS, 0)
    for trial, (shown, choice) in enumerate(zip(stream[::2], stream[1::2], strict=True), start=1):
        assert shown["data"] == {"trial": trial}
        data = choice["data"]
        assert data["trial"] == trial
        # The card is the schedule's next one for that deck.
        assert (data["gain"], data["loss"]) == card_outcome(
            config, data["deck"], draws[data["deck"]]
        )
        draws[data["deck"]] += 1
        # rt_ms is the time from the decks opening to the choice.
        assert data["rt_ms"] == pytest.approx(choice["t"] - shown["t"], abs=0.11)
        assert data["rt_ms"] >= 180.0


@pytest.mark.parametrize("latent", LATENTS)
def test_stream_invariants(latent: Latent) -> None:
    config = make_config(3)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    _assert_stream_invariants(stream, config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])


def test_a_shortened_schedule_gives_a_shorter_stream() -> None:
    config = {**make_config(3), "trials": 20}

    stream = GAME.play(
        Latent(learning_rate=0.3, loss_aversion=1.0), np.random.default_rng(1), config
    )

    assert len(planned_decks(stream)) == 20
    _assert_stream_invariants(stream, config)


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

    rates = np.array([latent.learning_rate for latent in population])
    aversion = np.array([latent.loss_aversion for latent in population])
    assert rates.min() >= 0.02
    assert rates.max() <= 0.9
    assert 0.08 < np.median(rates) < 0.2  # log-uniform: median near sqrt(0.02 * 0.9)
    assert aversion.min() >= 0.0
    assert aversion.max() <= 1.5
    assert all(0.85 <= latent.shape <= 1.0 for latent in population)
    assert all(4.0 <= latent.consistency <= 6.0 for latent in population)
    assert all(latent.rt_median_ms > 0 and latent.rt_log_sd > 0 for latent in population)


def test_a_loss_averse_quick_learner_ends_on_the_good_decks() -> None:
    """Sanity of the model: loss aversion 1.5 makes C and D worth more than A and B."""
    stream = GAME.play(
        Latent(learning_rate=0.3, loss_aversion=1.5, consistency=6.0),
        np.random.default_rng(3),
        make_config(1),
    )

    last_forty = planned_decks(stream)[60:]
    assert sum(deck in "CD" for deck in last_forty) >= 30


def test_metrics_recover_learning_rate_and_loss_aversion() -> None:
    """Across 200 simulated players (fixed seed), each latent trait ranks its metric.

    ``win_stay_rate`` measures ``learning_rate`` (a high rate lets the last card that
    paid without a loss pull the next choice back to its deck) and ``net_score``
    measures ``loss_aversion`` (it makes the decks with large losses, A and B, worth
    less than C and D). Spearman rho must be >= 0.7 for each; at this seed they are
    about 0.81 (learning_rate) and 0.79 (loss_aversion).
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

    assert set(RECOVERY_TARGETS) == {"learning_rate", "loss_aversion"}
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
    learning_rate=st.floats(min_value=0.0, max_value=1.0),
    loss_aversion=st.floats(min_value=0.0, max_value=10.0),
    shape=st.floats(min_value=0.05, max_value=1.0),
    consistency=st.floats(min_value=0.0, max_value=50.0),
    rt_median_ms=st.floats(min_value=1.0, max_value=20_000.0),
    rt_log_sd=st.floats(min_value=0.0, max_value=1.5),
)


@settings(max_examples=40, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)
