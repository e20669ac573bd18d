"""A candidate's profile: traits against the norms, every metric's standing, each game's timeline.

:func:`candidate_profile` reads the candidate's latest attempt (and lists the
others): its nine trait scores under the organisation's current norm table, every
metric of every game played with its z and percentile in that table, each game's
quality flags, and a timeline of each session drawn from its stored events
(``events_to_trials`` of the game, then :mod:`pymetrics.analytics.stats.timelines`).

The result is plain JSON-able data, cached under the candidate's scope, the
organisation's (its own norm tables) and the shared norms' scope: any new event,
state, metric set, trait score or norm table makes the next read compute afresh.
Personal data (name, e-mail) is never part of it: the page reads those from the
candidate row it already fetched, so the cache holds no decrypted PII.
"""

from __future__ import annotations

from typing import Any

from pymetrics.analytics.cache import cached
from pymetrics.analytics.stats.profiles import metric_standing
from pymetrics.analytics.stats.timelines import session_timeline
from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.common.db import read_snapshot
from pymetrics.common.versions import NORMS_SCOPE, candidate_scope, organization_norms_scope
from pymetrics.events.selectors import events_frame
from pymetrics.fitmodels.selectors import attempt_fit_summaries
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.psychometrics import TraitMap, load_trait_map
from pymetrics.scoring.models import NormTable, TraitScore
from pymetrics.scoring.selectors import current_norm_table, latest_metric_set


def profile_scopes(candidate: Candidate) -> list[str]:
    """What a profile shows: the candidate's data, the organisation's and the shared norms."""
    return [
        candidate_scope(candidate.pk),
        organization_norms_scope(candidate.organization_id),
        NORMS_SCOPE,
    ]


def candidate_profile(*, candidate: Candidate) -> dict[str, Any]:
    """The profile of a candidate already fetched within the viewer's organisation."""
    return cached(
        f"profile:{candidate.pk}",
        profile_scopes(candidate),
        lambda: _compute_profile(candidate),
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def norm_table_summary(table: NormTable | None) -> dict[str, Any] | None:
    """Which norm table scores are read against, as the pages name it."""
    if table is None:
        return None
    return {
        "id": table.pk,
        "name": table.name,
        "version": table.version,
        "population": table.population,
        "simulated": table.is_simulated,
        "n": table.n_attempts,
        "trait_map": table.trait_map.version,
    }


def trait_summary(trait_name: str, poles: tuple[str, str], score: TraitScore | None) -> dict:
    """One trait of a profile: z, percentile and 90% interval, or why it is not scored."""
    scored = bool(score and score.scored)
    return {
        "trait": trait_name,
        # the first pole is where high scores lie
        "poles": [poles[0], poles[1]],
        "scored": scored,
        "z": score.z if score and scored else None,
        "z_low": score.z_low if score and scored else None,
        "z_high": score.z_high if score and scored else None,
        "percentile": score.percentile if score and scored else None,
        "percentile_low": score.percentile_low if score and scored else None,
        "percentile_high": score.percentile_high if score and scored else None,
        "reliability": score.reliability if score else None,
        "metrics_present": score.metrics_present if score else None,
        "metrics_total": score.metrics_total if score else None,
        "reason": score.reason if score else "",
        "flags": list(score.quality_flags) if score else [],
    }


def _metric_rows(game_key: str, values: dict[str, float], norms: dict[str, Any]) -> list[dict]:
    """Every metric the game defines (absent ones too), then any others stored."""
    try:
        declared = list(get_game(game_key).metrics)
    except UnknownGameError:
        declared = []
    described = {metric.name: metric for metric in declared}
    names = [metric.name for metric in declared]
    names += sorted(set(values) - set(names))
    rows = []
    for name in names:
        value = values.get(name)
        norm = norms.get(f"{game_key}.{name}")
        standing = (
            metric_standing(float(value), norm)
            if value is not None
            else {"z": None, "percentile": None, "beyond": None}
        )
        metric = described.get(name)
        rows.append(
            {
                "name": name,
                "description": metric.description if metric else "",
                "unit": metric.unit if metric else "",
                "value": value,
                "normed": norm is not None,
                **standing,
            }
        )
    return rows


def _timelines(sessions: list[GameSession]) -> dict[int, dict[str, Any] | None]:
    """Each session's timeline, from one load of the events every game needs."""
    with_events = [s for s in sessions if s.event_count > 0]
    if not with_events:
        return {}
    types: set[str] = set()
    for session in with_events:
        try:
            types |= set(get_game(session.game).trial_event_types)
        except UnknownGameError:
            continue
    events = events_frame(game_session_ids=[s.pk for s in with_events], types=sorted(types))
    timelines: dict[int, dict[str, Any] | None] = {}
    for session in with_events:
        try:
            game = get_game(session.game)
        except UnknownGameError:
            continue
        mine = events[events["session"] == session.pk]
        trials = game.events_to_trials(mine)
        timeline = session_timeline(game.key, trials)
        timelines[session.pk] = timeline.to_dict() if timeline is not None else None
    return timelines


def _compute_profile(candidate: Candidate) -> dict[str, Any]:
    with read_snapshot():
        attempts = list(
            Attempt.objects.filter(candidate=candidate)
            .select_related("assessment")
            .order_by("created_at", "pk")
        )
        table = current_norm_table(organization_id=candidate.organization_id)
        latest = attempts[-1] if attempts else None
        sessions: list[GameSession] = []
        scores: dict[str, TraitScore] = {}
        if latest is not None:
            sessions = list(
                GameSession.objects.current()
                .filter(attempt=latest)
                .order_by("position")
                .prefetch_related("metric_sets")
            )
            if table is not None:
                scores = {
                    score.trait: score
                    for score in TraitScore.objects.filter(attempt=latest, norm_table=table)
                }
        timelines = _timelines(sessions)

    trait_map = (
        TraitMap.from_dict(table.trait_map.definition) if table is not None else load_trait_map()
    )
    norms = table.data.get("metrics", {}) if table is not None else {}
    games = []
    for session in sessions:
        metric_set = latest_metric_set(session)
        games.append(
            {
                "game": session.game,
                "session_id": session.pk,
                "position": session.position,
                "state": session.state,
                "source": session.source,
                "event_count": session.event_count,
                "completed_at": _iso(session.completed_at),
                "extractor_version": metric_set.extractor_version if metric_set else None,
                "flags": list(metric_set.quality_flags) if metric_set else [],
                "metrics": _metric_rows(session.game, metric_set.values, norms)
                if metric_set
                else [],
                "timeline": timelines.get(session.pk),
            }
        )
    return {
        "candidate_id": candidate.pk,
        "is_simulated": candidate.is_simulated,
        "attempt": _attempt_summary(latest) if latest else None,
        "attempts": [_attempt_summary(attempt) for attempt in reversed(attempts)],
        "norm_table": norm_table_summary(table),
        "traits": [
            trait_summary(trait.name, trait.poles, scores.get(trait.name))
            for trait in trait_map.traits
        ],
        "games": games,
        # the latest attempt's fit to each role, by its active model (none: empty)
        "fit": attempt_fit_summaries(attempt_id=latest.pk if latest else None),
    }


def _attempt_summary(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": attempt.pk,
        "assessment_id": attempt.assessment_id,
        "assessment_name": attempt.assessment.name,
        "state": attempt.state,
        "invited_at": _iso(attempt.created_at),
        "started_at": _iso(attempt.started_at),
        "completed_at": _iso(attempt.completed_at),
    }
