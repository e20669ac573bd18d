"""Stop: the stop-signal task (Verbruggen et al. 2019) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.stop import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Stop Signal"),
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
        "Press the key that matches each arrow as fast as you can, and hold back when a "
        "stop sign appears."
    ),
    measured=N_(
        "This game looked at how you balance responding quickly against holding back "
        "when a signal tells you to stop."
    ),
    estimated_minutes=7,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
