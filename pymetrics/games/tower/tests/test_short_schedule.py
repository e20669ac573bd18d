"""The short tower schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.tower import GAME
from pymetrics.games.tower.bot import Latent
from pymetrics.games.tower.spec import make_config

TYPICAL = Latent(planning_depth=2.5, impulsivity=0.4)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert len(config["problems"]) == 12
    assert _fingerprint(config) == (
        "74fcdaffa082ebc4070193a9e14c9f59c4c93f0773e0f04ad7b92c1d5e260139"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config["seed"] == 42
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_keeps_one_problem_of_each_level_and_the_same_limits() -> None:
    standard = make_config(7)

    short = make_config(7, short=True)

    assert [problem["min_moves"] for problem in short["problems"]] == [2, 3, 4, 5]
    assert {k: v for k, v in short.items() if k not in ("problems", "practice", "short")} == {
        k: v for k, v in standard.items() if k not in ("problems", "practice", "short")
    }
    assert len(short["practice"]) == 2


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert trials["trial"].tolist() == [1, 2, 3, 4]
    assert trials["min_moves"].tolist() == [2, 3, 4, 5]
    assert set(values) == {metric.name for metric in GAME.metrics}
    assert values["solved_rate"] == trials["solved"].mean()
