"""EventStream over a WebSocket: the same answers as the HTTP play endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from pymetrics.assessments.models import GameSession
from pymetrics.conftest import HAND_METRICS, HAND_PLAN, PlayClient, start_play
from pymetrics.events.models import Event
from pymetrics.realtime.limits import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_INVALID,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_LARGE,
    CLOSE_UNAUTHENTICATED,
    MAX_MESSAGE_BYTES,
    RateLimiter,
    message_too_large,
)
from pymetrics.realtime.play import EventStreamConsumer
from pymetrics.scoring.models import MetricSet

TIMEOUT = 5


def _application(consumer: type[EventStreamConsumer] = EventStreamConsumer) -> Any:
    return URLRouter([path("ws/play/<int:game_session_id>/", consumer.as_asgi())])


async def _open(
    game_session_id: int,
    token: str | None,
    consumer: type[EventStreamConsumer] = EventStreamConsumer,
) -> WebsocketCommunicator:
    url = f"/ws/play/{game_session_id}/" + (f"?token={token}" if token is not None else "")
    communicator = WebsocketCommunicator(_application(consumer), url)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected  # refusals are accepted first, then closed with a code
    return communicator


async def _open_play(play: PlayClient, **kwargs: Any) -> tuple[WebsocketCommunicator, dict]:
    communicator = await _open(play.game_session_id, play.session_token, **kwargs)
    hello = await communicator.receive_json_from(timeout=TIMEOUT)
    return communicator, hello


async def _closed_with(communicator: WebsocketCommunicator) -> int:
    """The close code the server sent (after any messages before it)."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            await communicator.disconnect()
            return int(output["code"])


async def _next_json(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=TIMEOUT)


@sync_to_async
def _stored(game_session_id: int) -> list[tuple[int, float, str, dict]]:
    return list(
        Event.objects.filter(game_session_id=game_session_id)
        .order_by("seq")
        .values_list("seq", "t", "type", "data")
    )


def _rows(events: list[dict]) -> list[tuple[int, float, str, dict]]:
    return [(e["seq"], float(e["t"]), e["type"], e["data"]) for e in events]


@sync_to_async
def _session(game_session_id: int) -> GameSession:
    return GameSession.objects.get(pk=game_session_id)


# --- connect ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_hello_on_a_fresh_session_starts_at_seq_1(play):
    communicator, hello = await _open_play(play)
    assert hello == {"type": "hello", "acked_seq": 0, "next_seq": 1}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_hello_carries_the_acked_seq_of_events_stored_over_http(play, make_balloon_events):
    # given the first 5 events stored over HTTP (say, before the socket dropped)
    events = make_balloon_events(HAND_PLAN)
    response = await sync_to_async(play.send)(events[:5])
    assert response.status_code == 200

    # when the client reconnects over the socket, it learns where to resume
    communicator, hello = await _open_play(play)
    assert hello == {"type": "hello", "acked_seq": 5, "next_seq": 6}

    # and sending the rest completes the stream
    await communicator.send_json_to({"type": "events", "events": events[5:]})
    assert await _next_json(communicator) == {
        "type": "ack",
        "acked_seq": 11,
        "accepted": 6,
        "duplicates": 0,
    }
    assert await _stored(play.game_session_id) == _rows(events)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_a_token_the_socket_closes_with_4401(play):
    communicator = await _open(play.game_session_id, None)
    error = await _next_json(communicator)
    assert error["type"] == "error"
    assert error["error"]["code"] == "not_authenticated"
    assert await _closed_with(communicator) == CLOSE_UNAUTHENTICATED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_forged_token_closes_with_4401(play):
    communicator = await _open(play.game_session_id, play.session_token + "x")
    assert (await _next_json(communicator))["error"]["code"] == "invalid_token"
    assert await _closed_with(communicator) == CLOSE_UNAUTHENTICATED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_another_attempts_token_closes_with_4403_and_nothing_is_stored(play, make_invitation):
    other = await sync_to_async(lambda: start_play(make_invitation(email="otto@example.org")))()
    communicator = await _open(play.game_session_id, other.session_token)
    assert (await _next_json(communicator))["error"]["code"] == "wrong_session"
    assert await _closed_with(communicator) == CLOSE_FORBIDDEN
    assert await _stored(play.game_session_id) == []


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_unknown_game_session_gets_the_same_4403(play):
    communicator = await _open(play.game_session_id + 1000, play.session_token)
    assert (await _next_json(communicator))["error"]["code"] == "wrong_session"
    assert await _closed_with(communicator) == CLOSE_FORBIDDEN


# --- events ----------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_batch_is_acked_like_http_and_stored(play, make_balloon_events):
    events = make_balloon_events(HAND_PLAN)
    communicator, _ = await _open_play(play)

    await communicator.send_json_to({"type": "events", "events": events})

    assert await _next_json(communicator) == {
        "type": "ack",
        "acked_seq": 11,
        "accepted": 11,
        "duplicates": 0,
    }
    assert await _stored(play.game_session_id) == _rows(events)
    game_session = await _session(play.game_session_id)
    assert (game_session.state, game_session.acked_seq, game_session.event_count) == (
        "in_progress",
        11,
        11,
    )
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_batch_sent_again_is_counted_as_duplicates(play, make_balloon_events):
    events = make_balloon_events(HAND_PLAN)
    communicator, _ = await _open_play(play)
    await communicator.send_json_to({"type": "events", "events": events[:6]})
    assert (await _next_json(communicator))["accepted"] == 6

    # the same batch again, then one overlapping the stored events
    await communicator.send_json_to({"type": "events", "events": events[:6]})
    assert await _next_json(communicator) == {
        "type": "ack",
        "acked_seq": 6,
        "accepted": 0,
        "duplicates": 6,
    }
    await communicator.send_json_to({"type": "events", "events": events[4:]})
    assert await _next_json(communicator) == {
        "type": "ack",
        "acked_seq": 11,
        "accepted": 5,
        "duplicates": 2,
    }
    assert await _stored(play.game_session_id) == _rows(events)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_invalid_event_is_an_error_the_socket_stays_open_and_earlier_events_stay(
    play, make_balloon_events
):
    events = make_balloon_events(HAND_PLAN)
    communicator, _ = await _open_play(play)
    bad = {**events[3], "t": -1}

    await communicator.send_json_to({"type": "events", "events": [*events[:3], bad]})

    error = await _next_json(communicator)
    assert error == {
        "type": "error",
        "error": {
            "code": "invalid_event",
            "message": "event 3 (seq 4): t must be a finite number of ms >= 0",
            "details": {
                "index": 3,
                "seq": 4,
                "field": "t",
                "reason": "must be a finite number of ms >= 0",
                "acked_seq": 3,
                "accepted": 3,
                "duplicates": 0,
            },
        },
        "acked_seq": 3,
    }
    assert await _stored(play.game_session_id) == _rows(events[:3])

    # the socket is still open: the client resends from seq 4
    await communicator.send_json_to({"type": "events", "events": events[3:]})
    assert await _next_json(communicator) == {
        "type": "ack",
        "acked_seq": 11,
        "accepted": 8,
        "duplicates": 0,
    }
    assert await _stored(play.game_session_id) == _rows(events)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_batch_over_the_event_limit_is_an_error_and_the_socket_stays_open(play, settings):
    settings.PYMETRICS_MAX_EVENTS_PER_BATCH = 2
    communicator, _ = await _open_play(play)
    events = [{"seq": s, "t": 0.0, "type": "focus", "data": {"state": "away"}} for s in (1, 2, 3)]
    await communicator.send_json_to({"type": "events", "events": events})
    error = await _next_json(communicator)
    assert error["error"]["code"] == "batch_too_large"
    await communicator.send_json_to({"type": "ping"})
    assert await _next_json(communicator) == {"type": "pong"}
    assert await _stored(play.game_session_id) == []
    await communicator.disconnect()


# --- complete --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_complete_answers_completed_closes_1000_and_scores_the_game(
    play, make_balloon_events
):
    communicator, _ = await _open_play(play)
    await communicator.send_json_to({"type": "events", "events": make_balloon_events(HAND_PLAN)})
    assert (await _next_json(communicator))["acked_seq"] == 11

    await communicator.send_json_to({"type": "complete"})

    assert await _next_json(communicator) == {"type": "completed"}
    assert await _closed_with(communicator) == 1000
    # Celery runs in-process: the metrics were extracted once the close committed
    game_session = await _session(play.game_session_id)
    assert (game_session.state, game_session.scoring_error) == ("scored", "")
    metric_set = await sync_to_async(MetricSet.objects.get)(game_session_id=play.game_session_id)
    assert metric_set.values == HAND_METRICS


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_events_after_complete_are_a_session_closed_error_then_close_1000(
    play, make_balloon_events
):
    events = make_balloon_events(HAND_PLAN)
    first, _ = await _open_play(play)
    await first.send_json_to({"type": "events", "events": events})
    await _next_json(first)
    await first.send_json_to({"type": "complete"})
    assert await _next_json(first) == {"type": "completed"}
    assert await _closed_with(first) == 1000

    # a second tab still streaming to the finished game
    second, hello = await _open_play(play)
    assert hello["acked_seq"] == 11
    await second.send_json_to({"type": "events", "events": events[:1]})
    error = await _next_json(second)
    assert (error["error"]["code"], error["acked_seq"]) == ("session_closed", 11)
    assert await _closed_with(second) == 1000


# --- bad messages and limits -----------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_ping_is_answered_with_pong(play):
    communicator, _ = await _open_play(play)
    await communicator.send_json_to({"type": "ping"})
    assert await _next_json(communicator) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"text_data": "{not json"}, id="malformed-json"),
        pytest.param({"bytes_data": b'{"type": "ping"}'}, id="binary-frame"),
        pytest.param({"text_data": "[1, 2]"}, id="not-an-object"),
        pytest.param({"text_data": '{"type": "dance"}'}, id="unknown-type"),
        pytest.param({"text_data": '{"type": "events", "events": {}}'}, id="events-not-a-list"),
    ],
)
async def test_an_invalid_message_closes_with_4400_after_an_error(play, frame):
    communicator, _ = await _open_play(play)
    await communicator.send_to(**frame)
    assert (await _next_json(communicator))["type"] == "error"
    assert await _closed_with(communicator) == CLOSE_INVALID
    assert await _stored(play.game_session_id) == []


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_message_over_one_mib_closes_with_4413_and_nothing_is_stored(
    play, make_balloon_events
):
    communicator, _ = await _open_play(play)
    events = make_balloon_events(HAND_PLAN)
    events[0]["data"]["padding"] = "é" * (MAX_MESSAGE_BYTES // 2)  # 2 bytes each in UTF-8
    text = json.dumps({"type": "events", "events": events}, ensure_ascii=False)
    assert len(text) < MAX_MESSAGE_BYTES < len(text.encode())

    await communicator.send_to(text_data=text)

    error = await _next_json(communicator)
    assert error["error"]["code"] == "payload_too_large"
    assert await _closed_with(communicator) == CLOSE_TOO_LARGE
    assert await _stored(play.game_session_id) == []


class _TightLimits(EventStreamConsumer):
    RATE_PER_S = 0.001  # no refill within a test
    RATE_BURST = 3


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_flood_of_messages_closes_with_4429(play):
    communicator, _ = await _open_play(play, consumer=_TightLimits)
    for _ in range(3):
        await communicator.send_json_to({"type": "ping"})
        assert await _next_json(communicator) == {"type": "pong"}

    await communicator.send_json_to({"type": "ping"})

    assert (await _next_json(communicator))["error"]["code"] == "rate_limited"
    assert await _closed_with(communicator) == CLOSE_RATE_LIMITED


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_default_limit_allows_a_burst_of_40_then_closes(play):
    communicator, _ = await _open_play(play)
    for _ in range(60):
        await communicator.send_json_to({"type": "ping"})
    replies = []
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            break
        replies.append(json.loads(output["text"])["type"])
    await communicator.disconnect()
    assert output["code"] == CLOSE_RATE_LIMITED
    # 40 in the burst, plus whatever refilled at 20/s while they were handled
    assert 40 <= replies.count("pong") < 60
    assert replies[-1] == "error"


# --- heartbeat -------------------------------------------------------------------------


class _FastHeartbeat(EventStreamConsumer):
    HEARTBEAT_S = 0.05


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_server_pings_and_closes_a_silent_client_with_4408(play):
    communicator, _ = await _open_play(play, consumer=_FastHeartbeat)
    assert await _next_json(communicator) == {"type": "ping"}
    error = await _next_json(communicator)
    assert error["error"]["code"] == "idle"
    assert await _closed_with(communicator) == CLOSE_IDLE


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_client_that_answers_pings_is_kept(play):
    communicator, _ = await _open_play(play, consumer=_FastHeartbeat)
    for _ in range(5):  # 5 intervals: well past the two a silent client gets
        assert await _next_json(communicator) == {"type": "ping"}
        await communicator.send_json_to({"type": "pong"})
    assert await communicator.receive_nothing(timeout=0.01)
    await communicator.disconnect()


# --- limits ----------------------------------------------------------------------------


def test_the_rate_limiter_allows_a_burst_then_the_sustained_rate():
    now = [100.0]
    limiter = RateLimiter(rate=20.0, burst=40.0, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(41)] == [True] * 40 + [False]
    now[0] += 0.5  # refills 10
    assert [limiter.allow() for _ in range(11)] == [True] * 10 + [False]
    now[0] += 60.0  # never more than the burst
    assert sum(limiter.allow() for _ in range(50)) == 40


def test_message_size_counts_utf8_bytes():
    assert not message_too_large("a" * 10, limit=10)
    assert message_too_large("a" * 11, limit=10)
    assert message_too_large("é" * 6, limit=10)
    assert not message_too_large("é" * 5, limit=10)
