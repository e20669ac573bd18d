"""Money Exchange 1: the trust game (Berg, Dickhaut & McCabe 1995) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.money_exchange_1 import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_(spec.TITLE),
    extractor_version=spec.EXTRACTOR_VERSION,
    event_types=spec.EVENT_TYPES,
    trial_event_types=spec.TRIAL_EVENT_TYPES,
    csv_columns=spec.CSV_COLUMNS,
    metrics=spec.METRICS,
    events_to_trials=spec.events_to_trials,
    csv_to_trials=spec.csv_to_trials,
    extract=metrics.extract,
    play=bot.play,
    sample_latent=bot.sample_latent,
    recovery_targets=bot.RECOVERY_TARGETS,
    make_config=spec.make_config,
    description=N_(
        "Exchange points with other players, one round each. Decide how many of your "
        "points to send, knowing they are tripled on the way, and how many to give back "
        "when someone sends points to you."
    ),
    measured=N_(
        "How much of your points you chose to send to other players, and how much of "
        "what you received you chose to give back."
    ),
    estimated_minutes=4,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
