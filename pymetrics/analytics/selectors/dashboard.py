"""The assessment dashboard's read model: one JSON-able summary of an assessment, cached.

:func:`assessment_dashboard_summary` is what the staff dashboard page draws and
what the API's ``GET /api/v1/assessments/{id}/dashboard/`` answers. Its shape is
documented on the function and kept stable; ``docs/dashboard.md`` says what each
number means.

The summary is cached (:func:`pymetrics.analytics.cache.cached_reads`) under the
assessment's, its organisation's and the shared norms' scopes: invites, starts,
game completions, scores and new norm tables bump one of them after they commit,
so a read after any of these is computed afresh. "Playing now" depends on event
batches, which bump only their candidate's scope, so it is computed apart and
cached for a few seconds only (:data:`PLAYING_NOW_TTL_S`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from pymetrics.analytics.cache import Read, cached_reads
from pymetrics.analytics.stats.distributions import (
    histogram,
    mean,
    percentile_histogram,
    quantiles,
)
from pymetrics.analytics.stats.funnel import funnel_stages, game_dropoff
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    GameSession,
    GameSessionState,
)
from pymetrics.assessments.selectors import assessment_get
from pymetrics.common.versions import NORMS_SCOPE, assessment_scope, organization_norms_scope
from pymetrics.events.models import Event
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore
from pymetrics.scoring.selectors import current_norm_table

#: A candidate is "playing now" when one of their games is in progress and its
#: latest event arrived within this many seconds (games send events every few
#: seconds while played; a tab left open on a game for longer is not playing).
PLAYING_NOW_WINDOW_S = 300
#: How long the "playing now" count may be reused (event batches bump no scope it reads).
PLAYING_NOW_TTL_S = 15
#: Flagged candidates listed in the summary (newest attempts first); the count covers all.
FLAGGED_LISTED = 50
#: Target number of bins of the completion-time histogram.
COMPLETION_TIME_BINS = 12
#: Equal bins of the trait percentile histograms (10 bins of 10 percentile points).
TRAIT_PERCENTILE_BINS = 10

#: Game session states in which the candidate has finished playing the game.
FINISHED_STATES = (GameSessionState.COMPLETED, GameSessionState.SCORED, GameSessionState.FAILED)


def assessment_dashboard_summary(*, assessment: Assessment) -> dict[str, Any]:
    """The dashboard of ``assessment`` (already fetched within the viewer's organisation).

    Plain JSON types only (no NaN: a number that does not exist is None). Shape::

        {
          "assessment": {"id": int, "name": str, "games": [game key, ...]},
          "computed_at": ISO 8601 time the cached part was computed,
          "counts": {
            "invited": attempts (everyone invited, whatever happened next),
            "started": attempts started (a first game opened),
            "completed": attempts with every game finished,
            "expired": invitations expired unstarted (marked, or past their expiry),
            "withdrawn": attempts withdrawn,
            "flagged": attempts with a quality flag on any game,
            "simulated": attempts of simulated candidates (bots),
          },
          "candidates_simulated": bool (any candidate of the assessment is a bot),
          "funnel": {
            "stages": [{"stage": "invited" | "started" | "completed", "count": int,
                        "of_previous": float | None, "of_first": float | None}, ...],
            "games": [{"game": key, "title": str (English), "position": 1.., "reached": int,
                       "finished": int, "stopped_here": int, "stop_rate": float | None},
                      ...]  (battery order; see stats.funnel.game_dropoff),
          },
          "completion_minutes": {"n": int, "median": float | None, "p90": float | None,
                                 "bins": [{"low": float, "high": float, "count": int}, ...]},
          "traits": {
            "edges": [0, 10, ..., 100], "expected_share": [0.1, ...] (per bin, under the norm),
            "traits": [{"trait": str, "poles": [str, str], "n": int, "counts": [int, ...],
                        "shares": [float | None, ...], "mean_z": float | None}, ...]
          },  (completed candidates' scored traits under the norm table below; empty
               "traits" without a norm table)
          "quality_flags": {
            "flags": [{"code": str, "description": str (English), "candidates": int,
                       "sessions": int}, ...] (most candidates first),
            "candidates": [{"attempt_id": int, "candidate_id": int, "participant": str,
                            "simulated": bool, "flags": [{"game": key, "code": str}, ...]},
                           ...] (at most FLAGGED_LISTED, newest attempts first),
          },
          "norm_table": {"id": int, "name": str, "version": int, "simulated": bool,
                         "n_attempts": int, "trait_map_version": int} | None,
          "playing_now": {"count": int (candidates), "window_s": int,
                          "games": [{"game": key, "count": int}, ...], "computed_at": ISO},
        }
    """
    return orjson.loads(_read(assessment.organization_id, assessment.pk, assessment).body)


@dataclasses.dataclass(frozen=True)
class DashboardJson:
    """The dashboard summary as the API sends it, and who it names (for the audit log)."""

    body: bytes
    flagged_candidate_ids: list[int]


def assessment_dashboard_json(*, organization_id: int, assessment_id: int) -> DashboardJson:
    """:func:`assessment_dashboard_summary` of the organisation's assessment, as JSON.

    Served from the cache without a query when nothing it shows has changed: the
    entries are named after the organisation, so another organisation's id never
    finds one, misses, and the assessment is looked up within the organisation
    (NotFound, as for an id that does not exist). The summary is encoded once per
    version and "playing now" is spliced into it.
    """
    return _read(organization_id, assessment_id, None)


def _read(organization_id: int, assessment_id: int, assessment: Assessment | None) -> DashboardJson:
    fetched = [assessment] if assessment is not None else []

    def the_assessment() -> Assessment:
        if not fetched:
            fetched.append(
                assessment_get(organization=organization_id, assessment_id=assessment_id)
            )
        return fetched[0]

    def summary() -> tuple[bytes, list[int]]:
        found = _summary(the_assessment())
        flagged = [row["candidate_id"] for row in found["quality_flags"]["candidates"]]
        return orjson.dumps(found), flagged

    name = f"dashboard:{organization_id}:{assessment_id}"
    (body, flagged), playing = cached_reads(
        [
            Read(
                name,
                [
                    assessment_scope(assessment_id),
                    organization_norms_scope(organization_id),
                    NORMS_SCOPE,
                ],
                summary,
            ),
            Read(
                f"{name}:playing",
                [assessment_scope(assessment_id)],
                lambda: orjson.dumps(candidates_playing_now(assessment=the_assessment())),
                ttl_s=PLAYING_NOW_TTL_S,
            ),
        ]
    )
    return DashboardJson(body[:-1] + b',"playing_now":' + playing + b"}", flagged)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _game_title(key: str) -> str:
    try:
        return get_game(key).title
    except UnknownGameError:
        return key


def _summary(assessment: Assessment) -> dict[str, Any]:
    now = timezone.now()
    counts = _counts(assessment, now)
    flags = _quality_flags(assessment)
    counts["flagged"] = flags.pop("total")
    norm_table = current_norm_table(organization_id=assessment.organization_id)
    return {
        "assessment": {
            "id": assessment.pk,
            "name": assessment.name,
            "games": list(assessment.games),
        },
        "computed_at": _iso(now),
        "counts": counts,
        "candidates_simulated": counts["simulated"] > 0,
        "funnel": _funnel(assessment, counts),
        "completion_minutes": _completion_minutes(assessment),
        "traits": _traits(assessment, norm_table),
        "quality_flags": flags,
        "norm_table": _norm_table(norm_table),
    }


def _counts(assessment: Assessment, now: datetime) -> dict[str, int]:
    started = Q(started_at__isnull=False) | Q(
        state__in=(AttemptState.STARTED, AttemptState.COMPLETED)
    )
    expired = Q(state=AttemptState.EXPIRED) | Q(
        state=AttemptState.INVITED, invite_expires_at__lt=now
    )
    found = Attempt.objects.filter(assessment=assessment).aggregate(
        invited=Count("pk"),
        started=Count("pk", filter=started),
        completed=Count("pk", filter=Q(state=AttemptState.COMPLETED)),
        expired=Count("pk", filter=expired),
        withdrawn=Count("pk", filter=Q(state=AttemptState.WITHDRAWN)),
        simulated=Count("pk", filter=Q(candidate__is_simulated=True)),
    )
    return {
        key: int(found[key] or 0)
        for key in ("invited", "started", "completed", "expired", "withdrawn", "simulated")
    }


def _funnel(assessment: Assessment, counts: dict[str, int]) -> dict[str, Any]:
    games = list(assessment.games)
    index_of = {key: index for index, key in enumerate(games)}
    current = GameSession.objects.current().filter(attempt__assessment=assessment)
    finished_by_game = dict(
        current.filter(state__in=FINISHED_STATES)
        .order_by()
        .values("game")
        .annotate(finished=Count("pk"))
        .values_list("game", "finished")
    )
    first_unfinished: dict[int, int] = {}
    for attempt_id, game in (
        current.exclude(state__in=FINISHED_STATES)
        .order_by("attempt_id", "position")
        .values_list("attempt_id", "game")
    ):
        if attempt_id not in first_unfinished and game in index_of:
            first_unfinished[attempt_id] = index_of[game]
    stages = funnel_stages(
        [
            ("invited", counts["invited"]),
            ("started", counts["started"]),
            ("completed", counts["completed"]),
        ]
    )
    dropoff = game_dropoff(
        started=counts["started"],
        finished=[finished_by_game.get(key, 0) for key in games],
        first_unfinished=list(first_unfinished.values()),
    )
    return {
        "stages": [dataclasses.asdict(stage) for stage in stages],
        "games": [
            {
                "game": games[item.index],
                "title": _game_title(games[item.index]),
                "position": item.index + 1,
                "reached": item.reached,
                "finished": item.finished,
                "stopped_here": item.stopped_here,
                "stop_rate": item.stop_rate,
            }
            for item in dropoff
        ],
    }


def _completion_minutes(assessment: Assessment) -> dict[str, Any]:
    times = Attempt.objects.filter(
        assessment=assessment,
        state=AttemptState.COMPLETED,
        started_at__isnull=False,
        completed_at__isnull=False,
    ).values_list("started_at", "completed_at")
    minutes = [
        (completed - started).total_seconds() / 60.0
        for started, completed in times
        if started is not None and completed is not None
    ]
    summary = quantiles(minutes)
    bins = histogram(minutes, target_bins=COMPLETION_TIME_BINS)
    return {
        "n": summary.n,
        "median": summary.median,
        "p90": summary.p90,
        "bins": [
            {"low": low, "high": high, "count": count}
            for low, high, count in zip(bins.edges[:-1], bins.edges[1:], bins.counts, strict=True)
        ],
    }


def _traits(assessment: Assessment, norm_table: NormTable | None) -> dict[str, Any]:
    empty = percentile_histogram([], bins=TRAIT_PERCENTILE_BINS)
    result: dict[str, Any] = {
        "edges": empty.edges,
        "expected_share": empty.expected_share,
        "traits": [],
    }
    if norm_table is None:
        return result
    percentiles: dict[str, list[float]] = defaultdict(list)
    zs: dict[str, list[float]] = defaultdict(list)
    for trait, percentile, z in TraitScore.objects.filter(
        norm_table=norm_table,
        trait_map=norm_table.trait_map,
        scored=True,
        attempt__assessment=assessment,
        attempt__state=AttemptState.COMPLETED,
    ).values_list("trait", "percentile", "z"):
        if percentile is not None:
            percentiles[trait].append(percentile)
        if z is not None:
            zs[trait].append(z)
    for definition in norm_table.trait_map.definition.get("traits", []):
        name = definition["name"]
        shown = percentile_histogram(percentiles[name], bins=TRAIT_PERCENTILE_BINS)
        result["traits"].append(
            {
                "trait": name,
                "poles": list(definition.get("poles", [])),
                "n": shown.n,
                "counts": shown.counts,
                "shares": shown.shares,
                "mean_z": mean(zs[name]),
            }
        )
    return result


def _quality_flags(assessment: Assessment) -> dict[str, Any]:
    """Flags on the newest metric set of each current game session; ``total`` flagged attempts."""
    newer = MetricSet.objects.filter(
        game_session_id=OuterRef("game_session_id"),
        extractor_version__gt=OuterRef("extractor_version"),
    )
    rows = (
        MetricSet.objects.filter(game_session__attempt__assessment=assessment)
        .exclude(game_session__state=GameSessionState.SUPERSEDED)
        .exclude(quality_flags=[])
        .filter(~Exists(newer))
        .order_by("-game_session__attempt_id", "game_session__position")
        .values_list(
            "game_session__attempt_id",
            "game_session__attempt__candidate_id",
            "game_session__attempt__candidate__external_id",
            "game_session__attempt__candidate__is_simulated",
            "game",
            "quality_flags",
        )
    )
    candidates: dict[int, dict[str, Any]] = {}
    sessions_by_code: dict[str, int] = defaultdict(int)
    attempts_by_code: dict[str, set[int]] = defaultdict(set)
    for attempt_id, candidate_id, external_id, simulated, game, codes in rows:
        if not codes:
            continue
        entry = candidates.setdefault(
            attempt_id,
            {
                "attempt_id": attempt_id,
                "candidate_id": candidate_id,
                "participant": external_id or str(candidate_id),
                "simulated": bool(simulated),
                "flags": [],
            },
        )
        for code in codes:
            entry["flags"].append({"game": game, "code": code})
            sessions_by_code[code] += 1
            attempts_by_code[code].add(attempt_id)
    codes_shown = sorted(sessions_by_code, key=lambda c: (-len(attempts_by_code[c]), c))
    flags = [
        {
            "code": code,
            "description": FLAG_DESCRIPTIONS.get(code, code),
            "candidates": len(attempts_by_code[code]),
            "sessions": sessions_by_code[code],
        }
        for code in codes_shown
    ]
    return {
        "flags": flags,
        "candidates": list(candidates.values())[:FLAGGED_LISTED],
        "total": len(candidates),
    }


def _norm_table(norm_table: NormTable | None) -> dict[str, Any] | None:
    if norm_table is None:
        return None
    return {
        "id": norm_table.pk,
        "name": norm_table.name,
        "version": norm_table.version,
        "simulated": norm_table.is_simulated,
        "n_attempts": norm_table.n_attempts,
        "trait_map_version": norm_table.trait_map.version,
    }


def candidates_playing_now(*, assessment: Assessment) -> dict[str, Any]:
    """Candidates with a game in progress whose latest event arrived in the last few minutes.

    One query: the latest event of each in-progress session is read through the
    unique ``(game_session, seq)`` index (the highest seq is the latest batch).
    """
    now = timezone.now()
    latest_event = (
        Event.objects.filter(game_session_id=OuterRef("pk")).order_by("-seq").values("received_at")
    )[:1]
    rows = (
        GameSession.objects.filter(
            attempt__assessment=assessment, state=GameSessionState.IN_PROGRESS
        )
        .annotate(last_event_at=Subquery(latest_event))
        .filter(last_event_at__gte=now - timedelta(seconds=PLAYING_NOW_WINDOW_S))
        .order_by()
        .values_list("attempt_id", "game")
    )
    attempts: set[int] = set()
    by_game: dict[str, set[int]] = defaultdict(set)
    for attempt_id, game in rows:
        attempts.add(attempt_id)
        by_game[game].add(attempt_id)
    order = {key: index for index, key in enumerate(assessment.games)}
    return {
        "count": len(attempts),
        "window_s": PLAYING_NOW_WINDOW_S,
        "games": [
            {"game": game, "count": len(by_game[game])}
            for game in sorted(by_game, key=lambda key: (order.get(key, len(order)), key))
        ],
        "computed_at": _iso(now),
    }
