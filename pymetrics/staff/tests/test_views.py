"""Staff pages through the Django test client: log in, list, create, invite, results."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Assessment, Attempt, Candidate
from pymetrics.assessments.services import assessment_create, candidate_invite, hash_invite_token
from pymetrics.scoring.models import TraitScore

PASSWORD = "correct horse battery"  # the recruiter fixture's password


@pytest.fixture
def staff_browser(client, recruiter):
    """A browser logged in as the recruiter."""
    client.force_login(recruiter)
    return client


def _row_cells(html: str, participant: str) -> list[str]:
    """The text of the metric cells of one candidate row of the assessment page."""
    row = re.search(
        rf'<tr[^>]*\bdata-participant="{re.escape(participant)}"[^>]*>(.*?)</tr>', html, re.S
    )
    assert row is not None, f"no row for {participant}"
    cells = re.findall(r'<td[^>]*\bdata-metric-index="\d+"[^>]*>(.*?)</td>', row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_the_login_page_renders(client, db):
    response = client.get(reverse("staff:login"))

    assert response.status_code == 200
    assert response.templates[0].name == "staff/login.html"
    html = response.content.decode()
    assert re.search(r'<input[^>]*type="email"[^>]*name="username"', html)
    assert re.search(r'<input[^>]*type="password"[^>]*name="password"', html)


@pytest.mark.parametrize(
    "typed_email",
    [
        pytest.param("rita@acme.example", id="as-registered"),
        pytest.param("Rita@Acme.Example", id="capitalised"),
    ],
)
def test_logging_in_with_email_and_password_opens_the_assessment_list(
    client, recruiter, typed_email
):
    # when the recruiter logs in with their e-mail address and password
    response = client.post(reverse("staff:login"), {"username": typed_email, "password": PASSWORD})

    # then they land on the assessment list, logged in
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:assessment-list")
    assert client.session["_auth_user_id"] == str(recruiter.pk)
    assert client.get(response["Location"]).status_code == 200


def test_a_wrong_password_stays_on_the_login_page(client, recruiter):
    response = client.post(
        reverse("staff:login"), {"username": "rita@acme.example", "password": "wrong"}
    )

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Please enter a correct email and password." in response.content.decode()


@pytest.mark.parametrize(
    "url_name",
    [
        pytest.param("staff:assessment-list", id="list"),
        pytest.param("staff:assessment-create", id="create"),
        pytest.param("staff:assessment-detail", id="detail"),
    ],
)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, assessment, url_name):
    url = reverse(url_name, args=[assessment.pk] if url_name.endswith("detail") else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('staff:login')}?next={url}"


def test_the_list_shows_only_the_users_organisation(
    staff_browser, assessment, organization, other_organization
):
    # given an assessment in each organisation
    assessment_create(organization=other_organization, name="Globex secret", games=["balloons"])
    newer = assessment_create(organization=organization, name="Interns", games=["balloons"])

    # when the recruiter opens the list
    response = staff_browser.get(reverse("staff:assessment-list"))

    # then only their organisation's assessments are there, newest first
    assert response.status_code == 200
    assert [a.pk for a in response.context["assessments"]] == [newer.pk, assessment.pk]
    html = response.content.decode()
    assert "Graduates 2027" in html
    assert "Interns" in html
    assert "Globex secret" not in html


def test_the_list_counts_candidates_by_state(staff_browser, assessment, play, make_invitation):
    # given one started attempt (play) and one only invited
    make_invitation(email="dan@example.org", external_id="cand-002")

    response = staff_browser.get(reverse("staff:assessment-list"))

    listed = response.context["assessments"][0]
    assert (listed.invited_count, listed.started_count, listed.completed_count) == (2, 1, 0)


def test_create_an_assessment_through_the_form(staff_browser, organization, recruiter):
    # when the recruiter submits the form
    response = staff_browser.post(
        reverse("staff:assessment-create"), {"name": "Data team 2027", "games": ["balloons"]}
    )

    # then the assessment exists and its page opens
    assessment = Assessment.objects.get(name="Data team 2027")
    assert (assessment.organization, assessment.created_by, assessment.games) == (
        organization,
        recruiter,
        ["balloons"],
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:assessment-detail", args=[assessment.pk])
    page = staff_browser.get(response["Location"])
    assert "Assessment “Data team 2027” created." in page.content.decode()


@pytest.mark.parametrize(
    ("form", "field", "error"),
    [
        pytest.param({"name": "No games"}, "games", "This field is required.", id="no-games"),
        pytest.param(
            {"name": "Chess", "games": ["chess"]},
            "games",
            "Select a valid choice. chess is not one of the available choices.",
            id="unknown-game",
        ),
        pytest.param(
            {"name": "Graduates 2027", "games": ["balloons"]},
            "name",
            "an assessment named 'Graduates 2027' already exists",
            id="duplicate-name",
        ),
    ],
)
def test_an_invalid_assessment_form_shows_the_error(staff_browser, assessment, form, field, error):
    response = staff_browser.post(reverse("staff:assessment-create"), form)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert Assessment.objects.count() == 1


def test_invite_a_candidate_through_the_form_shows_the_link_once(staff_browser, assessment):
    # when the recruiter invites a candidate
    response = staff_browser.post(
        reverse("staff:assessment-detail", args=[assessment.pk]),
        {"name": "Omar Okafor", "email": "omar@example.org", "external_id": "ats-9"},
    )
    assert response.status_code == 302

    # then the next page shows the invite link
    page = staff_browser.get(response["Location"])
    last_invite = page.context["last_invite"]
    assert last_invite["name"] == "Omar Okafor"
    token = urlsplit(last_invite["url"]).path.split("/")[2]
    assert last_invite["url"] == f"http://testserver/play/{token}/"
    assert f'value="{last_invite["url"]}" data-testid="invite-url"' in page.content.decode()
    candidate = Candidate.objects.get(external_id="ats-9")
    assert (candidate.name, candidate.email) == ("Omar Okafor", "omar@example.org")
    assert Attempt.objects.get(candidate=candidate).invite_token_hash == hash_invite_token(token)

    # and only once
    again = staff_browser.get(response["Location"])
    assert again.context["last_invite"] is None
    assert 'data-testid="invite-url"' not in again.content.decode()
    assert token not in again.content.decode()


def test_inviting_an_already_invited_external_id_shows_the_error(
    staff_browser, assessment, invitation
):
    response = staff_browser.post(
        reverse("staff:assessment-detail", args=[assessment.pk]),
        {"name": "Cara Again", "email": "cara@example.org", "external_id": "cand-001"},
    )

    assert response.status_code == 200
    assert response.context["invite_form"].non_field_errors() == [
        "candidate 'cand-001' is already invited to 'Graduates 2027'"
    ]
    assert Attempt.objects.count() == 1


def test_the_assessment_page_lists_candidates_with_their_metrics_once_scored(
    staff_browser, assessment, scored_play, make_invitation, recruiter
):
    # given a scored candidate (the hand-made session) and one only invited
    make_invitation(email="dan@example.org", name="Dan Doe", external_id="cand-002")

    # when the recruiter opens the assessment
    response = staff_browser.get(reverse("staff:assessment-detail", args=[assessment.pk]))

    # then the scored candidate's metrics are shown in the game's metric order
    assert response.status_code == 200
    rows = {row["candidate"].participant: row for row in response.context["rows"]}
    scored = rows["cand-001"]
    assert [(g["game"], g["state_code"]) for g in scored["progress"]] == [("balloons", "scored")]
    assert scored["flags"] == []
    assert scored["values"] == [1.5, 5 / 3, 1.0, 15.0, 1.5, None, None]
    html = response.content.decode()
    assert _row_cells(html, "cand-001") == ["1.50", "1.67", "1", "15", "1.50", "—", "—"]
    assert "Cara Candidate" in html
    # and the invited one has no values yet
    assert rows["cand-002"]["values"] == [None] * 7
    assert rows["cand-002"]["progress"][0]["state_code"] == "pending"
    assert _row_cells(html, "cand-002") == ["—"] * 7
    # and the read is audited, naming the candidates shown
    audit = AuditLog.objects.get(action="assessment.candidates.read")
    assert (audit.actor, audit.object_id) == (recruiter, str(assessment.pk))
    assert sorted(audit.details["candidates"]) == sorted(
        row["candidate"].pk for row in response.context["rows"]
    )


def test_a_battery_shows_every_game_s_progress_and_one_game_s_metrics(staff_browser, organization):
    battery = assessment_create(
        organization=organization, name="Battery", games=["balloons", "cards", "digits"]
    )
    candidate_invite(assessment=battery, email="eve@example.org", external_id="cand-009")
    url = reverse("staff:assessment-detail", args=[battery.pk])

    first = staff_browser.get(url)
    chosen = staff_browser.get(url, {"game": "digits"})
    unknown = staff_browser.get(url, {"game": "chess"})

    # every game's state is listed; the metrics are those of the game chosen (first by default)
    row = first.context["rows"][0]
    assert [g["game"] for g in row["progress"]] == ["balloons", "cards", "digits"]
    assert {g["state_code"] for g in row["progress"]} == {"pending"}
    assert first.context["shown_game"].key == "balloons"
    assert chosen.context["shown_game"].key == "digits"
    assert chosen.context["rows"][0]["values"] == [None, None, None]
    assert unknown.context["shown_game"].key == "balloons"
    html = chosen.content.decode()
    assert '<a class="tabs__tab" href="?game=digits" aria-current="page">Digits</a>' in html
    assert ">forward_span</th>" in html
    assert ">adjusted_pumps</th>" not in html


def test_another_organisations_assessment_is_a_404_page(staff_browser, other_organization):
    foreign = assessment_create(
        organization=other_organization, name="Globex secret", games=["balloons"]
    )

    response = staff_browser.get(reverse("staff:assessment-detail", args=[foreign.pk]))

    assert response.status_code == 404
    assert response.templates[0].name == "staff/not_found.html"
    assert "Globex secret" not in response.content.decode()
    assert not AuditLog.objects.filter(action="assessment.candidates.read").exists()


def test_another_organisations_assessment_takes_no_invitation(staff_browser, other_organization):
    foreign = assessment_create(
        organization=other_organization, name="Globex secret", games=["balloons"]
    )

    response = staff_browser.post(
        reverse("staff:assessment-detail", args=[foreign.pk]),
        {"name": "Mallory", "email": "mallory@example.org"},
    )

    assert response.status_code == 404
    assert Candidate.objects.count() == 0


def test_the_traits_tab_shows_percentiles_against_the_labelled_norms(
    staff_browser, assessment, scored_play
):
    from pymetrics.scoring.services import norm_table_build, traits_reinfer_for_norm_table

    url = reverse("staff:assessment-detail", args=[assessment.pk])
    before = staff_browser.get(url, {"game": "traits"}).content.decode()
    table = norm_table_build(population="simulated", name="Reference", players=30, seed=4)
    traits_reinfer_for_norm_table(norm_table=table)

    response = staff_browser.get(url, {"game": "traits"})

    assert "No norm table applies to this organisation yet" in before
    html = response.content.decode()
    assert "Percentiles against <strong>Reference v1</strong> (30 people" in html
    assert "simulated population</span>" in html
    row = response.context["rows"][0]
    risk = row["cells"][-1]  # risk_tolerance, the last trait of the map
    stored = TraitScore.objects.get(attempt_id=scored_play.attempt_id, trait="risk_tolerance")
    assert risk["value"] == stored.percentile
    assert risk["title"] == (
        f"90% interval: percentile {stored.percentile_low:.0f} to {stored.percentile_high:.0f}"
    )
    assert row["cells"][0]["value"] is None  # attention: no digits or arrows played
    assert "0 of 2 metrics present" in row["cells"][0]["title"]
