"""The trends page's read model: completions, trait means and a metric per ISO week, and drift.

Everything is about the organisation's *completed* attempts (every game finished),
placed in the ISO week (Monday to Sunday, in the site's time zone) of their
completion, optionally of one assessment only. Two cached reads:

* :func:`trends_overview`: completions per week (zero-filled from the first
  completion's week to this week); the mean trait z per week with its 95% interval
  (Student's t), against the organisation's current norm table; and each trait's
  drift: the population stability index of the raw trait scores of the attempts
  completed in the last :data:`RECENT_DAYS` days against the norm population's
  trait raw-score deciles (:mod:`pymetrics.analytics.stats.drift`).
* :func:`trends_metric`: one game metric's weekly median and interquartile range,
  and its drift against the norm's deciles of that metric.

Both are cached under the organisation's and the shared norms' scopes (every
completion, score and norm table bumps one of them) and today's date (the window
and the weeks move with the calendar). Plain JSON types only; None where a number
does not exist.

The other analytics pages of the same kind (:mod:`.insights`) reuse the scope and
metric helpers defined here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.analytics.stats.drift import (
    DECILES,
    MIN_N,
    PSI_SIGNIFICANT_ABOVE,
    PSI_STABLE_BELOW,
    Drift,
    drift_against_norm,
    iso_week_label,
    mean_interval,
    quartiles,
    week_range,
    week_start,
)
from pymetrics.assessments.models import Assessment, Attempt, AttemptState
from pymetrics.common.versions import NORMS_SCOPE, organization_scope
from pymetrics.games.registry import UnknownGameError, game_keys, get_game
from pymetrics.psychometrics import TraitMap, load_trait_map
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore
from pymetrics.scoring.selectors import current_norm_table

#: The recent window compared with the norms (drift, notes): the last four weeks.
RECENT_DAYS = 28


# --- scope helpers shared with the insights read model -------------------------------------


def analytics_scopes(organization: Organization) -> list[str]:
    """What these reads show: the organisation's attempts and scores, and the norms."""
    return [organization_scope(organization.pk), NORMS_SCOPE]


def scope_name(organization: Organization, assessment: Assessment | None) -> str:
    return f"{organization.pk}:{assessment.pk if assessment is not None else 'all'}"


def completed_attempts(
    *, organization: Organization, assessment: Assessment | None = None
) -> QuerySet[Attempt]:
    """The organisation's completed attempts (of one assessment, when given)."""
    attempts = Attempt.objects.filter(
        assessment__organization=organization,
        state=AttemptState.COMPLETED,
        completed_at__isnull=False,
    )
    if assessment is not None:
        attempts = attempts.filter(assessment=assessment)
    return attempts


def scope_games(*, organization: Organization, assessment: Assessment | None = None) -> list[str]:
    """The games of the assessment, or of all the organisation's assessments, in catalogue order."""
    if assessment is not None:
        wanted = set(assessment.games)
    else:
        wanted = set()
        for games in Assessment.objects.filter(organization=organization).values_list(
            "games", flat=True
        ):
            wanted.update(games)
    return [key for key in game_keys() if key in wanted]


def metric_options(games: Iterable[str]) -> list[dict[str, Any]]:
    """Every metric of ``games``, grouped by game: what the pages offer to choose from."""
    options = []
    for key in games:
        game = get_game(key)
        options.append(
            {
                "game": game.key,
                "title": game.title,
                "metrics": [
                    {
                        "key": f"{game.key}.{metric.name}",
                        "name": metric.name,
                        "description": metric.description,
                        "unit": metric.unit,
                    }
                    for metric in game.metrics
                ],
            }
        )
    return options


def metric_info(key: str) -> dict[str, Any] | None:
    """Game, name, description and unit of a ``"game.metric"`` key; None if unknown."""
    game_key, _, name = key.partition(".")
    try:
        game = get_game(game_key)
    except UnknownGameError:
        return None
    for metric in game.metrics:
        if metric.name == name:
            return {
                "key": key,
                "game": game.key,
                "game_title": game.title,
                "name": metric.name,
                "description": metric.description,
                "unit": metric.unit,
            }
    return None


def trait_map_of(table: NormTable | None) -> TraitMap:
    return TraitMap.from_dict(table.trait_map.definition) if table is not None else load_trait_map()


def default_metrics(games: Sequence[str], trait_map: TraitMap) -> list[str]:
    """One metric per game: the first the trait map uses, else the game's first."""
    used = trait_map.metric_keys()
    chosen = []
    for key in games:
        of_game = [metric for metric in used if metric.startswith(f"{key}.")]
        if of_game:
            chosen.append(of_game[0])
        else:
            metrics = get_game(key).metrics
            if metrics:
                chosen.append(f"{key}.{metrics[0].name}")
    return chosen


def norm_table_summary(table: NormTable | None) -> dict[str, Any] | None:
    if table is None:
        return None
    return {
        "id": table.pk,
        "name": table.name,
        "version": table.version,
        "simulated": table.is_simulated,
        "n": table.n_attempts,
        "population": table.population,
    }


def norm_metric(table: NormTable | None, key: str) -> dict[str, Any] | None:
    """The norm table's distribution of one metric (n, mean, sd, percentiles), if it has one."""
    if table is None:
        return None
    found = table.data.get("metrics", {}).get(key)
    return found if isinstance(found, dict) else None


def metric_values_by_attempt(
    attempts: QuerySet[Attempt], keys: Sequence[str]
) -> dict[int, dict[str, float]]:
    """Each attempt's newest value of each ``"game.metric"`` key (absent keys left out).

    One query per game; older extractor versions of a session are skipped.
    """
    by_game: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        game, _, name = key.partition(".")
        by_game[game].append(name)
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for game, names in by_game.items():
        rows = (
            MetricSet.objects.filter(game=game, game_session__attempt__in=attempts)
            .order_by("game_session_id", "-extractor_version")
            .values_list("game_session_id", "game_session__attempt_id", "values")
        )
        seen: set[int] = set()
        for session_id, attempt_id, values in rows.iterator(chunk_size=2000):
            if session_id in seen:
                continue
            seen.add(session_id)
            for name in names:
                value = values.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    found[attempt_id][f"{game}.{name}"] = float(value)
    return dict(found)


def drift_summary(drift: Drift) -> dict[str, Any]:
    """A :class:`Drift` as plain JSON: n, PSI, reading, noise level and the bins."""
    uppers: list[float | None] = [*drift.bins.edges, None]
    return {
        "n": drift.n,
        "psi": drift.psi,
        "status": drift.status,
        "beyond_noise": drift.beyond_noise,
        "noise_level": drift.noise_level,
        "bins": [
            {"upper": upper, "expected": expected, "actual": actual}
            for upper, expected, actual in zip(
                uppers, drift.bins.expected, drift.actual, strict=True
            )
        ],
    }


def _local_week(moment: datetime) -> date:
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.date()


def _recent_since(now: datetime) -> datetime:
    return now - timedelta(days=RECENT_DAYS)


# --- the overview ----------------------------------------------------------------------


def trends_overview(
    *, organization: Organization, assessment: Assessment | None = None
) -> dict[str, Any]:
    """Weekly completions, weekly trait means and trait drift. Shape::

    {
      "computed_at": ISO time,
      "weeks": [{"start": "2025-02-10", "label": "2025-W07", "completions": int,
                 "recent": bool (overlaps the drift window)}, ...],
      "completed": int, "simulated": bool (some completed candidate is a bot),
      "recent": {"days": 28, "since": ISO time, "completed": int},
      "norm_table": {"id", "name", "version", "simulated", "n", "population"} | None,
      "traits": [{"trait": str, "poles": [high, low],
                  "weekly": [{"n", "mean", "low", "high"} per week],
                  "drift": {"n", "psi", "status", "beyond_noise", "noise_level",
                            "bins": [{"upper", "expected", "actual"}]} | None}],
      "psi": {"stable_below": 0.1, "significant_above": 0.25, "min_n": 30,
              "levels": [10, ..., 90]},
    }
    """
    today = timezone.localdate()
    return cached(
        f"trends:{scope_name(organization, assessment)}:{today.isoformat()}",
        analytics_scopes(organization),
        lambda: _overview(organization, assessment, timezone.now()),
    )


def _overview(
    organization: Organization, assessment: Assessment | None, now: datetime
) -> dict[str, Any]:
    attempts = completed_attempts(organization=organization, assessment=assessment)
    counts: dict[date, int] = {}
    for row in (
        attempts.annotate(week=TruncWeek("completed_at"))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[_local_week(row["week"])] = counts.get(_local_week(row["week"]), 0) + row["n"]
    since = _recent_since(now)
    weeks = week_range(min(counts), max(max(counts), timezone.localdate())) if counts else []
    recent_week = week_start(_local_week(since))
    table = current_norm_table(organization_id=organization.pk)
    trait_map = trait_map_of(table)
    weekly: dict[tuple[str, date], dict[str, Any]] = {}
    recent_raw: dict[str, list[float]] = defaultdict(list)
    if table is not None:
        scores = TraitScore.objects.filter(norm_table=table, scored=True, attempt__in=attempts)
        for row in (
            scores.annotate(week=TruncWeek("attempt__completed_at"))
            .values("trait", "week")
            .annotate(n=Count("pk"), total=Sum("z"), squares=Sum(F("z") * F("z")))
            .order_by()
        ):
            # sums, not the database's standard deviation: SQLite's fails on one value
            n, mean = row["n"], row["total"] / row["n"]
            sd = math.sqrt(max(row["squares"] - n * mean * mean, 0.0) / (n - 1)) if n > 1 else None
            low, high = mean_interval(n, mean, sd)
            weekly[(row["trait"], _local_week(row["week"]))] = {
                "n": n,
                "mean": mean,
                "low": low,
                "high": high,
            }
        for name, raw in scores.filter(attempt__completed_at__gte=since).values_list(
            "trait", "raw"
        ):
            if raw is not None:
                recent_raw[name].append(raw)
    empty = {"n": 0, "mean": None, "low": None, "high": None}
    traits = []
    for trait in trait_map.traits:
        norm = table.data.get("traits", {}).get(trait.name) if table is not None else None
        drift = (
            drift_summary(
                drift_against_norm(
                    recent_raw.get(trait.name, []), norm["percentiles"], norm_n=int(norm["n"])
                )
            )
            if norm
            else None
        )
        traits.append(
            {
                "trait": trait.name,
                "poles": list(trait.poles),
                "weekly": [weekly.get((trait.name, week), empty) for week in weeks],
                "drift": drift,
            }
        )
    return {
        "computed_at": now.isoformat(),
        "weeks": [
            {
                "start": week.isoformat(),
                "label": iso_week_label(week),
                "completions": counts.get(week, 0),
                "recent": week >= recent_week,
            }
            for week in weeks
        ],
        "completed": sum(counts.values()),
        "simulated": attempts.filter(candidate__is_simulated=True).exists(),
        "recent": {
            "days": RECENT_DAYS,
            "since": since.isoformat(),
            "completed": attempts.filter(completed_at__gte=since).count(),
        },
        "norm_table": norm_table_summary(table),
        "traits": traits,
        "psi": {
            "stable_below": PSI_STABLE_BELOW,
            "significant_above": PSI_SIGNIFICANT_ABOVE,
            "min_n": MIN_N,
            "levels": list(DECILES),
        },
    }


# --- one metric ------------------------------------------------------------------------


def trends_metric(
    *, organization: Organization, key: str, assessment: Assessment | None = None
) -> dict[str, Any]:
    """One metric's weekly median and quartiles, and its drift. Shape::

        {
          "key": "balloons.bursts", "game", "game_title", "name", "description", "unit",
          "n": completed attempts with the metric,
          "weekly": [{"start": "2025-02-10", "n", "q1", "median", "q3"}] (weeks with values),
          "drift": {... as in trends_overview} | None (the norm table has no such metric),
        }

    ``key`` must be a known ``"game.metric"`` (the page checks it against the catalogue).
    """
    info = metric_info(key)
    if info is None:
        raise ValueError(f"unknown metric {key!r}")
    today = timezone.localdate()
    return cached(
        f"trends-metric:{scope_name(organization, assessment)}:{key}:{today.isoformat()}",
        analytics_scopes(organization),
        lambda: _metric(organization, assessment, info, timezone.now()),
    )


def _metric(
    organization: Organization,
    assessment: Assessment | None,
    info: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    key = info["key"]
    attempts = completed_attempts(organization=organization, assessment=assessment)
    completed_at = dict(attempts.values_list("pk", "completed_at"))
    values = metric_values_by_attempt(attempts, [key])
    by_week: dict[date, list[float]] = defaultdict(list)
    recent: list[float] = []
    since = _recent_since(now)
    for attempt_id, found in values.items():
        when = completed_at.get(attempt_id)
        if when is None or key not in found:
            continue
        by_week[week_start(_local_week(when))].append(found[key])
        if when >= since:
            recent.append(found[key])
    weekly = []
    for week in sorted(by_week):
        spread = quartiles(by_week[week])
        weekly.append(
            {
                "start": week.isoformat(),
                "n": spread.n,
                "q1": spread.q1,
                "median": spread.median,
                "q3": spread.q3,
            }
        )
    norm = norm_metric(current_norm_table(organization_id=organization.pk), key)
    return {
        **info,
        "n": sum(len(v) for v in by_week.values()),
        "weekly": weekly,
        "drift": drift_summary(
            drift_against_norm(recent, norm["percentiles"], norm_n=int(norm["n"]))
        )
        if norm
        else None,
    }
