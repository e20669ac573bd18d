"""Draining a socket server that is told to stop (SIGTERM: a deploy, a scale-down).

Left to itself, uvicorn closes every socket with 1012 "service restart" the moment
it stops, without a word. The drain runs first: every open candidate and staff
socket of this process gets ``{"type": "reconnect", "after_ms": <n>}`` and then the
close 1012 "service restart". ``after_ms`` is jittered per socket, so the clients of
a stopping server come back to the remaining ones spread over a few seconds rather
than all in the same instant. Nothing is lost on a candidate's socket: the events
not yet acknowledged stay in the page's buffer, and the next server's ``hello``
says where to resume (``acked_seq``).

:func:`drain_on_shutdown` wraps the ASGI application (config/asgi.py): on the first
connection a process serves, on its event loop, it installs the signal handler
(:func:`pymetrics.common.startup.install_shutdown_drain`) that runs
:func:`drain_open_sockets` and then hands over to uvicorn's own shutdown. Not at
import: uvicorn loads the application before its loop runs and installs its own
handlers when it starts serving, which would replace one installed earlier.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pymetrics.common import jsonio
from pymetrics.common.startup import install_shutdown_drain
from pymetrics.realtime.heartbeat import heartbeat_sweeper
from pymetrics.realtime.play import OPEN_PLAY_SOCKETS
from pymetrics.realtime.staff import DashboardConsumer, TraitStreamConsumer

logger = logging.getLogger(__name__)

#: RFC 6455 / IANA: "Service Restart", the client may reconnect (1001 "going away"
#: would say the same less precisely; browsers report both as they are).
CLOSE_SERVICE_RESTART = 1012
CLOSE_REASON = "service restart"
#: A client comes back after RECONNECT_MIN_MS plus up to RECONNECT_SPREAD_MS.
RECONNECT_MIN_MS = 250
RECONNECT_SPREAD_MS = 4750
#: How long the drain waits for the consumers to see their close before uvicorn's
#: shutdown takes over; well inside uvicorn's graceful timeout and the pod's
#: termination grace period (docs/operations.md).
DRAIN_WAIT_S = 3.0


def reconnect_after_ms(rng: Callable[[], float] = random.random) -> int:
    """A jittered reconnect delay in milliseconds."""
    return RECONNECT_MIN_MS + int(rng() * RECONNECT_SPREAD_MS)


def open_consumers() -> list[Any]:
    """Every candidate and staff socket open in this process (the running loop's)."""
    consumers: list[Any] = list(OPEN_PLAY_SOCKETS.holders())
    intervals = {DashboardConsumer.HEARTBEAT_S, TraitStreamConsumer.HEARTBEAT_S}
    for interval in sorted(intervals):
        consumers.extend(heartbeat_sweeper(interval).members)
    return consumers


async def ask_to_reconnect(consumer: Any, after_ms: int) -> None:
    """Send one socket the reconnect message, then close it with 1012."""
    await consumer.send(text_data=jsonio.dumps({"type": "reconnect", "after_ms": after_ms}))
    await consumer.close(code=CLOSE_SERVICE_RESTART, reason=CLOSE_REASON)


async def drain_open_sockets(
    *, wait_s: float = DRAIN_WAIT_S, rng: Callable[[], float] = random.random
) -> int:
    """Ask every open socket to reconnect elsewhere; the number of sockets asked.

    Sockets that open while the drain runs (the server still listens until uvicorn's
    shutdown starts) are asked too. Returns once every asked socket has disconnected,
    or after ``wait_s``.
    """
    asked: set[Any] = set()
    deadline = time.monotonic() + wait_s
    while True:
        for consumer in open_consumers():
            if consumer in asked:
                continue
            asked.add(consumer)
            # a peer already gone must not stop the others from being asked
            with contextlib.suppress(Exception):
                await ask_to_reconnect(consumer, reconnect_after_ms(rng))
        # a consumer leaves the registries in its disconnect, right after its close
        if not open_consumers() or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.05)
    logger.info("drain: asked %d socket(s) to reconnect", len(asked))
    return len(asked)


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]


def drain_on_shutdown(application: Application) -> Application:
    """``application``, draining the open sockets first when its server is told to stop."""
    installed_on: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        if loop not in installed_on:
            # before any socket of this loop is open, so none is ever missed
            installed_on.add(loop)
            install_shutdown_drain(drain_open_sockets)
        await application(scope, receive, send)

    return app
