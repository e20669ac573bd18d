"""Dashboard and TraitStream sockets: staff-only, organisation-scoped, relaying new scores."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import path

from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.assessments.models import Attempt
from pymetrics.realtime.staff import DashboardConsumer, TraitStreamConsumer
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.services import (
    norm_table_build,
    trait_scores_announce,
    traits_reinfer_for_norm_table,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

APPLICATION = AuthMiddlewareStack(
    URLRouter(
        [
            path("ws/dashboard/<int:assessment_id>/", DashboardConsumer.as_asgi()),
            path("ws/traits/<int:candidate_id>/", TraitStreamConsumer.as_asgi()),
        ]
    )
)


@pytest.fixture(autouse=True)
def in_process_notices(settings: Any) -> None:
    """Live notices delivered in-process whatever the environment configures.

    Redis pub/sub between processes is tested in the integration tier.
    """
    from pymetrics.events.activity import _assessment_of

    settings.PYMETRICS_LIVE_REDIS_URL = None
    _assessment_of.cache_clear()  # ids come back between tests; never in production


def _token_headers(key: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Token {key}".encode())]


async def _refused_with(communicator: WebsocketCommunicator) -> int:
    connected, _ = await communicator.connect()
    assert connected  # accepted, so that the browser can read the close code
    message = await communicator.receive_output(timeout=2)
    assert message["type"] == "websocket.close"
    return int(message["code"])


async def test_a_dashboard_relays_new_scores_of_its_assessment(
    recruiter, organization, scored_play
) -> None:
    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    assessment_id = await sync_to_async(
        lambda: organization.assessments.values_list("pk", flat=True).get()
    )()
    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{assessment_id}/", headers=_token_headers(key)
    )

    connected, _ = await socket.connect()
    hello = await socket.receive_json_from()
    await sync_to_async(trait_scores_announce)(attempt_ids=[scored_play.attempt_id])
    update = await socket.receive_json_from()

    assert connected
    assert hello == {"type": "hello", "assessment_id": assessment_id}
    assert update == {
        "type": "scores.updated",
        "assessment_id": assessment_id,
        "count": 1,
        "attempt_ids": [scored_play.attempt_id],
    }
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_staff_sockets_refuse_strangers_and_other_organisations(
    recruiter, other_organization, organization, invitation
) -> None:
    stranger = await sync_to_async(
        lambda: user_create(
            email="eve@globex.example", password=None, organization=other_organization
        )
    )()
    foreign_key = await sync_to_async(lambda: api_key_create(user=stranger).plaintext)()
    assessment_id = invitation.attempt.assessment_id
    candidate_id = invitation.candidate.pk

    anonymous = WebsocketCommunicator(APPLICATION, f"/ws/dashboard/{assessment_id}/")
    bad_key = WebsocketCommunicator(
        APPLICATION, f"/ws/traits/{candidate_id}/", headers=_token_headers("pmk_nope_nope")
    )
    other_org_dashboard = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{assessment_id}/", headers=_token_headers(foreign_key)
    )
    other_org_traits = WebsocketCommunicator(
        APPLICATION, f"/ws/traits/{candidate_id}/", headers=_token_headers(foreign_key)
    )

    assert await _refused_with(anonymous) == 4401
    assert await _refused_with(bad_key) == 4401
    # another organisation's ids answer exactly like ids that do not exist
    assert await _refused_with(other_org_dashboard) == 4403
    assert await _refused_with(other_org_traits) == 4403


async def test_a_trait_stream_sends_the_traits_now_and_when_they_change(
    recruiter, scored_play
) -> None:
    client = Client()
    await sync_to_async(client.force_login)(recruiter)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    candidate_id = await sync_to_async(
        lambda: Attempt.objects.get(pk=scored_play.attempt_id).candidate_id
    )()
    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/traits/{candidate_id}/", headers=[(b"cookie", cookie)]
    )

    connected, _ = await socket.connect()
    before = await socket.receive_json_from()

    def build_norms_and_score() -> None:
        table = norm_table_build(population="simulated", name="Reference", players=30, seed=4)
        traits_reinfer_for_norm_table(norm_table=table)
        trait_scores_announce(attempt_ids=[scored_play.attempt_id])

    await sync_to_async(build_norms_and_score)()
    after = await socket.receive_json_from()

    assert connected
    # no norm table applied yet: nothing is invented
    assert before == {"type": "traits", "candidate_id": candidate_id, "traits": []}
    assert after["type"] == "traits"
    assert after["attempt_id"] == scored_play.attempt_id
    traits = {t["trait"]: t for t in after["traits"]}
    stored = await sync_to_async(
        lambda: TraitScore.objects.get(attempt_id=scored_play.attempt_id, trait="risk_tolerance")
    )()
    assert traits["risk_tolerance"]["score"] == stored.z
    assert traits["risk_tolerance"]["versions"]["norm_table"]["simulated"] is True
    await socket.disconnect()


async def test_browsers_must_come_from_an_allowed_host(recruiter, invitation, settings) -> None:
    from pymetrics.realtime.origin import browser_origin_validator

    settings.ALLOWED_HOSTS = ["pymetrics.example"]
    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    guarded = browser_origin_validator(APPLICATION)
    url = f"/ws/dashboard/{invitation.attempt.assessment_id}/"

    evil = WebsocketCommunicator(
        guarded, url, headers=[*_token_headers(key), (b"origin", b"https://evil.example")]
    )
    ours = WebsocketCommunicator(
        guarded, url, headers=[*_token_headers(key), (b"origin", b"https://pymetrics.example")]
    )
    program = WebsocketCommunicator(guarded, url, headers=_token_headers(key))

    refused, _ = await evil.connect()
    assert refused is False
    for socket in (ours, program):
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "hello"
        await socket.disconnect()


async def test_a_dashboard_hears_a_game_completed_and_live_activity(
    recruiter, play, make_balloon_events
) -> None:
    from pymetrics.conftest import HAND_PLAN
    from pymetrics.events.activity import WINDOW_MS, activity_record

    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    attempt = await sync_to_async(lambda: Attempt.objects.get(pk=play.attempt_id))()
    socket = WebsocketCommunicator(
        APPLICATION, f"/ws/dashboard/{attempt.assessment_id}/", headers=_token_headers(key)
    )
    await socket.connect()
    await socket.receive_json_from()  # hello

    await sync_to_async(play.send)(make_balloon_events(HAND_PLAN))
    await sync_to_async(play.client.post)(play.complete_url)
    state = await socket.receive_json_from()
    window = 2_000_000 * WINDOW_MS
    await sync_to_async(activity_record)(attempt_id=attempt.pk, events=40, now_ms=window)
    await sync_to_async(activity_record)(attempt_id=attempt.pk, events=2, now_ms=window + 250)
    activity = await socket.receive_json_from()

    assert state == {
        "type": "session.state",
        "assessment_id": attempt.assessment_id,
        "attempt_id": attempt.pk,
        "game_session_id": play.game_session_id,
        "game": "balloons",
        "state": "completed",
    }
    assert activity == {
        "type": "events.activity",
        "assessment_id": attempt.assessment_id,
        "events": 40,
        "window_ms": 250,
        "events_per_s": 160.0,
    }
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        pytest.param([b"\x00\x01"], 4400, id="binary"),
        pytest.param(["{not json"], 4400, id="malformed"),
        pytest.param(['{"type": "subscribe"}'], 4400, id="unknown-type"),
        pytest.param(['"x' + "x" * (1024 * 1024) + '"'], 4413, id="oversized"),
        pytest.param(['{"type": "ping"}'] * 30, 4429, id="flood"),
    ],
)
async def test_staff_sockets_close_bad_clients_with_their_codes(
    recruiter, invitation, frames, code
) -> None:
    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    socket = WebsocketCommunicator(
        APPLICATION,
        f"/ws/dashboard/{invitation.attempt.assessment_id}/",
        headers=_token_headers(key),
    )
    await socket.connect()
    await socket.receive_json_from()  # hello

    for frame in frames:
        if isinstance(frame, bytes):
            await socket.send_to(bytes_data=frame)
        else:
            await socket.send_to(text_data=frame)
    while True:
        message = await socket.receive_output(timeout=2)
        if message["type"] == "websocket.close":
            break

    assert message["code"] == code


async def test_a_silent_dashboard_is_pinged_then_closed_and_a_live_one_stays(
    recruiter, invitation, monkeypatch
) -> None:
    # given heartbeats every 50 ms, and two dashboards: one answers, one never does
    monkeypatch.setattr(DashboardConsumer, "HEARTBEAT_S", 0.05)
    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    url = f"/ws/dashboard/{invitation.attempt.assessment_id}/"
    silent = WebsocketCommunicator(APPLICATION, url, headers=_token_headers(key))
    lively = WebsocketCommunicator(APPLICATION, url, headers=_token_headers(key))
    for socket in (silent, lively):
        await socket.connect()
        assert (await socket.receive_json_from())["type"] == "hello"

    # when four intervals pass, the lively one answering every ping
    for _ in range(4):
        assert await lively.receive_json_from(timeout=1) == {"type": "ping"}
        await lively.send_json_to({"type": "pong"})

    # then the silent one was pinged after one silent interval, closed as idle (4408)
    # after the second
    assert await silent.receive_json_from(timeout=1) == {"type": "ping"}
    assert await silent.receive_output(timeout=1) == {"type": "websocket.close", "code": 4408}
    # and the lively one is still served
    await lively.send_json_to({"type": "ping"})
    message = await lively.receive_json_from(timeout=1)
    while message == {"type": "ping"}:
        message = await lively.receive_json_from(timeout=1)
    assert message == {"type": "pong"}
    await lively.disconnect()
