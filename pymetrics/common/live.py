"""Live notices: one message from any process to every staff socket of a group.

Publishing (:func:`live_publish`, synchronous: web requests and Celery tasks call
it) encodes the message to JSON once and PUBLISHes it on the Redis channel
``pymetrics:live:<db>:<group>``, where ``<db>`` is the Redis database number of the
URL: Redis pub/sub ignores database numbers, so two deployments (or test runs)
sharing one Redis server on different databases would otherwise hear each other's
notices. In the embedded default (no ``REDIS_URL``) it hands the
text to this process's hubs instead.

Receiving: each event loop of a socket server process has one hub. Sockets join
groups with :func:`live_join`; the hub holds one Redis subscription per group that
has members in this process and, for each message, calls every member's
``live_notice(text)`` in one pass: a Dashboard socket writes the text as it is.
Channels' ``group_send`` costs a queue, a task wake-up, a deserialisation and an
encoding per socket, which made one update to 2,000 dashboards take up to a
second; this costs one write per socket (ADR 0014).

Notices are best effort, like the channel layer they replace: a notice published
while Redis is unreachable is lost (and logged), never the data it announces;
pages read the current state when they (re)connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
import weakref
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis
import redis.asyncio
from django.conf import settings

from pymetrics.common import jsonio

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "pymetrics:live:"
#: Seconds between attempts to re-subscribe after the Redis connection broke.
RECONNECT_S = 1.0


class LiveMember(Protocol):
    """A socket (consumer) that receives the notices of the groups it joined."""

    async def live_notice(self, text: str) -> None: ...


def _redis_url() -> str | None:
    return getattr(settings, "PYMETRICS_LIVE_REDIS_URL", None)


@lru_cache(maxsize=8)
def channel_prefix(url: str) -> str:
    """``pymetrics:live:<db>:``: the channels of the Redis database ``url`` names."""
    path = urlsplit(url).path.strip("/")
    database = int(path) if path.isdigit() else 0
    return f"{CHANNEL_PREFIX}{database}:"


@lru_cache(maxsize=4)
def _publisher(url: str) -> redis.Redis:
    """One client (and connection pool) per process; redis-py re-creates it after a fork."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def live_publish(group: str, message: Mapping[str, Any]) -> bool:
    """Send ``message`` to every socket in ``group``, in every process; False if it failed."""
    text = jsonio.dumps(message)
    url = _redis_url()
    try:
        if url:
            _publisher(url).publish(channel_prefix(url) + group, text)
        else:
            for hub in list(_hubs.values()):
                hub.deliver_threadsafe(group, text)
    except Exception:  # the announced data is stored; only the live notice is lost
        logger.warning("could not publish a live notice to %s", group, exc_info=True)
        return False
    return True


def live_check(timeout_s: float = 2.0) -> None:
    """Raise unless a notice published now comes back to a subscriber (readiness check)."""
    url = _redis_url()
    if not url:
        return  # in-process delivery: nothing to reach
    client = _publisher(url)
    channel = f"{channel_prefix(url)}readyz.{uuid.uuid4().hex}"
    pubsub = client.pubsub()
    try:
        pubsub.subscribe(channel)
        deadline = time.monotonic() + timeout_s
        published = False
        while (left := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=left)
            if message is None:
                continue
            if message["type"] == "subscribe" and not published:
                client.publish(channel, "ping")  # only once the subscription is live
                published = True
            elif message["type"] == "message" and message["data"] == b"ping":
                return
        raise RuntimeError(f"a notice published on Redis did not come back in {timeout_s} s")
    finally:
        pubsub.close()


async def live_join(group: str, member: LiveMember) -> None:
    await _hub().join(group, member)


async def live_leave(group: str, member: LiveMember) -> None:
    await _hub().leave(group, member)


def live_group_size(group: str) -> int:
    """Members of ``group`` in this process (for tests and diagnostics)."""
    return sum(len(hub.groups.get(group, ())) for hub in list(_hubs.values()))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


def _hub() -> _Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = _Hub(loop, _redis_url())
    return hub


class _Hub:
    """The members of each group in one event loop, and their Redis subscription."""

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str | None) -> None:
        self.loop = loop
        self.groups: dict[str, set[LiveMember]] = {}
        self._url = url
        self._prefix = channel_prefix(url) if url else CHANNEL_PREFIX
        self._redis: redis.asyncio.Redis | None = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def join(self, group: str, member: LiveMember) -> None:
        members = self.groups.setdefault(group, set())
        members.add(member)
        if len(members) == 1 and self._url:
            async with self._lock:
                await self._ensure_reader()
                await self._pubsub.subscribe(self._prefix + group)

    async def leave(self, group: str, member: LiveMember) -> None:
        members = self.groups.get(group)
        if members is None:
            return
        members.discard(member)
        if members:
            return
        del self.groups[group]
        if self._pubsub is not None:
            async with self._lock:
                with contextlib.suppress(Exception):  # the reader re-syncs on reconnect
                    await self._pubsub.unsubscribe(self._prefix + group)

    def deliver_threadsafe(self, group: str, text: str) -> None:
        """Schedule delivery from any thread (the embedded default's publishers)."""
        if group in self.groups and not self.loop.is_closed():
            # a fresh context: the publisher's (e.g. inside asgiref's sync_to_async)
            # would make the members' own database calls look nested in it
            self.loop.call_soon_threadsafe(
                self._deliver_later, group, text, context=contextvars.Context()
            )

    def _deliver_later(self, group: str, text: str) -> None:
        self.loop.create_task(self.deliver(group, text))

    async def deliver(self, group: str, text: str) -> None:
        """Hand ``text`` to every member of ``group`` here, one after another.

        A member whose socket is gone fails alone; its disconnect removes it.
        """
        for member in list(self.groups.get(group, ())):
            try:
                await member.live_notice(text)
            except Exception:
                logger.debug("a live notice could not be written to a socket", exc_info=True)

    # --- Redis ---------------------------------------------------------------------

    async def _ensure_reader(self) -> None:
        if self._pubsub is None:
            self._redis = redis.asyncio.Redis.from_url(self._url or "")
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        if self._reader is None or self._reader.done():
            self._reader = self.loop.create_task(self._read())

    async def _read(self) -> None:
        while True:
            try:
                if not self._pubsub.subscribed:
                    if not self.groups:
                        return  # restarted by the next join
                    await asyncio.sleep(0.05)  # a subscription is on its way
                    continue
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live notices: the Redis subscription broke", exc_info=True)
                await asyncio.sleep(RECONNECT_S)
                await self._resubscribe()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            group = (channel.decode() if isinstance(channel, bytes) else channel)[
                len(self._prefix) :
            ]
            data = message["data"]
            await self.deliver(group, data.decode() if isinstance(data, bytes) else data)

    async def _resubscribe(self) -> None:
        """A new connection subscribed to every group with members here."""
        async with self._lock:
            old = self._pubsub
            with contextlib.suppress(Exception):
                await old.aclose()
            assert self._redis is not None
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            channels = [self._prefix + group for group in self.groups]
            if channels:
                with contextlib.suppress(Exception):  # retried after the next failure
                    await self._pubsub.subscribe(*channels)
