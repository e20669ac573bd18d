"""A game left midway starts again from the beginning; what was played is kept.

Headless Chromium plays two balloons (stored), then a third while offline (its
events only in the page's buffer), then the page is reloaded with the network back.
The page first saves the buffered events with the interrupted session, then the
game starts again as a new session: the candidate is told so, the interrupted
session keeps every event of its three balloons and is never scored, and the new
one is played to the end and scored alone.
"""

from __future__ import annotations

import re

import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.models import Event
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)


def _shorten(game_session: GameSession, balloons: int) -> list[int]:
    points = game_session.config["burst_points"][:balloons]
    GameSession.objects.filter(pk=game_session.pk).update(
        config={**game_session.config, "burst_points": points}
    )
    return points


def _through_practice(page) -> None:
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    page.wait_for_selector("[data-testid=balloon-collect]:not([disabled])")
    page.keyboard.press("Enter")
    page.click("[data-testid=balloon-continue]")
    page.click("[data-testid=game-ready]")


def _balloon(page, number: int, of: int, burst_point: int) -> int:
    """One pump (unless it bursts at once, nothing else) then collect; the events it makes."""
    page.wait_for_function(
        "([n, of]) => document.querySelector('[data-testid=balloon-counter]')?.textContent"
        " === `Balloon ${n} of ${of}` && !document.querySelector("
        "'[data-testid=balloon-collect]').disabled",
        arg=[number, of],
    )
    page.keyboard.press("Space")
    if burst_point > 1:
        page.keyboard.press("Enter")
    return 3  # start, pump, then collect (or the burst)


def _stored(game_session_id: int) -> list[int]:
    """The seqs of the game's own events (not the page's visibility and focus reports)."""
    return list(
        Event.objects.filter(game_session_id=game_session_id)
        .exclude(type__in=["visibility", "focus"])
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def test_a_game_left_midway_starts_again_and_keeps_every_event_played(
    services: Services, browser
) -> None:
    run = open_game(services, browser, "balloons")
    page = run.page
    network = {"up": True}
    sockets: list = []  # routed sockets are kept referenced while they are open

    def route(ws) -> None:
        if not network["up"]:
            ws.close(code=1011, reason="network down")
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/ws/play/.*"), route)
    first = run.game_session()
    points = _shorten(first, 5)
    page.reload()  # nothing played yet: the same session, with the short schedule
    _through_practice(page)

    # two balloons played and stored
    made = sum(_balloon(page, n, 5, points[n - 1]) for n in (1, 2))
    # (waiting inside Playwright: the routed socket's frames pass through this process)
    for _ in range(150):
        if GameSession.objects.get(pk=first.pk).acked_seq >= made:
            break
        page.wait_for_timeout(200)
    assert GameSession.objects.get(pk=first.pk).acked_seq >= made
    # a third while offline: its events wait in the page
    network["up"] = False
    page.context.set_offline(True)
    for ws in sockets:
        ws.close(code=1011, reason="network down")
    made += _balloon(page, 3, 5, points[2])
    page.wait_for_timeout(300)
    assert len(_stored(first.pk)) < made

    # the network is back and the page is reloaded before it could resend
    page.context.set_offline(False)
    network["up"] = True
    page.reload()

    # the candidate is told the game starts again
    page.wait_for_selector("[data-testid=game-restarted]:visible")
    page.wait_for_selector("#jspsych-instructions-next")
    first.refresh_from_db()
    second = run.game_session()
    assert first.state == "superseded"
    assert second.pk != first.pk
    assert second.position == first.position
    assert second.seed != first.seed
    # and everything played before is kept with the interrupted session, in order
    # (with the 4th balloon's start too when the page showed it before the reload)
    kept = Event.objects.filter(game_session=first).exclude(type__in=["visibility", "focus"])
    extra = list(kept.filter(seq__gt=made).values_list("type", "data"))
    assert len(_stored(first.pk)) == made + len(extra)
    assert extra in ([], [("balloon_start", {"balloon": 4})]), extra
    every_seq = (
        Event.objects.filter(game_session=first).order_by("seq").values_list("seq", flat=True)
    )
    assert list(every_seq) == list(range(1, len(every_seq) + 1))

    # the new game, played to the end, is the one scored
    points = _shorten(second, 3)
    page.reload()  # the new session has no events yet: nothing is restarted again
    _through_practice(page)
    for n in (1, 2, 3):
        _balloon(page, n, 3, points[n - 1])
    run.finish()
    values, result = run.stored_and_expected_metrics()
    assert values == pytest.approx(result.session_values(second.pk))
    assert not MetricSet.objects.filter(game_session=first).exists()
    first.refresh_from_db()
    assert first.state == "superseded"
    assert GameSession.objects.filter(attempt_id=first.attempt_id).count() == 2
