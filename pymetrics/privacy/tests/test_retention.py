"""Retention: candidates inactive for longer than their organisation keeps data are
erased by the platform, in batches, once; everyone else stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pymetrics.accounts.models import AuditLog, Organization
from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.assessments.services import assessment_create, attempt_start, candidate_invite
from pymetrics.events.models import Event
from pymetrics.privacy.models import ErasureRecord
from pymetrics.privacy.selectors import candidate_last_activity, candidates_inactive_since
from pymetrics.privacy.services import retention_enforce
from pymetrics.privacy.tasks import enforce_retention

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _candidate(assessment: Assessment, label: str, *, days_ago: float, start: bool) -> Candidate:
    """A candidate whose every timestamp is ``days_ago`` before NOW (started or only invited)."""
    invitation = candidate_invite(assessment=assessment, external_id=label)
    if start:
        attempt_start(attempt=invitation.attempt)
    when = NOW - timedelta(days=days_ago)
    candidate = invitation.candidate
    Candidate.objects.filter(pk=candidate.pk).update(
        created_at=when, consent_at=when if start else None
    )
    Attempt.objects.filter(candidate=candidate).update(
        created_at=when, started_at=when if start else None, invite_expires_at=when
    )
    GameSession.objects.filter(attempt__candidate=candidate).update(
        created_at=when, started_at=when
    )
    return Candidate.objects.get(pk=candidate.pk)


def _event(candidate: Candidate, *, days_ago: float) -> None:
    session = GameSession.objects.filter(attempt__candidate=candidate).first()
    assert session is not None
    Event.objects.create(
        game_session=session,
        seq=1,
        t=0.0,
        type="balloon_start",
        data={"balloon": 1},
        received_at=NOW - timedelta(days=days_ago),
    )


@pytest.fixture
def keeps_30_days(organization: Organization) -> Assessment:
    Organization.objects.filter(pk=organization.pk).update(retention_days=30)
    return assessment_create(organization=organization, name="Retained", games=["balloons"])


def test_only_candidates_inactive_beyond_the_period_are_erased_once(
    keeps_30_days, other_organization, django_capture_on_commit_callbacks
) -> None:
    # given, in an organisation keeping data 30 days
    old_invite = _candidate(keeps_30_days, "old-invite", days_ago=40, start=False)
    old_player = _candidate(keeps_30_days, "old-player", days_ago=31, start=True)
    recent = _candidate(keeps_30_days, "recent", days_ago=5, start=True)
    almost = _candidate(keeps_30_days, "almost", days_ago=29.9, start=True)
    # started long ago, still playing: an event arrived yesterday
    still_playing = _candidate(keeps_30_days, "still-playing", days_ago=40, start=True)
    _event(still_playing, days_ago=1)
    # and an organisation that keeps everything
    forever = assessment_create(organization=other_organization, name="Kept", games=["balloons"])
    ancient = _candidate(forever, "ancient", days_ago=4000, start=True)

    # when the job runs, twice
    with django_capture_on_commit_callbacks(execute=True):
        first = retention_enforce(now=NOW)
        second = retention_enforce(now=NOW)

    # then exactly the two inactive ones were erased, by the platform, once
    remaining = set(Candidate.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, almost.pk, still_playing.pk, ancient.pk}
    assert old_invite.pk not in remaining
    assert old_player.pk not in remaining
    assert (first.erased, second.erased) == (2, 0)
    records = ErasureRecord.objects.order_by("pk")
    assert [(r.reason, r.erased_by_id, r.organization_id) for r in records] == [
        ("retention", None, keeps_30_days.organization_id)
    ] * 2
    assert sorted(first.references) == sorted(r.reference for r in records)
    entries = AuditLog.objects.filter(action="candidate.erase").order_by("pk")
    assert [(e.object_id, e.actor_id, e.details["reason"]) for e in entries] == [
        (str(old_invite.pk), None, "retention"),
        (str(old_player.pk), None, "retention"),
    ]


def test_the_job_works_in_batches_and_resumes_where_it_stopped(
    keeps_30_days, django_capture_on_commit_callbacks
) -> None:
    old = [_candidate(keeps_30_days, f"old-{i}", days_ago=60, start=False) for i in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        first = retention_enforce(now=NOW, batch=2, limit=3)
        second = retention_enforce(now=NOW, batch=2, limit=3)

    assert (first.erased, second.erased) == (3, 2)
    assert not Candidate.objects.filter(pk__in=[c.pk for c in old]).exists()


def test_last_activity_is_the_latest_moment_of_any_kind(keeps_30_days) -> None:
    candidate = _candidate(keeps_30_days, "mixed", days_ago=50, start=True)
    Attempt.objects.filter(candidate=candidate).update(completed_at=NOW - timedelta(days=45))
    _event(candidate, days_ago=33)
    cutoff = NOW - timedelta(days=30)

    assert candidate_last_activity(candidate=candidate) == NOW - timedelta(days=33)
    assert candidates_inactive_since(organization=candidate.organization, cutoff=cutoff) == [
        candidate.pk
    ]
    # the session finished before its last event could arrive: finished sessions take none
    GameSession.objects.filter(attempt__candidate=candidate).update(
        completed_at=NOW - timedelta(days=2)
    )
    assert candidate_last_activity(candidate=candidate) == NOW - timedelta(days=2)
    assert candidates_inactive_since(organization=candidate.organization, cutoff=cutoff) == []


def test_the_beat_task_reports_what_it_did(keeps_30_days, django_capture_on_commit_callbacks):
    _candidate(keeps_30_days, "very-old", days_ago=365, start=True)

    with django_capture_on_commit_callbacks(execute=True):
        result = enforce_retention.delay().get()

    assert result == {"organizations": 1, "erased": 1, "archives_expired": 0}
