"""The assessment dashboard page and its JSON: charts with the summary's numbers, isolation."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from pymetrics.accounts.models import AuditLog, User
from pymetrics.analytics.selectors.dashboard import assessment_dashboard_summary
from pymetrics.assessments.models import Attempt, GameSession
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


@pytest.fixture
def staff_browser(client, recruiter):
    client.force_login(recruiter)
    return client


@pytest.fixture
def battery(organization):
    """Three invited to balloons + cards: one only invited, one playing, one completed.

    The completed one's cards session is flagged too_fast.
    """
    assessment = assessment_create(
        organization=organization, name="Graduates", games=["balloons", "cards"]
    )
    candidate_invite(assessment=assessment, external_id="only-invited")
    playing = candidate_invite(assessment=assessment, external_id="playing").attempt
    attempt_start(attempt=playing)
    done = candidate_invite(assessment=assessment, external_id="done", is_simulated=True).attempt
    attempt_start(attempt=done)
    for game_session in GameSession.objects.filter(attempt=done):
        game_session_mark_completed(game_session_id=game_session.pk)
    MetricSet.objects.create(
        game_session=GameSession.objects.get(attempt=done, game="cards"),
        game="cards",
        extractor_version=1,
        values={},
        quality_flags=["too_fast"],
    )
    return assessment


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def test_the_dashboard_draws_the_summary(staff_browser, battery):
    response = staff_browser.get(reverse("staff:assessment-dashboard", args=[battery.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    funnel = _chart_spec(html, "funnel")
    assert funnel["labels"] == ["Invited", "Started", "Completed"]
    assert funnel["datasets"][0]["data"] == [3, 2, 1]
    # shares: 2 of 3 started (66.7%), 1 of 2 completed (50%; 33.3% of the invited)
    assert funnel["table"]["rows"] == [
        ["Invited", 3, None, 100.0],
        ["Started", 2, 66.7, 66.7],
        ["Completed", 1, 50.0, 33.3],
    ]
    assert funnel["simulated"] is True
    dropoff = _chart_spec(html, "dropoff")
    assert dropoff["labels"] == ["Balloons", "Cards"]
    # the playing candidate left off at balloons (their first unfinished game)
    assert [d["data"] for d in dropoff["datasets"]] == [[1, 1], [1, 0]]
    assert dropoff["table"]["rows"] == [["Balloons", 2, 1, 1, 50.0], ["Cards", 1, 1, 0, 0.0]]
    flags = _chart_spec(html, "quality_flags")
    assert (flags["labels"], flags["datasets"][0]["data"]) == (["too_fast"], [1])
    completion = _chart_spec(html, "completion_time")
    assert sum(completion["datasets"][0]["data"]) == 1
    # no norm table: the traits section says how to get one
    assert "No norm table applies to this organisation yet" in html
    assert 'data-count="completed">1<' in html
    assert 'data-count="flagged">1<' in html
    # the flagged candidate, linked to their profile, labelled simulated
    done = Attempt.objects.get(candidate__external_id="done")
    assert reverse("staff:candidate-profile", args=[done.candidate_id]) in html
    assert 'title="More than 10% of responses came faster than 150 ms' in html


def test_the_page_is_configured_for_live_updates(staff_browser, battery):
    html = staff_browser.get(
        reverse("staff:assessment-dashboard", args=[battery.pk])
    ).content.decode()

    found = re.search(r'<script id="dashboard-config" type="application/json">(.*?)</script>', html)
    assert found is not None
    config = json.loads(found.group(1))
    assert config["socket_path"] == f"/ws/dashboard/{battery.pk}/"
    assert config["data_url"] == reverse("staff:assessment-dashboard-data", args=[battery.pk])
    assert config["game_titles"] == {"balloons": "Balloons", "cards": "Cards"}
    assert "staff/dashboard.js" in html
    assert 'data-live="off"' in html  # until the socket opens
    # no inline script: only JSON data blocks and script files
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))[^>]*>", html) == []


def test_the_subnavigation_links_dashboard_and_candidates(staff_browser, battery):
    dashboard_url = reverse("staff:assessment-dashboard", args=[battery.pk])
    candidates_url = reverse("staff:assessment-detail", args=[battery.pk])

    dashboard = staff_browser.get(dashboard_url).content.decode()
    candidates = staff_browser.get(candidates_url).content.decode()

    assert f'<a href="{dashboard_url}" aria-current="page">Dashboard</a>' in dashboard
    assert f'<a href="{candidates_url}">Candidates</a>' in dashboard
    assert f'<a href="{dashboard_url}">Dashboard</a>' in candidates
    assert f'<a href="{candidates_url}" aria-current="page">Candidates</a>' in candidates


def test_the_data_route_answers_the_summary_and_the_charts(staff_browser, battery):
    response = staff_browser.get(reverse("staff:assessment-dashboard-data", args=[battery.pk]))

    assert response.status_code == 200
    body = response.json()
    summary = assessment_dashboard_summary(assessment=battery)
    assert {**body["summary"], "playing_now": None} == {**summary, "playing_now": None}
    assert set(body["charts"]) == {
        "funnel",
        "dropoff",
        "completion_time",
        "quality_flags",
        "trait_means",
    }
    assert body["charts"]["funnel"]["datasets"][0]["data"] == [3, 2, 1]
    assert body["trait_charts"] == {}
    assert [row["participant"] for row in body["flagged"]] == ["done"]


def test_each_read_is_audited_with_the_candidates_it_names(staff_browser, battery, recruiter):
    staff_browser.get(reverse("staff:assessment-dashboard", args=[battery.pk]))
    staff_browser.get(reverse("staff:assessment-dashboard-data", args=[battery.pk]))

    entries = AuditLog.objects.filter(action="assessment.dashboard.read").order_by("pk")
    done = Attempt.objects.get(candidate__external_id="done")
    assert [(e.actor_id, e.object_id, e.details) for e in entries] == [
        (recruiter.pk, str(battery.pk), {"candidates": [done.candidate_id]}),
        (recruiter.pk, str(battery.pk), {"candidates": [done.candidate_id]}),
    ]


def test_a_completion_shows_on_the_next_data_read(
    staff_browser, battery, django_capture_on_commit_callbacks
):
    url = reverse("staff:assessment-dashboard-data", args=[battery.pk])
    before = staff_browser.get(url).json()["charts"]["funnel"]["datasets"][0]["data"]

    playing = Attempt.objects.get(candidate__external_id="playing")
    with django_capture_on_commit_callbacks(execute=True):
        for game_session in GameSession.objects.filter(attempt=playing):
            game_session_mark_completed(game_session_id=game_session.pk)
    after = staff_browser.get(url).json()["charts"]["funnel"]["datasets"][0]["data"]

    assert (before, after) == ([3, 2, 1], [3, 2, 2])


@pytest.mark.parametrize("route", ["staff:assessment-dashboard", "staff:assessment-dashboard-data"])
def test_another_organisation_s_assessment_is_not_found_like_an_unknown_one(
    staff_browser, other_organization, route
):
    theirs = assessment_create(organization=other_organization, name="Globex", games=["cards"])

    responses = [
        staff_browser.get(reverse(route, args=[theirs.pk])),
        staff_browser.get(reverse(route, args=[theirs.pk + 1000])),
    ]

    assert [r.status_code for r in responses] == [404, 404]
    if route.endswith("-data"):
        assert responses[0].json()["error"]["code"] == "not_found"
        assert responses[0].json()["error"]["code"] == responses[1].json()["error"]["code"]
    else:
        assert [r.templates[0].name for r in responses] == ["staff/not_found.html"] * 2
        assert "Globex" not in responses[0].content.decode()
    assert not AuditLog.objects.filter(action="assessment.dashboard.read").exists()


def test_a_user_without_an_organisation_is_refused(client, db, assessment):
    user = User.objects.create_user(email="lone@example.org", password="long enough password")
    client.force_login(user)

    page = client.get(reverse("staff:assessment-dashboard", args=[assessment.pk]))
    data = client.get(reverse("staff:assessment-dashboard-data", args=[assessment.pk]))

    assert (page.status_code, page.templates[0].name) == (403, "staff/no_organization.html")
    assert (data.status_code, data.json()["error"]["code"]) == (403, "permission_denied")


@pytest.mark.parametrize("route", ["staff:assessment-dashboard", "staff:assessment-dashboard-data"])
def test_an_anonymous_visitor_is_sent_to_log_in(client, assessment, route):
    url = reverse(route, args=[assessment.pk])

    response = client.get(url)

    assert (response.status_code, response["Location"]) == (
        302,
        f"{reverse('staff:login')}?next={url}",
    )
