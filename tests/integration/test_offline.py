"""The network drops in the middle of a game and comes back: nothing is lost.

Headless Chromium plays balloons over the play socket, which the test routes through
Playwright so it can cut it. After the third balloon the network goes: the open
socket is closed, new sockets are refused and the browser is offline (so the HTTP
fallback fails too) for three balloons, during which the page keeps working and
says, calmly, that it is reconnecting. Then the network returns and the game
finishes. Every event must be stored once, in order, and the metrics must equal the
extractor's on the stored events.
"""

from __future__ import annotations

import re

import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.models import Event
from tests.integration.conftest import Services, back_to_lobby, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_BALLOONS = 8
PUMPS = 2


def _play_balloon(page, balloon: int, burst_point: int) -> int:
    """Pump twice (or until it bursts) and collect; returns the events it makes."""
    page.wait_for_function(
        "n => document.querySelector('[data-testid=balloon-counter]')?.textContent"
        f" === `Balloon ${{n}} of {N_BALLOONS}` && !document.querySelector("
        "'[data-testid=balloon-collect]').disabled",
        arg=balloon,
    )
    pumps = min(PUMPS, burst_point)
    for _ in range(pumps):
        page.keyboard.press("Space")
    if pumps < burst_point:
        page.keyboard.press("Enter")
    return 1 + pumps + 1  # start, pumps, collect or burst


def test_a_game_survives_the_network_dropping_mid_game(services: Services, browser) -> None:
    run = open_game(services, browser, "balloons")
    page = run.page
    network = {"up": True}
    sockets: list = []

    def route(ws) -> None:
        if not network["up"]:
            ws.close(code=1011, reason="network down")
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/play/.*"), route)
    game_session = run.game_session()
    points = game_session.config["burst_points"][:N_BALLOONS]
    GameSession.objects.filter(pk=game_session.pk).update(
        config={**game_session.config, "burst_points": points}
    )
    page.wait_for_load_state("networkidle")
    page.reload()
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    page.wait_for_selector("[data-testid=balloon-collect]:not([disabled])")
    page.keyboard.press("Enter")
    page.click("[data-testid=balloon-continue]")
    page.click("[data-testid=game-ready]")

    expected_events = 0
    for balloon in range(1, N_BALLOONS + 1):
        if balloon == 4:
            network["up"] = False
            page.context.set_offline(True)
            for ws in sockets:
                ws.close(code=1011, reason="network down")
        expected_events += _play_balloon(page, balloon, points[balloon - 1])
        if balloon == 6:
            # the page told the candidate, calmly, and kept going
            page.wait_for_function(
                "() => document.querySelector('[data-testid=save-status]')"
                ".textContent.includes('nothing is lost')"
            )
            network["up"] = True
            page.context.set_offline(False)

    # Chromium logs what the network being down refused as console errors: a dropped
    # socket, and, when the offline stretch outlasts three reconnections (a slow, busy
    # machine plays the balloons more slowly), the HTTP batches the page then falls
    # back to. Nothing else may be logged.
    back_to_lobby(run.page, "balloons")
    run.console_errors[:] = [
        e
        for e in run.console_errors
        if "WebSocket" not in e and "net::ERR_INTERNET_DISCONNECTED" not in e
    ]
    run.finish()
    stored = list(
        Event.objects.filter(game_session=game_session)
        .exclude(type__in=["visibility", "focus"])
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    all_seqs = list(
        Event.objects.filter(game_session=game_session)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert len(stored) == expected_events
    assert all_seqs == list(range(1, len(all_seqs) + 1))
    values, result = run.stored_and_expected_metrics()
    assert values == pytest.approx(result.session_values(game_session.pk))
