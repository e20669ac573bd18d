"""The short keypresses schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.keypresses import GAME
from pymetrics.games.keypresses.bot import Latent
from pymetrics.games.keypresses.spec import make_config

TYPICAL = Latent(tapping_rate=6.0, variability=0.12, fatigue=-1.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert len(config["trials"]) == 6
    assert _fingerprint(config) == (
        "5aae5daf3c700d0f10de33c4f876515c72f937d3eb46efc1ad0d3f6691f951fe"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config["seed"] == 42
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_has_two_10_s_trials_per_hand() -> None:
    config = make_config(7, short=True)

    assert config["trials"] == [
        {"trial": 1, "hand": "dominant", "duration_ms": 10_000},
        {"trial": 2, "hand": "non_dominant", "duration_ms": 10_000},
        {"trial": 3, "hand": "dominant", "duration_ms": 10_000},
        {"trial": 4, "hand": "non_dominant", "duration_ms": 10_000},
    ]
    assert {k: v for k, v in config.items() if k != "trials"} == {
        k: v for k, v in make_config(7).items() if k != "trials"
    }


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert sorted(set(trials["trial"])) == [1, 2, 3, 4]
    assert set(values) == {metric.name for metric in GAME.metrics}
