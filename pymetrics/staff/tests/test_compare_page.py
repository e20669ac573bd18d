"""The compare page: picking profiles, the charts, differences in words, limits, isolation."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from pymetrics.accounts.models import AuditLog
from pymetrics.analytics.tests.test_profile import hand_norm_table, play_balloons
from pymetrics.assessments.services import assessment_create, candidate_invite

#: Lou pumps little: adjusted pumps 1.5 against the hand norms' 1..5, risk tolerance
#: z = -1.00. Hugh pumps 20 a balloon: metric z (20 - 3) / 1.58 clipped to 4, trait
#: z = 4 / 0.9487 = 4.22. Intervals are z +/- 1.645 sqrt(1 - 0.7) = z +/- 0.90.
LOU = ((3, False), (2, True), (0, False))
HUGH = ((20, False), (20, False))


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
def pair(assessment, make_balloon_events, django_capture_on_commit_callbacks):
    """Lou and Hugh completed the balloons assessment; scored against the hand norms."""
    table = hand_norm_table()
    people = {}
    for external_id, name, plan in (("l-1", "Lou Low", LOU), ("h-1", "Hugh High", HUGH)):
        invitation = candidate_invite(assessment=assessment, external_id=external_id, name=name)
        play_balloons(invitation, plan, make_balloon_events, django_capture_on_commit_callbacks)
        people[external_id] = invitation.candidate
    return table, people


def _chart(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, chart_id
    return json.loads(found.group(1))


def test_two_candidates_an_assessment_and_the_norm_group_side_by_side(
    staff_browser, pair, assessment, recruiter
):
    table, people = pair
    lou, hugh = people["l-1"], people["h-1"]

    response = staff_browser.get(
        reverse("staff:compare"),
        {"c": [lou.pk, hugh.pk], "g": [f"assessment:{assessment.pk}", f"norm:{table.pk}"]},
    )

    assert response.status_code == 200
    html = response.content.decode()
    labels = [p["label"] for p in response.context["profiles"]]
    assert labels == [
        "Lou Low (l-1)",
        "Hugh High (h-1)",
        "Graduates 2027: completed candidates",
        "Norm group: Hand norms v1",
    ]
    radar = _chart(html, "compare-radar")
    assert radar["type"] == "radar"
    assert [d["label"] for d in radar["datasets"]] == labels
    # risk tolerance (the last trait): Lou -1, Hugh 4.22, the group's mean 1.61, the norms 0
    risk = [d["data"][-1] for d in radar["datasets"]]
    assert risk == pytest.approx([-1.0, 4 / 0.9486833, (4 / 0.9486833 - 1) / 2, 0.0], abs=1e-6)
    assert [d["data"][0] for d in radar["datasets"]] == [None] * 4  # attention: nobody scored
    bars = _chart(html, "compare-bars")
    assert len(bars["datasets"]) == 8  # a z bar and an interval bar per profile
    assert bars["datasets"][1]["data"][-1] == pytest.approx([-1.901, -0.099], abs=1e-3)
    # the differences: Hugh beyond Lou and beyond the norm group; the group's mean of two
    # people has a wide interval (t with 1 df) that overlaps everyone
    assert [d["text"] for d in response.context["differences"]] == [
        "Risk tolerance: Hugh High (h-1) lies further towards risk-seeking than Lou Low (l-1) "
        "(z 4.22, 90% interval 3.32 to 5.12, against z -1.00, -1.90 to -0.10).",
        "Risk tolerance: Hugh High (h-1) lies further towards risk-seeking than Norm group: "
        "Hand norms v1 (z 4.22, 90% interval 3.32 to 5.12, against z 0.00, -0.95 to 0.95).",
    ]
    assert 'data-testid="compare-differences"' in html
    # the differing bars are outlined
    assert bars["datasets"][2]["borderWidth"][-1] == 3
    assert bars["datasets"][0]["borderWidth"][-1] == 3
    assert bars["datasets"][4]["borderWidth"][-1] == 1  # the group: no difference
    assert radar["simulated"] is True
    # each candidate compared is an audited read
    reads = AuditLog.objects.filter(action="candidate.read").order_by("pk")
    assert [(r.actor, r.object_id, r.details) for r in reads] == [
        (recruiter, str(lou.pk), {"view": "compare"}),
        (recruiter, str(hugh.pk), {"view": "compare"}),
    ]


def test_the_form_offers_what_exists_and_nothing_is_compared_before_a_choice(
    staff_browser, pair, assessment
):
    table, _ = pair

    response = staff_browser.get(reverse("staff:compare"))

    assert response.status_code == 200
    form = response.context["form"]
    assert [label for _, label in form.fields["c"].choices] == [
        "Hugh High (h-1)",
        "Lou Low (l-1)",
    ]
    assert [value for value, _ in form.fields["g"].choices] == [
        f"assessment:{assessment.pk}",
        f"norm:{table.pk}",
    ]
    assert response.context["profiles"] == []
    assert "compare-radar" not in response.content.decode()


def test_more_than_ten_profiles_are_refused_with_a_clear_message(staff_browser, pair, assessment):
    _, people = pair
    more = [
        candidate_invite(assessment=assessment, external_id=f"m-{i}", name=f"M {i}").candidate
        for i in range(8)
    ]
    ids = [people["l-1"].pk, people["h-1"].pk] + [c.pk for c in more]

    response = staff_browser.get(
        reverse("staff:compare"), {"c": ids, "g": [f"assessment:{assessment.pk}"]}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Compare at most 10 candidates and groups at once; 11 were chosen. "
        "Remove 1 and compare again."
    ]
    assert response.context["profiles"] == []
    assert not AuditLog.objects.filter(action="candidate.read").exists()


def test_another_organisation_s_ids_fail_the_form_like_unknown_ones(
    staff_browser, pair, other_organization
):
    _, people = pair
    foreign = assessment_create(
        organization=other_organization, name="Globex secret", games=["cards"]
    )
    stranger = candidate_invite(assessment=foreign, external_id="g-1", name="Gina Secret").candidate
    theirs = hand_norm_table(name="Globex norms", organization=other_organization)

    cases = {
        "candidate": {"c": [people["l-1"].pk, stranger.pk]},
        "unknown candidate": {"c": [people["l-1"].pk, stranger.pk + 1000]},
        "assessment": {"g": [f"assessment:{foreign.pk}"]},
        "norm table": {"g": [f"norm:{theirs.pk}"]},
    }
    for case, query in cases.items():
        response = staff_browser.get(reverse("staff:compare"), query)
        html = response.content.decode()
        assert response.status_code == 200, case
        assert not response.context["form"].is_valid(), case
        assert "Select a valid choice" in html, case
        assert "Gina Secret" not in html, case
        assert "Globex" not in html, case
        assert response.context["profiles"] == [], case
    assert not AuditLog.objects.filter(action="candidate.read").exists()


def test_an_older_norm_table_is_not_a_comparable_group(staff_browser, pair):
    table, _ = pair
    hand_norm_table(version=2, shift=1.0)  # now the current shared table

    response = staff_browser.get(reverse("staff:compare"), {"g": [f"norm:{table.pk}"]})

    assert "g" in response.context["form"].errors


def test_a_candidate_not_in_the_picker_can_still_be_compared_by_id(staff_browser, assessment):
    # invited, never scored: not offered, but the organisation's own and so valid
    quiet = candidate_invite(assessment=assessment, external_id="q-1", name="Quinn Quiet").candidate

    response = staff_browser.get(reverse("staff:compare"), {"c": [quiet.pk]})

    assert response.context["form"].is_valid()
    (profile,) = response.context["profiles"]
    assert profile["traits"] == {}
    assert response.context["differences"] == []
    assert "No two profiles differ beyond their 90% intervals" in response.content.decode()


def test_the_compare_page_needs_an_organisation(client, db):
    from pymetrics.accounts.models import User

    client.force_login(User.objects.create_user(email="solo@example.org", password="x-1234567"))

    response = client.get(reverse("staff:compare"))

    assert response.status_code == 403
