"""A candidate plays easy_or_hard in the browser, through the real plugin, following the bot.

Headless Chromium (Debian's package, through Playwright) against the real ASGI
server, PostgreSQL, Redis and a Celery worker. To keep the test short the session's
stored schedule is cut to its first four trials (GameSession.config updated, page
reloaded) and those trials' hard rewards are set to low, high, low, high, so that
the bot's reward-driven choices are varied; the presses needed (30 and 100) and the
time limits are the real ones. The candidate's key presses and clicks follow the
easy_or_hard bot's plan, and one easy task is deliberately left unfinished (the
candidate stops pressing and the 7 s run out), so the stored metrics can be
predicted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.easy_or_hard.bot import Latent, planned_choices
from pymetrics.games.registry import get_game
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_TRIALS = 4
REWARDS = [1.3, 4.2, 1.5, 4.0]
#: Human-like, varied pauses before each choice, so no quality flag is raised.
THINK_MS = [450, 700, 550, 900]


def _phase(page, phase: str, trial: int, timeout: float = 15_000) -> None:
    page.wait_for_selector(
        f"[data-testid=eoh-game][data-phase={phase}][data-trial='{trial}']", timeout=timeout
    )


def _press(page, times: int) -> None:
    for _ in range(times):
        page.keyboard.press("Space")


def test_candidate_plays_easy_or_hard_in_the_browser(services: Services, browser) -> None:
    run = open_game(services, browser, "easy_or_hard")
    page = run.page
    game_session = run.game_session()
    config = dict(game_session.config)
    for key in ("probabilities", "win_draws", "fallback_choices"):
        config[key] = config[key][:N_TRIALS]
    config["rewards"] = REWARDS
    config["trials"] = N_TRIALS
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    latent = Latent(effort_cost=0.0, reward_sensitivity=3.0, press_rate_hz=6.0)
    plan = planned_choices(latent, np.random.default_rng(11), config)
    # Leave the first easy task unfinished (10 of 30 presses), finish every other one.
    unfinished = plan.index("easy") if "easy" in plan else None
    completed = [int(index != unfinished) for index in range(N_TRIALS)]

    for _ in range(3):  # three pages of instructions
        page.click("#jspsych-instructions-next")

    # Practice: take the easy task, finish it, go on (nothing is recorded).
    page.wait_for_selector("[data-testid=eoh-game].eoh--practice[data-phase=offer]")
    assert "Practice" in page.inner_text("[data-testid=eoh-counter]")
    page.keyboard.press("e")
    page.wait_for_selector("[data-testid=eoh-game].eoh--practice[data-phase=press]")
    _press(page, 30)
    page.click("[data-testid=eoh-continue]")
    page.click("[data-testid=game-ready]")

    for index, choice in enumerate(plan):
        trial = index + 1
        _phase(page, "offer", trial)
        assert page.inner_text("[data-testid=eoh-counter]") == f"Trial {trial} of {N_TRIALS}"
        assert page.inner_text("[data-testid=eoh-hard-reward]") == f"${REWARDS[index]:.2f}"
        page.wait_for_timeout(THINK_MS[index])
        if index == 1:
            page.click(f"[data-testid=eoh-choose-{choice}]")  # the mouse works too
        else:
            page.keyboard.press("h" if choice == "hard" else "e")
        _phase(page, "press", trial)
        needed = 100 if choice == "hard" else 30
        if completed[index]:
            _press(page, needed // 2)
            if index == 1:
                page.screenshot(path=str(ARTIFACTS / "easy_or_hard-game.png"))
            _press(page, needed - needed // 2)
        else:
            _press(page, 10)
        _phase(page, "feedback", trial, timeout=30_000)
        title = page.inner_text("[data-testid=eoh-feedback-title]")
        assert title.startswith("Done" if completed[index] else "Time is up")

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    assert stored["hard_choice_rate"] == pytest.approx(plan.count("hard") / N_TRIALS)
    assert stored["completion_rate"] == pytest.approx(sum(completed) / N_TRIALS)

    # The trial table of the stored events is the plan, with a choice time on every trial.
    game = get_game("easy_or_hard")
    trials = game.events_to_trials(events_frame(game_session_ids=[game_session.pk]))
    assert trials["trial"].tolist() == list(range(1, N_TRIALS + 1))
    assert trials["choice"].tolist() == plan
    assert trials["completed"].tolist() == completed
    assert trials["reward"].tolist() == REWARDS
    assert trials["timed_out"].tolist() == [0] * N_TRIALS
    assert (trials["rt_ms"] >= min(THINK_MS)).all()
    # ... and the stored metrics are those of the plan's own trial table.
    planned = pd.DataFrame(
        {
            "session": 1,
            "trial": range(1, N_TRIALS + 1),
            "probability": config["probabilities"],
            "reward": REWARDS,
            "choice": plan,
            "completed": completed,
            "rt_ms": np.nan,
            "timed_out": 0,
        }
    )
    assert stored == pytest.approx(game.extract(planned).session_values(1))
    metric_set = MetricSet.objects.get(game_session=game_session)
    expected_flags = ["one_option_only"] if len(set(plan)) == 1 else []
    assert metric_set.quality_flags == expected_flags
