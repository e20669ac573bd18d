"""The organisation's home read model: counts per assessment, completions per day, freshness.

Acme has two assessments:

    Graduates (older)  a1 invited; a2 started; a3 completed today (flagged too_fast);
                       a4 completed 2 days ago; a5 completed 40 days ago (outside the window)
    Interns (newer)    b1 completed today (simulated)

    Graduates: invited 5, started 4, completed 3, flagged 1, simulated 0,
               completions per day: today 1, two days ago 1 (a5 is too old)
    Interns:   invited 1, started 1, completed 1, flagged 0, simulated 1, today 1
    the organisation: today 2, two days ago 1
Globex's assessment never appears.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from pymetrics.analytics.selectors.home import ACTIVITY_DAYS, organization_home
from pymetrics.assessments.models import Assessment, Attempt, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_start,
    candidate_invite,
    game_session_mark_completed,
)
from pymetrics.scoring.models import MetricSet


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _attempt(
    assessment: Assessment,
    external_id: str,
    *,
    state: str = "invited",
    days_ago: int | None = None,
    simulated: bool = False,
) -> Attempt:
    attempt = candidate_invite(
        assessment=assessment, external_id=external_id, is_simulated=simulated
    ).attempt
    if state != "invited":
        attempt_start(attempt=attempt)
    if days_ago is not None:
        completed_at = timezone.now() - timedelta(days=days_ago)
        Attempt.objects.filter(pk=attempt.pk).update(
            state="completed",
            started_at=completed_at - timedelta(minutes=20),
            completed_at=completed_at,
        )
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def acme(organization, other_organization):
    graduates = assessment_create(organization=organization, name="Graduates", games=["balloons"])
    interns = assessment_create(organization=organization, name="Interns", games=["balloons"])
    Assessment.objects.filter(pk=graduates.pk).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    _attempt(graduates, "a1")
    _attempt(graduates, "a2", state="started")
    flagged = _attempt(graduates, "a3", state="completed", days_ago=0)
    _attempt(graduates, "a4", state="completed", days_ago=2)
    _attempt(graduates, "a5", state="completed", days_ago=40)
    _attempt(interns, "b1", state="completed", days_ago=0, simulated=True)
    MetricSet.objects.create(
        game_session=GameSession.objects.get(attempt=flagged),
        game="balloons",
        extractor_version=1,
        values={},
        quality_flags=["too_fast"],
    )
    globex = assessment_create(organization=other_organization, name="Globex", games=["cards"])
    _attempt(globex, "g1", state="completed", days_ago=0)
    return {"graduates": graduates, "interns": interns}


def _window(**counts_by_days_ago: int) -> list[int]:
    """A 30-day series, oldest first, from ``{"d0": today's count, "d2": ...}``."""
    series = [0] * ACTIVITY_DAYS
    for key, count in counts_by_days_ago.items():
        series[ACTIVITY_DAYS - 1 - int(key[1:])] = count
    return series


def test_assessments_newest_first_with_counts_and_daily_completions(organization, acme):
    home = organization_home(organization=organization)

    today = timezone.localdate()
    assert home["days"][-1] == today.isoformat()
    assert home["days"][0] == (today - timedelta(days=ACTIVITY_DAYS - 1)).isoformat()
    assert len(home["days"]) == ACTIVITY_DAYS == 30
    assert home["candidates_simulated"] is True
    assert home["completions_per_day"] == _window(d0=2, d2=1)
    rows = [
        {
            key: row[key]
            for key in ("name", "invited", "started", "completed", "flagged", "simulated")
        }
        for row in home["assessments"]
    ]
    assert rows == [
        {
            "name": "Interns",
            "invited": 1,
            "started": 1,
            "completed": 1,
            "flagged": 0,
            "simulated": 1,
        },
        {
            "name": "Graduates",
            "invited": 5,
            "started": 4,
            "completed": 3,
            "flagged": 1,
            "simulated": 0,
        },
    ]
    assert home["assessments"][0]["completions_per_day"] == _window(d0=1)
    assert home["assessments"][1]["completions_per_day"] == _window(d0=1, d2=1)
    assert home["assessments"][1]["games"] == ["balloons"]


def test_the_home_is_cached_in_three_queries(organization, acme, django_assert_num_queries):
    with django_assert_num_queries(3):
        organization_home(organization=organization)
    with django_assert_num_queries(0):
        organization_home(organization=organization)


def test_an_organisation_without_assessments(other_organization, db):
    home = organization_home(organization=other_organization)

    assert home["assessments"] == []
    assert home["completions_per_day"] == [0] * ACTIVITY_DAYS
    assert home["candidates_simulated"] is False


def test_a_completion_makes_the_next_read_fresh(
    organization, acme, django_capture_on_commit_callbacks
):
    before = organization_home(organization=organization)
    started = Attempt.objects.get(candidate__external_id="a2")

    with django_capture_on_commit_callbacks(execute=True):
        game_session = GameSession.objects.get(attempt=started)
        game_session_mark_completed(game_session_id=game_session.pk)
    after = organization_home(organization=organization)

    assert before["assessments"][1]["completed"] == 3
    assert after["assessments"][1]["completed"] == 4
    assert after["completions_per_day"][-1] == 3


def test_a_new_assessment_makes_the_next_read_fresh(
    organization, acme, django_capture_on_commit_callbacks
):
    organization_home(organization=organization)

    with django_capture_on_commit_callbacks(execute=True):
        assessment_create(organization=organization, name="Sales", games=["cards"])

    assert [a["name"] for a in organization_home(organization=organization)["assessments"]] == [
        "Sales",
        "Interns",
        "Graduates",
    ]
