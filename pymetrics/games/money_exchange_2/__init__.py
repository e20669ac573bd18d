"""Money exchange 2: the ultimatum (Guth et al. 1982) and dictator (Forsythe et al. 1994) games."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.money_exchange_2 import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=spec.TITLE,
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
        "Split sums of play money with other players: accept or turn down what they offer "
        "you, make offers they can turn down, and share money they cannot turn down."
    ),
    measured=N_(
        "How you respond to offers that range from even to uneven, and how you share money "
        "with others, both when they can refuse your offer and when they cannot."
    ),
    estimated_minutes=5,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
