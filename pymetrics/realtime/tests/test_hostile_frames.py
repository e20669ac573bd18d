"""Hostile frames on every socket: each gets its documented answer, stored events stay.

DESIGN.md 4.4 and pymetrics.realtime.limits: an invalid message closes with 4400
after an error naming it, a message over 1 MiB with 4413, a flood with 4429; the
consumer never crashes, and events stored before the bad frame are kept while
frames after the close are ignored. The communicator hands text frames to the
consumer as ``str``, so a lone surrogate stands for invalid UTF-8 here (the real
server refuses that at the protocol level: tests/integration/test_sockets.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from pymetrics.accounts.services import api_key_create
from pymetrics.conftest import PlayClient
from pymetrics.realtime.limits import (
    CLOSE_INVALID,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_LARGE,
    MAX_MESSAGE_BYTES,
)
from pymetrics.realtime.tests.test_play_socket import (
    TIMEOUT,
    _closed_with,
    _next_json,
    _open_play,
    _rows,
    _stored,
)
from pymetrics.realtime.tests.test_staff_sockets import APPLICATION, _token_headers

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

NOT_JSON = "the message is not JSON"
NOT_AN_OBJECT = "a message must be a JSON object"
UNKNOWN_TYPE = "'type' must be one of events, complete, ping, pong"
NO_EVENTS = "an events message needs an 'events' list"


@pytest.fixture(autouse=True)
def in_process_notices(settings: Any) -> None:
    """Live notices in-process, as in the staff socket tests."""
    settings.PYMETRICS_LIVE_REDIS_URL = None


def _pumps(first_seq: int, count: int) -> list[dict[str, Any]]:
    """Valid balloons events: seq ``first_seq`` on, one pump of balloon 1 each."""
    return [
        {"seq": seq, "t": float(seq), "type": "pump", "data": {"balloon": 1, "pumps": 1}}
        for seq in range(first_seq, first_seq + count)
    ]


async def _send_text(communicator: WebsocketCommunicator, text: str) -> None:
    """A text frame, also an empty one (``send_to`` refuses those)."""
    await communicator.send_input({"type": "websocket.receive", "text": text})


def _ping_of(size: int) -> str:
    """A ping message of exactly ``size`` bytes in UTF-8."""
    head, tail = '{"type": "ping", "pad": "', '"}'
    return head + "x" * (size - len(head) - len(tail)) + tail


# --- the candidate's socket ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        pytest.param("", "invalid_message", NOT_JSON, id="empty"),
        pytest.param('{"type": "ping", "n": NaN}', "invalid_message", NOT_JSON, id="nan"),
        pytest.param('{"type": "ping", "n": 1e400}', "invalid_message", NOT_JSON, id="inf"),
        pytest.param(
            '{"type": "ping", "s": "\\ud800"}', "invalid_message", NOT_JSON, id="escaped-surrogate"
        ),
        pytest.param(
            '{"type": "ping", "s": "\ud800"}', "invalid_message", NOT_JSON, id="surrogate"
        ),
        pytest.param("[" * 2000 + "]" * 2000, "invalid_message", NOT_JSON, id="too-deep"),
        pytest.param('{"type": "ping"} {}', "invalid_message", NOT_JSON, id="two-documents"),
        pytest.param("null", "invalid_message", NOT_AN_OBJECT, id="null"),
        pytest.param("12", "invalid_message", NOT_AN_OBJECT, id="number"),
        pytest.param('"events"', "invalid_message", NOT_AN_OBJECT, id="string"),
        pytest.param('{"events": []}', "invalid_message", UNKNOWN_TYPE, id="no-type"),
        pytest.param('{"type": null}', "invalid_message", UNKNOWN_TYPE, id="null-type"),
        pytest.param('{"type": ["events"]}', "invalid_message", UNKNOWN_TYPE, id="list-type"),
        pytest.param('{"type": "EVENTS"}', "invalid_message", UNKNOWN_TYPE, id="upper-case"),
        pytest.param('{"type": "events"}', "malformed_batch", NO_EVENTS, id="no-events"),
        pytest.param(
            '{"type": "events", "events": null}', "malformed_batch", NO_EVENTS, id="null-events"
        ),
        pytest.param(
            '{"type": "events", "events": "[]"}', "malformed_batch", NO_EVENTS, id="text-events"
        ),
    ],
)
async def test_a_hostile_text_frame_is_named_then_closed_with_4400(
    play: PlayClient, text: str, code: str, message: str
) -> None:
    communicator, _ = await _open_play(play)

    await _send_text(communicator, text)

    error = await _next_json(communicator)
    assert (error["type"], error["error"]["code"], error["error"]["message"]) == (
        "error",
        code,
        message,
    )
    assert await _closed_with(communicator) == CLOSE_INVALID
    assert await _stored(play.game_session_id) == []


async def test_a_message_of_exactly_one_mib_is_read_one_byte_more_closes_with_4413(
    play: PlayClient,
) -> None:
    communicator, _ = await _open_play(play)

    await communicator.send_to(text_data=_ping_of(MAX_MESSAGE_BYTES))
    assert await _next_json(communicator) == {"type": "pong"}

    await communicator.send_to(text_data=_ping_of(MAX_MESSAGE_BYTES + 1))
    error = await _next_json(communicator)
    assert error["error"] == {
        "code": "payload_too_large",
        "message": f"a message may hold at most {MAX_MESSAGE_BYTES} bytes",
        "details": {"max_bytes": MAX_MESSAGE_BYTES},
    }
    assert await _closed_with(communicator) == CLOSE_TOO_LARGE


async def test_events_stored_before_a_bad_frame_stay_and_frames_after_it_are_ignored(
    play: PlayClient,
) -> None:
    # given a batch stored and acknowledged
    communicator, _ = await _open_play(play)
    await communicator.send_json_to({"type": "events", "events": _pumps(1, 5)})
    assert (await _next_json(communicator))["acked_seq"] == 5

    # when a bad frame comes, and right behind it a valid batch and a binary frame
    await communicator.send_to(text_data="{not json")
    await communicator.send_json_to({"type": "events", "events": _pumps(6, 5)})
    await communicator.send_to(bytes_data=b"\xff\xfe")

    # then one error, one close, and nothing of the frames after it is stored
    assert (await _next_json(communicator))["error"]["code"] == "invalid_message"
    assert await _closed_with(communicator) == CLOSE_INVALID
    assert await _stored(play.game_session_id) == _rows(_pumps(1, 5))

    # and a new socket resumes after the stored events
    again, hello = await _open_play(play)
    assert hello == {"type": "hello", "acked_seq": 5, "next_seq": 6}
    await again.disconnect()


async def test_an_invalid_event_keeps_the_socket_open_and_the_valid_events_before_it(
    play: PlayClient,
) -> None:
    communicator, _ = await _open_play(play)
    batch = [*_pumps(1, 2), {"seq": 3, "t": 3.0, "type": "pump", "data": {"balloon": 1}}]

    await communicator.send_json_to({"type": "events", "events": batch})

    error = await _next_json(communicator)
    assert error == {
        "type": "error",
        "error": {
            "code": "invalid_event",
            "message": "event 2 (seq 3): data.pumps is required",
            "details": {
                "index": 2,
                "seq": 3,
                "field": "data.pumps",
                "reason": "is required",
                "acked_seq": 2,
                "accepted": 2,
                "duplicates": 0,
            },
        },
        "acked_seq": 2,
    }
    await communicator.send_json_to({"type": "ping"})
    assert await _next_json(communicator) == {"type": "pong"}
    assert await _stored(play.game_session_id) == _rows(_pumps(1, 2))
    await communicator.disconnect()


async def test_a_flood_of_tiny_batches_keeps_every_acknowledged_event(play: PlayClient) -> None:
    # given a client sending 60 one-event batches as fast as it can (the burst is 40)
    communicator, _ = await _open_play(play)
    for seq in range(1, 61):
        await communicator.send_json_to({"type": "events", "events": _pumps(seq, 1)})

    # then it is acked until the limit, told so, and closed with 4429
    acked = []
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            break
        message = json.loads(output["text"])
        if message["type"] == "ack":
            acked.append(message["acked_seq"])
        else:
            assert message["error"]["code"] == "rate_limited"
    await communicator.disconnect()
    assert output["code"] == CLOSE_RATE_LIMITED
    assert 40 <= len(acked) < 60
    assert acked == list(range(1, len(acked) + 1))
    # and exactly the acknowledged events are stored
    assert await _stored(play.game_session_id) == _rows(_pumps(1, len(acked)))


# --- the staff sockets -----------------------------------------------------------------


async def _dashboard(recruiter: Any, invitation: Any) -> WebsocketCommunicator:
    key = await sync_to_async(lambda: api_key_create(user=recruiter).plaintext)()
    socket = WebsocketCommunicator(
        APPLICATION,
        f"/ws/dashboard/{invitation.attempt.assessment_id}/",
        headers=_token_headers(key),
    )
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "hello"
    return socket


async def _staff_closed_with(socket: WebsocketCommunicator) -> int:
    while True:
        output = await socket.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            await socket.disconnect()
            return int(output["code"])


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("null", id="null"),
        pytest.param("[]", id="list"),
        pytest.param('{"type": "ping", "n": NaN}', id="nan"),
        pytest.param('{"type": "ping", "s": "\ud800"}', id="surrogate"),
        pytest.param("[" * 2000, id="too-deep"),
        pytest.param('{"type": 1}', id="number-type"),
        pytest.param('{"type": "events", "events": []}', id="events-on-a-dashboard"),
    ],
)
async def test_a_hostile_frame_closes_a_staff_socket_with_4400(
    recruiter: Any, invitation: Any, text: str
) -> None:
    socket = await _dashboard(recruiter, invitation)

    await _send_text(socket, text)

    assert await _staff_closed_with(socket) == CLOSE_INVALID


async def test_a_staff_ping_of_exactly_one_mib_is_answered_one_byte_more_closes_with_4413(
    recruiter: Any, invitation: Any
) -> None:
    socket = await _dashboard(recruiter, invitation)

    await socket.send_to(text_data=_ping_of(MAX_MESSAGE_BYTES))
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}

    await socket.send_to(text_data=_ping_of(MAX_MESSAGE_BYTES + 1))
    assert await _staff_closed_with(socket) == CLOSE_TOO_LARGE
