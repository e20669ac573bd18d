"""The organisation's home: its assessments with their counts and recent activity, cached.

:func:`organization_home` reads everything the home page shows in three queries
and caches it under the organisation's scope, which every invite, start, game
completion and score of the organisation bumps after it commits. The day is part
of the cache name, so the 30-day window moves at midnight (local time), and so is
the organisation's creation time: ids come back when a database is recreated
while the cache lives on (a development reset, test databases), and another
organisation's home must never be read for this one's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.analytics.cache import cached
from pymetrics.analytics.stats.distributions import daily_counts
from pymetrics.assessments.models import Assessment, Attempt, AttemptState, GameSessionState
from pymetrics.common.versions import organization_scope
from pymetrics.scoring.models import MetricSet

#: Days of activity shown: the sparklines and the organisation's activity chart.
ACTIVITY_DAYS = 30


def organization_home(*, organization: Organization, today: date | None = None) -> dict[str, Any]:
    """The organisation's assessments (newest first) and completions per day. Shape::

        {
          "days": [ISO date, ...] (ACTIVITY_DAYS days, oldest first, ending today),
          "completions_per_day": [int, ...] (attempts completed that day, all assessments),
          "candidates_simulated": bool (any candidate of the organisation is a bot),
          "computed_at": ISO 8601,
          "assessments": [{"id": int, "name": str, "games": [key, ...],
                           "created_at": ISO 8601, "invited": int, "started": int,
                           "completed": int, "flagged": int, "simulated": int,
                           "completions_per_day": [int, ...]}, ...],
        }

    Counts are of attempts, as on the assessment dashboard: ``started`` includes
    those who went on to complete; ``flagged`` counts attempts with a quality flag
    on the newest metrics of any game; ``simulated`` attempts of simulated candidates.
    """
    day = today or timezone.localdate()
    born = int(organization.created_at.timestamp() * 1_000_000)
    return cached(
        f"home:{organization.pk}:{born}:{day.isoformat()}",
        [organization_scope(organization.pk)],
        lambda: _home(organization, day),
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _home(organization: Organization, today: date) -> dict[str, Any]:
    started = Q(attempts__started_at__isnull=False) | Q(
        attempts__state__in=(AttemptState.STARTED, AttemptState.COMPLETED)
    )
    assessments = list(
        Assessment.objects.filter(organization=organization)
        .annotate(
            invited=Count("attempts"),
            started=Count("attempts", filter=started),
            completed=Count("attempts", filter=Q(attempts__state=AttemptState.COMPLETED)),
            simulated=Count("attempts", filter=Q(attempts__candidate__is_simulated=True)),
        )
        .order_by("-created_at", "-pk")
        .values_list(
            "pk", "name", "games", "created_at", "invited", "started", "completed", "simulated"
        )
    )
    flagged = _flagged_attempts_by_assessment(organization)
    first = today - timedelta(days=ACTIVITY_DAYS - 1)
    since = timezone.make_aware(datetime.combine(first, time.min))
    days_by_assessment: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for assessment_id, day, count in (
        Attempt.objects.filter(
            assessment__organization=organization,
            state=AttemptState.COMPLETED,
            completed_at__gte=since,
        )
        .annotate(day=TruncDate("completed_at"))
        .order_by()
        .values("assessment_id", "day")
        .annotate(completions=Count("pk"))
        .values_list("assessment_id", "day", "completions")
    ):
        days_by_assessment[assessment_id].append((day, count))

    def per_day(pairs: list[tuple[date, int]]) -> list[int]:
        return daily_counts(
            [day for day, _ in pairs],
            weights=[count for _, count in pairs],
            last=today,
            length=ACTIVITY_DAYS,
        )

    return {
        "days": [(first + timedelta(days=offset)).isoformat() for offset in range(ACTIVITY_DAYS)],
        "completions_per_day": per_day(
            [pair for pairs in days_by_assessment.values() for pair in pairs]
        ),
        "candidates_simulated": any(row[7] for row in assessments),
        "computed_at": _iso(timezone.now()),
        "assessments": [
            {
                "id": pk,
                "name": name,
                "games": list(games),
                "created_at": _iso(created_at),
                "invited": invited,
                "started": started_count,
                "completed": completed,
                "flagged": flagged.get(pk, 0),
                "simulated": simulated,
                "completions_per_day": per_day(days_by_assessment.get(pk, [])),
            }
            for pk, name, games, created_at, invited, started_count, completed, simulated in (
                assessments
            )
        ],
    }


def _flagged_attempts_by_assessment(organization: Organization) -> dict[int, int]:
    """Attempts with a quality flag on the newest metrics of a current session, per assessment."""
    newer = MetricSet.objects.filter(
        game_session_id=OuterRef("game_session_id"),
        extractor_version__gt=OuterRef("extractor_version"),
    )
    return dict(
        MetricSet.objects.filter(game_session__attempt__assessment__organization=organization)
        .exclude(game_session__state=GameSessionState.SUPERSEDED)
        .exclude(quality_flags=[])
        .filter(~Exists(newer))
        .order_by()
        .values("game_session__attempt__assessment_id")
        .annotate(attempts=Count("game_session__attempt_id", distinct=True))
        .values_list("game_session__attempt__assessment_id", "attempts")
    )
