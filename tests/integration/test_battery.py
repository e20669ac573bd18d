"""A candidate plays a two-game battery in order, stops in between and comes back later.

Headless Chromium against the real server, worker, PostgreSQL and Redis. The lobby
shows what is done and what is next; after the first game the candidate closes the
browser, opens the invite link again in a fresh browser (no cookies: the link is all
they have) and lands back on the second game. To keep the run short each session's
stored schedule is cut before its game page is reloaded: 3 balloons and 4 cards.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from pymetrics.accounts.services import organization_create
from pymetrics.assessments.models import Attempt, GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import Services, back_to_lobby, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

N_BALLOONS = 3
N_CARDS = 4


def _collect_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def _shorten(attempt: Attempt, game: str, page: Any, **changes: Any) -> GameSession:
    """Cut the game's stored schedule and reload its page, which then plays the cut one."""
    game_session = GameSession.objects.get(attempt=attempt, game=game)
    page.wait_for_load_state("networkidle")
    GameSession.objects.filter(pk=game_session.pk).update(config={**game_session.config, **changes})
    page.reload()
    return game_session


def _lobby_state(page: Any, game: str) -> str:
    return page.get_attribute(f"[data-testid=lobby-game-{game}]", "class") or ""


def test_candidate_plays_the_battery_in_order_and_resumes_from_the_link(
    services: Services, browser: Any
) -> None:
    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Battery {suffix}", slug=f"battery-{suffix}")
    assessment = assessment_create(
        organization=organization, name="Two games", games=["balloons", "cards"]
    )
    invitation = candidate_invite(assessment=assessment, name="Sam Return")
    invite_url = f"{services.base_url}/play/{invitation.invite_token}/"
    attempt = invitation.attempt

    # First visit: consent, then the lobby lists both games, balloons next.
    first = browser.new_context().new_page()
    errors = _collect_errors(first)
    first.goto(invite_url)
    first.click("[data-testid=invite-continue]")
    first.check("#id_consent")
    first.click("[data-testid=consent-submit]")
    assert first.inner_text("[data-testid=lobby-progress]").startswith("2 games to play.")
    assert "progress-list__item--next" in _lobby_state(first, "balloons")
    assert first.inner_text("[data-testid=lobby-start]") == "Start Balloons"

    # Balloons: pump once and collect on each of the 3 balloons (or see it burst).
    first.click("[data-testid=lobby-start]")
    balloons = _shorten(
        attempt,
        "balloons",
        first,
        burst_points=GameSession.objects.get(attempt=attempt, game="balloons").config[
            "burst_points"
        ][:N_BALLOONS],
    )
    for _ in range(3):
        first.click("#jspsych-instructions-next")
    first.wait_for_selector("[data-testid=balloon-collect]:not([disabled])")
    first.keyboard.press("Enter")
    first.click("[data-testid=balloon-continue]")
    first.click("[data-testid=game-ready]")
    for balloon in range(1, N_BALLOONS + 1):
        first.wait_for_function(
            "n => document.querySelector('[data-testid=balloon-counter]')?.textContent"
            " === `Balloon ${n} of 3` && !document.querySelector("
            "'[data-testid=balloon-collect]').disabled",
            arg=balloon,
        )
        first.keyboard.press("Space")
        if balloons.config["burst_points"][balloon - 1] > 1:
            first.keyboard.press("Enter")

    # Back in the lobby: one of two done, cards next. The candidate stops here.
    back_to_lobby(first, "balloons", timeout_ms=30_000)
    assert first.inner_text("[data-testid=lobby-progress]").startswith("1 of 2 games done.")
    assert "progress-list__item--completed" in _lobby_state(first, "balloons")
    assert "progress-list__item--next" in _lobby_state(first, "cards")
    assert first.inner_text("[data-testid=lobby-start]") == "Start Cards"
    assert errors == []
    first.context.close()

    # Later, in a fresh browser: the invite link welcomes them back to the next game.
    later = browser.new_context().new_page()
    errors = _collect_errors(later)
    later.goto(invite_url)
    assert later.is_visible("[data-testid=invite-returning]")
    later.click("[data-testid=invite-continue]")
    assert "progress-list__item--completed" in _lobby_state(later, "balloons")
    later.click("[data-testid=lobby-start]")
    cards = _shorten(attempt, "cards", later, trials=N_CARDS)
    for _ in range(3):
        later.click("#jspsych-instructions-next")
    for draw in range(1, 5):  # four practice cards
        later.wait_for_selector(f"[data-testid=cards-game][data-state=choose][data-trial='{draw}']")
        later.keyboard.press(str(draw))
    later.click("[data-testid=cards-continue]")
    later.click("[data-testid=game-ready]")
    decks = ["C", "D", "C", "A"]
    for trial, deck in enumerate(decks, start=1):
        later.wait_for_selector(
            f"[data-testid=cards-game][data-state=choose][data-trial='{trial}']"
        )
        later.keyboard.press(deck.lower())

    # All done: Finish leads to the thank-you page; both games are scored.
    back_to_lobby(later, "cards", timeout_ms=30_000)
    later.click("[data-testid=lobby-finish]", timeout=30_000)
    assert "Thank you" in later.inner_text("[data-testid=thanks]")
    assert errors == []
    wait_until(
        lambda: MetricSet.objects.filter(game_session__in=[balloons, cards]).count() == 2,
        timeout=60,
    )
    card_metrics = MetricSet.objects.get(game_session=cards).values
    # C, D, C, A: three good-deck choices and one bad one.
    assert card_metrics["net_score"] == 2.0
    assert card_metrics["deck_c_rate"] == 0.5
    assert GameSession.objects.get(pk=balloons.pk).event_count >= 2 * N_BALLOONS
