"""A candidate's browser plays cards (Iowa Gambling Task) through the real page.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
To keep the test short the session's schedule is cut to its first 20 choices after
the game page has opened: ``GameSession.config["trials"]`` is set to 20 (the card
sequences stay the classic ones) and the page is reloaded, so the plugin runs the
shortened game. The candidate reads the instructions, takes the 4 practice cards,
presses Start, then makes the choices a simulated player (the cards bot) made on the
same schedule, with keys 1-4, keys A-D and clicks in turn. Because the schedule is
fixed, the same choices deal the same cards, so the stored metrics must equal the
bot's stream's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.cards import GAME
from pymetrics.games.cards.bot import Latent, planned_decks
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_CHOICES = 20
PRACTICE_DRAWS = 4


def _money(amount: int) -> str:
    """The plugin's formatMoney: thousands commas, a true minus sign."""
    return ("\u2212" if amount < 0 else "") + f"${abs(amount):,}"


def _wait_for_choice(page: Any, trial: int) -> None:
    page.wait_for_selector(
        f"[data-testid=cards-game][data-state=choose][data-trial='{trial}']", timeout=15_000
    )


def test_candidate_plays_cards_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "cards", accommodations={"colour_safe": True})
    page = run.page
    # Any missing resource shows up as a bare console error; keep the URLs to name it.
    missing: list[str] = []
    page.on(
        "response",
        lambda response: missing.append(response.url) if response.status == 404 else None,
    )
    page.wait_for_selector("#jspsych-instructions-next")
    # Let the first load settle (the browser's own requests, e.g. its icon, included)
    # before reloading, so that no request of the first load is cut off.
    page.wait_for_load_state("networkidle")
    assert run.console_errors == []
    game_session = run.game_session()
    config = {**game_session.config, "trials": N_CHOICES}
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    # Instructions: three pages.
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    # Practice: four unrecorded cards from the practice decks, then Continue.
    assert "igt--colour-safe" in (page.get_attribute("[data-testid=cards-game]", "class") or "")
    for draw in range(1, PRACTICE_DRAWS + 1):
        _wait_for_choice(page, draw)
        assert page.inner_text("[data-testid=cards-counter]") == f"Practice card {draw} of 4"
        page.keyboard.press(str(draw))
    page.click("[data-testid=cards-continue]")
    page.click("[data-testid=game-ready]")

    latent = Latent(learning_rate=0.4, loss_aversion=1.2, consistency=3.0)
    plan_stream = GAME.play(latent, np.random.default_rng(7), config)
    plan = planned_decks(plan_stream)
    assert len(plan) == N_CHOICES
    waits_ms = [200 + 37 * (trial % 5) for trial in range(1, N_CHOICES + 1)]
    for trial, (deck, wait_ms) in enumerate(zip(plan, waits_ms, strict=True), start=1):
        _wait_for_choice(page, trial)
        assert page.inner_text("[data-testid=cards-counter]") == f"Card {trial} of {N_CHOICES}"
        page.wait_for_timeout(wait_ms)
        if trial % 3 == 0:
            page.click(f"[data-testid=cards-deck-{deck}]")
        elif trial % 3 == 1:
            page.keyboard.press(str("ABCD".index(deck) + 1))
        else:
            page.keyboard.press(deck.lower())
        if trial == 10:
            page.wait_for_selector("[data-testid=cards-feedback]:not([hidden])")
            page.screenshot(path=str(ARTIFACTS / "cards-game.png"))
    choices = [event["data"] for event in plan_stream if event["type"] == "choice"]
    final_balance = 2000 + sum(choice["gain"] - choice["loss"] for choice in choices)
    page.wait_for_function(
        "text => document.querySelector('[data-testid=cards-balance]')?.textContent === text",
        arg=_money(final_balance),
    )

    assert missing == []
    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))

    # The stored choices are the plan's, card for card, timed from the decks opening.
    events = events_frame(game_session_ids=[game_session.pk])
    recorded = [data for kind, data in zip(events["type"], events["data"], strict=True)
                if kind == "choice"]  # fmt: skip
    assert [data["deck"] for data in recorded] == plan
    assert [(data["gain"], data["loss"]) for data in recorded] == [
        (choice["gain"], choice["loss"]) for choice in choices
    ]
    for data, wait_ms in zip(recorded, waits_ms, strict=True):
        assert wait_ms - 5 <= data["rt_ms"] < wait_ms + 3000
    assert (events["type"] == "deck_shown").sum() == N_CHOICES

    # The metrics are those of the plan: the same decks, the same cards.
    planned = pd.DataFrame(plan_stream).assign(session=game_session.pk)
    expected = GAME.extract(GAME.events_to_trials(planned)).session_values(game_session.pk)
    assert stored == pytest.approx(expected)
    for deck in "ABCD":
        assert stored[f"deck_{deck.lower()}_rate"] == pytest.approx(plan.count(deck) / N_CHOICES)
    good = sum(deck in "CD" for deck in plan)
    assert stored["net_score"] == good - (N_CHOICES - good)
    assert stored["net_earnings"] == final_balance - 2000
    assert "net_score_block_2" not in stored  # 20 choices fill block 1 only
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []


def test_cards_with_every_accommodation_and_the_keyboard_alone(
    services: Services, browser: Any
) -> None:
    """Extended time, reduced motion and the colour-safe palette, played with Tab and Enter.

    The schedule is cut to 3 choices as above. The candidate focuses deck C and presses
    Enter; the deck keeps the focus through the (doubled) outcome pause, so Enter takes
    C again; Tab then moves to deck D.
    """
    run = open_game(
        services,
        browser,
        "cards",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    config = {**game_session.config, "trials": 3}
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    for _ in range(3):
        page.click("#jspsych-instructions-next")
    classes = page.get_attribute("[data-testid=cards-game]", "class") or ""
    assert {"igt--colour-safe", "igt--reduced-motion", "igt--practice"} <= set(classes.split())
    for draw in range(1, PRACTICE_DRAWS + 1):
        _wait_for_choice(page, draw)
        page.keyboard.press("abcd"[draw - 1])
    page.wait_for_selector("[data-testid=cards-continue]:not([hidden])")
    page.keyboard.press("Enter")
    page.click("[data-testid=game-ready]")

    _wait_for_choice(page, 1)
    page.focus("[data-testid=cards-deck-C]")
    page.wait_for_timeout(300)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=cards-feedback]:not([hidden])")
    animation = page.eval_on_selector(
        "[data-testid=cards-feedback]", "node => getComputedStyle(node).animationName"
    )
    assert animation == "none"
    _wait_for_choice(page, 2)
    focused = "() => document.activeElement && document.activeElement.dataset.testid"
    assert page.evaluate(focused) == "cards-deck-C"
    page.wait_for_timeout(350)
    page.keyboard.press("Enter")
    _wait_for_choice(page, 3)
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "cards-deck-D"
    page.wait_for_timeout(400)
    page.keyboard.press("Enter")

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    assert stored["deck_c_rate"] == pytest.approx(2 / 3)
    assert stored["deck_d_rate"] == pytest.approx(1 / 3)
    assert stored["net_score"] == 3.0
    # C's first two cards and D's first card lose nothing: 50 + 50 + 50.
    assert stored["net_earnings"] == 150.0

    # Extended time doubles the 1.2 s outcome pause between a choice and the next decks
    # (a frame's slack: the onset is the start of the frame that painted the decks).
    events = events_frame(game_session_ids=[game_session.pk])
    times = {
        (kind, data["trial"]): t
        for kind, data, t in zip(events["type"], events["data"], events["t"], strict=True)
        if kind in ("choice", "deck_shown")
    }
    for trial in (1, 2):
        assert times[("deck_shown", trial + 1)] - times[("choice", trial)] >= 2400.0 - 17.0
