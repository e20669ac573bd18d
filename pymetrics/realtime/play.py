"""EventStream: a candidate's game events over a WebSocket (DESIGN.md 4.4).

``/ws/play/{game_session_id}/?token=<session_token>``. The socket is another
transport for the HTTP play endpoints: every batch goes through the same
``events_ingest`` and ``complete`` through the same ``play_complete_game_session``,
so dedupe, validation and scoring rules are the HTTP ones.

Protocol (JSON text frames; server messages first line, client messages second):

* on connect the server sends ``{"type": "hello", "acked_seq", "next_seq"}`` so a
  reconnecting client resends from ``next_seq``;
* ``{"type": "events", "events": [...]}`` -> ``{"type": "ack", "acked_seq",
  "accepted", "duplicates"}``, or ``{"type": "error", "error": {"code", "message",
  "details"}, "acked_seq"}`` for an invalid event (the valid ones before it are
  stored) or a batch over the event limit; the socket stays open;
* ``{"type": "complete"}`` -> ``{"type": "completed"}``, then close 1000;
* ``{"type": "ping"}`` -> ``{"type": "pong"}``; the server pings every
  ``HEARTBEAT_S`` and the client may answer ``{"type": "pong"}`` (or send anything).

Close codes (pymetrics.realtime.limits): 4400 invalid message (binary, not JSON,
not an object, unknown type, ``events`` not a list); 4401 missing/invalid token;
4403 the token's attempt does not own the game session (or it does not exist:
same answer, so ids cannot be probed); 4413 message over 1 MiB; 4429 over the
message rate, or (right after connecting, error ``rate_limited`` with
``retry_after_s``, or ``too_many_sockets``) too many sockets opened lately or open
at once from this client address (``socket_open_*`` rate limits,
``PYMETRICS_SOCKETS_PER_IP``); 4409 a newer socket of the same game session took
over (over ``PYMETRICS_SOCKETS_PER_SESSION`` open at once, the oldest ones go: a
reconnecting candidate is never refused for sockets the server thinks still open); 4408 nothing
heard from the client for two heartbeat intervals;
1000 after ``completed``, or after an error ``session_closed`` when events arrive
for a game that is already complete (nothing more can be done on this socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from pymetrics.assessments.models import GameSession
from pymetrics.common import jsonio, ratelimit
from pymetrics.common.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from pymetrics.common.opsstats import socket_closed, socket_opened
from pymetrics.common.telemetry import OPEN_SOCKETS
from pymetrics.events.services import IngestResult, InvalidEvent, events_ingest
from pymetrics.play.services import play_complete_game_session
from pymetrics.play.tokens import session_token_attempt_id
from pymetrics.realtime.limits import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_INVALID,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    CLOSE_REPLACED,
    CLOSE_TOO_LARGE,
    CLOSE_UNAUTHENTICATED,
    MAX_MESSAGE_BYTES,
    OpenSockets,
    RateLimiter,
    message_too_large,
)

logger = logging.getLogger(__name__)
#: The candidate sockets open in this process, per game session and client address.
OPEN_PLAY_SOCKETS = OpenSockets()


def _owned_acked_seq(*, game_session_id: int, attempt_id: int) -> int | None:
    """The game session's acked_seq, or None when it is unknown or of another attempt."""
    row = (
        GameSession.objects.filter(pk=game_session_id)
        .values_list("attempt_id", "acked_seq")
        .first()
    )
    if row is None or row[0] != attempt_id:
        return None
    return int(row[1])


def _error(code: str, message: str, details: Any = None, **extra: Any) -> dict[str, Any]:
    """An error message; ``error`` has the shape of the HTTP API's error body."""
    return {
        "type": "error",
        "error": {"code": code, "message": message, "details": details or {}},
        **extra,
    }


class EventStreamConsumer(AsyncWebsocketConsumer):
    """One candidate's game session: events in, acks out, complete to finish."""

    #: Seconds between server pings; silence for two intervals closes the socket.
    HEARTBEAT_S: float = 30.0
    #: Per-connection message rate (token bucket, see limits.RateLimiter).
    RATE_PER_S: float = 20.0
    RATE_BURST: float = 40.0
    MAX_MESSAGE_BYTES: int = MAX_MESSAGE_BYTES
    #: No channel layer: nothing is ever sent to a candidate's socket through it, and a
    #: layer subscription is a Redis receive loop per socket (hundreds of candidates
    #: play at once), which only costs Redis connections and time-outs under load.
    channel_layer_alias = None

    game_session_id: int
    attempt_id: int
    #: counted among the open sockets of the system status page (pymetrics.common.opsstats)
    ops_counted: bool = False
    #: counted among the sockets open at once (OPEN_PLAY_SOCKETS) until it closes
    counted_open: bool = False

    async def connect(self) -> None:
        self._closed = False
        self._heartbeat: asyncio.Task[None] | None = None
        self._limiter = RateLimiter(rate=self.RATE_PER_S, burst=self.RATE_BURST)
        # Refusals accept first and then close: closing during the handshake makes
        # the server answer HTTP 403, which a browser reports only as code 1006, so
        # the client could not tell "log in again" (4401) from "not yours" (4403).
        await self.accept()
        self.game_session_id = int(self.scope["url_route"]["kwargs"]["game_session_id"])
        address = self._client_address()
        try:
            # the shared cache: a sync call, kept off the event loop
            await sync_to_async(ratelimit.enforce_all, thread_sensitive=False)(
                ("socket_open_session", self.game_session_id), ("socket_open_ip", address)
            )
        except ratelimit.RateLimited as error:
            await self._close_with(
                CLOSE_RATE_LIMITED,
                "rate_limited",
                ratelimit.MESSAGE.format(seconds=error.retry_after_s),
                {"retry_after_s": error.retry_after_s},
            )
            return
        token = self._query_token()
        try:
            if not token:
                raise NotAuthenticated("add ?token=<session_token> from the start endpoint")
            self.attempt_id = session_token_attempt_id(token)
        except NotAuthenticated as error:
            await self._fail(CLOSE_UNAUTHENTICATED, error)
            return
        acked_seq = await database_sync_to_async(_owned_acked_seq)(
            game_session_id=self.game_session_id, attempt_id=self.attempt_id
        )
        if acked_seq is None:
            await self._fail(
                CLOSE_FORBIDDEN,
                PermissionDenied(
                    "this session token does not belong to this game session",
                    code="wrong_session",
                ),
            )
            return
        session_key = f"session:{self.game_session_id}"
        limits = {session_key: settings.PYMETRICS_SOCKETS_PER_SESSION}
        if address:
            limits[f"ip:{address}"] = settings.PYMETRICS_SOCKETS_PER_IP
        admission = OPEN_PLAY_SOCKETS.acquire(self, limits, replace={session_key})
        if admission.refused is not None:
            over = admission.refused
            await self._close_with(
                CLOSE_RATE_LIMITED,
                "too_many_sockets",
                "too many sockets are open from this address; close another one or send "
                "events over HTTP",
                {"limit": limits[over], "scope": over.partition(":")[0]},
            )
            return
        self.counted_open = True
        for older in admission.replaced:
            if isinstance(older, EventStreamConsumer):
                await older.replaced_by_newer()
        self._heard = False
        self.ops_counted = True
        socket_opened("play")
        OPEN_SOCKETS.labels(consumer="play").inc()
        self._heartbeat = asyncio.create_task(self._heartbeat_loop())
        await self._send({"type": "hello", "acked_seq": acked_seq, "next_seq": acked_seq + 1})

    async def replaced_by_newer(self) -> None:
        """Close this socket: a newer one of the same game session took its place.

        Usually this one is already dead (the network dropped and the server has not
        noticed yet); if not, its page learns why it stops (close 4409).
        """
        if self._closed:
            return
        try:
            await self._close_with(
                CLOSE_REPLACED,
                "replaced",
                "a newer connection of this game session took over; this one is closed",
                None,
            )
        except Exception:  # a dead peer must not fail the newcomer's connect
            logger.info("socket of game session %s was gone when replaced", self.game_session_id)

    async def disconnect(self, code: int) -> None:
        self._closed = True
        if self.counted_open:
            OPEN_PLAY_SOCKETS.release(self)
            self.counted_open = False
        if self.ops_counted:
            self.ops_counted = False
            socket_closed("play")
            OPEN_SOCKETS.labels(consumer="play").dec()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self._closed:
            return  # frames already in flight when we closed
        self._heard = True
        if not self._limiter.allow():
            await self._close_with(CLOSE_RATE_LIMITED, "rate_limited", "too many messages")
            return
        if text_data is None:
            await self._close_with(CLOSE_INVALID, "invalid_message", "send JSON text frames")
            return
        if message_too_large(text_data, self.MAX_MESSAGE_BYTES):
            await self._close_with(
                CLOSE_TOO_LARGE,
                "payload_too_large",
                f"a message may hold at most {self.MAX_MESSAGE_BYTES} bytes",
                {"max_bytes": self.MAX_MESSAGE_BYTES},
            )
            return
        try:
            message = jsonio.loads(text_data)
        except ValueError:
            await self._close_with(CLOSE_INVALID, "invalid_message", "the message is not JSON")
            return
        if not isinstance(message, dict):
            await self._close_with(
                CLOSE_INVALID, "invalid_message", "a message must be a JSON object"
            )
            return
        kind = message.get("type")
        if kind == "events":
            await self._on_events(message.get("events"))
        elif kind == "complete":
            await self._on_complete()
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            pass  # the answer to our heartbeat; hearing it is all that matters
        else:
            await self._close_with(
                CLOSE_INVALID,
                "invalid_message",
                "'type' must be one of events, complete, ping, pong",
                {"field": "type"},
            )

    async def _on_events(self, events: Any) -> None:
        if not isinstance(events, list):
            await self._close_with(
                CLOSE_INVALID,
                "malformed_batch",
                "an events message needs an 'events' list",
                {"field": "events"},
            )
            return
        try:
            # off the process's one sync thread: a batch waits on PostgreSQL for about as
            # long as it computes, so batches of several sockets overlap their waits
            # (each holds its own pooled connection; docs/performance.md)
            result: IngestResult = await database_sync_to_async(
                events_ingest, thread_sensitive=False
            )(game_session_id=self.game_session_id, attempt_id=self.attempt_id, events=events)
        except InvalidEvent as error:
            await self._send(
                _error(error.code, error.message, error.details, acked_seq=error.result.acked_seq)
            )
            return
        except (PermissionDenied, NotFound) as error:
            await self._fail(CLOSE_FORBIDDEN, error)
            return
        except Conflict as error:
            # The game is over (maybe completed from another tab): say so and end normally.
            await self._fail(CLOSE_NORMAL, error, acked_seq=error.details.get("acked_seq"))
            return
        except DomainError as error:
            # e.g. batch_too_large: nothing was stored, the client can split and resend
            await self._send(_error(error.code, error.message, error.details))
            return
        await self._send({"type": "ack", **result.as_dict()})

    async def _on_complete(self) -> None:
        try:
            await database_sync_to_async(play_complete_game_session)(
                game_session_id=self.game_session_id, attempt_id=self.attempt_id
            )
        except (PermissionDenied, NotFound) as error:
            await self._fail(CLOSE_FORBIDDEN, error)
            return
        await self._send({"type": "completed"})
        await self._close(CLOSE_NORMAL)

    async def _heartbeat_loop(self) -> None:
        """Ping every HEARTBEAT_S; close when two ticks in a row heard nothing.

        Counting ticks rather than comparing timestamps keeps the outcome exact
        when a sleep wakes a hair early; the client gets 2 to 3 intervals of silence.
        """
        silent_ticks = 0
        while not self._closed:
            await asyncio.sleep(self.HEARTBEAT_S)
            if self._closed:
                return
            silent_ticks = 0 if self._heard else silent_ticks + 1
            self._heard = False
            if silent_ticks >= 2:
                await self._close_with(CLOSE_IDLE, "idle", "nothing received from the client")
                return
            await self._send({"type": "ping"})

    # --- helpers ----------------------------------------------------------------------

    def _client_address(self) -> str:
        """The client's address as the server saw it (behind a proxy: its forwarded one)."""
        client = self.scope.get("client")
        return str(client[0]) if client else ""

    def _query_token(self) -> str:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        values = query.get("token") or [""]
        return values[0].strip()

    async def _send(self, message: dict[str, Any]) -> None:
        if not self._closed:
            await self.send(text_data=jsonio.dumps(message))

    async def _fail(self, code: int, error: DomainError, **extra: Any) -> None:
        await self._send(_error(error.code, error.message, error.details, **extra))
        await self._close(code)

    async def _close_with(
        self, code: int, error_code: str, message: str, details: Any = None
    ) -> None:
        await self._send(_error(error_code, message, details))
        await self._close(code)

    async def _close(self, code: int) -> None:
        if not self._closed:
            self._closed = True
            await self.close(code=code)
