"""Easy or Hard: the Effort Expenditure for Rewards Task (Treadway et al. 2009) as a game."""

from __future__ import annotations

from pymetrics.games.base import N_, Game
from pymetrics.games.easy_or_hard import bot, metrics, spec

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Easy or Hard"),
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
        "Choose between a quick easy task and a longer hard one that can pay more, then "
        "tap fast to finish it in time."
    ),
    measured=N_(
        "This game looked at how you weigh effort against reward and the chance of "
        "winning when you choose what to work for."
    ),
    estimated_minutes=10,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
