"""The system status page in Chromium against the real server, worker, PostgreSQL and Redis.

A bot plays two games through the play API (the server stores the events, the
worker scores them); then every probe row is green, a worker answers, the open
sockets count one socket of each consumer this test opens, and the lag and
response charts are drawn with the figures of what was just played and scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.integration.conftest import (
    ARTIFACTS,
    axe_violations,
    chart_points,
    staff_page,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROBES = ("probe:database", "probe:cache", "probe:channel_layer", "probe:broker")


def _row(page: Any, key: str) -> Any:
    return page.locator(f'[data-testid="system-row-{key}"]')


def _status(page: Any) -> dict[str, Any]:
    """The page's JSON, fetched by the page with its session (what the poll reads)."""
    url = reverse("staff:system-data")
    return page.evaluate("url => fetch(url).then(r => r.json())", url)


def _refreshed(page: Any) -> None:
    """Refresh the page's figures now and wait until the new ones are drawn."""
    before = page.get_attribute('[data-role="updated"]', "datetime")
    page.click('[data-testid="system-refresh"]')
    page.wait_for_function(
        "before => document.querySelector('[data-role=\"updated\"]')"
        ".getAttribute('datetime') !== before",
        arg=before,
        timeout=15_000,
    )


@dataclass
class Played:
    candidate_id: int
    session_token: str
    game_session_ids: list[int]


def _play_through_the_api(services: Any, assessment: Any) -> Played:
    """A bot plays every game of ``assessment`` through the HTTP play API.

    The events are stored by the server process and each completed game is scored
    by the worker: the whole pipeline, as a candidate's browser drives it.
    """
    import httpx
    import numpy as np

    from pymetrics.assessments.models import GameSession
    from pymetrics.assessments.services import candidate_invite
    from pymetrics.games.registry import get_game

    invitation = candidate_invite(
        assessment=assessment, name="Sam Bot", email="sam@example.org", is_simulated=True
    )
    rng = np.random.default_rng(5)
    with httpx.Client(base_url=services.base_url, timeout=30) as http:
        start = http.post(f"/api/v1/play/{invitation.invite_token}/start/").json()
        auth = {"Authorization": f"Bearer {start['session_token']}"}
        ids = []
        for entry in start["games"]:
            game_session = GameSession.objects.get(pk=entry["game_session_id"])
            game = get_game(game_session.game)
            events = game.play(game.sample_latent(rng), rng, game_session.config)
            url = f"/api/v1/play/game-sessions/{game_session.pk}/events/"
            for first in range(0, len(events), 500):
                batch = http.post(url, json={"events": events[first : first + 500]}, headers=auth)
                assert batch.status_code == 200, batch.text
            done = http.post(
                f"/api/v1/play/game-sessions/{game_session.pk}/complete/", headers=auth
            )
            assert done.status_code == 202, done.text
            ids.append(game_session.pk)
    return Played(
        candidate_id=invitation.candidate.pk,
        session_token=start["session_token"],
        game_session_ids=ids,
    )


def test_the_system_page_shows_the_platform_live(services, browser):
    from pymetrics.accounts.services import organization_create, user_create
    from pymetrics.assessments.models import GameSession, GameSessionState
    from pymetrics.assessments.services import assessment_create

    # given two games played through the play API and scored by the worker
    organization = organization_create(name="Ops Org", slug="ops")
    email, password = "ops@example.org", "correct horse battery staple"
    user_create(email=email, password=password, organization=organization, role="recruiter")
    assessment = assessment_create(
        organization=organization, name="Two games", games=["digits", "cards"]
    )
    played = _play_through_the_api(services, assessment)
    games = len(played.game_session_ids)
    wait_until(
        lambda: (
            GameSession.objects.filter(
                pk__in=played.game_session_ids, state=GameSessionState.SCORED
            ).count()
            == games
        ),
        timeout=60,
    )

    page = staff_page(browser, services, email=email, password=password)
    page.goto(services.base_url + reverse("staff:system"))
    page.wait_for_selector('[data-testid="system-rows"]')

    # every probe green, and a worker answering (the worker may still be finishing
    # the trait tasks: with the solo pool it answers pings only between tasks)
    def platform_green() -> bool:
        levels = {key: _row(page, key).get_attribute("data-level") for key in PROBES}
        if (
            set(levels.values()) != {"ok"}
            or _row(page, "workers").get_attribute("data-level") != "ok"
        ):
            _refreshed(page)
            return False
        return True

    wait_until(platform_green, timeout=40, interval=0.5)
    workers = re.fullmatch(
        r"(\d+) workers?", _row(page, "workers").locator("td").nth(1).inner_text()
    )
    assert workers is not None
    assert int(workers.group(1)) >= 1
    for key in PROBES:
        assert _row(page, key).locator(".system__level").inner_text() == "OK"

    # the scoring lag chart holds the games just scored, minute by minute
    assert chart_points(page, "scoring-lag") > 0
    scoring_table = page.evaluate("id => PmCharts.figure(id).spec.table", "scoring-lag")
    assert sum(row[1] for row in scoring_table["rows"]) == games
    p95 = page.evaluate(
        "id => PmCharts.figure(id).pmChart.data.datasets[1].data.filter(v => v !== null)",
        "scoring-lag",
    )
    assert p95
    assert all(value >= 0 for value in p95)
    # ingestion (the batches the server stored) and the responses are drawn too
    assert chart_points(page, "ingest-lag") > 0
    ingest_table = page.evaluate("id => PmCharts.figure(id).spec.table", "ingest-lag")
    assert sum(row[1] for row in ingest_table["rows"]) >= games  # a batch per game
    assert chart_points(page, "responses") > 0
    assert _status(page)["rows"][0]["key"] == "probe:database"

    # a socket of each consumer opened here is counted, across processes (the
    # server writes its counts to Redis), and a closed one drops out again
    def counts() -> dict[str, int]:
        row = next(r for r in _status(page)["rows"] if r["key"] == "sockets")
        return dict(row["figures"]["by_consumer"])

    before = counts()
    paths = {
        "dashboard": f"/ws/dashboard/{assessment.pk}/",
        "traits": f"/ws/traits/{played.candidate_id}/",
        "play": f"/ws/play/{played.game_session_ids[0]}/?token={played.session_token}",
    }
    for name, path in paths.items():
        first = page.evaluate(
            """([name, path]) => new Promise((resolve, reject) => {
                const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
                const socket = new WebSocket(`${scheme}://${location.host}${path}`);
                window.testSockets = window.testSockets || {};
                window.testSockets[name] = socket;
                socket.onmessage = (event) => resolve(JSON.parse(event.data).type);
                socket.onclose = (event) => reject(new Error('closed ' + event.code));
            })""",
            [name, path],
        )
        assert first in ("hello", "traits"), (name, first)
    # (other tests of the run may have left sockets in the server, counted or not yet
    # re-counted after the cache was emptied between tests: compare with what is
    # counted once these are, not with an absolute number)
    wait_until(
        lambda: all(counts()[name] >= before[name] + 1 for name in paths), timeout=20, interval=0.5
    )
    opened = counts()
    _refreshed(page)
    assert _row(page, "sockets").locator(".system__value").inner_text() == (
        f"play {opened['play']} · dashboard {opened['dashboard']} · traits {opened['traits']}"
    )
    page.evaluate("window.testSockets.dashboard.close()")
    wait_until(
        lambda: counts() == {**opened, "dashboard": opened["dashboard"] - 1},
        timeout=20,
        interval=0.5,
    )

    # accessible, no console errors, usable on a laptop and a tablet
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-system.png"), full_page=True)
    for width, height in ((1366, 900), (820, 1180)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), f"horizontal scroll at {width}x{height}"
    page.evaluate("Object.values(window.testSockets).forEach(socket => socket.close())")

    # a game left waiting for ten minutes (its task lost) turns scoring red, named on top
    from pymetrics.assessments.services import candidate_invite

    stuck = candidate_invite(assessment=assessment, name="Stuck", email="stuck@example.org")
    GameSession.objects.create(
        attempt=stuck.attempt,
        game="digits",
        position=0,
        seed=1,
        state=GameSessionState.COMPLETED,
        completed_at=timezone.now() - timedelta(minutes=10),
    )

    def scoring_red() -> bool:
        _refreshed(page)  # the scoring figure is shared for 10 s
        return _row(page, "scoring_lag").get_attribute("data-level") == "red"

    wait_until(scoring_red, timeout=30, interval=1)
    alert = page.locator('[data-role="alerts"] [data-key="scoring_lag"]')
    assert alert.inner_text().startswith("Failing Scoring (game completed → scored): a game has")
    assert page.locator('[data-role="all-clear"]').is_hidden()
    assert axe_violations(page) == []  # the amber and red styles too
    page.screenshot(path=str(ARTIFACTS / "staff-system-red.png"), full_page=True)
    assert page.console_errors == []
