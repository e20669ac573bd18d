"""Digits: digit span, forward then backward (WAIS procedure), as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.digits import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Digits"),
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
        "Watch a short run of digits, then type it back: first in the same order, "
        "then in reverse. The runs grow longer as you go."
    ),
    measured=N_(
        "This game looked at how many digits you can hold in mind at once, in the order"
        " you saw them and in reverse."
    ),
    estimated_minutes=8,
    short_estimated_minutes=2,
)

__all__ = ["GAME"]
