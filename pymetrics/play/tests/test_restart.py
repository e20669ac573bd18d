"""A game interrupted midway starts again as a new session; the interrupted one is kept."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pymetrics.assessments.models import GameSession
from pymetrics.conftest import HAND_PLAN
from pymetrics.events.models import Event


def _restart(play, game_session_id: int):
    return play.client.post(reverse("api:play-restart", args=[game_session_id]))


def test_an_interrupted_game_starts_again_and_keeps_what_was_played(play, make_balloon_events):
    # given a game with events stored, left midway
    events = make_balloon_events(HAND_PLAN)[:5]
    assert play.send(events).json()["acked_seq"] == 5
    old = GameSession.objects.get(pk=play.game_session_id)

    # when its page asks to start it again
    response = _restart(play, old.pk)

    # then a new session takes its place, with a new schedule and nothing stored
    assert response.status_code == 201
    body = response.json()
    new = GameSession.objects.get(pk=body["game_session_id"])
    assert (new.attempt_id, new.game, new.position, new.state) == (
        old.attempt_id,
        "balloons",
        old.position,
        "pending",
    )
    assert new.seed != old.seed
    assert body["config"] == new.config
    assert body["next_seq"] == 1
    assert body["events_url"] == reverse("api:play-events", args=[new.pk])
    assert body["restart_url"] == reverse("api:play-restart", args=[new.pk])
    # and the interrupted one is superseded, its five events kept
    old.refresh_from_db()
    assert old.state == "superseded"
    assert list(Event.objects.filter(game_session=old).values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]
    # and the candidate's games list the new session only
    listed = play.client.post(reverse("api:play-start", args=[play.invite_token])).json()
    assert [g["game_session_id"] for g in listed["games"]] == [new.pk]


def test_a_superseded_session_takes_no_more_events_and_cannot_be_completed(
    play, make_balloon_events
):
    events = make_balloon_events(HAND_PLAN)
    play.send(events[:3])
    assert _restart(play, play.game_session_id).status_code == 201

    late = play.send(events[3:6])
    complete = play.client.post(play.complete_url)

    assert late.status_code == 409
    assert late.json()["error"]["code"] == "session_closed"
    assert complete.status_code == 409
    assert complete.json()["error"]["code"] == "session_superseded"
    assert Event.objects.filter(game_session_id=play.game_session_id).count() == 3


def test_a_game_not_started_yet_is_not_replaced(play):
    response = _restart(play, play.game_session_id)

    assert response.status_code == 200
    assert response.json()["game_session_id"] == play.game_session_id
    assert GameSession.objects.count() == 1


def test_a_finished_game_cannot_be_started_again(play, make_balloon_events):
    play.send(make_balloon_events(HAND_PLAN))
    assert play.client.post(play.complete_url).status_code == 202

    response = _restart(play, play.game_session_id)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "session_closed"


def test_another_attempt_s_token_cannot_restart_a_game(play, make_invitation):
    from pymetrics.conftest import start_play

    other = start_play(make_invitation(external_id="cand-002", email="dee@example.org"))

    response = _restart(other, play.game_session_id)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wrong_session"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"short_schedules": "yes"}, "setting 'short_schedules' must be a bool"),
        ({"shortest": True}, "unknown setting 'shortest'; known: short_schedules"),
    ],
)
def test_assessment_settings_are_checked(organization, setting, message):
    from pymetrics.assessments.services import assessment_create
    from pymetrics.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match=re.escape(message)):
        assessment_create(
            organization=organization, name="Short", games=["balloons"], settings_=setting
        )
