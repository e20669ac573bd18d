"""The short stop-signal schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.stop import GAME
from pymetrics.games.stop.bot import Latent
from pymetrics.games.stop.spec import make_config

TYPICAL = Latent(go_rt_mean=520.0, go_rt_sd=110.0, ssrt=230.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert (config["trials"], config["blocks"], config["practice_trials"]) == (128, 4, 8)
    assert _fingerprint(config) == (
        "f82ced7ea528aa53bf14497c72170cf13dd8520ac89a9f8691986fe58cf18b2d"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config != make_config(43, short=True)
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_is_one_balanced_block_of_24() -> None:
    config = make_config(7, short=True)

    schedule = config["schedule"]
    assert (config["trials"], config["blocks"], config["block_size"]) == (24, 1, 24)
    assert config["practice_trials"] == 4
    assert [item["trial"] for item in schedule] == list(range(1, 25))
    assert schedule[0]["stop"] is False
    go = [item["direction"] for item in schedule if not item["stop"]]
    stop = [item["direction"] for item in schedule if item["stop"]]
    assert (go.count("left"), go.count("right")) == (9, 9)
    assert (stop.count("left"), stop.count("right")) == (3, 3)
    timing_keys = ("ssd_start_ms", "ssd_step_ms", "go_deadline_ms", "fixation_ms", "iti_ms")
    standard = make_config(7)
    assert {key: config[key] for key in timing_keys} == {key: standard[key] for key in timing_keys}


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert len(trials) == 24
    assert int(trials["stop"].sum()) == 6
    assert set(values) == {metric.name for metric in GAME.metrics}
