"""Tower: the Tower of London (Shallice 1982) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.tower import bot, metrics, spec

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
        "Move coloured balls between three pegs until they match a picture, using as few "
        "moves as you can."
    ),
    measured=N_(
        "This game looked at how you plan moves ahead: the moves you made next to the fewest "
        "needed, and your time before and after the first move."
    ),
    estimated_minutes=6,
    short_estimated_minutes=2,
)

__all__ = ["GAME"]
