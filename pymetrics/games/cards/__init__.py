"""Cards: the Iowa Gambling Task (Bechara et al. 1994) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.cards import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Cards"),
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
        "Pick cards from four decks. Each card wins you some money, and some also take "
        "money away; see how much you can end up with."
    ),
    measured=N_(
        "This game looked at how you make choices when outcomes are uncertain, and how "
        "your choices change as you learn from wins and losses."
    ),
    estimated_minutes=6,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
