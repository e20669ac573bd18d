"""The short cards schedule (demos, end-to-end tests) and the unchanged standard one."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from pymetrics.games.cards import GAME
from pymetrics.games.cards.bot import Latent
from pymetrics.games.cards.spec import make_config

TYPICAL = Latent(learning_rate=0.2, loss_aversion=1.0)


def _fingerprint(config: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def test_standard_schedule_is_unchanged() -> None:
    # Stored sessions replay from make_config(seed): the standard schedule must never drift.
    config = make_config(42)

    assert config["trials"] == 100
    assert _fingerprint(config) == (
        "6360ed3fe3d9d5cdec122316d0066fa2f84b03b8324828a6363e6f7c31a34c5b"
    )


def test_short_schedule_is_seeded_and_json_serialisable() -> None:
    config = make_config(42, short=True)

    assert config == make_config(42, short=True)
    assert config["seed"] == 42
    assert json.loads(json.dumps(config)) == config


def test_short_schedule_has_24_choices_from_the_same_decks() -> None:
    standard = make_config(7)

    short = make_config(7, short=True)

    assert short["trials"] == 24
    # Same decks, cards and practice: only the number of choices differs.
    assert {k: v for k, v in short.items() if k != "trials"} == {
        k: v for k, v in standard.items() if k != "trials"
    }


def test_bot_on_the_short_schedule_yields_every_metric_but_the_later_blocks() -> None:
    config = make_config(5, short=True)

    stream = GAME.play(TYPICAL, np.random.default_rng(3), config)
    for event in stream:
        GAME.validate_event(event["type"], event["data"])
    trials = GAME.events_to_trials(pd.DataFrame(stream).assign(session="short"))
    values = GAME.extract(trials).session_values("short")

    assert trials["trial"].tolist() == list(range(1, 25))
    # Blocks hold 20 choices: 24 choices make block 1 and a partial block 2, enough
    # for the learning slope; blocks 3 to 5 do not exist.
    assert set(values) == {metric.name for metric in GAME.metrics} - {
        "net_score_block_3",
        "net_score_block_4",
        "net_score_block_5",
    }
    assert values["net_score"] == values["net_score_block_1"] + values["net_score_block_2"]
    assert values["learning_slope"] == values["net_score_block_2"] - values["net_score_block_1"]
