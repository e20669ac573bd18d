"""Lengths: the probabilistic reward task (Pizzagalli et al. 2005) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.lengths import bot, metrics, spec

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
        "A face flashes up with a short or a long mouth; say which you saw. Some correct "
        "answers win you a few cents."
    ),
    measured=N_(
        "This game looked at how you told two similar lengths apart, and how your answers "
        "shifted with the rewards you received."
    ),
    estimated_minutes=20,
    short_estimated_minutes=2.5,
)

__all__ = ["GAME"]
