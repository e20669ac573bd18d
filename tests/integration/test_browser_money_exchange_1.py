"""A candidate plays money_exchange_1 (trust game) in the browser, following the bot.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
To keep the test short the session's schedule is replaced by the short one of the same
seed (``make_config(seed, short=True)``: 2 rounds as investor, then 2 as trustee)
after the game page has opened, and the page is reloaded. The candidate reads the
instructions, plays the two practice rounds (one in each role, with the role-change
notice between them), presses Start, then sets the amounts a simulated player (the
bot) chose on the same schedule, each round with another control: typing into the
number field and Enter, the - and + buttons, the slider's keys, and the - or + key. Because the
simulated partners follow the seeded schedule, the same amounts give the same
exchanges, so the stored metrics must equal the bot stream's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.money_exchange_1 import GAME
from pymetrics.games.money_exchange_1.bot import Latent, planned_amounts
from pymetrics.games.money_exchange_1.spec import partner_returned
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = "[data-testid=money_exchange_1-game]"
#: Human-like, varied pauses before each confirmation, so no quality flag is raised.
THINK_MS = [700, 950, 800, 1100]


def _state(page: Any, state: str, round_number: int) -> None:
    page.wait_for_selector(
        f"{ROOT}[data-state={state}][data-round='{round_number}']", timeout=15_000
    )


def _testid(name: str) -> str:
    return f"[data-testid=money_exchange_1-{name}]"


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


def test_candidate_plays_money_exchange_1_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "money_exchange_1", accommodations={"colour_safe": True})
    page = run.page
    missing: list[str] = []
    page.on(
        "response",
        lambda response: missing.append(response.url) if response.status == 404 else None,
    )
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    assert run.console_errors == []
    game_session = run.game_session()
    config = GAME.make_config(game_session.seed, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    # Instructions: three pages.
    for _ in range(3):
        page.click("#jspsych-instructions-next")

    # Practice round 1 (Player A, 10 points): nothing is preset, so Send is disabled
    # until an amount is chosen; + twice sends 2, the practice partner returns 30% of 6.
    _state(page, "decide", 1)
    classes = set((page.get_attribute(ROOT, "class") or "").split())
    assert {"mx1--practice", "mx1--colour-safe"} <= classes
    assert page.inner_text(_testid("counter")) == "Practice round 1 of 2"
    assert page.is_disabled(_testid("confirm"))
    page.click(_testid("plus"))
    page.click(_testid("plus"))
    assert page.input_value(_testid("amount")) == "2"
    assert page.inner_text(_testid("partner")) == "6 points"
    page.click(_testid("confirm"))
    _state(page, "outcome", 1)
    # 6 * 30% = 1.8 -> 2 returned: 10 - 2 + 2 = 10
    assert page.inner_text(_testid("payoff")) == "10 points"
    page.keyboard.press("Enter")
    # The role-change notice, then practice round 2 (Player B, received 12).
    page.wait_for_selector(f"{ROOT}[data-state=role_change]")
    page.click(_testid("continue"))
    _state(page, "decide", 2)
    assert page.get_attribute(ROOT, "data-role") == "trustee"
    page.fill(_testid("amount"), "13")
    assert page.is_disabled(_testid("confirm"))
    assert "from 0 to 12" in page.inner_text(_testid("hint"))
    page.fill(_testid("amount"), "5")
    page.keyboard.press("Enter")
    _state(page, "outcome", 2)
    assert page.inner_text(_testid("payoff")) == "7 points"
    page.click(_testid("next"))
    page.click("[data-testid=game-ready]")

    latent = Latent(trust=0.6, reciprocity=0.45, responsiveness=0.2, noise=0.15)
    plan_stream = GAME.play(latent, np.random.default_rng(7), config)
    plan = planned_amounts(plan_stream)
    rounds = config["rounds"]
    assert [r["role"] for r in rounds] == ["investor", "investor", "trustee", "trustee"]

    for index, (item, amount, think_ms) in enumerate(zip(rounds, plan, THINK_MS, strict=True)):
        number = item["round"]
        _state(page, "decide", number)
        assert page.inner_text(_testid("counter")) == f"Round {number} of 4"
        assert page.get_attribute(ROOT, "data-role") == item["role"]
        page.wait_for_timeout(think_ms)
        if index == 0:
            # Typed into the number field, confirmed with Enter.
            page.fill(_testid("amount"), str(amount))
            page.keyboard.press("Enter")
        elif index == 1:
            # The + button, then the confirm button.
            page.click(_testid("minus"))  # from nothing chosen: 0
            for _ in range(amount):
                page.click(_testid("plus"))
            assert page.input_value(_testid("slider")) == str(amount)
            page.click(_testid("confirm"))
        elif index == 2:
            # The slider (focused at the round start) with the arrow keys, then Enter.
            received = 3 * item["partner_sent"]
            assert page.inner_text(_testid("you")) == _points(received)
            page.keyboard.press("End")
            for _ in range(received - amount):
                page.keyboard.press("ArrowLeft")
            assert page.input_value(_testid("amount")) == str(amount)
            page.screenshot(path=str(ARTIFACTS / "money_exchange_1-game.png"))
            page.keyboard.press("Enter")
        else:
            # Typed one point off, corrected with the - (or +) key while the confirm
            # button has the focus, which Enter then presses.
            received = 3 * item["partner_sent"]
            off_by, key = (1, "-") if amount < received else (-1, "+")
            page.fill(_testid("amount"), str(amount + off_by))
            page.focus(_testid("confirm"))
            page.keyboard.press(key)
            assert page.input_value(_testid("amount")) == str(amount)
            page.keyboard.press("Enter")
        _state(page, "outcome", number)
        if item["role"] == "investor":
            returned = partner_returned(3 * amount, item["partner_return_percent"])
            expected_payoff = 10 - amount + returned
        else:
            expected_payoff = 3 * item["partner_sent"] - amount
        assert page.inner_text(_testid("payoff")) == _points(expected_payoff)
        if index == 1:
            page.wait_for_timeout(400)
            page.click(_testid("next"))
            page.wait_for_selector(f"{ROOT}[data-state=role_change]")
            page.keyboard.press("Enter")  # Continue has the focus
        else:
            page.wait_for_timeout(400)
            page.keyboard.press("Enter")  # Next (or Finish) has the focus

    assert missing == []
    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))

    # The stored decisions are the plan's, timed from the round appearing.
    events = events_frame(game_session_ids=[game_session.pk])
    decisions = [
        data for kind, data in zip(events["type"], events["data"], strict=True)
        if kind == "decision"
    ]  # fmt: skip
    assert [data["amount"] for data in decisions] == plan
    assert [data["role"] for data in decisions] == [r["role"] for r in rounds]
    for data, think_ms in zip(decisions, THINK_MS, strict=True):
        assert think_ms - 5 <= data["rt_ms"] < think_ms + 5000
    assert (events["type"] == "round_start").sum() == 4
    outcomes = [
        data for kind, data in zip(events["type"], events["data"], strict=True)
        if kind == "outcome"
    ]  # fmt: skip
    planned_outcomes = [event["data"] for event in plan_stream if event["type"] == "outcome"]
    assert outcomes == planned_outcomes

    # The metrics are those of the plan: the same amounts, the same partners.
    planned = pd.DataFrame(plan_stream).assign(session=game_session.pk)
    expected = GAME.extract(GAME.events_to_trials(planned)).session_values(game_session.pk)
    assert stored == pytest.approx(expected)
    assert stored["fraction_sent"] == pytest.approx((plan[0] + plan[1]) / 20)
    assert stored["fraction_returned"] == pytest.approx(
        (plan[2] / (3 * rounds[2]["partner_sent"]) + plan[3] / (3 * rounds[3]["partner_sent"])) / 2
    )
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []


def test_money_exchange_1_with_every_accommodation_and_the_keyboard_alone(
    services: Services, browser: Any
) -> None:
    """Extended time, reduced motion and the colour-safe palette, played with keys alone.

    The short schedule as above. Each round starts with the focus on the slider, so
    the keys act at once: - sets 0, End the most, + one more, Enter confirms and then
    goes on (the Next and Continue buttons take the focus). The game has no time
    limit, so extended time changes nothing on screen; reduced motion turns the
    result's fade off.
    """
    run = open_game(
        services,
        browser,
        "money_exchange_1",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    config = GAME.make_config(game_session.seed, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    page.wait_for_selector("#jspsych-instructions-next")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    focused = "() => document.activeElement && document.activeElement.dataset.testid"

    # Practice: + three times sends 3; End returns everything received.
    _state(page, "decide", 1)
    classes = set((page.get_attribute(ROOT, "class") or "").split())
    assert {"mx1--practice", "mx1--colour-safe", "mx1--reduced-motion"} <= classes
    assert page.evaluate(focused) == "money_exchange_1-slider"
    for _ in range(3):
        page.keyboard.press("+")
    assert page.inner_text(_testid("confirm")) == "Send 3 points"
    page.keyboard.press("Enter")
    _state(page, "outcome", 1)
    animation = page.eval_on_selector(
        _testid("outcome"), "node => getComputedStyle(node).animationName"
    )
    assert animation == "none"
    assert page.evaluate(focused) == "money_exchange_1-next"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{ROOT}[data-state=role_change]")
    assert page.evaluate(focused) == "money_exchange_1-continue"
    page.keyboard.press("Enter")
    _state(page, "decide", 2)
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    _state(page, "outcome", 2)
    page.keyboard.press("Enter")
    page.focus("[data-testid=game-ready]")
    page.keyboard.press("Enter")

    # Rounds: send 0, send 10, return 0, return everything.
    for number, key, wait_ms in ((1, "-", 600), (2, "End", 800), (3, "-", 700), (4, "End", 950)):
        _state(page, "decide", number)
        assert page.evaluate(focused) == "money_exchange_1-slider"
        page.keyboard.press(key)
        page.wait_for_timeout(wait_ms)
        page.keyboard.press("Enter")
        _state(page, "outcome", number)
        page.keyboard.press("Enter")
        if number == 2:
            page.wait_for_selector(f"{ROOT}[data-state=role_change]")
            page.keyboard.press("Enter")

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    # fraction_sent = (0 + 10) / 2 / 10 = 0.5; fraction_returned = (0 + 1) / 2 = 0.5
    assert stored == {"fraction_sent": 0.5, "fraction_returned": 0.5}
    events = events_frame(game_session_ids=[game_session.pk])
    amounts = [data["amount"] for kind, data in zip(events["type"], events["data"], strict=True)
               if kind == "decision"]  # fmt: skip
    received = [3 * item["partner_sent"] for item in config["rounds"][2:]]
    assert amounts == [0, 10, 0, received[1]]
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []
