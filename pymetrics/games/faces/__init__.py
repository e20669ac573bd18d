"""Faces: emotion recognition from drawn faces as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.faces import bot, metrics, spec

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
    subscore_targets=bot.SUBSCORE_TARGETS,
    latent_parameters=bot.latent_parameters,
    make_config=spec.make_config,
    description=N_(
        "Faces appear one at a time, some showing a feeling clearly and some only "
        "slightly: pick the word that best describes each face."
    ),
    measured=N_(
        "This game looked at how you read feelings from drawn faces: how often your word "
        "matched the expression shown, and how long you took to answer."
    ),
    estimated_minutes=4,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
