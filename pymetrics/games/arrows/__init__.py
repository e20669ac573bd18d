"""Arrows: a flanker task with a rule switch (Eriksen & Eriksen 1974) as a catalogue game."""

from __future__ import annotations

from pymetrics.games.arrows import bot, metrics, spec
from pymetrics.games.base import N_, Game

GAME: Game = Game(
    key=spec.KEY,
    title=N_("Arrows"),
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
        "Five arrows appear in a row: say which way the middle one points, or the outer "
        "ones, depending on how the row is shown."
    ),
    measured=N_(
        "This game looked at how you keep your focus on what matters among "
        "distractions, and how you adapt when the rule changes."
    ),
    estimated_minutes=5,
    short_estimated_minutes=1.5,
)

__all__ = ["GAME"]
