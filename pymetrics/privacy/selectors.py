"""Reads of candidates' data rights, always scoped to an organisation."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Attempt, Candidate, ConsentRecord, GameSession
from pymetrics.common.errors import NotFound
from pymetrics.events.models import Event
from pymetrics.privacy.models import CandidateArchive, ErasureRecord


def consent_records_for_candidate(*, candidate: Candidate) -> QuerySet[ConsentRecord]:
    """The candidate's consent records, oldest first, with their attempt's assessment."""
    return (
        ConsentRecord.objects.filter(candidate=candidate)
        .select_related("attempt__assessment")
        .order_by("given_at", "pk")
    )


def candidate_archive_get(*, organization_id: int, archive_id: int) -> CandidateArchive:
    """The organisation's archive, or NotFound (also for another organisation's id)."""
    archive = (
        CandidateArchive.objects.filter(organization_id=organization_id, pk=archive_id)
        .select_related("candidate")
        .first()
    )
    if archive is None:
        raise NotFound(f"data export {archive_id} not found")
    return archive


def candidate_archive_latest(*, candidate: Candidate) -> CandidateArchive | None:
    return (
        CandidateArchive.objects.filter(candidate=candidate).order_by("-created_at", "-pk").first()
    )


def erasure_records(*, organization: Organization, limit: int = 50) -> list[ErasureRecord]:
    """The organisation's latest erasures, newest first, with who did them."""
    return list(
        ErasureRecord.objects.filter(organization=organization)
        .select_related("erased_by")
        .order_by("-erased_at", "-pk")[:limit]
    )


def erasure_get(*, organization: Organization, reference: str) -> ErasureRecord:
    record = ErasureRecord.objects.filter(
        organization=organization, reference=reference.strip().upper()
    ).first()
    if record is None:
        raise NotFound(f"no erasure {reference!r}")
    return record


def organizations_with_retention() -> QuerySet[Organization]:
    return Organization.objects.filter(retention_days__isnull=False).order_by("pk")


def retention_cutoff(*, organization: Organization, now: datetime) -> datetime | None:
    """Candidates whose last activity is before this moment are due; None: data is kept."""
    if organization.retention_days is None:
        return None
    return now - timedelta(days=organization.retention_days)


def candidates_inactive_since(
    *, organization: Organization, cutoff: datetime, after_id: int = 0, limit: int = 100
) -> list[int]:
    """Ids (ascending, above ``after_id``) of the organisation's candidates with no
    activity at or after ``cutoff``.

    Activity is any of: the candidate created or consenting, an invitation made
    (attempt created), started or completed, a game session created, started or
    completed, or an event received. A finished session takes no more events (the
    API refuses them), so events are looked at only in unfinished sessions, through
    the (session, seq) index: the query never scans the event table.
    """
    recent_event = Event.objects.filter(game_session_id=OuterRef("pk"), received_at__gte=cutoff)
    open_session_with_recent_events = GameSession.objects.filter(
        attempt__candidate_id=OuterRef("pk"), completed_at__isnull=True
    ).filter(Exists(recent_event))
    active = (
        Q(created_at__gte=cutoff)
        | Q(consent_at__gte=cutoff)
        | Q(attempts__created_at__gte=cutoff)
        | Q(attempts__started_at__gte=cutoff)
        | Q(attempts__completed_at__gte=cutoff)
        | Q(attempts__game_sessions__created_at__gte=cutoff)
        | Q(attempts__game_sessions__started_at__gte=cutoff)
        | Q(attempts__game_sessions__completed_at__gte=cutoff)
    )
    recently_active = Candidate.objects.filter(organization=organization).filter(active)
    return list(
        Candidate.objects.filter(organization=organization, pk__gt=after_id)
        .exclude(pk__in=recently_active.values("pk"))
        .exclude(Exists(open_session_with_recent_events))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def candidate_last_activity(*, candidate: Candidate) -> datetime:
    """The latest of the moments :func:`candidates_inactive_since` counts as activity."""
    moments: list[datetime | None] = [candidate.created_at, candidate.consent_at]
    moments += (
        Attempt.objects.filter(candidate=candidate)
        .aggregate(
            created=Max("created_at"), started=Max("started_at"), completed=Max("completed_at")
        )
        .values()
    )
    moments += (
        GameSession.objects.filter(attempt__candidate=candidate)
        .aggregate(
            created=Max("created_at"), started=Max("started_at"), completed=Max("completed_at")
        )
        .values()
    )
    moments.append(
        Event.objects.filter(
            game_session__attempt__candidate=candidate, game_session__completed_at__isnull=True
        ).aggregate(last=Max("received_at"))["last"]
    )
    return max(moment for moment in moments if moment is not None)
