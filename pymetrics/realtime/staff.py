"""Staff sockets: the Dashboard of an assessment and the TraitStream of a candidate.

Both authenticate like the staff API, with the staff session cookie or an
``Authorization: Token <key>`` header, act within the actor's organisation (another
organisation's id is refused exactly like an unknown one), and relay the live
notices (:mod:`pymetrics.common.live`) of their group. A Dashboard writes each
notice as it comes (``scores.updated``, ``session.state``, ``events.activity``:
ids and counts, the same for every viewer of the assessment). A TraitStream reads
the candidate's traits again on ``traits.updated``, through the same selectors and
presenters as the API, so a socket never shows more than the viewer may read.

Both are listeners: the server pings them every ``HEARTBEAT_S`` and closes (4408)
a socket it heard nothing from for two intervals; any message, such as
``{"type": "pong"}`` or ``{"type": "ping"}``, counts.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.serializers.json import DjangoJSONEncoder

from pymetrics.accounts.models import ApiScope
from pymetrics.accounts.permissions import actor_for_request, api_key_allows
from pymetrics.accounts.services import Actor, api_key_authenticate, audit_log_record
from pymetrics.accounts.twofactor import session_satisfies_two_factor
from pymetrics.assessments.selectors import assessment_get, attempts_for_candidate, candidate_get
from pymetrics.common import jsonio
from pymetrics.common.db import read_snapshot
from pymetrics.common.errors import DomainError
from pymetrics.common.live import live_join, live_leave
from pymetrics.common.opsstats import socket_closed, socket_opened
from pymetrics.common.telemetry import OPEN_SOCKETS
from pymetrics.realtime.heartbeat import heartbeat_sweeper
from pymetrics.realtime.limits import (
    CLOSE_FORBIDDEN,
    CLOSE_IDLE,
    CLOSE_INVALID,
    CLOSE_RATE_LIMITED,
    CLOSE_TOO_LARGE,
    CLOSE_UNAUTHENTICATED,
    RateLimiter,
    message_too_large,
)
from pymetrics.staff.presenters import candidate_detail


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def staff_actor(scope: dict[str, Any]) -> Actor | None:
    """The staff actor of a socket's handshake, as the API would see the same request."""
    client = scope.get("client") or (None, None)
    meta = {"REMOTE_ADDR": client[0]}
    authorization = _header(scope, b"authorization") or ""
    if authorization.startswith("Token "):
        api_key = api_key_authenticate(plaintext=authorization.removeprefix("Token ").strip())
        if api_key is None or not api_key_allows(api_key, ApiScope.READ):
            return None
        request = SimpleNamespace(user=api_key.user, auth=api_key, session=None, META=meta)
    else:
        user = scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        request = SimpleNamespace(user=user, auth=None, session=scope.get("session"), META=meta)
    actor = actor_for_request(request)  # type: ignore[arg-type]
    if (
        actor is not None
        and actor.api_key is None
        and actor.user is not None
        and not session_satisfies_two_factor(actor.user, scope.get("session"), role=actor.role)
    ):
        return None  # the session owes its two-factor step: refused like no session
    return actor


class _StaffConsumer(AsyncJsonWebsocketConsumer):
    """Accept, authenticate, authorise, then join one live group; refuse with a close code.

    Refusals accept the handshake first and then close with the code: a browser only
    sees a close code (4401, 4403) on a socket that was open.
    """

    #: No channel layer: notices come through pymetrics.common.live, and a layer
    #: channel per socket is a queue and a receive loop that thousands of idle
    #: dashboards do not need.
    channel_layer_alias = None
    #: Seconds between server pings; silence for two intervals closes the socket.
    HEARTBEAT_S: float = 30.0
    #: Staff sockets only listen: a few pings a second is all a client needs to send.
    RATE_PER_S: float = 5.0
    RATE_BURST: float = 10.0

    group: str = ""
    actor: Actor | None = None
    #: its name among the open sockets of the system status page (pymetrics.common.opsstats)
    ops_name: str = ""
    heard: bool = False
    silent_ticks: int = 0

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        # the API's shapes hold datetimes: encode them as the API does (ISO 8601)
        return json.dumps(content, cls=DjangoJSONEncoder)

    async def refuse(self, code: int) -> None:
        await self.accept()
        await self.close(code=code)

    async def join(self, group: str) -> None:
        """Start listening: the live group's notices, and the heartbeat."""
        self.group = group
        socket_opened(self.ops_name)  # closed in disconnect, where a set group means joined
        OPEN_SOCKETS.labels(consumer=self.ops_name).inc()
        await live_join(group, self)
        heartbeat_sweeper(self.HEARTBEAT_S).add(self)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Only small JSON pings are expected; anything else closes with its code."""
        self.heard = True
        if not hasattr(self, "limiter"):
            self.limiter = RateLimiter(rate=self.RATE_PER_S, burst=self.RATE_BURST)
        if text_data is None:
            await self.close(code=CLOSE_INVALID)
            return
        if message_too_large(text_data):
            await self.close(code=CLOSE_TOO_LARGE)
            return
        if not self.limiter.allow():
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        try:
            content = jsonio.loads(text_data)
        except ValueError:
            await self.close(code=CLOSE_INVALID)
            return
        if not isinstance(content, dict) or content.get("type") not in ("ping", "pong"):
            await self.close(code=CLOSE_INVALID)
            return
        if content["type"] == "ping":
            await self.send(text_data=_PONG)

    async def heartbeat_ping(self) -> None:
        await self.send(text_data=_PING)

    async def heartbeat_expire(self) -> None:
        await self.close(code=CLOSE_IDLE)

    async def disconnect(self, code: int) -> None:
        heartbeat_sweeper(self.HEARTBEAT_S).discard(self)
        if self.group:
            socket_closed(self.ops_name)
            OPEN_SOCKETS.labels(consumer=self.ops_name).dec()
            await live_leave(self.group, self)


_PING = jsonio.dumps({"type": "ping"})
_PONG = jsonio.dumps({"type": "pong"})


class DashboardConsumer(_StaffConsumer):
    """``/ws/dashboard/<assessment_id>/``: live activity, state changes and new scores.

    Notices of the ``dashboard.<assessment id>`` group are written to the socket as
    published: ``events.activity`` (events stored in the last 250 ms window, at most
    four a second), ``session.state`` (a game started or ended) and
    ``scores.updated`` (trait scores landed).
    """

    ops_name = "dashboard"

    async def connect(self) -> None:
        self.actor = await database_sync_to_async(staff_actor)(self.scope)
        if self.actor is None:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        assessment_id = int(self.scope["url_route"]["kwargs"]["assessment_id"])
        try:
            await database_sync_to_async(assessment_get)(
                organization=self.actor.organization, assessment_id=assessment_id
            )
        except DomainError:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        await self.accept()
        # listening before the greeting: a notice sent after the hello is not missed
        await self.join(f"dashboard.{assessment_id}")
        await self.send_json({"type": "hello", "assessment_id": assessment_id})

    async def live_notice(self, text: str) -> None:
        await self.send(text_data=text)


def _candidate_traits(actor: Actor, candidate_id: int) -> dict[str, Any]:
    """The candidate's traits as the API shows them; the read is audited."""
    with read_snapshot():
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        detail = candidate_detail(candidate, list(attempts_for_candidate(candidate=candidate)))
    audit_log_record(
        actor=actor, action="candidate.traits.read", object_type="candidate", object_id=candidate.pk
    )
    return {"type": "traits", "candidate_id": candidate.pk, "traits": detail["traits"]}


class TraitStreamConsumer(_StaffConsumer):
    """``/ws/traits/<candidate_id>/``: a candidate's traits now, and again when they change."""

    ops_name = "traits"
    candidate_id: int = 0

    async def connect(self) -> None:
        self.actor = await database_sync_to_async(staff_actor)(self.scope)
        if self.actor is None:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.candidate_id = int(self.scope["url_route"]["kwargs"]["candidate_id"])
        try:
            current = await database_sync_to_async(_candidate_traits)(self.actor, self.candidate_id)
        except DomainError:
            await self.refuse(CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.join(f"traits.{self.candidate_id}")
        await self.send_json(current)

    async def live_notice(self, text: str) -> None:
        """``traits.updated``: read the traits again, as this viewer may see them."""
        notice = jsonio.loads(text)
        if notice.get("type") != "traits.updated":
            return
        assert self.actor is not None
        try:
            current = await database_sync_to_async(_candidate_traits)(self.actor, self.candidate_id)
        except DomainError:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send_json({**current, "attempt_id": notice["attempt_id"]})
