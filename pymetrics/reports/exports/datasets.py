"""The four export datasets: their columns, and their rows read from the database in batches.

Every dataset starts with the columns of the export commands (DESIGN.md 4.2), in
their order, and adds documented columns after them. ``participant`` is the
candidate's external id where there is one, else the candidate id.

Rows are read in pages, never all at once: metrics, traits and fit scores walk the
scope's attempts (one streamed query, ordered by id) in pages and read each page's
records in one query; events walk the scope's game sessions the same way and read
their events in chunks by keyset (``(game session, seq) > last``), in the event
store's own order. Each :class:`Batch` says how many *source records* it
consumed (metric sets, trait scores, fit scores, events), which is what the job's
progress counts.

Order (deterministic):

- metrics: by attempt id; within an attempt by game position, then game session id;
  metrics in the game's documented order. Each session's newest extractor version.
- traits: by attempt id, then in the trait map's order (as stored). Scored traits
  under the organisation's current norm table only (as ``export_traits``).
- fit scores: by attempt id, then role name, then model version.
- events: by game session id, then seq (every stored event, superseded sessions too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from pymetrics.assessments.models import Attempt, GameSession
from pymetrics.events.models import Event
from pymetrics.fitmodels.models import FitScore
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.reports.exports.writers import Column
from pymetrics.scoring.models import MetricSet, TraitScore
from pymetrics.scoring.selectors import current_norm_table

#: Attempts read per page (metrics: ~12 sessions x ~6 metrics each per attempt).
METRIC_ATTEMPTS_PER_PAGE = 100
#: Attempts read per page for traits and fit scores (~9 rows per attempt at most).
ATTEMPTS_PER_PAGE = 1000
#: Game sessions per page of the events dataset, and events per chunk.
SESSIONS_PER_PAGE = 200
EVENTS_PER_CHUNK = 5000

_PARTICIPANT = Column("participant", "text")
_ASSESSMENT = Column("assessment", "text")
_SIMULATED = Column("simulated", "bool")

METRIC_COLUMNS = (
    _PARTICIPANT,
    Column("game", "text"),
    Column("metric", "text"),
    Column("value", "float"),
    Column("extractor_version", "int"),
    Column("game_session", "int"),
    _ASSESSMENT,
    _SIMULATED,
)
TRAIT_COLUMNS = (
    _PARTICIPANT,
    Column("trait", "text"),
    Column("score", "float"),
    Column("percentile", "float"),
    Column("ci_low", "float"),
    Column("ci_high", "float"),
    Column("percentile_low", "float"),
    Column("percentile_high", "float"),
    Column("norm_table", "text"),
    Column("trait_map_version", "int"),
    _ASSESSMENT,
    _SIMULATED,
)
FIT_SCORE_COLUMNS = (
    _PARTICIPANT,
    Column("role", "text"),
    Column("model_version", "int"),
    Column("score", "float"),
    Column("passed", "bool"),
    Column("arm", "text"),
    Column("scored_at", "datetime"),
    Column("model_status", "text"),
    Column("threshold", "float"),
    _ASSESSMENT,
    _SIMULATED,
)
EVENT_COLUMNS = (
    _PARTICIPANT,
    Column("game", "text"),
    Column("game_session", "int"),
    Column("seq", "int"),
    Column("t", "float"),
    Column("type", "text"),
    Column("data", "json"),
    Column("received_at", "datetime"),
    Column("session_state", "text"),
    _ASSESSMENT,
    _SIMULATED,
)


@dataclass(frozen=True)
class ExportScope:
    """What an export covers: one organisation's attempts, narrowed by a filter.

    ``completed_from`` / ``completed_to`` are whole days (inclusive) in the
    server's time zone and keep only attempts completed within them; ``game``
    narrows metrics and events to one game.
    """

    organization_id: int
    assessment_id: int | None = None
    attempt_state: str | None = None
    completed_from: date | None = None
    completed_to: date | None = None
    game: str | None = None
    include_simulated: bool = True

    def to_json(self) -> dict[str, Any]:
        """The filter as the job stores it (the organisation is the job's own)."""
        return {
            "assessment_id": self.assessment_id,
            "attempt_state": self.attempt_state,
            "completed_from": self.completed_from.isoformat() if self.completed_from else None,
            "completed_to": self.completed_to.isoformat() if self.completed_to else None,
            "game": self.game,
            "include_simulated": self.include_simulated,
        }

    @classmethod
    def from_json(cls, organization_id: int, stored: Mapping[str, Any]) -> ExportScope:
        def day(key: str) -> date | None:
            value = stored.get(key)
            return date.fromisoformat(value) if value else None

        return cls(
            organization_id=organization_id,
            assessment_id=stored.get("assessment_id"),
            attempt_state=stored.get("attempt_state"),
            completed_from=day("completed_from"),
            completed_to=day("completed_to"),
            game=stored.get("game"),
            include_simulated=bool(stored.get("include_simulated", True)),
        )


@dataclass(frozen=True)
class Batch:
    """Rows to write (tuples in column order) and the source records they came from."""

    rows: list[tuple[Any, ...]]
    units: int


@dataclass(frozen=True)
class Dataset:
    key: str
    columns: tuple[Column, ...]
    #: what progress counts, in words (the API and the docs say it)
    unit: str
    #: whether the ``game`` filter applies (metrics and events)
    by_game: bool
    count: Callable[[ExportScope], int]
    batches: Callable[[ExportScope], Iterator[Batch]]


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def scope_attempts(scope: ExportScope) -> QuerySet[Attempt]:
    """The organisation's attempts the scope covers."""
    attempts = Attempt.objects.filter(candidate__organization_id=scope.organization_id)
    if scope.assessment_id is not None:
        attempts = attempts.filter(assessment_id=scope.assessment_id)
    if scope.attempt_state:
        attempts = attempts.filter(state=scope.attempt_state)
    if scope.completed_from is not None:
        attempts = attempts.filter(completed_at__gte=_start_of(scope.completed_from))
    if scope.completed_to is not None:
        attempts = attempts.filter(
            completed_at__lt=_start_of(scope.completed_to + timedelta(days=1))
        )
    if not scope.include_simulated:
        attempts = attempts.filter(candidate__is_simulated=False)
    return attempts


@dataclass(frozen=True)
class _Attempt:
    participant: str
    assessment: str
    simulated: bool


def _pages(rows: QuerySet[Any, Any], size: int) -> Iterator[list[Any]]:
    """The rows of an ordered query, ``size`` at a time, from one streamed query.

    On PostgreSQL they come through a server-side cursor: the query is planned and
    sorted once, whatever the filter, and the client holds one page at a time.
    """
    stream = rows.iterator(chunk_size=size)
    while page := list(islice(stream, size)):
        yield page


def _attempt_pages(scope: ExportScope, size: int) -> Iterator[dict[int, _Attempt]]:
    """The scope's attempts by id, ``size`` at a time: ``{attempt id: who and where}``."""
    attempts = (
        scope_attempts(scope)
        .order_by("pk")
        .values_list(
            "pk",
            "candidate_id",
            "candidate__external_id",
            "candidate__is_simulated",
            "assessment__name",
        )
    )
    for page in _pages(attempts, size):
        yield {
            pk: _Attempt(
                participant=external_id or str(candidate_id),
                assessment=assessment,
                simulated=simulated,
            )
            for pk, candidate_id, external_id, simulated, assessment in page
        }


# --- metrics ---------------------------------------------------------------------------


def _metric_sets(scope: ExportScope) -> QuerySet[MetricSet]:
    metric_sets = MetricSet.objects.filter(game_session__attempt__in=scope_attempts(scope))
    return metric_sets.filter(game=scope.game) if scope.game else metric_sets


def _count_metrics(scope: ExportScope) -> int:
    """Game sessions with metrics (older extractor versions of a session not counted)."""
    return _metric_sets(scope).values("game_session_id").distinct().count()


def _metric_names(game: str, values: Mapping[str, Any]) -> list[str]:
    """The metrics present, in the game's documented order (JSON storage may reorder)."""
    try:
        declared = [metric.name for metric in get_game(game).metrics]
    except UnknownGameError:
        declared = []
    ordered = [name for name in declared if name in values]
    return ordered + sorted(set(values) - set(ordered))


def _metric_batches(scope: ExportScope) -> Iterator[Batch]:
    for page in _attempt_pages(scope, METRIC_ATTEMPTS_PER_PAGE):
        metric_sets = MetricSet.objects.filter(game_session__attempt_id__in=list(page))
        if scope.game:
            metric_sets = metric_sets.filter(game=scope.game)
        newest: dict[int, tuple[int, int, str, int, dict[str, Any]]] = {}
        for session_id, attempt_id, position, game, version, values in metric_sets.order_by(
            "game_session_id", "-extractor_version"
        ).values_list(
            "game_session_id",
            "game_session__attempt_id",
            "game_session__position",
            "game",
            "extractor_version",
            "values",
        ):
            newest.setdefault(session_id, (attempt_id, position, game, version, values))
        rows: list[tuple[Any, ...]] = []
        for session_id, (attempt_id, _, game, version, values) in sorted(
            newest.items(), key=lambda item: (item[1][0], item[1][1], item[0])
        ):
            who = page[attempt_id]
            rows.extend(
                (
                    who.participant,
                    game,
                    metric,
                    values[metric],
                    version,
                    session_id,
                    who.assessment,
                    who.simulated,
                )
                for metric in _metric_names(game, values)
            )
        if newest:
            yield Batch(rows=rows, units=len(newest))


# --- traits ------------------------------------------------------------------------------


def _count_traits(scope: ExportScope) -> int:
    table = current_norm_table(organization_id=scope.organization_id)
    if table is None:
        return 0
    return TraitScore.objects.filter(
        norm_table=table, scored=True, attempt__in=scope_attempts(scope)
    ).count()


def _trait_batches(scope: ExportScope) -> Iterator[Batch]:
    table = current_norm_table(organization_id=scope.organization_id)
    if table is None:
        return
    table_label = f"{table.name} v{table.version}"
    for page in _attempt_pages(scope, ATTEMPTS_PER_PAGE):
        scores = (
            TraitScore.objects.filter(attempt_id__in=list(page), norm_table=table, scored=True)
            .order_by("attempt_id", "pk")
            .values_list(
                "attempt_id",
                "trait",
                "z",
                "percentile",
                "z_low",
                "z_high",
                "percentile_low",
                "percentile_high",
                "trait_map__version",
            )
        )
        rows = [
            (
                page[attempt_id].participant,
                trait,
                z,
                percentile,
                z_low,
                z_high,
                percentile_low,
                percentile_high,
                table_label,
                map_version,
                page[attempt_id].assessment,
                page[attempt_id].simulated,
            )
            for (
                attempt_id,
                trait,
                z,
                percentile,
                z_low,
                z_high,
                percentile_low,
                percentile_high,
                map_version,
            ) in scores
        ]
        if rows:
            yield Batch(rows=rows, units=len(rows))


# --- fit scores --------------------------------------------------------------------------


def _count_fit_scores(scope: ExportScope) -> int:
    return FitScore.objects.filter(attempt__in=scope_attempts(scope)).count()


def _fit_score_batches(scope: ExportScope) -> Iterator[Batch]:
    for page in _attempt_pages(scope, ATTEMPTS_PER_PAGE):
        scores = (
            FitScore.objects.filter(attempt_id__in=list(page))
            .order_by(
                "attempt_id",
                "model_version__job_profile__name",
                "model_version__job_profile_id",
                "model_version__version",
            )
            .values_list(
                "attempt_id",
                "model_version__job_profile__name",
                "model_version__version",
                "score",
                "passed",
                "arm",
                "computed_at",
                "model_version__status",
                "model_version__threshold",
            )
        )
        rows = [
            (
                page[attempt_id].participant,
                role,
                version,
                score,
                passed,
                arm or None,
                computed_at,
                status,
                threshold,
                page[attempt_id].assessment,
                page[attempt_id].simulated,
            )
            for attempt_id, role, version, score, passed, arm, computed_at, status, threshold in (
                scores
            )
        ]
        if rows:
            yield Batch(rows=rows, units=len(rows))


# --- events ------------------------------------------------------------------------------


def _scope_sessions(scope: ExportScope) -> QuerySet[GameSession]:
    sessions = GameSession.objects.filter(attempt__in=scope_attempts(scope))
    return sessions.filter(game=scope.game) if scope.game else sessions


def _count_events(scope: ExportScope) -> int:
    return Event.objects.filter(game_session__in=_scope_sessions(scope)).count()


@dataclass(frozen=True)
class _Session:
    participant: str
    game: str
    state: str
    assessment: str
    simulated: bool


def _event_batches(scope: ExportScope) -> Iterator[Batch]:
    sessions = (
        _scope_sessions(scope)
        .order_by("pk")
        .values_list(
            "pk",
            "game",
            "state",
            "attempt__candidate_id",
            "attempt__candidate__external_id",
            "attempt__candidate__is_simulated",
            "attempt__assessment__name",
        )
    )
    for page in _pages(sessions, SESSIONS_PER_PAGE):
        yield from _events_of(
            {
                pk: _Session(
                    participant=external_id or str(candidate_id),
                    game=game,
                    state=state,
                    assessment=assessment,
                    simulated=simulated,
                )
                for pk, game, state, candidate_id, external_id, simulated, assessment in page
            }
        )


def _events_of(sessions: Mapping[int, _Session]) -> Iterator[Batch]:
    """The sessions' events in chunks, by ``(game session, seq)`` after the last one read."""
    events = Event.objects.filter(game_session_id__in=list(sessions)).order_by(
        "game_session_id", "seq"
    )
    after: tuple[int, int] | None = None
    while True:
        chunk = events
        if after is not None:
            chunk = chunk.filter(
                Q(game_session_id__gt=after[0]) | Q(game_session_id=after[0], seq__gt=after[1])
            )
        found = list(
            chunk.values_list("game_session_id", "seq", "t", "type", "data", "received_at")[
                :EVENTS_PER_CHUNK
            ]
        )
        if not found:
            return
        rows = []
        for session_id, seq, t, event_type, data, received_at in found:
            session = sessions[session_id]
            rows.append(
                (
                    session.participant,
                    session.game,
                    session_id,
                    seq,
                    t,
                    event_type,
                    data,
                    received_at,
                    session.state,
                    session.assessment,
                    session.simulated,
                )
            )
        yield Batch(rows=rows, units=len(rows))
        if len(found) < EVENTS_PER_CHUNK:
            return
        after = (found[-1][0], found[-1][1])


DATASETS: dict[str, Dataset] = {
    "metrics": Dataset(
        key="metrics",
        columns=METRIC_COLUMNS,
        unit="game sessions with metrics",
        by_game=True,
        count=_count_metrics,
        batches=_metric_batches,
    ),
    "traits": Dataset(
        key="traits",
        columns=TRAIT_COLUMNS,
        unit="trait scores",
        by_game=False,
        count=_count_traits,
        batches=_trait_batches,
    ),
    "fit_scores": Dataset(
        key="fit_scores",
        columns=FIT_SCORE_COLUMNS,
        unit="fit scores",
        by_game=False,
        count=_count_fit_scores,
        batches=_fit_score_batches,
    ),
    "events": Dataset(
        key="events",
        columns=EVENT_COLUMNS,
        unit="events",
        by_game=True,
        count=_count_events,
        batches=_event_batches,
    ),
}


def column_names(dataset: str) -> Sequence[str]:
    return [column.name for column in DATASETS[dataset].columns]
