"""Balloons: the Balloon Analogue Risk Task (Lejuez et al. 2002) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.balloons import bot, metrics, spec
from pymetrics.games.base import N_, Game

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Balloons"),
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
        "Pump up balloons to earn money for each pump, and decide when to cash in "
        "before a balloon pops."
    ),
    measured=N_("This game looked at how you balance taking risks against securing rewards."),
    estimated_minutes=5,
    short_estimated_minutes=1,
)

__all__ = ["GAME"]
