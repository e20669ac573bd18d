"""Candidate sockets: how many one game session or address may open, and how fast."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from pymetrics.common.ratelimit import Rate
from pymetrics.conftest import PlayClient
from pymetrics.realtime.limits import CLOSE_RATE_LIMITED, OpenSockets
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

    assert sockets.acquire({"session:1": 2, "ip:a": 3}) is None
    assert sockets.acquire({"session:1": 2, "ip:a": 3}) is None
    assert sockets.acquire({"session:1": 2, "ip:a": 3}) == "session:1"
    # a refusal counts on no key
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (2, 2)
    sockets.release(["session:1", "ip:a"])
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (1, 1)
    sockets.release(["session:1", "ip:a"])
    assert (sockets.count("session:1"), sockets.count("ip:a")) == (0, 0)


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
async def test_sockets_open_at_once_are_limited_per_game_session(limits, settings, play):
    settings.PYMETRICS_SOCKETS_PER_SESSION = 2
    first, second = _communicator(play), _communicator(play, "192.0.2.51")
    assert (await _hello(first))["type"] == "hello"
    assert (await _hello(second))["type"] == "hello"

    error, code = await _refusal(_communicator(play, "192.0.2.52"))

    assert code == CLOSE_RATE_LIMITED
    assert error["error"]["code"] == "too_many_sockets"
    assert error["error"]["details"] == {"limit": 2, "scope": "session"}
    # a closed socket frees its place
    await first.disconnect()
    third = _communicator(play)
    assert (await _hello(third))["type"] == "hello"
    await second.disconnect()
    await third.disconnect()
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
