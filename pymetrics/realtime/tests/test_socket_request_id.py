"""The socket stack config/asgi.py serves binds a request id before anything else."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from channels.testing import WebsocketCommunicator

from pymetrics.common import requestid
from pymetrics.realtime import routing
from pymetrics.realtime.staff import DashboardConsumer

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_socket_refused_by_its_consumer_has_the_id_its_handshake_brought(monkeypatch):
    seen: list[dict[str, Any]] = []
    real_connect = DashboardConsumer.connect

    async def connect(self: Any) -> None:
        seen.append(structlog.contextvars.get_contextvars())
        await real_connect(self)

    monkeypatch.setattr(DashboardConsumer, "connect", connect)
    communicator = WebsocketCommunicator(
        routing.websocket_application(),
        "/ws/dashboard/5/",
        headers=[(b"origin", b"http://testserver"), (b"x-request-id", b"edge-17")],
    )
    connected, _ = await communicator.connect()
    closed = await communicator.receive_output()
    await communicator.disconnect()

    # no user: accepted, then closed 4401 (browsers see close codes only after the
    # handshake); the consumer ran with the socket's id bound
    assert connected is True
    assert closed == {"type": "websocket.close", "code": 4401}
    assert seen == [{"request_id": "edge-17"}]
    assert requestid.current_request_id() is None
