"""Reads for assessments, candidates and attempts, always scoped to an organisation."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
)
from pymetrics.assessments.services import hash_invite_token
from pymetrics.common.crypto import EMAIL_INDEX
from pymetrics.common.errors import NotFound


def assessment_list(*, organization: Organization) -> QuerySet[Assessment]:
    """Newest first. The order is explicit: Django ignores Meta.ordering in GROUP BY queries."""
    return (
        Assessment.objects.filter(organization=organization)
        .annotate(
            invited_count=Count("attempts"),
            started_count=Count("attempts", filter=Q(attempts__state=AttemptState.STARTED)),
            completed_count=Count("attempts", filter=Q(attempts__state=AttemptState.COMPLETED)),
        )
        .order_by("-created_at", "-pk")
    )


def assessment_get(*, organization: Organization | int, assessment_id: int) -> Assessment:
    """The organisation's (or organisation id's) assessment, or NotFound (also for
    another organisation's id)."""
    assessment = Assessment.objects.filter(organization=organization, pk=assessment_id).first()
    if assessment is None:
        raise NotFound(f"assessment {assessment_id} not found")
    return assessment


def assessment_by_name(*, organization: Organization, name: str) -> Assessment | None:
    return Assessment.objects.filter(organization=organization, name=name).first()


def candidate_get(*, organization: Organization, candidate_id: int) -> Candidate:
    candidate = Candidate.objects.filter(organization=organization, pk=candidate_id).first()
    if candidate is None:
        raise NotFound(f"candidate {candidate_id} not found")
    return candidate


def candidate_find_by_email(*, organization: Organization, email: str) -> list[Candidate]:
    """The organisation's candidates with this e-mail address, newest first.

    Matched by the keyed blind index under every configured key (a row re-indexed
    by a key rotation or not yet), then confirmed on the decrypted address, so a
    stale index never answers for another address. Compared normalised
    (:func:`~pymetrics.common.crypto.normalise_email`): ``Cara@Example.org `` finds
    ``cara@example.org``. Empty for an empty address.
    """
    indexes = EMAIL_INDEX.every_key(email, scope=organization.pk)
    if not indexes:
        return []
    wanted = EMAIL_INDEX.normalise(email)
    return [
        candidate
        for candidate in Candidate.objects.filter(
            organization=organization, email_index__in=indexes
        ).order_by("-created_at", "-pk")
        if EMAIL_INDEX.normalise(candidate.email) == wanted
    ]


def attempts_for_assessment(*, assessment: Assessment) -> QuerySet[Attempt]:
    """Attempts with candidate and game sessions (and their metric sets) loaded."""
    return (
        Attempt.objects.filter(assessment=assessment)
        .select_related("candidate")
        .prefetch_related(
            Prefetch(
                "game_sessions",
                queryset=GameSession.objects.current()
                .order_by("position")
                .prefetch_related("metric_sets"),
            )
        )
        .order_by("-created_at", "-pk")
    )


def attempts_for_candidate(*, candidate: Candidate) -> QuerySet[Attempt]:
    return (
        Attempt.objects.filter(candidate=candidate)
        .select_related("assessment")
        .prefetch_related(
            Prefetch(
                "game_sessions",
                queryset=GameSession.objects.current()
                .order_by("position")
                .prefetch_related("metric_sets"),
            )
        )
        .order_by("created_at", "pk")
    )


def attempt_by_invite_token(*, invite_token: str) -> Attempt:
    """The attempt an invite link points at, or NotFound (expiry is checked on use)."""
    if not invite_token or len(invite_token) > 128:
        raise NotFound("this invitation link is not valid", code="invite_not_found")
    attempt = (
        Attempt.objects.select_related("assessment", "assessment__organization", "candidate")
        .filter(invite_token_hash=hash_invite_token(invite_token))
        .first()
    )
    if attempt is None:
        raise NotFound("this invitation link is not valid", code="invite_not_found")
    return attempt


def attempt_is_expired(attempt: Attempt) -> bool:
    return attempt.state == AttemptState.EXPIRED or (
        attempt.state == AttemptState.INVITED
        and attempt.invite_expires_at is not None
        and attempt.invite_expires_at < timezone.now()
    )


def game_sessions_for_attempt(*, attempt_id: int) -> QuerySet[GameSession]:
    return GameSession.objects.current().filter(attempt_id=attempt_id).order_by("position")
