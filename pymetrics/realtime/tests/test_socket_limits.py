"""Candidate sockets: how many one game session or address may open, and how fast."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from pymetrics.common.ratelimit import Rate
from pymetrics.conftest import PlayClient
from pymetrics.realtime.limits import CLOSE_RATE_LIMITED, CLOSE_REPLACED, Admission, OpenSockets
from pymetrics.realtime.play import OPEN_PLAY_SOCKETS, EventStreamConsumer

TIMEOUT = 5


@pytest.fixture
def limits(settings) -> dict[str, Rate]:
    settings.PYMETRICS_RATE_LIMITS = {
        **settings.PYMETRICS_RATE_LIMITS,
        "socket_open_session": Rate(10_000, 60),
        "socket_open_ip": Rate(10_000, 60),
    }
    settings.PYMETRICS_RATE_LIMITS_ENABLED = True
    return settings.PYMETRICS_RATE_LIMITS


def test_open_sockets_are_counted_per_key_and_released():
    sockets = OpenSockets()
    limits = {"session:1": 5, "ip:a": 2}

    assert sockets.acquire("s1", limits) == Admission()
    assert sockets.acquire("s2", limits) == Admission()
    # an address at its limit refuses, and the refused socket counts on no key
    assert sockets.acquire("s3", limits) == Admission(refused="ip:a")
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (2, 2)
    sockets.release("s1")
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (1, 1)
    sockets.release("s1")  # twice: nothing more
    sockets.release("s2")
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (0, 0)


def test_the_newest_socket_of_a_game_session_replaces_the_oldest():
    sockets = OpenSockets()
    limits = {"session:1": 2, "ip:a": 10}

    for holder in ("s1", "s2"):
        assert sockets.acquire(holder, limits, replace={"session:1"}) == Admission()
    admission = sockets.acquire("s3", limits, replace={"session:1"})

    # the oldest makes room, on every key it counted on
    assert admission == Admission(replaced=("s1",))
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (2, 2)
    sockets.release("s1")  # its own disconnect, later: already forgotten
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (2, 2)
    assert sockets.acquire("s4", limits, replace={"session:1"}).replaced == ("s2",)


# --- the consumer --------------------------------------------------------------------------------


def _communicator(play: PlayClient, address: str = "192.0.2.50") -> WebsocketCommunicator:
    application = URLRouter([path("ws/play/<int:game_session_id>/", EventStreamConsumer.as_asgi())])
    communicator = WebsocketCommunicator(
        application, f"/ws/play/{play.game_session_id}/?token={play.session_token}"
    )
    communicator.scope["client"] = (address, 50000)
    return communicator


async def _refusal(communicator: WebsocketCommunicator) -> tuple[dict[str, Any], int]:
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    error = await communicator.receive_json_from(timeout=TIMEOUT)
    close = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.disconnect()
    return error, int(close["code"])


async def _hello(communicator: WebsocketCommunicator) -> dict[str, Any]:
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return await communicator.receive_json_from(timeout=TIMEOUT)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_game_session_s_newest_socket_takes_over_from_the_oldest(limits, settings, play):
    settings.PYMETRICS_SOCKETS_PER_SESSION = 2
    first, second = _communicator(play), _communicator(play, "192.0.2.51")
    assert (await _hello(first))["type"] == "hello"
    assert (await _hello(second))["type"] == "hello"

    # a third (the candidate reconnecting before the server noticed a dead socket)
    third = _communicator(play, "192.0.2.52")
    assert (await _hello(third))["type"] == "hello"

    # gets in, and the oldest is told why it closes
    replaced = await first.receive_json_from(timeout=TIMEOUT)
    assert replaced["error"]["code"] == "replaced"
    assert (await first.receive_output(timeout=TIMEOUT))["code"] == CLOSE_REPLACED
    assert OPEN_PLAY_SOCKETS.count(f"session:{play.game_session_id}") == 2
    for communicator in (first, second, third):
        await communicator.disconnect()
    assert OPEN_PLAY_SOCKETS.count(f"session:{play.game_session_id}") == 0


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_open_at_once_are_limited_per_address(limits, settings, play):
    settings.PYMETRICS_SOCKETS_PER_IP = 1
    first = _communicator(play, "192.0.2.60")
    assert (await _hello(first))["type"] == "hello"

    error, code = await _refusal(_communicator(play, "192.0.2.60"))

    assert code == CLOSE_RATE_LIMITED
    assert error["error"]["details"] == {"limit": 1, "scope": "ip"}
    await first.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_opened_are_rate_limited_per_game_session(limits, play):
    limits["socket_open_session"] = Rate(1, 60)
    first = _communicator(play)
    assert (await _hello(first))["type"] == "hello"
    await first.disconnect()

    error, code = await _refusal(_communicator(play))

    assert code == CLOSE_RATE_LIMITED
    assert error["error"]["code"] == "rate_limited"
    assert 1 <= error["error"]["details"]["retry_after_s"] <= 60
