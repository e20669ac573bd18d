"""The simulated trust-game player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.money_exchange_1 import GAME
from pymetrics.games.money_exchange_1.bot import (
    MIN_RT_MS,
    RECOVERY_TARGETS,
    Latent,
    decide,
    planned_amounts,
    sample_latent,
)
from pymetrics.games.money_exchange_1.spec import make_config, partner_returned

LATENTS = [
    pytest.param(Latent(trust=0.5, reciprocity=0.35), id="typical"),
    pytest.param(Latent(trust=1.0, reciprocity=1.0, noise=0.0), id="all-in"),
    pytest.param(Latent(trust=0.0, reciprocity=0.0, noise=0.0), id="keeps-everything"),
    pytest.param(
        Latent(trust=0.3, reciprocity=0.6, responsiveness=2.0, noise=0.5, rt_median_ms=50.0),
        id="erratic-and-hasty",
    ),
]


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] == 0.0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    rounds = config["rounds"]
    assert [event["type"] for event in stream] == ["round_start", "decision", "outcome"] * len(
        rounds
    )
    for plan, (start, decision, outcome) in zip(
        rounds, zip(stream[::3], stream[1::3], stream[2::3], strict=True), strict=True
    ):
        number, role = plan["round"], plan["role"]
        assert (start["data"]["round"], start["data"]["role"]) == (number, role)
        assert (decision["data"]["round"], decision["data"]["role"]) == (number, role)
        data = outcome["data"]
        amount = decision["data"]["amount"]
        if role == "investor":
            assert start["data"] == {"round": number, "role": role, "endowment": 10}
            assert data["sent"] == amount
            assert data["returned"] == partner_returned(3 * amount, plan["partner_return_percent"])
            assert data["payoff"] == 10 - amount + data["returned"]
        else:
            sent = plan["partner_sent"]
            assert start["data"] == {
                "round": number, "role": role, "endowment": 10, "sent": sent,
                "received": 3 * sent,
            }  # fmt: skip
            assert (data["sent"], data["returned"]) == (sent, amount)
            assert data["payoff"] == 3 * sent - amount
        assert data["received"] == 3 * data["sent"]
        # rt_ms is the time from the round appearing to the decision.
        assert decision["data"]["rt_ms"] == pytest.approx(decision["t"] - start["t"], abs=0.11)
        assert decision["data"]["rt_ms"] >= MIN_RT_MS


@pytest.mark.parametrize("latent", LATENTS)
@pytest.mark.parametrize("short", [False, True])
def test_stream_invariants(latent: Latent, short: bool) -> None:
    config = make_config(3, short=short)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    _assert_stream_invariants(stream, config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])


def test_extreme_players_send_and_return_all_or_nothing() -> None:
    config = make_config(4)

    all_in = planned_amounts(
        GAME.play(Latent(1.0, 1.0, responsiveness=0.0, noise=0.0), np.random.default_rng(1), config)
    )
    keeps = planned_amounts(
        GAME.play(Latent(0.0, 0.0, responsiveness=0.0, noise=0.0), np.random.default_rng(1), config)
    )

    received = [3 * r["partner_sent"] for r in config["rounds"][5:]]
    assert all_in == [10] * 5 + received
    assert keeps == [0] * 10


def test_trustee_returns_more_to_partners_who_sent_more() -> None:
    """Responsiveness 0.4 and no noise: the share returned is 0.3 + 0.4 * (sent/10 - 0.5)."""
    latent = Latent(trust=0.5, reciprocity=0.3, responsiveness=0.4, noise=0.0)
    rng = np.random.default_rng(0)

    # sent 10: share 0.5 of 30 = 15; sent 5: share 0.3 of 15 = 4.5 -> 5 (half up);
    # sent 1: share 0.14 of 3 = 0.42 -> 0
    amounts = [
        decide(latent, rng, {"role": "trustee", "endowment": 10, "partner_sent": sent})
        for sent in (10, 5, 1)
    ]

    assert amounts == [15, 5, 0]


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

    trust = np.array([latent.trust for latent in population])
    reciprocity = np.array([latent.reciprocity for latent in population])
    assert trust.min() > 0.0
    assert trust.max() < 1.0
    assert 0.45 < trust.mean() < 0.55  # Beta(2, 2): mean 0.5
    assert reciprocity.min() > 0.0
    assert reciprocity.max() < 1.0
    assert 0.35 < reciprocity.mean() < 0.45  # Beta(2, 3): mean 0.4
    assert all(0.0 <= latent.responsiveness <= 0.4 for latent in population)
    assert all(0.05 <= latent.noise <= 0.2 for latent in population)
    assert all(2500.0 <= latent.rt_median_ms <= 8000.0 for latent in population)


def test_metrics_recover_trust_and_reciprocity() -> None:
    """Across 200 simulated players (fixed seed), each latent trait ranks its metric.

    ``fraction_sent`` measures ``trust`` and ``fraction_returned`` measures
    ``reciprocity``. Spearman rho must be >= 0.7 for each; at this seed they are about
    0.96 (trust) and 0.95 (reciprocity).
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

    assert set(RECOVERY_TARGETS) == {"trust", "reciprocity"}
    rhos = {}
    for name, measure in GAME.recovery_targets.items():
        sign = -1.0 if measure.startswith("-") else 1.0
        values = sign * result.metrics.loc[list(range(200)), measure.lstrip("-")].to_numpy()
        truth = [getattr(latent, name) for latent in latents]
        rhos[name] = spearmanr(truth, values).statistic
    assert rhos["trust"] >= 0.7, rhos
    assert rhos["reciprocity"] >= 0.7, rhos
    # Real-looking players raise no quality flags.
    assert not any(result.flags.values())


latents = st.builds(
    Latent,
    trust=st.floats(min_value=0.0, max_value=1.0),
    reciprocity=st.floats(min_value=0.0, max_value=1.0),
    responsiveness=st.floats(min_value=0.0, max_value=5.0),
    noise=st.floats(min_value=0.0, max_value=2.0),
    rt_median_ms=st.floats(min_value=1.0, max_value=20_000.0),
    rt_log_sd=st.floats(min_value=0.0, max_value=1.5),
)


@settings(max_examples=40, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1), short=st.booleans())
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int, short: bool) -> None:
    config = make_config(seed, short=short)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)
