"""The short arrows schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter

import numpy as np
import pandas as pd

from pymetrics.games.arrows import GAME
from pymetrics.games.arrows.bot import Latent
from pymetrics.games.arrows.spec import make_config

TYPICAL = Latent(base_rt=500.0, interference_cost=70.0, switch_cost=120.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert config["n_trials"] == 96
    assert _fingerprint(config) == (
        "34ecf9aee3a9bab88dbae163b0680ee6077575e129b715acc5de0f2f2ec475c9"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config != make_config(43, short=True)
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_has_16_trials_of_every_kind() -> None:
    config = make_config(7, short=True)

    trials = config["trials"]
    rules = [item["rule"] for item in trials]
    switches = sum(1 for before, after in itertools.pairwise(rules) if before != after)
    assert config["n_trials"] == 16
    assert len(config["fixation_ms"]) == 16
    assert [item["trial"] for item in trials] == list(range(1, 17))
    # 3 runs of each rule, alternating: 6 runs, so 5 switch and 10 repeat trials.
    assert switches == 5
    # Every display (congruent or not x centre left or right) twice within each rule.
    cells = Counter((item["rule"], item["congruent"], item["centre"]) for item in trials)
    assert set(cells.values()) == {2}
    assert len(cells) == 8
    assert config["practice"] == make_config(7)["practice"]


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert trials["trial"].tolist() == list(range(1, 17))
    assert set(values) == {metric.name for metric in GAME.metrics}
