"""The simulated arrows player: a well-formed stream, reproducible, and recoverable."""

from __future__ import annotations

import itertools
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from pymetrics.games.arrows import GAME
from pymetrics.games.arrows.bot import Decision, Latent, decide, sample_latent
from pymetrics.games.arrows.spec import DEADLINE_MS, correct_answer, make_config

TYPICAL = Latent(base_rt=500.0, interference_cost=70.0, switch_cost=120.0)
FLAWLESS = Latent(
    base_rt=450.0,
    interference_cost=50.0,
    switch_cost=80.0,
    error_rate=0.0,
    interference_errors=0.0,
    omission_rate=0.0,
)
ABSENT_MINDED = Latent(base_rt=500.0, interference_cost=50.0, switch_cost=80.0, omission_rate=1.0)
TOO_SLOW = Latent(base_rt=2600.0, interference_cost=50.0, switch_cost=80.0, omission_rate=0.0)
LATENTS = [
    pytest.param(TYPICAL, id="typical"),
    pytest.param(FLAWLESS, id="flawless"),
    pytest.param(ABSENT_MINDED, id="never-answers"),
    pytest.param(TOO_SLOW, id="always-too-slow"),
]


def _assert_stream_invariants(stream: list[dict[str, Any]], config: dict[str, Any]) -> None:
    assert [event["seq"] for event in stream] == list(range(1, len(stream) + 1))
    times = [event["t"] for event in stream]
    assert times[0] >= 0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))

    by_trial: dict[int, list[dict[str, Any]]] = {}
    for event in stream:
        by_trial.setdefault(event["data"]["trial"], []).append(event)
    assert list(by_trial) == [t["trial"] for t in config["trials"]]
    for item, fixation in zip(config["trials"], config["fixation_ms"], strict=True):
        events = by_trial[item["trial"]]
        types = [event["type"] for event in events]
        assert types in (
            ["trial_start", "stimulus", "response", "trial_end"],
            ["trial_start", "stimulus", "trial_end"],
        )
        start, stimulus, end = events[0], events[1], events[-1]
        display = {k: item[k] for k in ("rule", "centre")} | {"congruent": bool(item["congruent"])}
        assert {k: start["data"][k] for k in display} == display
        assert {k: end["data"][k] for k in display} == display
        # The arrows come after the fixation, on the next frame.
        assert fixation - 0.1 <= stimulus["t"] - start["t"] <= fixation + 17.0
        if types[2] == "response":
            response = events[2]["data"]
            assert end["data"]["key"] == response["key"]
            assert end["data"]["rt_ms"] == response["rt_ms"]
            assert events[2]["t"] - stimulus["t"] == pytest.approx(response["rt_ms"], abs=0.11)
            right = correct_answer(display["congruent"], item["rule"], item["centre"])
            assert end["data"]["correct"] == int(response["key"] == right)
        else:
            assert (end["data"]["key"], end["data"]["rt_ms"], end["data"]["correct"]) == (
                None,
                None,
                0,
            )
            assert end["t"] - stimulus["t"] >= config["deadline_ms"]


@pytest.mark.parametrize("latent", LATENTS)
def test_stream_is_valid_and_well_formed(latent: Latent) -> None:
    config = make_config(3)

    stream = GAME.play(latent, np.random.default_rng(8), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)


def test_extreme_players() -> None:
    config = make_config(4)

    flawless = GAME.play(FLAWLESS, np.random.default_rng(1), config)
    never = GAME.play(ABSENT_MINDED, np.random.default_rng(1), config)
    too_slow = GAME.play(TOO_SLOW, np.random.default_rng(1), config)

    assert all(e["data"]["correct"] == 1 for e in flawless if e["type"] == "trial_end")
    for stream in (never, too_slow):
        assert not [e for e in stream if e["type"] == "response"]
        assert all(e["data"]["key"] is None for e in stream if e["type"] == "trial_end")


def test_same_seed_gives_the_same_stream() -> None:
    latent = sample_latent(np.random.default_rng(21))
    config = make_config(9)

    first = GAME.play(latent, np.random.default_rng(4), config)
    second = GAME.play(latent, np.random.default_rng(4), config)
    other = GAME.play(latent, np.random.default_rng(5), config)

    assert first == second
    assert first != other


def test_decide_answers_late_trials_with_nothing() -> None:
    trials = make_config(2)["trials"][:20]

    decisions = decide(TOO_SLOW, np.random.default_rng(0), trials, DEADLINE_MS)
    extended = decide(TOO_SLOW, np.random.default_rng(0), trials, 2 * DEADLINE_MS)

    assert decisions == [Decision(None, None)] * 20
    assert all(d.key is not None for d in extended)


def test_sample_latent_draws_a_realistic_population() -> None:
    rng = np.random.default_rng(2)

    population = [sample_latent(rng) for _ in range(500)]

    base = np.array([latent.base_rt for latent in population])
    interference = np.array([latent.interference_cost for latent in population])
    switch = np.array([latent.switch_cost for latent in population])
    assert base.min() >= 330.0
    assert base.max() <= 750.0
    assert 450.0 < base.mean() < 550.0
    assert interference.min() >= 5.0
    assert interference.max() <= 170.0
    assert switch.min() >= 10.0
    assert switch.max() <= 280.0
    for latent in population:
        assert 0.0 <= latent.error_rate + latent.interference_errors <= 0.2
        assert 0.0 <= latent.omission_rate <= 0.02
        assert latent.rt_sigma > 0
        assert latent.rt_tau > 0


def _recovery_measure(measure: str) -> tuple[str, float]:
    """``"-metric"``: a metric that falls as its parameter rises (as the platform reads it)."""
    return (measure[1:], -1.0) if measure.startswith("-") else (measure, 1.0)


def test_metrics_recover_the_latent_costs() -> None:
    """Across 200 simulated players, each latent is recovered by its metric (Spearman >= 0.7).

    * ``base_rt`` (mean RT on congruent, repeated-rule trials) -> ``rt_mean_ms``
      (rho about 0.93 with this seed);
    * ``interference_cost`` (ms added on incongruent displays) ->
      ``congruency_effect_rt_ms`` (rho about 0.86);
    * ``switch_cost`` (ms added when the rule changes) -> ``switch_cost_rt_ms``
      (rho about 0.91).
    """
    rng = np.random.default_rng(2024)
    latents: list[dict[str, float]] = []
    streams: list[pd.DataFrame] = []
    for player in range(200):
        latent = sample_latent(rng)
        stream = GAME.play(latent, rng, make_config(10_000 + player))
        latents.append(asdict(latent))
        streams.append(pd.DataFrame(stream).assign(session=player))
    events = pd.concat(streams, ignore_index=True)

    result = GAME.extract(GAME.events_to_trials(events))

    assert set(GAME.recovery_targets) == {"base_rt", "interference_cost", "switch_cost"}
    rhos: dict[str, float] = {}
    for latent_name, measure in GAME.recovery_targets.items():
        metric, sign = _recovery_measure(measure)
        values = result.metrics.loc[list(range(200)), metric].to_numpy()
        assert not np.isnan(values).any()
        rhos[latent_name] = float(
            spearmanr([latent[latent_name] for latent in latents], sign * values).statistic
        )
    assert all(rho >= 0.7 for rho in rhos.values()), rhos


latents = st.builds(
    Latent,
    base_rt=st.floats(min_value=0.0, max_value=5000.0),
    interference_cost=st.floats(min_value=-200.0, max_value=1000.0),
    switch_cost=st.floats(min_value=-200.0, max_value=1000.0),
    rt_sigma=st.floats(min_value=0.0, max_value=500.0),
    rt_tau=st.floats(min_value=0.0, max_value=1000.0),
    error_rate=st.floats(min_value=0.0, max_value=1.0),
    interference_errors=st.floats(min_value=0.0, max_value=1.0),
    omission_rate=st.floats(min_value=0.0, max_value=1.0),
)


@settings(max_examples=40, deadline=None)
@given(latent=latents, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_every_bot_event_passes_its_validator(latent: Latent, seed: int) -> None:
    config = make_config(seed)

    stream = GAME.play(latent, np.random.default_rng(seed), config)

    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    _assert_stream_invariants(stream, config)
