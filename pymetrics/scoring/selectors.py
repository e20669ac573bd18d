"""Reads of stored metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import GameSession
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.scoring.models import MetricSet


def latest_metric_set(game_session: GameSession) -> MetricSet | None:
    """The newest extractor version's metrics (uses prefetched ``metric_sets`` if loaded)."""
    metric_sets = list(game_session.metric_sets.all())
    if not metric_sets:
        return None
    return max(metric_sets, key=lambda metric_set: metric_set.extractor_version)


def _ordered_metric_names(game_key: str, values: dict[str, float]) -> list[str]:
    """Metric names in the game's documented order (JSON storage may reorder keys)."""
    try:
        declared = [metric.name for metric in get_game(game_key).metrics]
    except UnknownGameError:
        declared = []
    ordered = [name for name in declared if name in values]
    return ordered + sorted(set(values) - set(ordered))


@dataclass(frozen=True)
class MetricRow:
    participant: str
    game: str
    metric: str
    value: float


def metric_rows(
    *,
    organization: Organization,
    game: str | None = None,
    assessment_name: str | None = None,
) -> Iterator[MetricRow]:
    """One row per (participant, game, metric) from each session's newest metric set.

    Streams in chunks so exporting a large organisation does not hold it in memory.
    """
    queryset: QuerySet[MetricSet] = MetricSet.objects.filter(
        game_session__attempt__candidate__organization=organization
    )
    if game:
        queryset = queryset.filter(game=game)
    if assessment_name:
        queryset = queryset.filter(game_session__attempt__assessment__name=assessment_name)
    rows = queryset.order_by(
        "game_session__attempt__candidate_id",
        "game_session__position",
        "game_session_id",
        "-extractor_version",
    ).values_list(
        "game_session_id",
        "game",
        "values",
        "game_session__attempt__candidate_id",
        "game_session__attempt__candidate__external_id",
    )
    seen: set[int] = set()
    for session_id, game_key, values, candidate_id, external_id in rows.iterator(chunk_size=2000):
        if session_id in seen:
            continue  # an older extractor version of a session already exported
        seen.add(session_id)
        participant = external_id or str(candidate_id)
        for metric in _ordered_metric_names(game_key, values):
            value = values[metric]
            yield MetricRow(participant=participant, game=game_key, metric=metric, value=value)
