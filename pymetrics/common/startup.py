"""What a server process does once Django is set up, before it answers anyone.

Importing every view (through the URL configuration) up front, then moving all
that was loaded out of the collector's reach (``gc.freeze``), keeps the cyclic
garbage collector's full passes short. Without it the modules the first requests
import (views, selectors, numpy through the statistics) stay tracked, and every
full pass walks them: measured by ``bench``, pauses of 20-60 ms in a web worker
every second or so, which were most of the API's p99 latency.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

logger = logging.getLogger(__name__)

#: The longest a shutdown drain may hold up the server's own shutdown.
SHUTDOWN_DRAIN_LIMIT_S = 10.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _load(patterns: list[URLPattern | URLResolver]) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _load(pattern.url_patterns)


def prepare_server_process() -> None:
    """Import every URL configuration and view, then freeze what is loaded."""
    resolver = get_resolver()
    _load(resolver.url_patterns)
    resolver.reverse_dict  # noqa: B018 - populates the resolver's lookup tables now
    gc.collect()
    gc.freeze()


def install_shutdown_drain(drain: Callable[[], Awaitable[Any]]) -> bool:
    """In a server running an event loop (uvicorn), await ``drain()`` before it stops.

    Called on the server's loop once it serves (uvicorn installs its own SIGTERM and
    SIGINT handler when it starts serving, after loading the application): this
    handler takes its place and, on the first signal, awaits the drain on that loop
    (at most SHUTDOWN_DRAIN_LIMIT_S), then hands the signal to the server's handler,
    which shuts down gracefully. A second signal goes straight to the server. Without
    a running loop, or off the main thread, nothing is installed; returns whether it
    was.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    if threading.current_thread() is not threading.main_thread():
        return False  # signal handlers belong to the main thread
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}

    def hand_over(signum: int, frame: FrameType | None) -> None:
        handler = previous[signum]
        if callable(handler):
            handler(signum, frame)
        elif handler != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    async def drain_then_stop(signum: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(drain(), SHUTDOWN_DRAIN_LIMIT_S)
        except Exception:
            logger.exception("socket drain failed; the server closes the sockets itself")
        finally:
            hand_over(signum, frame)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # a signal handler may interrupt the loop anywhere: only the thread-safe call
        loop.call_soon_threadsafe(_start, loop, drain_then_stop(signum, frame))

    for sig in _STOP_SIGNALS:
        signal.signal(sig, on_signal)
    return True


#: the drain's task, referenced until it ends (the loop keeps only weak references)
_drain_tasks: set[asyncio.Task[None]] = set()


def _start(loop: asyncio.AbstractEventLoop, coroutine: Any) -> None:
    task = loop.create_task(coroutine)
    _drain_tasks.add(task)
    task.add_done_callback(_drain_tasks.discard)
