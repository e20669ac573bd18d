"""The anomaly review queue: a scan queues bot-like sessions; an invalidated one leaves training."""

from __future__ import annotations

import pytest

from pymetrics.accounts.models import AuditLog
from pymetrics.accounts.services import Actor
from pymetrics.common.errors import Conflict, PermissionDenied
from pymetrics.fitmodels.anomaly_services import anomaly_scan, session_review_decide
from pymetrics.fitmodels.models import ReviewState, SessionReview
from pymetrics.fitmodels.selectors import latest_completed_attempts
from pymetrics.fitmodels.tests.world import build_scored_sessions

NORMAL, MACHINES = 120, 6


@pytest.fixture
def arrows_sessions(organization):
    """120 people's arrows sessions and 6 machines' (constant reaction times), scored."""
    sessions = build_scored_sessions(
        organization, game="arrows", people=NORMAL, machines=MACHINES, seed=3
    )
    return [(key.split("-")[0], session) for key, session in sessions.items()]


def test_a_scan_queues_the_machines_with_their_reasons(organization, recruiter, arrows_sessions):
    summary = anomaly_scan(organization=organization, game="arrows", requested_by_id=recruiter.pk)

    queued = {review.game_session_id for review in SessionReview.objects.all()}
    machines = {s.pk for label, s in arrows_sessions if label == "machine"}
    people = {s.pk for label, s in arrows_sessions if label == "person"}
    # every machine is caught, and one person of 120 (seeded: under the 5% allowed)
    assert (len(queued & machines), len(queued & people)) == (MACHINES, 1)
    assert (summary.sessions, summary.suspicious) == (NORMAL + MACHINES, len(queued))
    review = SessionReview.objects.get(game_session_id=min(machines))
    assert review.state == ReviewState.PENDING
    assert review.reasons  # plain-language reasons for the reviewer
    entry = AuditLog.objects.get(action="anomaly.scan", object_id="arrows")
    assert entry.details["requested_by"] == recruiter.pk
    assert (entry.details["sessions"], entry.details["suspicious"]) == (
        NORMAL + MACHINES,
        len(queued),
    )


def test_an_invalidated_session_s_attempt_leaves_training_data(
    organization, recruiter, arrows_sessions
):
    anomaly_scan(organization=organization, game="arrows")
    machine = next(s for label, s in arrows_sessions if label == "machine")
    review = SessionReview.objects.get(game_session=machine)
    candidate_id = machine.attempt.candidate_id
    assert candidate_id in latest_completed_attempts(candidate_ids=[candidate_id])
    analyst = Actor(user=recruiter, organization=organization, role="analyst")

    decided = session_review_decide(
        actor=analyst, review=review, decision="invalidate", note="constant RTs"
    )

    assert decided.state == ReviewState.INVALIDATED
    machine.refresh_from_db()
    assert machine.invalidated_at is not None
    assert latest_completed_attempts(candidate_ids=[candidate_id]) == {}
    with pytest.raises(Conflict):
        session_review_decide(actor=analyst, review=decided, decision="accept")
    # and a later scan neither queues it again nor learns from it
    anomaly_scan(organization=organization, game="arrows")
    assert SessionReview.objects.get(game_session=machine).state == ReviewState.INVALIDATED


def test_a_recruiter_cannot_review(organization, recruiter, arrows_sessions):
    anomaly_scan(organization=organization, game="arrows")
    review = SessionReview.objects.first()
    assert review is not None

    with pytest.raises(PermissionDenied):
        session_review_decide(
            actor=Actor(user=recruiter, organization=organization, role="recruiter"),
            review=review,
            decision="accept",
        )


def test_the_scan_command_reports_each_game(organization, arrows_sessions, capsys):
    from django.core.management import call_command

    call_command("scan_anomalies", "--org", organization.slug, "--game", "arrows", "--game", "stop")

    assert capsys.readouterr().out.splitlines() == [
        f"arrows: {NORMAL + MACHINES} sessions, {MACHINES + 1} suspicious in the review queue",
        "stop: skipped: stop: 0 scored sessions; a scan needs at least 50 to learn what is usual",
    ]


def test_an_invalidated_session_s_attempt_leaves_the_norm_population(
    organization, recruiter, arrows_sessions
):
    from pymetrics.scoring.services import _completed_attempt_ids

    anomaly_scan(organization=organization, game="arrows")
    machine = next(s for label, s in arrows_sessions if label == "machine")
    before = _completed_attempt_ids(organization=organization, assessment=None)
    assert machine.attempt_id in before

    session_review_decide(
        actor=Actor(user=recruiter, organization=organization, role="admin"),
        review=SessionReview.objects.get(game_session=machine),
        decision="invalidate",
    )

    after = _completed_attempt_ids(organization=organization, assessment=None)
    assert set(before) - set(after) == {machine.attempt_id}
