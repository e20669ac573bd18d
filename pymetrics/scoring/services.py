"""Scoring: stored events to metric sets, metric sets to norm tables and trait scores.

One path for one session or a million: sessions are grouped by game, their events
bulk-loaded, turned into one trial table and reduced by the game's pure extractor
in a single vectorised call, and the results written in batches. Traits follow the
same shape: many attempts' metrics in one query, one vectorised inference
(:mod:`pymetrics.psychometrics`), one delete and one bulk insert.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment, Attempt, GameSession, GameSessionState
from pymetrics.assessments.services import (
    attempts_invalidate_cached_reads,
    game_session_mark_failed,
    game_session_mark_scored,
)
from pymetrics.common.errors import Conflict, ValidationFailed
from pymetrics.common.live import live_publish
from pymetrics.common.versions import (
    NORMS_SCOPE,
    bump,
    organization_norms_scope,
    organization_scope,
)
from pymetrics.events.selectors import events_frame, session_timing_stats
from pymetrics.games.base import COMMON_EVENT_TYPES, ExtractionResult, Game
from pymetrics.games.quality import merge_flags, session_quality_flags
from pymetrics.games.registry import all_games, get_game
from pymetrics.psychometrics import (
    NormTableData,
    TraitMap,
    TraitMapError,
    build_norms,
    infer_traits,
    load_trait_map,
    reliabilities_with_defaults,
    split_half_reliability,
    split_trials_odd_even,
)
from pymetrics.scoring.models import (
    MetricSet,
    NormPopulation,
    NormTable,
    TraitMapVersion,
    TraitScore,
)
from pymetrics.scoring.selectors import (
    AttemptMetrics,
    attempt_metrics,
    current_norm_table,
    next_trait_map_version,
)

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


# --- norms and traits ------------------------------------------------------------------

#: Attempts inferred per batch: one metrics query, one vectorised inference, one write.
INFER_BATCH = 2000
#: Players per game in a simulated reference population unless told otherwise.
DEFAULT_SIMULATED_PLAYERS = 1000


def trait_map_version_get_or_create(*, version: int = 1) -> TraitMapVersion:
    """The stored trait map ``version``, loaded from the repository's data file once.

    A stored version whose definition no longer matches the file is refused: a
    changed map must get a new version number, or old scores would silently change
    meaning.
    """
    try:
        trait_map = load_trait_map(version)
    except TraitMapError as error:
        # a version registered from an adaptive proposal lives in the database only
        registered = TraitMapVersion.objects.filter(version=version).first()
        if registered is not None:
            return registered
        raise ValidationFailed(str(error)) from None
    definition = trait_map.to_dict()
    stored, _ = TraitMapVersion.objects.get_or_create(
        version=version, defaults={"definition": definition}
    )
    if stored.definition != definition:
        raise Conflict(
            f"trait map v{version} in the repository differs from the one stored; "
            "give the changed map a new version"
        )
    return stored


def trait_map_version_register(*, definition: Mapping[str, Any]) -> TraitMapVersion:
    """Store a new trait map version defined outside the repository (an adaptive proposal).

    It gets the next version number after every stored and shipped one, and is
    checked as the shipped maps are (``TraitMap.from_dict``). Scores are made
    against it only once a norm table is built with it.
    """
    with transaction.atomic():
        # two registrations at once would both take the same number: the unique
        # version makes the second fail rather than store a duplicate
        version = next_trait_map_version()
        try:
            trait_map = TraitMap.from_dict({**definition, "version": version})
        except TraitMapError as error:
            raise ValidationFailed(f"the proposed trait map is not valid: {error}") from None
        return TraitMapVersion.objects.create(version=version, definition=trait_map.to_dict())


@dataclass(frozen=True)
class NormPopulationData:
    """A population's metrics, and the same from the odd and even halves of its trials."""

    metrics: pd.DataFrame
    odd: pd.DataFrame
    even: pd.DataFrame


def _wide(results: dict[str, pd.DataFrame], index: pd.Index) -> pd.DataFrame:
    """Per-game metric frames (index = person) joined into one ``game.metric`` frame."""
    frames = [
        metrics.add_prefix(f"{game}.").reindex(index)
        for game, metrics in results.items()
        if not metrics.empty
    ]
    if not frames:
        return pd.DataFrame(index=index, dtype="float64")
    return pd.concat(frames, axis=1).astype("float64")


def _halves(
    trials_by_game: dict[str, pd.DataFrame], index: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    odd: dict[str, pd.DataFrame] = {}
    even: dict[str, pd.DataFrame] = {}
    for key, trials in trials_by_game.items():
        game = get_game(key)
        odd_trials, even_trials = split_trials_odd_even(trials)
        odd[key] = game.extract(odd_trials).metrics
        even[key] = game.extract(even_trials).metrics
    return _wide(odd, index), _wide(even, index)


def simulated_population(*, players: int, seed: int) -> NormPopulationData:
    """Bots of every game with latent parameters from each game's population model.

    Player ``i`` plays every game (independent latents per game), so a row of the
    result is one simulated candidate. Nothing touches the database.
    """
    rng = np.random.default_rng(seed)
    index = pd.Index(range(players), name="person")
    metrics: dict[str, pd.DataFrame] = {}
    trials_by_game: dict[str, pd.DataFrame] = {}
    for game in all_games():
        frames = []
        for player in range(players):
            config = game.make_config(int(rng.integers(0, 2**31 - 1)))
            events = game.play(game.sample_latent(rng), rng, config)
            frame = pd.DataFrame(events, columns=["seq", "t", "type", "data"])
            frame.insert(0, "session", player)
            frames.append(frame)
        events_frame_ = pd.concat(frames, ignore_index=True)
        trials = game.events_to_trials(
            events_frame_[events_frame_["type"].isin(game.trial_event_types)]
        )
        trials_by_game[game.key] = trials
        metrics[game.key] = game.extract(trials).metrics
    odd, even = _halves(trials_by_game, index)
    return NormPopulationData(metrics=_wide(metrics, index), odd=odd, even=even)


def _completed_attempt_ids(
    *, organization: Organization, assessment: Assessment | None
) -> list[int]:
    attempts = Attempt.objects.filter(
        candidate__organization=organization,
        game_sessions__state=GameSessionState.SCORED,
        candidate__is_simulated=False,
    ).exclude(game_sessions__invalidated_at__isnull=False)  # a reviewer judged it not theirs
    if assessment is not None:
        attempts = attempts.filter(assessment=assessment)
    return sorted(set(attempts.values_list("pk", flat=True)))


def recorded_population(*, attempt_ids: Sequence[int]) -> NormPopulationData:
    """Stored attempts' metrics, and their trials' odd/even halves re-extracted."""
    loaded = attempt_metrics(attempt_ids=attempt_ids)
    index = pd.Index(list(attempt_ids), name="person")
    sessions = GameSession.objects.filter(
        attempt_id__in=list(attempt_ids), state=GameSessionState.SCORED
    ).values_list("pk", "attempt_id", "game")
    by_game: dict[str, dict[int, int]] = defaultdict(dict)
    for session_id, attempt_id, key in sessions:
        by_game[key][session_id] = attempt_id
    trials_by_game: dict[str, pd.DataFrame] = {}
    for key, owners in by_game.items():
        game = get_game(key)
        events = events_frame(game_session_ids=list(owners), types=game.trial_event_types)
        trials = game.events_to_trials(events)
        trials["session"] = trials["session"].map(owners)
        trials_by_game[key] = trials
    odd, even = _halves(trials_by_game, index)
    return NormPopulationData(metrics=loaded.metrics.reindex(index), odd=odd, even=even)


def norm_table_build(
    *,
    population: str,
    name: str,
    organization: Organization | None = None,
    assessment: Assessment | None = None,
    players: int = DEFAULT_SIMULATED_PLAYERS,
    seed: int = 0,
    trait_map_version: int = 1,
    actor: Actor | None = None,
) -> NormTable:
    """Build and store the next version of the norm table ``name``.

    ``population``: ``simulated`` (bots; shared by every organisation unless one is
    given), ``organisation`` (that organisation's scored, real candidates) or
    ``assessment`` (one assessment's). Reliabilities are split-half estimates where
    at least 30 people were scorable on both halves, else the map's defaults.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed("a norm table needs a name", details={"name": ["is required"]})
    if population not in NormPopulation.values:
        raise ValidationFailed(
            f"unknown population {population!r}; choose one of {', '.join(NormPopulation.values)}"
        )
    trait_map_row = trait_map_version_get_or_create(version=trait_map_version)
    trait_map = TraitMap.from_dict(trait_map_row.definition)
    if population == NormPopulation.SIMULATED:
        if players < 2:
            raise ValidationFailed("a simulated population needs at least 2 players")
        data = simulated_population(players=players, seed=seed)
    else:
        if organization is None:
            raise ValidationFailed(f"a {population} norm table needs an organisation")
        if population == NormPopulation.ASSESSMENT and assessment is None:
            raise ValidationFailed("an assessment norm table needs an assessment")
        attempt_ids = _completed_attempt_ids(
            organization=organization,
            assessment=assessment if population == NormPopulation.ASSESSMENT else None,
        )
        if len(attempt_ids) < 2:
            raise ValidationFailed(
                f"only {len(attempt_ids)} scored candidate(s) in this population; "
                "norms need at least 2"
            )
        data = recorded_population(attempt_ids=attempt_ids)
    norms = build_norms(data.metrics, trait_map)
    estimates = split_half_reliability(data.odd, data.even, norms, trait_map)
    chosen = reliabilities_with_defaults(estimates, trait_map)
    reliabilities = {
        trait.name: {
            "r": chosen[trait.name],
            "source": "split_half"
            if estimates.get(trait.name, (None, 0))[0] is not None
            else "default",
            "n": estimates.get(trait.name, (None, 0))[1],
        }
        for trait in trait_map.traits
    }
    with transaction.atomic():
        owner = NormTable.objects.select_for_update().filter(organization=organization, name=name)
        version = (owner.aggregate(latest=Max("version"))["latest"] or 0) + 1
        table = NormTable.objects.create(
            organization=organization,
            assessment=assessment if population == NormPopulation.ASSESSMENT else None,
            name=name,
            version=version,
            population=population,
            is_simulated=population == NormPopulation.SIMULATED,
            trait_map=trait_map_row,
            n_attempts=len(data.metrics),
            data=norms.to_dict(),
            reliabilities=reliabilities,
        )
        audit_log_record(
            actor=actor,
            organization=organization,
            action="norm_table.build",
            object_type="norm_table",
            object_id=table.pk,
            details={"name": name, "version": version, "population": population},
        )
        # a shared reference (no organisation) may apply to every organisation
        if organization is None:
            bump(NORMS_SCOPE)
        else:
            bump(organization_scope(organization.pk), organization_norms_scope(organization.pk))
    return table


@dataclass(frozen=True)
class InferenceSummary:
    attempts: int
    scored_traits: int
    unscored_traits: int


def _store_trait_scores(
    table: NormTable, inferred: pd.DataFrame, loaded: AttemptMetrics, trait_map: TraitMap
) -> None:
    """Replace the batch's scores for this norm table and map: one delete, one insert."""
    games_of = {
        trait.name: sorted({metric.game for metric in trait.metrics}) for trait in trait_map.traits
    }

    def number(value: Any) -> float | None:
        return None if pd.isna(value) else float(value)

    rows: list[dict[str, Any]] = []
    for record in inferred.to_dict("records"):
        attempt_id = int(record["person"])
        games = games_of[record["trait"]]
        flags = loaded.flags[attempt_id]
        versions = loaded.extractor_versions[attempt_id]
        rows.append(
            {
                "attempt_id": attempt_id,
                "trait": str(record["trait"]),
                "scored": bool(record["scored"]),
                **{column: number(record[column]) for column in _TRAIT_NUMBER_COLUMNS},
                "metrics_present": int(record["metrics_present"]),
                "metrics_total": int(record["metrics_total"]),
                "reliability": float(record["reliability"]),
                "reason": str(record["reason"]),
                "quality_flags": sorted({f for game in games for f in flags.get(game, [])}),
                "extractor_versions": {g: versions[g] for g in games if g in versions},
            }
        )
    attempt_ids = sorted({row["attempt_id"] for row in rows})
    now = timezone.now()
    with transaction.atomic():
        # Two games of one attempt may finish on two workers at once: lock the attempts
        # (in id order, so batches cannot deadlock) so their replacements take turns.
        list(
            Attempt.objects.select_for_update()
            .filter(pk__in=attempt_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        TraitScore.objects.filter(
            attempt_id__in=attempt_ids, norm_table=table, trait_map_id=table.trait_map_id
        ).delete()
        _insert_trait_scores(table, rows, now)
        attempts_invalidate_cached_reads(attempt_ids)


_TRAIT_NUMBER_COLUMNS = (
    "raw",
    "z",
    "percentile",
    "z_low",
    "z_high",
    "percentile_low",
    "percentile_high",
)


def _insert_trait_scores(table: NormTable, rows: list[dict[str, Any]], now: Any) -> None:
    """Insert trait score rows; on PostgreSQL as one JSON document (see ADR 7).

    Building and binding tens of thousands of model instances costs several times
    the whole inference; the server unpacks the document in one statement instead.
    Other databases take Django's bulk insert.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                _PG_TRAIT_INSERT_SQL, [table.pk, table.trait_map_id, now, json.dumps(rows)]
            )
        return
    TraitScore.objects.bulk_create(
        [
            TraitScore(norm_table=table, trait_map_id=table.trait_map_id, computed_at=now, **row)
            for row in rows
        ],
        batch_size=2000,
    )


_PG_TRAIT_INSERT_SQL = f"""
    INSERT INTO "{TraitScore._meta.db_table}" (
        norm_table_id, trait_map_id, computed_at, attempt_id, trait, scored, raw, z,
        percentile, z_low, z_high, percentile_low, percentile_high, metrics_present,
        metrics_total, reliability, reason, quality_flags, extractor_versions
    )
    SELECT %s, %s, %s, r.attempt_id, r.trait, r.scored, r.raw, r.z, r.percentile, r.z_low,
        r.z_high, r.percentile_low, r.percentile_high, r.metrics_present, r.metrics_total,
        r.reliability, r.reason, r.quality_flags, r.extractor_versions
    FROM jsonb_to_recordset(%s::jsonb) AS r(
        attempt_id bigint, trait text, scored boolean, raw double precision,
        z double precision, percentile double precision, z_low double precision,
        z_high double precision, percentile_low double precision,
        percentile_high double precision, metrics_present smallint, metrics_total smallint,
        reliability double precision, reason text, quality_flags jsonb, extractor_versions jsonb
    )
"""  # noqa: S608 - the table name comes from model metadata; values are parameters  # nosec B608


def _infer_against(table: NormTable, attempt_ids: list[int]) -> tuple[int, int]:
    trait_map = TraitMap.from_dict(table.trait_map.definition)
    norms = NormTableData.from_dict(table.data)
    reliabilities = {trait: entry["r"] for trait, entry in table.reliabilities.items()}
    scored = unscored = 0
    for start in range(0, len(attempt_ids), INFER_BATCH):
        batch = attempt_ids[start : start + INFER_BATCH]
        loaded = attempt_metrics(attempt_ids=batch)
        inferred = infer_traits(loaded.metrics, norms, trait_map, reliabilities)
        _store_trait_scores(table, inferred, loaded, trait_map)
        count = int(inferred["scored"].sum())
        scored += count
        unscored += len(inferred) - count
    return scored, unscored


def traits_infer(*, attempt_ids: Iterable[int]) -> InferenceSummary:
    """Infer and store the traits of attempts against their organisations' current norms.

    Safe to run again: an attempt's scores for a norm table and trait map are
    replaced, never duplicated. Attempts of an organisation with no norm table at
    all (not even a shared simulated one) are left unscored.
    """
    ids = sorted(set(attempt_ids))
    by_table: dict[int, list[int]] = defaultdict(list)
    tables: dict[int, NormTable | None] = {}
    table_of_org: dict[int, NormTable | None] = {}
    for attempt_id, organization_id in Attempt.objects.filter(pk__in=ids).values_list(
        "pk", "candidate__organization_id"
    ):
        if organization_id not in table_of_org:
            table_of_org[organization_id] = current_norm_table(organization_id=organization_id)
        table = table_of_org[organization_id]
        if table is not None:
            tables[table.pk] = table
            by_table[table.pk].append(attempt_id)
    scored = unscored = 0
    for table_id, table_attempts in by_table.items():
        table = tables[table_id]
        assert table is not None
        done, skipped = _infer_against(table, table_attempts)
        scored += done
        unscored += skipped
    return InferenceSummary(
        attempts=sum(len(a) for a in by_table.values()),
        scored_traits=scored,
        unscored_traits=unscored,
    )


def attempts_scored_by(*, norm_table: NormTable) -> list[int]:
    """Attempts with metrics whose organisation is now scored against ``norm_table``.

    An organisation's own table applies to its attempts while it is that
    organisation's newest; the newest shared simulated table applies to every
    organisation without a table of its own.
    """
    if norm_table.organization_id is not None:
        current = current_norm_table(organization_id=norm_table.organization_id)
        if current is None or current.pk != norm_table.pk:
            return []
        attempts = Attempt.objects.filter(candidate__organization_id=norm_table.organization_id)
    else:
        newest_shared = (
            NormTable.objects.filter(organization__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if newest_shared is None or newest_shared.pk != norm_table.pk:
            return []
        attempts = Attempt.objects.exclude(candidate__organization__norm_tables__isnull=False)
    attempts = attempts.filter(game_sessions__metric_sets__isnull=False)
    return sorted(set(attempts.values_list("pk", flat=True)))


def traits_reinfer_for_norm_table(*, norm_table: NormTable) -> InferenceSummary:
    """Re-score, in batches, every attempt the new norm table now applies to (once each)."""
    return traits_infer(attempt_ids=attempts_scored_by(norm_table=norm_table))


def game_sessions_needing_extraction(*, game: str) -> list[int]:
    """Completed or scored sessions of ``game`` without a metric set of its current version."""
    definition = get_game(game)
    return list(
        GameSession.objects.filter(game=definition.key, state__in=_EXTRACTABLE_STATES)
        .exclude(metric_sets__extractor_version=definition.extractor_version)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


#: Above this many attempts in one inference (a batch re-score), candidates' own
#: TraitStream groups are not told one by one; the assessments' dashboards are.
ANNOUNCE_PER_CANDIDATE_LIMIT = 50
#: Attempt ids listed in one dashboard message; the count is always exact.
ANNOUNCE_MAX_IDS = 200


def trait_scores_announce(*, attempt_ids: Sequence[int]) -> int:
    """Tell live staff views that trait scores landed; returns the messages sent.

    Groups: ``traits.<candidate id>`` (TraitStream) gets ``traits.updated`` per attempt
    when few attempts were scored; ``dashboard.<assessment id>`` (Dashboard) gets one
    ``scores.updated`` per assessment, however many. Messages carry ids, not scores:
    consumers read the scores through the same selectors as the API, with the
    viewer's permissions. A notice that cannot be sent costs the live update only;
    the scores are stored and the pages show them on the next read.
    """
    if not attempt_ids:
        return 0
    rows = list(
        Attempt.objects.filter(pk__in=list(attempt_ids)).values_list(
            "pk", "candidate_id", "assessment_id"
        )
    )
    messages: list[tuple[str, dict[str, Any]]] = []
    if len(rows) <= ANNOUNCE_PER_CANDIDATE_LIMIT:
        messages += [
            (
                f"traits.{candidate_id}",
                {"type": "traits.updated", "candidate_id": candidate_id, "attempt_id": attempt_id},
            )
            for attempt_id, candidate_id, _ in rows
        ]
    by_assessment: dict[int, list[int]] = defaultdict(list)
    for attempt_id, _, assessment_id in rows:
        by_assessment[assessment_id].append(attempt_id)
    messages += [
        (
            f"dashboard.{assessment_id}",
            {
                "type": "scores.updated",
                "assessment_id": assessment_id,
                "count": len(ids),
                "attempt_ids": sorted(ids)[:ANNOUNCE_MAX_IDS],
            },
        )
        for assessment_id, ids in sorted(by_assessment.items())
    ]
    return sum(live_publish(group, message) for group, message in messages)
