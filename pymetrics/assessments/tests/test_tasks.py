"""The beat job that expires invitations nobody started."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from pymetrics.assessments.models import Attempt, AttemptState
from pymetrics.assessments.services import attempt_start
from pymetrics.assessments.tasks import expire_stale_invitations


def test_only_unstarted_invitations_past_expiry_are_expired(make_invitation):
    # given one stale, one fresh and one stale-but-started invitation
    stale = make_invitation(external_id="stale").attempt
    make_invitation(external_id="fresh")
    started = make_invitation(external_id="started").attempt
    attempt_start(attempt=started)
    past = timezone.now() - timedelta(days=1)
    Attempt.objects.filter(pk__in=[stale.pk, started.pk]).update(invite_expires_at=past)

    # when the job runs twice
    first = expire_stale_invitations.delay().get()
    second = expire_stale_invitations.delay().get()

    # then only the stale, unstarted one expired, once
    assert (first, second) == (1, 0)
    states = dict(Attempt.objects.values_list("candidate__external_id", "state"))
    assert states == {
        "stale": AttemptState.EXPIRED,
        "fresh": AttemptState.INVITED,
        "started": AttemptState.STARTED,
    }


def test_the_job_is_scheduled_hourly():
    assert settings.CELERY_BEAT_SCHEDULE["expire-stale-invitations"] == {
        "task": "assessments.expire_stale_invitations",
        "schedule": 3600.0,
    }
