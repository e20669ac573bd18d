"""Draining on SIGTERM: every open socket is asked to reconnect, then the server stops."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from pymetrics.common.startup import install_shutdown_drain
from pymetrics.conftest import PlayClient
from pymetrics.realtime.drain import (
    CLOSE_REASON,
    CLOSE_SERVICE_RESTART,
    RECONNECT_MIN_MS,
    RECONNECT_SPREAD_MS,
    drain_on_shutdown,
    drain_open_sockets,
    open_consumers,
    reconnect_after_ms,
)
from pymetrics.realtime.play import EventStreamConsumer

TIMEOUT = 5


def test_reconnect_delays_are_spread_over_the_window():
    assert reconnect_after_ms(lambda: 0.0) == RECONNECT_MIN_MS
    assert reconnect_after_ms(lambda: 0.5) == RECONNECT_MIN_MS + RECONNECT_SPREAD_MS // 2
    assert reconnect_after_ms(lambda: 0.999999) == RECONNECT_MIN_MS + RECONNECT_SPREAD_MS - 1


def _communicator(play: PlayClient) -> WebsocketCommunicator:
    application = URLRouter([path("ws/play/<int:game_session_id>/", EventStreamConsumer.as_asgi())])
    communicator = WebsocketCommunicator(
        application, f"/ws/play/{play.game_session_id}/?token={play.session_token}"
    )
    communicator.scope["client"] = ("192.0.2.80", 50000)
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_drain_asks_an_open_candidate_socket_to_reconnect_and_closes_it(play):
    communicator = _communicator(play)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "hello"
    assert len(open_consumers()) == 1

    asked = await drain_open_sockets(wait_s=2, rng=lambda: 0.25)

    assert asked == 1
    message = await communicator.receive_json_from(timeout=TIMEOUT)
    assert message == {"type": "reconnect", "after_ms": reconnect_after_ms(lambda: 0.25)}
    close = await communicator.receive_output(timeout=TIMEOUT)
    assert close == {
        "type": "websocket.close",
        "code": CLOSE_SERVICE_RESTART,
        "reason": CLOSE_REASON,
    }
    await communicator.disconnect()
    assert open_consumers() == []


@pytest.mark.asyncio
async def test_with_nothing_open_the_drain_returns_at_once():
    assert await asyncio.wait_for(drain_open_sockets(wait_s=5), timeout=1) == 0


def test_sigterm_runs_the_drain_then_the_server_s_own_handler():
    calls: list[Any] = []

    def servers_handler(signum: int, frame: Any) -> None:
        calls.append(("server", signum))

    async def drain() -> None:
        calls.append("drain started")
        await asyncio.sleep(0.05)  # the server's handler waits for the drain
        calls.append("drain done")

    async def serve() -> None:
        assert install_shutdown_drain(drain)
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):
            if ("server", signal.SIGTERM) in calls:
                return
            await asyncio.sleep(0.01)

    previous = signal.signal(signal.SIGTERM, servers_handler)
    previous_int = signal.getsignal(signal.SIGINT)
    try:
        asyncio.run(serve())
        # a second signal goes straight to the server's handler
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

    assert calls == [
        "drain started",
        "drain done",
        ("server", signal.SIGTERM),
        ("server", signal.SIGTERM),
    ]


def test_without_a_running_event_loop_nothing_is_installed():
    before = signal.getsignal(signal.SIGTERM)

    async def drain() -> None:  # pragma: no cover - never called
        raise AssertionError

    assert install_shutdown_drain(drain) is False
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_asgi_wrapper_installs_the_drain_once_per_loop_and_passes_every_call_on():
    seen: list[str] = []

    async def application(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    wrapped = drain_on_shutdown(application)

    async def receive() -> dict[str, Any]:  # pragma: no cover - the app reads nothing
        return {}

    async def send(message: Any) -> None:  # pragma: no cover - the app sends nothing
        pass

    previous = signal.getsignal(signal.SIGTERM)
    previous_int = signal.getsignal(signal.SIGINT)

    async def two_calls() -> Any:
        await wrapped({"type": "http"}, receive, send)
        installed = signal.getsignal(signal.SIGTERM)
        await wrapped({"type": "websocket"}, receive, send)
        return installed, signal.getsignal(signal.SIGTERM)

    try:
        first, second = asyncio.run(two_calls())
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)

    assert seen == ["http", "websocket"]
    assert first is not previous
    assert second is first  # not wrapped again by the second connection
