"""The short digit-span schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.digits import GAME
from pymetrics.games.digits.bot import Latent
from pymetrics.games.digits.spec import make_config

PERFECT = Latent(span_forward=30.0, span_backward=30.0, noise=0.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert config["max_length"] == {"forward": 12, "backward": 10}
    assert _fingerprint(config) == (
        "bdc42697ef33603e886b7428d1ad81c07b759330b0799b212b7d7ef831096ae7"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config != make_config(43, short=True)
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_is_lengths_3_and_4_of_the_standard_one() -> None:
    standard = make_config(7)

    short = make_config(7, short=True)

    assert short["max_length"] == {"forward": 4, "backward": 4}
    for direction in ("forward", "backward"):
        assert [level["length"] for level in short[direction]] == [3, 4]
        assert short[direction] == standard[direction][:2]
    assert short["practice"] == standard["practice"]


def test_bot_on_the_short_schedule_yields_every_metric() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(PERFECT, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    # A perfect player is given every sequence (2 lengths x 2 attempts per part) and
    # reaches the short schedule's cap of 4 each way.
    assert len(trials) == 8
    assert values == {"forward_span": 4.0, "backward_span": 4.0, "total_correct": 8.0}
