"""The short easy-or-hard schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import numpy as np
import pandas as pd

from pymetrics.games.easy_or_hard import GAME
from pymetrics.games.easy_or_hard.bot import Latent
from pymetrics.games.easy_or_hard.spec import make_config

TYPICAL = Latent(effort_cost=0.3, reward_sensitivity=1.5, press_rate_hz=5.5)
PER_TRIAL_KEYS = ("probabilities", "rewards", "win_draws", "fallback_choices")


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert config["trials"] == 30
    assert _fingerprint(config) == (
        "10e89f2df9e34c70af5b42485ffe4d389c8f8fbe657b1c403c5ec68dc38b69af"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config != make_config(43, short=True)
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_has_each_probability_twice() -> None:
    config = make_config(7, short=True)

    assert config["trials"] == 6
    assert all(len(config[key]) == 6 for key in PER_TRIAL_KEYS)
    assert Counter(config["probabilities"]) == {0.12: 2, 0.5: 2, 0.88: 2}
    assert all(1.24 <= reward <= 4.30 for reward in config["rewards"])
    standard = make_config(7)
    assert {k: v for k, v in config.items() if k not in (*PER_TRIAL_KEYS, "trials")} == {
        k: v for k, v in standard.items() if k not in (*PER_TRIAL_KEYS, "trials")
    }


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert trials["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    # reward_sensitivity exists only when both tasks were taken, as on the full schedule.
    assert set(trials["choice"]) == {"easy", "hard"}
    assert set(values) == {metric.name for metric in GAME.metrics}
