"""Candidate pages: invite -> consent -> lobby -> game -> thanks, through the test client."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.assessments.services import attempt_consent
from pymetrics.games.registry import get_game
from pymetrics.play.tokens import session_token_attempt_id


@pytest.fixture
def consented(invitation):
    """The invitation after the candidate consented (no accommodations)."""
    attempt_consent(attempt=invitation.attempt, accommodations={})
    return invitation


def _template(response) -> str:
    return response.templates[0].name


def _game_config(html: str) -> dict:
    found = re.search(
        r'<script id="game-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, "no game-config script"
    return json.loads(found.group(1))


def test_the_invite_page_names_the_assessment(client, invitation):
    response = client.get(reverse("play:invite", args=[invitation.invite_token]))

    assert response.status_code == 200
    assert _template(response) == "play/invite.html"
    html = response.content.decode()
    assert "Graduates 2027" in html
    assert "Acme Hiring" in html
    assert response.context["games"] == [
        {
            "key": "balloons",
            "title": "Balloons",
            "description": get_game("balloons").description,
            "estimated_minutes": 5,
        }
    ]
    assert response.context["consent_url"] == reverse(
        "play:consent", args=[invitation.invite_token]
    )


def test_the_invite_link_asks_a_new_candidate_for_consent(client, invitation):
    html = client.get(reverse("play:invite", args=[invitation.invite_token])).content.decode()

    consent_url = reverse("play:consent", args=[invitation.invite_token])
    assert f'href="{consent_url}" data-testid="invite-continue">Continue</a>' in html
    assert "invite-returning" not in html


def test_the_invite_link_takes_a_returning_candidate_back_to_their_games(client, consented):
    html = client.get(reverse("play:invite", args=[consented.invite_token])).content.decode()

    lobby_url = reverse("play:lobby", args=[consented.invite_token])
    assert (
        f'href="{lobby_url}" data-testid="invite-continue">Continue where you stopped</a>' in html
    )
    assert 'data-testid="invite-returning"' in html


@pytest.mark.parametrize(
    "url_name",
    ["play:invite", "play:consent", "play:lobby", "play:thanks"],
)
def test_an_unknown_invite_token_is_a_404_page(client, db, url_name):
    response = client.get(reverse(url_name, args=["not-a-real-invite-token"]))

    assert response.status_code == 404
    assert _template(response) == "play/unavailable.html"
    assert response.context["title"] == "Invitation not found"


def test_an_expired_invite_is_a_410_page(client, invitation):
    # given an invite past its expiry
    Attempt.objects.filter(pk=invitation.attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(seconds=1)
    )

    # when the candidate opens it
    response = client.get(reverse("play:invite", args=[invitation.invite_token]))

    # then the page says it expired
    assert response.status_code == 410
    assert _template(response) == "play/unavailable.html"
    assert response.context["title"] == "Invitation expired"


def test_a_withdrawn_invite_is_a_410_page(client, invitation):
    Attempt.objects.filter(pk=invitation.attempt.pk).update(state="withdrawn")

    response = client.get(reverse("play:lobby", args=[invitation.invite_token]))

    assert response.status_code == 410
    assert response.context["title"] == "Invitation withdrawn"


def test_consent_without_the_box_ticked_shows_the_error_and_records_nothing(client, invitation):
    # when the candidate submits the consent form with an adjustment but without consenting
    response = client.post(
        reverse("play:consent", args=[invitation.invite_token]),
        {"accommodation_extended_time": "on"},
    )

    # then the form is shown again with the error, and nothing is recorded
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "consent": ["Please tick this box to continue, or close the page."]
    }
    assert "Please tick this box to continue, or close the page." in response.content.decode()
    assert Candidate.objects.get(pk=invitation.candidate.pk).consent_at is None
    assert Attempt.objects.get(pk=invitation.attempt.pk).accommodations == {}


def test_consent_with_the_box_ticked_records_it_and_opens_the_lobby(client, invitation):
    # when the candidate consents and asks for two adjustments
    before = timezone.now()
    response = client.post(
        reverse("play:consent", args=[invitation.invite_token]),
        {"consent": "on", "accommodation_extended_time": "on", "accommodation_colour_safe": "on"},
    )

    # then consent and the adjustments are recorded and the lobby opens
    assert response.status_code == 302
    assert response["Location"] == reverse("play:lobby", args=[invitation.invite_token])
    candidate = Candidate.objects.get(pk=invitation.candidate.pk)
    assert candidate.consent_at is not None
    assert before <= candidate.consent_at <= timezone.now()
    assert Attempt.objects.get(pk=invitation.attempt.pk).accommodations == {
        "extended_time": True,
        "reduced_motion": False,
        "colour_safe": True,
    }


def test_the_consent_form_shows_the_adjustments_already_chosen(client, invitation):
    attempt_consent(attempt=invitation.attempt, accommodations={"reduced_motion": True})

    response = client.get(reverse("play:consent", args=[invitation.invite_token]))

    assert response.context["form"].initial == {
        "accommodation_extended_time": False,
        "accommodation_reduced_motion": True,
        "accommodation_colour_safe": False,
    }


@pytest.mark.parametrize("url_name", ["play:lobby", "play:game"])
def test_pages_after_consent_send_a_candidate_without_consent_back(client, invitation, url_name):
    args = [invitation.invite_token] + ([1] if url_name == "play:game" else [])

    response = client.get(reverse(url_name, args=args))

    assert response.status_code == 302
    assert response["Location"] == reverse("play:consent", args=[invitation.invite_token])
    assert GameSession.objects.count() == 0


def test_the_lobby_lists_the_games_with_their_status(client, consented):
    # when the candidate opens the lobby for the first time
    response = client.get(reverse("play:lobby", args=[consented.invite_token]))

    # then the attempt is started and its one game is next
    assert response.status_code == 200
    game_session = GameSession.objects.get(attempt=consented.attempt)
    play_url = reverse("play:game", args=[consented.invite_token, game_session.pk])
    assert [(g["key"], g["status"], g["play_url"]) for g in response.context["games"]] == [
        ("balloons", "pending", play_url)
    ]
    assert response.context["next_game"]["key"] == "balloons"
    assert response.context["all_done"] is False
    html = response.content.decode()
    assert 'data-testid="lobby-game-balloons"' in html
    assert f'href="{play_url}"' in html
    assert Attempt.objects.get(pk=consented.attempt.pk).state == "started"


@pytest.mark.parametrize(
    ("state", "lobby_status"),
    [
        pytest.param("in_progress", "in_progress", id="in-progress"),
        pytest.param("completed", "completed", id="completed"),
        pytest.param("scored", "completed", id="scored"),
        pytest.param("failed", "completed", id="scoring-failed"),
    ],
)
def test_the_lobby_shows_each_game_state(client, consented, state, lobby_status):
    client.get(reverse("play:lobby", args=[consented.invite_token]))
    GameSession.objects.filter(attempt=consented.attempt).update(state=state)

    response = client.get(reverse("play:lobby", args=[consented.invite_token]))

    assert [g["status"] for g in response.context["games"]] == [lobby_status]
    assert response.context["all_done"] is (lobby_status == "completed")
    html = response.content.decode()
    assert ('data-testid="lobby-finish"' in html) is (lobby_status == "completed")


def test_the_game_page_embeds_its_configuration(client, consented):
    # given a started game session with 4 events acknowledged
    client.get(reverse("play:lobby", args=[consented.invite_token]))
    game_session = GameSession.objects.get(attempt=consented.attempt)
    GameSession.objects.filter(pk=game_session.pk).update(acked_seq=4, state="in_progress")

    # when the game page opens
    response = client.get(reverse("play:game", args=[consented.invite_token, game_session.pk]))

    # then the page holds everything the browser needs, as JSON
    assert response.status_code == 200
    config = _game_config(response.content.decode())
    assert session_token_attempt_id(config["session_token"]) == consented.attempt.pk
    assert config == {
        "game": "balloons",
        "game_session_id": game_session.pk,
        "session_token": config["session_token"],
        "events_url": f"/api/v1/play/game-sessions/{game_session.pk}/events/",
        "complete_url": f"/api/v1/play/game-sessions/{game_session.pk}/complete/",
        "restart_url": f"/api/v1/play/game-sessions/{game_session.pk}/restart/",
        "socket_url": f"/ws/play/{game_session.pk}/?"
        + urlencode({"token": config["session_token"]}),
        "lobby_url": f"/play/{consented.invite_token}/lobby/",
        "next_seq": 5,
        "config": get_game("balloons").make_config(game_session.seed),
        # events stored and the page opened again: the page starts the game again
        "interrupted": True,
        "measured": get_game("balloons").measured,
        "accommodations": {"extended_time": False, "reduced_motion": False, "colour_safe": False},
    }
    assert len(config["config"]["burst_points"]) == 30
    assert config["config"]["burst_points"] == game_session.config["burst_points"]


def test_the_game_page_records_the_browser_on_first_load_only(client, consented):
    # given a game session opened from one browser
    client.get(reverse("play:lobby", args=[consented.invite_token]))
    game_session = GameSession.objects.get(attempt=consented.attempt)
    url = reverse("play:game", args=[consented.invite_token, game_session.pk])
    client.get(url, HTTP_USER_AGENT="Firefox/140.0", HTTP_ACCEPT_LANGUAGE="de-CH")

    # when it is reopened from another
    client.get(url, HTTP_USER_AGENT="Chrome/150.0")

    # then the first browser is what the session remembers
    game_session.refresh_from_db()
    assert game_session.client_info == {"user_agent": "Firefox/140.0", "accept_language": "de-CH"}


def test_the_game_page_of_a_finished_game_goes_back_to_the_lobby(client, consented):
    client.get(reverse("play:lobby", args=[consented.invite_token]))
    game_session = GameSession.objects.get(attempt=consented.attempt)
    GameSession.objects.filter(pk=game_session.pk).update(state="scored")

    response = client.get(reverse("play:game", args=[consented.invite_token, game_session.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("play:lobby", args=[consented.invite_token])


def test_another_candidates_game_session_is_not_found(client, consented, make_invitation):
    # given another candidate's started game session
    other = make_invitation(email="ola@example.org", external_id="cand-009")
    attempt_consent(attempt=other.attempt, accommodations={})
    client.get(reverse("play:lobby", args=[other.invite_token]))
    foreign = GameSession.objects.get(attempt=other.attempt)

    # when this candidate opens it through their own invite
    response = client.get(reverse("play:game", args=[consented.invite_token, foreign.pk]))

    # then it is not part of their invitation
    assert response.status_code == 404
    assert response.context["title"] == "Game not found"


def test_the_thanks_page(client, consented):
    response = client.get(reverse("play:thanks", args=[consented.invite_token]))

    assert response.status_code == 200
    assert _template(response) == "play/thanks.html"
    assert 'data-testid="thanks"' in response.content.decode()
    assert "Graduates 2027" in response.content.decode()


def test_a_superseded_game_s_old_page_leads_back_to_the_lobby(client, consented):
    from pymetrics.assessments.services import game_session_restart

    client.get(reverse("play:lobby", args=[consented.invite_token]))
    game_session = GameSession.objects.get(attempt=consented.attempt)
    GameSession.objects.filter(pk=game_session.pk).update(acked_seq=4, state="in_progress")
    game_session_restart(game_session_id=game_session.pk)

    response = client.get(reverse("play:game", args=[consented.invite_token, game_session.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("play:lobby", args=[consented.invite_token])


def test_short_schedules_announce_their_own_durations(client, organization):
    """Lengths takes about 20 minutes, its short schedule about 2.5: the pages say which."""
    from pymetrics.assessments.services import assessment_create, candidate_invite

    full = assessment_create(organization=organization, name="Full", games=["lengths", "balloons"])
    short = assessment_create(
        organization=organization,
        name="Short",
        games=["lengths", "balloons"],
        settings_={"short_schedules": True},
    )
    pages = {}
    for assessment in (full, short):
        invitation = candidate_invite(assessment=assessment, name="Dana")
        pages[assessment.name] = client.get(
            reverse("play:invite", args=[invitation.invite_token])
        ).content.decode()

    # 20 + 5 minutes, against 2.5 + 1 (rounded to 4)
    assert "About 25 minutes" in pages["Full"]
    assert "about 20 min" in pages["Full"]
    assert "About 4 minutes" in pages["Short"]
    assert "about 2.5 min" in pages["Short"]
