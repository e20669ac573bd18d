"""The organisation's home page: its assessments, counts, sparklines and the activity chart."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pymetrics.accounts.models import User
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.assessments.models import Attempt
from pymetrics.assessments.services import assessment_create, attempt_start, candidate_invite
from pymetrics.staff.pages.home import SPARK_HEIGHT, sparkline


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_browser(client, recruiter):
    login_verified(client, recruiter)
    return client


def _completed(assessment, external_id, *, days_ago=0, simulated=False):
    attempt = candidate_invite(
        assessment=assessment, external_id=external_id, is_simulated=simulated
    ).attempt
    attempt_start(attempt=attempt)
    done = timezone.now() - timedelta(days=days_ago)
    Attempt.objects.filter(pk=attempt.pk).update(
        state="completed", started_at=done - timedelta(minutes=15), completed_at=done
    )


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def test_the_home_lists_the_organisation_s_assessments_with_counts_and_links(
    staff_browser, organization, other_organization
):
    graduates = assessment_create(
        organization=organization, name="Graduates", games=["balloons", "cards"]
    )
    _completed(graduates, "g1", days_ago=0, simulated=True)
    _completed(graduates, "g2", days_ago=0, simulated=True)
    _completed(graduates, "g3", days_ago=3, simulated=True)
    candidate_invite(assessment=graduates, external_id="g4")
    assessment_create(organization=other_organization, name="Globex secret", games=["cards"])

    response = staff_browser.get(reverse("staff:assessment-list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Globex secret" not in html
    assert 'data-testid="new-assessment"' in html
    found = re.search(r'<tr data-testid="assessment-row"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None
    row = found.group(1)
    cells = dict(re.findall(r'data-cell="(\w+)">(?:<span[^>]*>)?(\d+)', row))
    assert cells == {"invited": "4", "started": "3", "completed": "3", "flagged": "0"}
    assert reverse("staff:assessment-dashboard", args=[graduates.pk]) in row
    assert reverse("staff:assessment-detail", args=[graduates.pk]) in row
    assert "3 simulated" in row
    assert 'data-total="3"' in row
    assert (
        'aria-label="Completions per day over the last 30 days: 3 in all, at most 2 in one day."'
        in row
    )
    activity = _chart_spec(html, "activity")
    # today 2, three days ago 1, the other 27 days nothing
    assert activity["datasets"][0]["data"][-1] == 2
    assert activity["datasets"][0]["data"][-4] == 1
    assert sum(activity["datasets"][0]["data"]) == 3
    assert activity["table"]["rows"][-1] == [timezone.localdate().isoformat(), 2]
    assert activity["simulated"] is True
    assert 'data-testid="chart-activity"' in html


def test_an_organisation_without_assessments_is_invited_to_create_one(staff_browser):
    html = staff_browser.get(reverse("staff:assessment-list")).content.decode()

    assert "No assessments yet." in html
    assert 'data-testid="new-assessment"' in html
    assert "chart-activity" not in html


def test_a_user_without_an_organisation_is_told_so(client, db):
    user = User.objects.create_user(email="lone@example.org", password="long enough password")
    client.force_login(user)

    response = client.get(reverse("staff:assessment-list"))

    assert response.status_code == 403
    assert response.templates[0].name == "staff/no_organization.html"


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    url = reverse("staff:assessment-list")

    response = client.get(url)

    assert (response.status_code, response["Location"]) == (
        302,
        f"{reverse('staff:login')}?next={url}",
    )


def test_a_second_visit_reads_the_cached_home(staff_browser, organization):
    assessment = assessment_create(organization=organization, name="Graduates", games=["cards"])
    _completed(assessment, "g1")

    with CaptureQueriesContext(connection) as first:
        staff_browser.get(reverse("staff:assessment-list"))
    with CaptureQueriesContext(connection) as second:
        staff_browser.get(reverse("staff:assessment-list"))

    # the home's three reads (assessments with counts, flags, completions per day) are cached
    assert len(first.captured_queries) - len(second.captured_queries) == 3


def test_the_sparkline_spans_its_box_and_scales_to_the_busiest_day():
    line = sparkline([0, 2, 1])

    # x: 0, 60, 120; y: the bottom (28 - 2) for 0, the top (2) for the peak, halfway for 1
    assert line.points == f"0.0,{SPARK_HEIGHT - 2:.1f} 60.0,2.0 120.0,14.0"
    assert line.total == 3
    assert sparkline([0, 0]).points == "0.0,26.0 120.0,26.0"
