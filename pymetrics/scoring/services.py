"""Metric extraction: stored events (or imported trials) to stored metric sets.

One path for one session or a million: sessions are grouped by game, their events
bulk-loaded, turned into one trial table and reduced by the game's pure extractor
in a single vectorised call, and the results written in batches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.assessments.services import game_session_mark_failed, game_session_mark_scored
from pymetrics.events.selectors import events_frame, session_timing_stats
from pymetrics.games.base import COMMON_EVENT_TYPES, ExtractionResult, Game
from pymetrics.games.quality import merge_flags, session_quality_flags
from pymetrics.games.registry import get_game
from pymetrics.scoring.models import MetricSet

logger = logging.getLogger(__name__)

_EXTRACTABLE_STATES = (GameSessionState.COMPLETED, GameSessionState.SCORED, GameSessionState.FAILED)


@dataclass(frozen=True)
class ExtractionSummary:
    extracted: int
    failed: int
    skipped: int


def _store_results(game: Game, result: ExtractionResult, session_ids: Sequence[int]) -> None:
    """Upsert one MetricSet per session for this extractor version, in one batch."""
    now = timezone.now()
    values = _values_by_session(result.metrics)
    metric_sets = [
        MetricSet(
            game_session_id=session_id,
            game=game.key,
            extractor_version=game.extractor_version,
            values=values.get(session_id, {}),
            quality_flags=sorted(result.flags.get(session_id, [])),
            computed_at=now,
        )
        for session_id in session_ids
    ]
    MetricSet.objects.bulk_create(
        metric_sets,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["game_session", "extractor_version"],
        update_fields=["values", "quality_flags", "computed_at", "game"],
    )


def _values_by_session(metrics: pd.DataFrame) -> dict[Any, dict[str, float]]:
    """Every session's metrics as plain floats, absent (NaN) ones left out.

    The same values as ``ExtractionResult.session_values`` for each session, read
    in one pass over the frame instead of one ``.loc`` lookup per session.
    """
    names = [str(name) for name in metrics.columns]
    return {
        session: {
            name: float(value) for name, value in zip(names, row, strict=True) if not pd.isna(value)
        }
        for session, row in zip(
            metrics.index, metrics.itertuples(index=False, name=None), strict=True
        )
    }


def _extract_game(game: Game, session_ids: list[int]) -> None:
    events = events_frame(
        game_session_ids=session_ids,
        types=game.trial_event_types | frozenset(COMMON_EVENT_TYPES),
    )
    trial_events = events[events["type"].isin(game.trial_event_types)]
    trials = game.events_to_trials(trial_events)
    result = game.extract(trials)
    stats = session_timing_stats(game_session_ids=session_ids)
    flags = merge_flags(dict(result.flags), session_quality_flags(events, stats))
    _store_results(game, ExtractionResult(metrics=result.metrics, flags=flags), session_ids)


def metric_sets_extract(*, game_session_ids: Iterable[int]) -> ExtractionSummary:
    """Extract and store metrics for completed game sessions; safe to run again.

    A game whose extraction raises marks its sessions failed (with the reason) and
    the error propagates to the caller (the task retries it); other games of the
    same call are still stored.
    """
    ids = sorted(set(game_session_ids))
    sessions = list(
        GameSession.objects.filter(pk__in=ids, state__in=_EXTRACTABLE_STATES).values_list(
            "pk", "game"
        )
    )
    by_game: dict[str, list[int]] = defaultdict(list)
    for session_id, key in sessions:
        by_game[key].append(session_id)
    extracted = failed = 0
    first_error: Exception | None = None
    for key, session_ids in by_game.items():
        game = get_game(key)
        try:
            with transaction.atomic():
                _extract_game(game, session_ids)
                game_session_mark_scored(game_session_ids=session_ids)
            extracted += len(session_ids)
        except Exception as error:  # recorded on the sessions, then re-raised below
            logger.exception("extracting %s metrics failed for %d sessions", key, len(session_ids))
            for session_id in session_ids:
                game_session_mark_failed(
                    game_session_id=session_id, error=f"{type(error).__name__}: {error}"
                )
            failed += len(session_ids)
            first_error = first_error or error
    if first_error is not None:
        raise first_error
    return ExtractionSummary(extracted=extracted, failed=failed, skipped=len(ids) - len(sessions))


def metric_sets_from_trials(*, game: Game, trials: pd.DataFrame) -> None:
    """Store metrics for imported trial data (``session`` = game session id)."""
    result = game.extract(trials)
    session_ids = sorted(int(s) for s in trials["session"].unique())
    _store_results(game, result, session_ids)
    game_session_mark_scored(game_session_ids=session_ids)
