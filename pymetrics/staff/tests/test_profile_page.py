"""The candidate profile page and its JSON: traits, metrics, timelines, isolation, audit."""

from __future__ import annotations

import html as html_module
import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from pymetrics.accounts.models import AuditLog, Role, User
from pymetrics.accounts.services import user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.analytics.tests.test_profile import hand_norm_table
from pymetrics.assessments.models import Attempt
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.conftest import start_play
from pymetrics.fitmodels.models import CandidateOutcome
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.services import traits_infer


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
def profiled(scored_play, django_capture_on_commit_callbacks):
    """The hand-made balloons candidate, scored against the hand-made norms."""
    hand_norm_table()
    with django_capture_on_commit_callbacks(execute=True):
        traits_infer(attempt_ids=[scored_play.attempt_id])
    return Attempt.objects.select_related("candidate").get(pk=scored_play.attempt_id)


def _json_script(html: str, element_id: str) -> dict:
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, element_id
    return json.loads(found.group(1))


def _metric_row(html: str, key: str) -> list[str]:
    row = re.search(
        rf'<tr data-testid="metric-row" data-metric="{re.escape(key)}">(.*?)</tr>', html, re.S
    )
    assert row is not None, key
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    return [html_module.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def test_the_profile_page_shows_traits_metrics_and_timelines(staff_browser, profiled):
    candidate = profiled.candidate

    response = staff_browser.get(reverse("staff:candidate-profile", args=[candidate.pk]))

    assert response.status_code == 200
    assert response.templates[0].name == "staff/profile.html"
    html = response.content.decode()
    assert "Cara Candidate" in html
    # the trait chart: nine bars (z), nine intervals, the benchmark line at 0
    traits = _json_script(html, "chart-profile-traits-data")
    assert len(traits["labels"]) == 9
    risk = TraitScore.objects.get(attempt=profiled, trait="risk_tolerance")
    assert traits["datasets"][0]["data"] == [None] * 8 + [risk.z]
    assert traits["datasets"][1]["data"][-1] == [risk.z_low, risk.z_high]
    assert traits["datasets"][2]["data"] == [0] * 9
    assert traits["datasets"][2]["label"] == "Benchmark: centre of Hand norms v1 (z = 0)"
    # the poles at both ends of each row: low pole left, high pole right
    assert traits["options"]["scales"]["y"]["labels"][-1] == ["Risk tolerance", "← cautious"]
    assert traits["options"]["scales"]["y2"]["labels"][-1] == "risk-seeking →"
    assert traits["simulated"] is True
    assert "Benchmark: Hand norms v1 (5 people), trait map v1." in html
    # the metrics with their percentiles: 1.5 adjusted pumps among 1..5 is the 12.5th
    # (shown rounded), z = -1.5 / sqrt(2.5) = -0.95
    assert _metric_row(html, "balloons.adjusted_pumps") == ["adjusted_pumps", "1.50", "-0.95", "13"]
    # 1 burst among 0, 0, 1, 1, 2: z = (1 - 0.8) / sqrt(0.7) = 0.24, tied with the
    # 50th..75th percentiles: 62.5
    assert _metric_row(html, "balloons.bursts") == ["bursts", "1", "0.24", "63"]
    assert _metric_row(html, "balloons.adjusted_pumps_block_1")[3] == "<1"
    assert _metric_row(html, "balloons.adjusted_pumps_block_2") == [
        "adjusted_pumps_block_2",
        "—",
        "—",
        "—",
    ]
    # the balloons timeline: pumps per balloon, collected and burst
    timeline = _json_script(html, "chart-timeline-balloons-data")
    assert [d["data"] for d in timeline["datasets"]] == [[3, None, 0], [None, 2, None]]
    assert timeline["table"]["rows"] == [[1, 3, 0], [2, 2, 1], [3, 0, 0]]
    # no job-fit model: a note, no number
    assert "no job-fit model has scored this candidate" in html
    # the live connections the page opens
    live = _json_script(html, "profile-config")
    assert live["traitsSocket"] == f"/ws/traits/{candidate.pk}/"
    assert live["dashboardSocket"] == f"/ws/dashboard/{profiled.assessment_id}/"
    assert live["attemptId"] == profiled.pk
    assert live["dataUrl"] == reverse("staff:candidate-profile-data", args=[candidate.pk])


def test_the_profile_json_has_the_same_numbers_and_both_reads_are_audited(
    staff_browser, profiled, recruiter
):
    candidate = profiled.candidate
    html = staff_browser.get(reverse("staff:candidate-profile", args=[candidate.pk]))

    response = staff_browser.get(reverse("staff:candidate-profile-data", args=[candidate.pk]))

    assert response.status_code == 200
    payload = response.json()
    assert payload["attempt_id"] == profiled.pk
    assert payload["traits_chart"] == _json_script(
        html.content.decode(), "chart-profile-traits-data"
    )
    (game,) = payload["games"]
    assert game["game"] == "balloons"
    assert game["state_label"] == "Scored"
    assert game["metrics"][0]["percentile_text"] == "13"
    assert game["chart"]["id"] == "timeline-balloons"
    assert "Cara" not in response.content.decode()  # no personal data in the JSON
    reads = AuditLog.objects.filter(action="candidate.read").order_by("pk")
    assert [(r.actor, r.object_id, r.details["view"]) for r in reads] == [
        (recruiter, str(candidate.pk), "profile"),
        (recruiter, str(candidate.pk), "profile.json"),
    ]


def test_the_page_shows_a_flag_with_its_reason(
    staff_browser, organization, make_balloon_events, django_capture_on_commit_callbacks
):
    battery = assessment_create(organization=organization, name="Flags", games=["balloons"])
    invitation = candidate_invite(assessment=battery, external_id="flag-1", name="Flo")
    # the window is hidden 50 ms into the game and never shown again: focus lost
    events = make_balloon_events(((3, False), (2, False)))
    events.insert(1, {"seq": 0, "t": 50.0, "type": "visibility", "data": {"state": "hidden"}})
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    play = start_play(invitation)
    assert play.send(events).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert play.client.post(play.complete_url).status_code == 202

    response = staff_browser.get(reverse("staff:candidate-profile", args=[invitation.candidate.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="badge flag">focus_lost</span> The game window was hidden' in html


def test_another_organisation_s_candidate_is_a_404_like_an_unknown_one(
    staff_browser, other_organization
):
    foreign = assessment_create(organization=other_organization, name="Theirs", games=["cards"])
    stranger = candidate_invite(assessment=foreign, name="Gina Secret", external_id="g-1").candidate

    for url_name in ("staff:candidate-profile", "staff:candidate-profile-data"):
        theirs = staff_browser.get(reverse(url_name, args=[stranger.pk]))
        unknown = staff_browser.get(reverse(url_name, args=[stranger.pk + 1000]))
        assert theirs.status_code == unknown.status_code == 404
        assert theirs.templates[0].name == "staff/not_found.html"
        assert "Gina Secret" not in theirs.content.decode()
    assert not AuditLog.objects.filter(action="candidate.read").exists()


def test_a_user_without_an_organisation_is_refused(client, profiled):
    user = User.objects.create_user(email="nobody@example.org", password="x-123456789")
    client.force_login(user)

    response = client.get(reverse("staff:candidate-profile", args=[profiled.candidate_id]))

    assert response.status_code == 403
    assert response.templates[0].name == "staff/no_organization.html"


def test_anonymous_visitors_are_sent_to_log_in(client, profiled):
    response = client.get(reverse("staff:candidate-profile-data", args=[profiled.candidate_id]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:login"))


def test_the_profile_only_answers_reads(staff_browser, profiled):
    response = staff_browser.post(reverse("staff:candidate-profile", args=[profiled.candidate_id]))

    assert response.status_code == 405


def test_an_invited_candidate_has_a_profile_without_games(staff_browser, assessment):
    candidate = candidate_invite(assessment=assessment, name="Ivy New", external_id="i-1").candidate

    response = staff_browser.get(reverse("staff:candidate-profile", args=[candidate.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ivy New" in html
    assert 'data-testid="metric-row"' not in html
    assert response.context["games"] == []


def test_the_assessment_page_links_each_candidate_to_their_profile(staff_browser, profiled):
    response = staff_browser.get(reverse("staff:assessment-detail", args=[profiled.assessment_id]))

    link = reverse("staff:candidate-profile", args=[profiled.candidate_id])
    assert (
        f'<a class="name" href="{link}" data-testid="candidate-profile-link">Cara Candidate</a>'
        in (response.content.decode())
    )


# --- the outcome form (recorded by owners and admins, for A/B tests' predictive validity) ----


@pytest.fixture
def admin(organization):
    return user_create(
        email="ada@acme.example",
        password="admin horse battery",
        organization=organization,
        role=Role.ADMIN,
    )


@pytest.fixture
def admin_browser(client, admin):
    login_verified(client, admin)
    return client


@pytest.fixture
def invited(assessment):
    return candidate_invite(assessment=assessment, name="Olga Outcome", external_id="o-1").candidate


def _outcome_section(html: str) -> str:
    found = re.search(r'<section[^>]*data-testid="outcome-section">(.*?)</section>', html, re.S)
    assert found is not None
    return found.group(1)


def _recorded(section: str) -> dict[str, str]:
    return {
        name: html_module.unescape(re.sub(r"<[^>]+>", "", value)).strip()
        for name, value in re.findall(r'<dd data-cell="([^"]+)">(.*?)</dd>', section, re.S)
    }


def test_an_admin_records_an_outcome_and_the_profile_shows_it(admin_browser, admin, invited):
    profile_url = reverse("staff:candidate-profile", args=[invited.pk])
    before = _outcome_section(admin_browser.get(profile_url).content.decode())
    assert "No outcome recorded for this candidate." in before
    assert 'data-testid="outcome-form"' in before

    response = admin_browser.post(
        reverse("staff:candidate-outcome", args=[invited.pk]),
        {"hired": "yes", "performance": "4.25"},
        follow=True,
    )

    assert response.redirect_chain == [(f"{profile_url}#outcome", 302)]
    outcome = CandidateOutcome.objects.get(candidate=invited)
    assert (outcome.hired, outcome.performance) == (True, 4.25)
    html = response.content.decode()
    assert "Outcome recorded: hired, performance 4.25." in html
    section = _outcome_section(html)
    assert _recorded(section) == {"hired": "Hired", "performance": "4.25"}
    # the form starts from what is recorded
    assert re.search(r'<input type="radio" name="hired" value="yes"[^>]*checked', section)
    assert 'name="performance" value="4.25"' in section
    entry = AuditLog.objects.get(action="candidate.outcome.record")
    assert (entry.actor, entry.object_id) == (admin, str(invited.pk))


@pytest.mark.parametrize(
    ("typed", "message", "status"),
    [
        ("inf", "performance must be a finite number", 400),
        ("nan", "performance must be a finite number", 400),
        ("four", "Enter a number.", 400),
    ],
    ids=["infinite", "nan", "not-a-number"],
)
def test_a_bad_performance_shows_the_error_and_keeps_the_recorded_outcome(
    admin_browser, invited, typed, message, status
):
    CandidateOutcome.objects.create(candidate=invited, hired=False, performance=3.0)

    response = admin_browser.post(
        reverse("staff:candidate-outcome", args=[invited.pk]),
        {"hired": "yes", "performance": typed},
    )

    assert response.status_code == status
    assert response.templates[0].name == "staff/profile.html"
    section = _outcome_section(response.content.decode())
    errors = re.search(r'data-testid="performance-errors">(.*?)</div>', section, re.S)
    assert errors is not None
    assert re.sub(r"<[^>]+>", "", errors.group(1)).strip() == message
    # nothing recorded: the stored outcome is still shown, and what was typed stays in the form
    outcome = CandidateOutcome.objects.get(candidate=invited)
    assert (outcome.hired, outcome.performance) == (False, 3.0)
    assert _recorded(section) == {"hired": "Not hired", "performance": "3"}
    assert re.search(r'<input type="radio" name="hired" value="yes"[^>]*checked', section)
    assert not AuditLog.objects.filter(action="candidate.outcome.record").exists()


def test_a_recruiter_sees_the_outcome_but_may_not_record_one(staff_browser, invited):
    CandidateOutcome.objects.create(candidate=invited, hired=True, performance=None)

    page = staff_browser.get(reverse("staff:candidate-profile", args=[invited.pk]))
    refused = staff_browser.post(
        reverse("staff:candidate-outcome", args=[invited.pk]), {"hired": "no"}
    )

    section = _outcome_section(page.content.decode())
    assert _recorded(section) == {"hired": "Hired", "performance": "—"}
    assert "<form" not in section
    assert "Only an owner or an admin of the organisation records outcomes." in section
    assert refused.status_code == 403
    assert CandidateOutcome.objects.get(candidate=invited).hired is True
    assert not AuditLog.objects.filter(action="candidate.outcome.record").exists()


def test_another_organisations_candidate_has_no_outcome_to_record(
    admin_browser, other_organization
):
    foreign = assessment_create(organization=other_organization, name="Theirs", games=["cards"])
    stranger = candidate_invite(assessment=foreign, name="Gina Secret", external_id="g-1").candidate

    entries = AuditLog.objects.count()

    answers = [
        admin_browser.post(reverse("staff:candidate-outcome", args=[pk]), {"hired": "yes"})
        for pk in (stranger.pk, stranger.pk + 1000)
    ]

    assert [a.status_code for a in answers] == [404, 404]
    assert "Gina Secret" not in answers[0].content.decode()
    assert not CandidateOutcome.objects.exists()
    assert AuditLog.objects.count() == entries
