"""WebSockets against the real ASGI server on the Redis channel layer, with a real worker.

A candidate's client is cut off 20 times at random points of a ~2,000-event game and
resumes each time from the server's ``acked_seq``; every event must be stored once,
in order, and the worker's metrics must equal the pure extractor's. A staff
Dashboard socket (API key) sees the new scores arrive.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
import websockets

from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.events.models import Event
from pymetrics.games.registry import get_game
from pymetrics.play.services import play_start
from pymetrics.scoring.models import MetricSet
from pymetrics.scoring.services import norm_table_build
from tests.integration.conftest import Services, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

FRAME = 50
CUTS = 20


def _ws_url(services: Services, path: str) -> str:
    return services.base_url.replace("http://", "ws://") + path


async def _play_with_cuts(url: str, events: list[dict[str, Any]], seed: int) -> int:
    """Send every event in frames, dropping the connection CUTS times; returns reconnects."""
    rng = random.Random(seed)
    frames_total = (len(events) + FRAME - 1) // FRAME
    cut_after = set(rng.sample(range(1, frames_total), CUTS))
    sent_frames = 0
    reconnects = -1
    while True:
        reconnects += 1
        async with websockets.connect(url) as socket:
            hello = json.loads(await socket.recv())
            assert hello["type"] == "hello", hello
            next_seq = hello["acked_seq"] + 1
            if next_seq > len(events):
                await socket.send(json.dumps({"type": "complete"}))
                assert json.loads(await socket.recv())["type"] == "completed"
                return reconnects
            while next_seq <= len(events):
                frame = events[next_seq - 1 : next_seq - 1 + FRAME]
                await socket.send(json.dumps({"type": "events", "events": frame}))
                sent_frames += 1
                if sent_frames in cut_after:
                    # drop the connection before reading the ack: the frame may or may
                    # not be stored; the next hello says how far the server got
                    cut_after.discard(sent_frames)
                    break
                ack = json.loads(await socket.recv())
                assert ack["type"] == "ack", ack
                next_seq = ack["acked_seq"] + 1
            else:
                await socket.send(json.dumps({"type": "complete"}))
                assert json.loads(await socket.recv())["type"] == "completed"
                return reconnects


def test_a_client_cut_off_20_times_loses_nothing_and_dashboards_see_the_scores(
    services: Services,
) -> None:
    norm_table_build(population="simulated", name="Reference", players=30, seed=2)
    organization = organization_create(name="Socket Org", slug="socket-org")
    user = user_create(email="live@socket.example", password=None, organization=organization)
    key = api_key_create(user=user, scopes=["read"]).plaintext
    assessment = assessment_create(organization=organization, name="Live", games=["easy_or_hard"])
    invitation = candidate_invite(assessment=assessment, external_id="sam-1")
    started = play_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    game = get_game("easy_or_hard")
    rng = np.random.default_rng(31)
    events = game.play(game.sample_latent(rng), rng, game_session.config)
    assert len(events) > 1000

    async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
        dashboard = await websockets.connect(
            _ws_url(services, f"/ws/dashboard/{assessment.pk}/"),
            additional_headers={"Authorization": f"Token {key}"},
        )
        hello = json.loads(await dashboard.recv())
        url = _ws_url(services, f"/ws/play/{game_session.pk}/?token={started.session_token}")
        reconnects = await _play_with_cuts(url, events, seed=7)
        seen: dict[str, Any] = {}
        while "scores.updated" not in seen:
            message = json.loads(await asyncio.wait_for(dashboard.recv(), timeout=60))
            seen.setdefault(message["type"], message)
        await dashboard.close()
        return reconnects, hello, seen

    reconnects, hello, seen = asyncio.run(scenario())

    assert reconnects == CUTS
    assert hello == {"type": "hello", "assessment_id": assessment.pk}
    # the dashboard saw the game completed, then the scores (live activity may come too)
    assert seen["session.state"]["state"] == "completed"
    assert seen["session.state"]["game_session_id"] == game_session.pk
    assert seen["scores.updated"]["attempt_ids"] == [invitation.attempt.pk]
    assert set(seen) <= {"session.state", "scores.updated", "events.activity"}
    stored = list(
        Event.objects.filter(game_session=game_session).order_by("seq").values_list("seq", "type")
    )
    assert stored == [(e["seq"], e["type"]) for e in events]
    wait_until(lambda: MetricSet.objects.filter(game_session=game_session).exists(), timeout=60)
    frame = pd.DataFrame(
        [{"session": 1, **event} for event in events],
        columns=["session", "seq", "t", "type", "data"],
    )
    expected = game.extract(
        game.events_to_trials(frame[frame["type"].isin(game.trial_event_types)])
    ).session_values(1)
    assert MetricSet.objects.get(game_session=game_session).values == pytest.approx(expected)


def test_bad_socket_clients_get_their_close_codes_and_the_server_stays_healthy(
    services: Services,
) -> None:
    import httpx

    organization = organization_create(name="Bad Org", slug="bad-org")
    assessment = assessment_create(organization=organization, name="Bad", games=["balloons"])
    invitation = candidate_invite(assessment=assessment, external_id="bad-1")
    started = play_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    other = candidate_invite(assessment=assessment, external_id="bad-2")
    other_token = play_start(attempt=other.attempt).session_token
    base = _ws_url(services, f"/ws/play/{game_session.pk}/")

    async def close_code(url: str, send: Any = None, **kwargs: Any) -> int | None:
        async with websockets.connect(url, max_size=None, **kwargs) as socket:
            if send is not None:
                first = json.loads(await socket.recv())
                assert first["type"] == "hello"
                await socket.send(send)
            try:
                while True:
                    await socket.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    async def flood(url: str) -> int | None:
        async with websockets.connect(url) as socket:
            await socket.recv()
            try:
                for _ in range(500):
                    await socket.send(json.dumps({"type": "ping"}))
                while True:
                    await socket.recv()
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        return None

    async def scenario() -> dict[str, int | None]:
        good = f"{base}?token={started.session_token}"
        return {
            "no token": await close_code(base),
            "other attempt": await close_code(f"{base}?token={other_token}"),
            "malformed": await close_code(good, send="{not json"),
            "binary": await close_code(good, send=b"\x00\x01"),
            "oversized": await close_code(good, send="x" * (1024 * 1024 + 10)),
            "flood": await flood(good),
        }

    codes = asyncio.run(scenario())

    assert codes["no token"] == 4401
    assert codes["other attempt"] == 4403
    assert codes["malformed"] == 4400
    assert codes["binary"] == 4400
    assert codes["oversized"] == 4413
    assert codes["flood"] == 4429
    # a browser page from another site is refused at the handshake
    with pytest.raises(websockets.InvalidStatus):
        asyncio.run(_connect_from_origin(f"{base}?token={started.session_token}"))
    assert httpx.get(f"{services.base_url}/healthz", timeout=10).status_code == 200
    assert Event.objects.filter(game_session=game_session).count() == 0


async def _connect_from_origin(url: str) -> None:
    async with websockets.connect(url, origin="https://evil.example"):  # type: ignore[arg-type]
        pass


def test_frames_the_protocol_refuses_end_the_socket_and_stored_events_stay(
    services: Services,
) -> None:
    """Invalid UTF-8 and frames over the server's own limit never reach the consumer.

    uvicorn closes with the protocol's codes (1007 invalid data, 1009 too big); a
    binary frame reaches the consumer (4400). Events acknowledged before each stay.
    """
    import httpx

    organization = organization_create(name="Raw Org", slug="raw-org")
    assessment = assessment_create(organization=organization, name="Raw", games=["balloons"])
    invitation = candidate_invite(assessment=assessment, external_id="raw-1")
    started = play_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    url = _ws_url(services, f"/ws/play/{game_session.pk}/?token={started.session_token}")

    def pumps(first: int, count: int) -> list[dict[str, Any]]:
        return [
            {"seq": seq, "t": float(seq), "type": "pump", "data": {"balloon": 1, "pumps": 1}}
            for seq in range(first, first + count)
        ]

    async def send_then_close_code(first_seq: int, frame: str | bytes, text: bool) -> tuple:
        async with websockets.connect(url, max_size=None) as socket:
            hello = json.loads(await socket.recv())
            await socket.send(json.dumps({"type": "events", "events": pumps(first_seq, 5)}))
            ack = json.loads(await socket.recv())
            try:
                # the server may close while a large frame is still being sent
                await socket.send(frame, text=text)
                while True:
                    await socket.recv()
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
        return hello["acked_seq"], ack["acked_seq"], code

    async def scenario() -> list[tuple]:
        return [
            # a text frame whose bytes are not UTF-8
            await send_then_close_code(1, b'{"type": "ping", "s": "\xff\xfe"}', text=True),
            # a binary frame holding a valid message
            await send_then_close_code(6, b'{"type": "ping"}', text=False),
            # a text frame over uvicorn's 16 MiB limit
            await send_then_close_code(11, "x" * (17 * 1024 * 1024), text=True),
        ]

    results = asyncio.run(scenario())

    assert results == [(0, 5, 1007), (5, 10, 4400), (10, 15, 1009)]
    assert list(
        Event.objects.filter(game_session=game_session)
        .order_by("seq")
        .values_list("seq", flat=True)
    ) == list(range(1, 16))
    assert httpx.get(f"{services.base_url}/healthz", timeout=10).status_code == 200
