"""Keypresses: the finger-tapping test (Halstead-Reitan battery) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.keypresses import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Keypresses"),
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
        "Tap one key as fast as you can for ten seconds at a time, taking turns between "
        "your writing hand and your other hand."
    ),
    measured=N_(
        "This game looked at the speed and rhythm of your tapping with each hand over "
        "repeated trials."
    ),
    estimated_minutes=3,
    short_estimated_minutes=2,
)

__all__ = ["GAME"]
