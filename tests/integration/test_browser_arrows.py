"""A candidate plays arrows (flanker with a rule switch) through the real page.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery
worker. To keep the test short, the session's seeded schedule is cut to its first
16 trials (GameSession.config updated, page reloaded) before the game starts; the
plugin plays whatever schedule the config holds.

The candidate reads the displayed rule and arrows from the page, checks them against
the schedule, and answers with the arrows bot's decisions (a flawless player) except
for one planned error (trial 5) and one planned omission (trial 9), using the arrow
keys, F/J and the on-screen buttons. The worker's stored metrics must equal the
extractor run on the stored events, and the accuracies the plan implies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.models import Event
from pymetrics.games.arrows.bot import Latent, decide
from pymetrics.games.arrows.spec import arrows_display, correct_answer
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_TRIALS = 16
ERROR_TRIAL = 5
OMISSION_TRIAL = 9
FLAWLESS = Latent(
    base_rt=420.0,
    interference_cost=40.0,
    switch_cost=60.0,
    error_rate=0.0,
    interference_errors=0.0,
    omission_rate=0.0,
)
#: Keys for each answer, rotated through so every input path is used.
KEYS = {"left": ("ArrowLeft", "f", "button"), "right": ("ArrowRight", "j", "button")}

STIMULUS_SHOWN = """([label, n, total]) => {
  const row = document.querySelector('[data-testid=arrows-stimulus]');
  const counter = document.querySelector('[data-testid=arrows-counter]');
  return !!row && !!counter && row.dataset.state === 'stimulus'
    && counter.textContent === `${label} ${n} of ${total}`;
}"""


def _displayed(page: Any) -> tuple[str, str]:
    """The rule and the arrows (e.g. ``"<<><<"``) the page is showing."""
    row = page.locator("[data-testid=arrows-stimulus]")
    return str(row.get_attribute("data-rule")), str(row.get_attribute("data-arrows"))


def _answer_for(rule: str, arrows: str) -> str:
    """What the displayed rule asks for, read off the display itself."""
    arrow = arrows[2] if rule == "centre" else arrows[0]
    return "left" if arrow == "<" else "right"


def _press(page: Any, side: str, turn: int) -> None:
    how = KEYS[side][turn % 3]
    if how == "button":
        page.click(f"[data-testid=arrows-{side}]")
    else:
        page.keyboard.press(how)


def test_candidate_plays_arrows_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "arrows")
    page = run.page
    game_session = run.game_session()
    config = dict(game_session.config)
    config["trials"] = config["trials"][:N_TRIALS]
    config["fixation_ms"] = config["fixation_ms"][:N_TRIALS]
    config["n_trials"] = N_TRIALS
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    # Three pages of instructions, then the practice rows with feedback (not recorded).
    page.wait_for_selector("#jspsych-instructions-next")
    assert "Arrows" in page.inner_text(".game-instructions")
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    practice = config["practice"]
    for number, item in enumerate(practice, start=1):
        page.wait_for_function(STIMULUS_SHOWN, arg=["Practice", number, len(practice)])
        rule, arrows = _displayed(page)
        assert (rule, arrows) == (item["rule"], arrows_display(item["congruent"], item["centre"]))
        answer = _answer_for(rule, arrows)
        if number == 2:
            # A wrong answer in practice gets a friendly correction.
            _press(page, "left" if answer == "right" else "right", number)
            page.wait_for_selector("[data-testid=arrows-feedback]:not([hidden])")
            assert "Not this time" in page.inner_text("[data-testid=arrows-feedback]")
        else:
            page.wait_for_timeout(200)
            _press(page, answer, number)
    page.click("[data-testid=game-ready]")

    # The real game: the bot's decisions, one planned error and one planned omission.
    decisions = decide(FLAWLESS, np.random.default_rng(3), config["trials"])
    planned_correct: list[int] = []
    for number, (item, decision) in enumerate(
        zip(config["trials"], decisions, strict=True), start=1
    ):
        page.wait_for_function(STIMULUS_SHOWN, arg=["Trial", number, N_TRIALS])
        rule, arrows = _displayed(page)
        right = correct_answer(bool(item["congruent"]), item["rule"], item["centre"])
        assert (rule, arrows) == (item["rule"], arrows_display(item["congruent"], item["centre"]))
        assert _answer_for(rule, arrows) == right == decision.key
        if number == 8:
            page.screenshot(path=str(ARTIFACTS / "arrows-game.png"))
        if number == OMISSION_TRIAL:
            planned_correct.append(0)
            page.wait_for_function(
                "() => document.querySelector('[data-testid=arrows-stimulus]')"
                ".dataset.state !== 'stimulus'",
                timeout=10_000,
            )
            continue
        key = right if number != ERROR_TRIAL else ("left" if right == "right" else "right")
        planned_correct.append(int(key == right))
        # Wait about as long as a person would (the bot's RT, within 200-600 ms).
        page.wait_for_timeout(min(600.0, max(200.0, decision.rt_ms or 300.0)))
        _press(page, key, number)

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    game_session.refresh_from_db()

    assert stored == pytest.approx(result.session_values(game_session.pk))
    assert Event.objects.filter(game_session=game_session, type="trial_end").count() == N_TRIALS
    assert Event.objects.filter(game_session=game_session, type="response").count() == N_TRIALS - 1
    assert stored["accuracy"] == pytest.approx(sum(planned_correct) / N_TRIALS)
    assert stored["accuracy"] == pytest.approx(14 / 16)
    congruent = np.array([item["congruent"] == 1 for item in config["trials"]])
    correct = np.array(planned_correct, dtype=float)
    assert stored["congruency_effect_accuracy"] == pytest.approx(
        correct[congruent].mean() - correct[~congruent].mean()
    )
    for metric in ("rt_mean_ms", "congruency_effect_rt_ms", "switch_cost_rt_ms"):
        assert metric in stored
    assert 150.0 < stored["rt_mean_ms"] < 2000.0
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []
