"""Reads of stored metrics, norm tables and trait scores."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from django.db.models import F, Max, Q, QuerySet

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import (
    Candidate,
    GameSession,
    GameSessionSource,
    GameSessionState,
)
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.psychometrics.trait_map import shipped_trait_map_versions
from pymetrics.scoring.models import MetricSet, NormTable, TraitMapVersion, TraitScore


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


# --- traits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptMetrics:
    """The newest metrics of many attempts, shaped for the trait mathematics.

    ``metrics`` is wide: one row per attempt id, one column per ``"game.metric"``,
    NaN where a metric is absent. ``flags`` and ``extractor_versions`` are per
    attempt and game, so a trait score can carry the flags of the games behind it
    and record which extractor produced each input.
    """

    metrics: pd.DataFrame
    flags: dict[int, dict[str, list[str]]]
    extractor_versions: dict[int, dict[str, int]]


def attempt_metrics(*, attempt_ids: Sequence[int]) -> AttemptMetrics:
    """One query for many attempts: each game session's newest metric set."""
    rows = (
        MetricSet.objects.filter(game_session__attempt_id__in=list(attempt_ids))
        .order_by("game_session_id", "-extractor_version")
        .values_list(
            "game_session_id",
            "game_session__attempt_id",
            "game",
            "extractor_version",
            "values",
            "quality_flags",
        )
    )
    records: dict[int, dict[str, float]] = {attempt_id: {} for attempt_id in attempt_ids}
    flags: dict[int, dict[str, list[str]]] = {attempt_id: {} for attempt_id in attempt_ids}
    versions: dict[int, dict[str, int]] = {attempt_id: {} for attempt_id in attempt_ids}
    seen: set[int] = set()
    for session_id, attempt_id, game, version, values, quality_flags in rows.iterator(
        chunk_size=5000
    ):
        if session_id in seen:
            continue  # an older extractor version of a session already read
        seen.add(session_id)
        record = records[attempt_id]
        for name, value in values.items():
            record[f"{game}.{name}"] = value
        flags[attempt_id][game] = list(quality_flags)
        versions[attempt_id][game] = version
    frame = pd.DataFrame.from_dict(records, orient="index", dtype="float64")
    frame.index.name = "attempt"
    return AttemptMetrics(metrics=frame, flags=flags, extractor_versions=versions)


def current_norm_table(*, organization_id: int) -> NormTable | None:
    """The norm table an organisation's candidates are scored against (one query).

    Its own newest table (built from its assessments or organisation) wins; without
    one, the newest shared simulated reference population is used.
    """
    return (
        NormTable.objects.filter(Q(organization_id=organization_id) | Q(organization__isnull=True))
        .order_by(F("organization_id").asc(nulls_last=True), "-created_at", "-pk")
        .select_related("trait_map")
        .first()
    )


def trait_scores_of_candidate(*, candidate: Candidate) -> list[TraitScore]:
    """Every attempt's trait scores under the organisation's current norm table (two queries)."""
    table = current_norm_table(organization_id=candidate.organization_id)
    if table is None:
        return []
    return list(
        TraitScore.objects.filter(attempt__candidate=candidate, norm_table=table)
        .select_related("norm_table", "trait_map")
        .order_by("attempt_id", "pk")
    )


def trait_scores_by_attempt(
    *, attempt_ids: Sequence[int], norm_table: NormTable
) -> dict[int, dict[str, TraitScore]]:
    """Many attempts' trait scores under one norm table, in one query."""
    scores: dict[int, dict[str, TraitScore]] = {attempt_id: {} for attempt_id in attempt_ids}
    for score in TraitScore.objects.filter(
        attempt_id__in=list(attempt_ids), norm_table=norm_table
    ).order_by("pk"):
        scores[score.attempt_id][score.trait] = score
    return scores


@dataclass(frozen=True)
class TraitRow:
    participant: str
    trait: str
    score: float
    percentile: float
    ci_low: float
    ci_high: float


def trait_rows(
    *, organization: Organization, assessment_name: str | None = None
) -> Iterator[TraitRow]:
    """One row per (participant, trait) scored against the organisation's current norms.

    ``score`` is the trait z; ``ci_low``/``ci_high`` the 90% interval in z units.
    Unscored traits (too few metrics) are left out, as absent metrics are.
    """
    table = current_norm_table(organization_id=organization.pk)
    if table is None:
        return
    queryset = TraitScore.objects.filter(
        norm_table=table, scored=True, attempt__candidate__organization=organization
    )
    if assessment_name:
        queryset = queryset.filter(attempt__assessment__name=assessment_name)
    rows = queryset.order_by("attempt__candidate_id", "attempt_id", "pk").values_list(
        "trait",
        "z",
        "percentile",
        "z_low",
        "z_high",
        "attempt__candidate_id",
        "attempt__candidate__external_id",
    )
    for trait, z, percentile, z_low, z_high, candidate_id, external_id in rows.iterator(
        chunk_size=2000
    ):
        yield TraitRow(
            participant=external_id or str(candidate_id),
            trait=trait,
            score=_stored_number(z),
            percentile=_stored_number(percentile),
            ci_low=_stored_number(z_low),
            ci_high=_stored_number(z_high),
        )


def _stored_number(value: float | None) -> float:
    """Scored traits always carry all four numbers; a missing one shows as NaN, never 0."""
    return float("nan") if value is None else float(value)


def next_trait_map_version() -> int:
    """The number the next registered trait map version gets: after every stored and
    shipped one (what :func:`pymetrics.scoring.services.trait_map_version_register`
    gives it, read without the lock)."""
    latest = TraitMapVersion.objects.aggregate(latest=Max("version"))["latest"] or 0
    return max(latest, shipped_trait_map_versions()[-1]) + 1


def game_sessions_waiting_for_scores(*, completed_before: datetime) -> list[int]:
    """Ids of played games completed before ``completed_before`` and still not scored.

    A game waits in ``completed`` from the moment it ends until its extraction task
    stores its metrics (``scored``) or gives up (``failed``). One that waits far
    longer than the scoring lag lost its task: the broker's queue was lost, say.
    Imported sessions are scored by their import, never by a task.
    """
    return list(
        GameSession.objects.filter(
            state=GameSessionState.COMPLETED, completed_at__lt=completed_before
        )
        .exclude(source=GameSessionSource.IMPORT)
        .order_by("completed_at", "pk")
        .values_list("pk", flat=True)
    )
