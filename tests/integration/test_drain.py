"""A socket server told to stop (SIGTERM) asks its clients to reconnect, then closes.

A real uvicorn process, started as deployed (:func:`socket_server_command`), holds a
candidate's socket mid-game and a staff Dashboard. On SIGTERM both receive
``{"type": "reconnect", "after_ms"}`` and the close 1012 "service restart"; the
server exits well within its grace period, and the candidate, reconnecting to a
fresh server, is greeted with the ``acked_seq`` it had reached and finishes the game.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import websockets

from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.events.models import Event
from pymetrics.games.registry import get_game
from pymetrics.ops.serving import socket_server_command
from pymetrics.play.services import play_start
from pymetrics.realtime.drain import RECONNECT_MIN_MS, RECONNECT_SPREAD_MS
from tests.integration.conftest import (
    ARTIFACTS,
    ROOT,
    _free_port,
    _test_database_url,
    _wait_for_http,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "DJANGO_DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            socket_server_command(host="127.0.0.1", port=self.port, workers=1),
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        _wait_for_http(f"http://127.0.0.1:{self.port}/healthz", self.process, log, timeout=60)

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


async def _until_closed(socket: Any) -> tuple[list[dict[str, Any]], int | None, str]:
    """Every message until the server closes the socket; its close code and reason."""
    messages: list[dict[str, Any]] = []
    try:
        while True:
            messages.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=20)))
    except websockets.ConnectionClosed as closed:
        if closed.rcvd is None:
            return messages, None, ""
        return messages, closed.rcvd.code, closed.rcvd.reason


def test_sigterm_asks_every_socket_to_reconnect_and_the_candidate_resumes(
    servers: list[Server],
) -> None:
    suffix = secrets.token_hex(3)
    organization = organization_create(name="Drain Org", slug=f"drain-{suffix}")
    user = user_create(
        email=f"ops-{suffix}@drain.example", password=None, organization=organization
    )
    key = api_key_create(user=user, scopes=["read"]).plaintext
    assessment = assessment_create(organization=organization, name="Drain", games=["balloons"])
    invitation = candidate_invite(assessment=assessment, external_id=f"drain-{suffix}")
    started = play_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    game = get_game("balloons")
    rng = np.random.default_rng(17)
    events = game.play(game.sample_latent(rng), rng, game_session.config)
    half = len(events) // 2
    play_path = f"/ws/play/{game_session.pk}/?token={started.session_token}"
    first = Server(ARTIFACTS / "drain-first.log")
    servers.append(first)

    async def before_and_during_shutdown() -> dict[str, Any]:
        dashboard = await websockets.connect(
            first.url(f"/ws/dashboard/{assessment.pk}/"),
            additional_headers={"Authorization": f"Token {key}"},
        )
        assert json.loads(await dashboard.recv())["type"] == "hello"
        candidate = await websockets.connect(first.url(play_path))
        assert json.loads(await candidate.recv())["acked_seq"] == 0
        await candidate.send(json.dumps({"type": "events", "events": events[:half]}))
        ack = json.loads(await candidate.recv())
        assert ack["type"] == "ack"

        sent_at = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        candidate_end, dashboard_end = await asyncio.gather(
            _until_closed(candidate), _until_closed(dashboard)
        )
        exit_code = await asyncio.to_thread(first.process.wait, 30)
        return {
            "acked_seq": ack["acked_seq"],
            "candidate": candidate_end,
            "dashboard": dashboard_end,
            "exit_code": exit_code,
            "stopped_in_s": time.monotonic() - sent_at,
        }

    outcome = asyncio.run(before_and_during_shutdown())

    assert outcome["acked_seq"] == half
    for name in ("candidate", "dashboard"):
        messages, code, reason = outcome[name]
        # a live notice may come first; the reconnect message is the last word
        assert [message["type"] for message in messages][-1:] == ["reconnect"], name
        assert set(messages[-1]) == {"type", "after_ms"}
        after_ms = messages[-1]["after_ms"]
        assert RECONNECT_MIN_MS <= after_ms <= RECONNECT_MIN_MS + RECONNECT_SPREAD_MS
        assert (code, reason) == (1012, "service restart"), name
    # uvicorn ends as a process stopped by the signal it was sent, in a few seconds
    assert outcome["exit_code"] in (0, -signal.SIGTERM)
    assert outcome["stopped_in_s"] < 15

    # The candidate reconnects to a fresh server: told where it left off, it finishes.
    second = Server(ARTIFACTS / "drain-second.log")
    servers.append(second)

    async def resume() -> tuple[int, str]:
        async with websockets.connect(second.url(play_path)) as candidate:
            hello = json.loads(await candidate.recv())
            rest = events[hello["acked_seq"] :]
            await candidate.send(json.dumps({"type": "events", "events": rest}))
            ack = json.loads(await candidate.recv())
            await candidate.send(json.dumps({"type": "complete"}))
            done = json.loads(await candidate.recv())
            return int(hello["acked_seq"]), f"{ack['acked_seq']} {done['type']}"

    acked_seq, finished = asyncio.run(resume())

    assert acked_seq == half
    assert finished == f"{len(events)} completed"
    stored = list(
        Event.objects.filter(game_session=game_session)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert stored == [event["seq"] for event in events]
