"""The short balloons schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.balloons import GAME
from pymetrics.games.balloons.bot import Latent
from pymetrics.games.balloons.spec import MAX_PUMPS, make_config

TYPICAL = Latent(target_pumps=30.0, pump_sd=8.0, pump_interval_ms=350.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert config["balloons"] == 30
    assert _fingerprint(config) == (
        "d832b5b76bc696109eec33e07334cd08f649d046b373b30581d5565d113045d1"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config != make_config(43, short=True)
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_has_six_balloons_and_the_standard_settings() -> None:
    standard = make_config(7)

    short = make_config(7, short=True)

    assert short["balloons"] == 6
    assert len(short["burst_points"]) == 6
    assert all(1 <= point <= MAX_PUMPS for point in short["burst_points"])
    # Drawn from the same seeded generator, the 6 points are the standard schedule's first 6.
    assert short["burst_points"] == standard["burst_points"][:6]
    assert {k: v for k, v in short.items() if k not in ("balloons", "burst_points")} == {
        k: v for k, v in standard.items() if k not in ("balloons", "burst_points")
    }


def test_bot_on_the_short_schedule_yields_every_metric_but_the_later_blocks() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    events = pd.DataFrame(stream).assign(session="short")
    trials = GAME.events_to_trials(events)
    values = GAME.extract(trials).session_values("short")

    assert trials["trial"].tolist() == [1, 2, 3, 4, 5, 6]
    # Blocks are 10 balloons long, so 6 balloons fill block 1 only.
    assert set(values) == {metric.name for metric in GAME.metrics} - {
        "adjusted_pumps_block_2",
        "adjusted_pumps_block_3",
    }
    assert values["adjusted_pumps_block_1"] == values["adjusted_pumps"]
