"""A candidate's browser plays lengths (probabilistic reward task) through the real page.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
The session's schedule is swapped for its short version after the page opens
(``make_config(seed, short=True)``: 3 blocks of 8 faces, 3 rich and 1 lean reward due
per block, 4 practice faces), as an assessment with short schedules would have it,
and the page is reloaded. The candidate reads the instructions, answers the 4
practice faces, presses Start, then gives the answers a simulated player (the
lengths bot) gave on the same schedule, with the S and L keys, the arrow keys and
the buttons in turn, letting one face run out to its deadline. Rewards follow the
controlled schedule in the page, so the stored outcomes must be those that the
schedule and the answers imply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.lengths import GAME
from pymetrics.games.lengths.bot import Latent, planned_responses
from pymetrics.games.lengths.spec import RewardLedger
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_TRIALS = 24
PRACTICE_FACES = 4
#: The face left unanswered until its deadline.
MISSED_TRIAL = 6


def _wait_for_answer(page: Any, trial: int, timeout: float = 15_000) -> None:
    page.wait_for_selector(
        f"[data-testid=lengths-game][data-state=respond][data-trial='{trial}']", timeout=timeout
    )


def _short_schedule(run: Any) -> dict[str, Any]:
    """Give the open game session its short schedule and reload the page to play it."""
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    # Let the first load settle before reloading, so no request of it is cut off.
    page.wait_for_load_state("networkidle")
    assert run.console_errors == []
    game_session = run.game_session()
    config = GAME.make_config(game_session.seed, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    return config


def _expected_outcomes(
    config: dict[str, Any], answers: list[str | None]
) -> tuple[list[float], list[bool]]:
    """``correct`` (NaN when missed) and ``rewarded`` of every trial, from the schedule."""
    ledger = RewardLedger()
    correct: list[float] = []
    rewarded: list[bool] = []
    for entry, answer in zip(config["schedule"], answers, strict=True):
        right = answer == entry["length"]
        correct.append(float("nan") if answer is None else float(right))
        rewarded.append(ledger.settle(entry, right))
    return correct, rewarded


def test_candidate_plays_lengths_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "lengths", accommodations={"colour_safe": True})
    page = run.page
    missing: list[str] = []
    page.on(
        "response",
        lambda response: missing.append(response.url) if response.status == 404 else None,
    )
    config = _short_schedule(run)
    game_session = run.game_session()

    # Practice: four unrecorded faces with a note after each, then Continue.
    classes = page.get_attribute("[data-testid=lengths-game]", "class") or ""
    assert {"prt--colour-safe", "prt--practice"} <= set(classes.split())
    for face in range(1, PRACTICE_FACES + 1):
        _wait_for_answer(page, face)
        assert page.inner_text("[data-testid=lengths-counter]") == f"Practice {face} of 4"
        page.keyboard.press("s")
        page.wait_for_selector("[data-testid=lengths-game][data-phase=feedback]")
        assert "mouth" in page.inner_text("[data-testid=lengths-status]")
    page.click("[data-testid=lengths-continue]")
    page.click("[data-testid=game-ready]")

    latent = Latent(discriminability=1.2, learning_rate=0.05, rt_median_ms=500.0)
    plan_stream = GAME.play(latent, np.random.default_rng(7), config)
    answers = planned_responses(plan_stream)
    answers[MISSED_TRIAL - 1] = None
    assert len(answers) == N_TRIALS
    correct, rewarded = _expected_outcomes(config, answers)
    waits_ms = [150 + 41 * (trial % 6) for trial in range(1, N_TRIALS + 1)]
    keys = {"short": ("s", "ArrowLeft"), "long": ("l", "ArrowRight")}
    screenshot_taken = False
    for trial, (answer, wait_ms) in enumerate(zip(answers, waits_ms, strict=True), start=1):
        if trial > 1 and (trial - 1) % 8 == 0:
            # The untimed break between blocks.
            page.wait_for_selector("[data-testid=lengths-continue]:not([hidden])")
            if trial == 9:
                page.keyboard.press("Space")
            else:
                page.click("[data-testid=lengths-continue]")
        _wait_for_answer(page, trial)
        assert page.inner_text("[data-testid=lengths-counter]") == f"Trial {trial} of {N_TRIALS}"
        if answer is None:
            page.wait_for_selector(
                f"[data-testid=lengths-game][data-phase=feedback][data-trial='{trial}']",
                timeout=10_000,
            )
            assert page.inner_text("[data-testid=lengths-status]") == "No answer in time."
            continue
        page.wait_for_timeout(wait_ms)
        if trial % 3 == 0:
            page.click(f"[data-testid=lengths-{answer}]")
        else:
            page.keyboard.press(keys[answer][trial % 3 - 1])
        if rewarded[trial - 1]:
            page.wait_for_selector("[data-testid=lengths-reward]:not([hidden])")
            assert page.inner_text("[data-testid=lengths-status]") == "Correct! You won $0.05"
            if not screenshot_taken:
                page.wait_for_timeout(250)  # past the reward's 160 ms entrance
                page.screenshot(path=str(ARTIFACTS / "lengths-game.png"))
                screenshot_taken = True
    winnings = f"${0.05 * sum(rewarded):.2f}"
    page.wait_for_function(
        "text => document.querySelector('[data-testid=lengths-winnings]')?.textContent === text",
        arg=winnings,
    )

    run.finish()
    assert missing == []
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))

    # The stored outcomes are the plan's answers, rewarded as the schedule says.
    events = events_frame(game_session_ids=[game_session.pk])
    outcomes = [data for kind, data in zip(events["type"], events["data"], strict=True)
                if kind == "feedback"]  # fmt: skip
    assert [data["response"] for data in outcomes] == answers
    assert [data["rewarded"] for data in outcomes] == rewarded
    assert [entry["length"] for entry in config["schedule"]] == [d["length"] for d in outcomes]
    responses = [data for kind, data in zip(events["type"], events["data"], strict=True)
                 if kind == "response"]  # fmt: skip
    answered_waits = [w for w, a in zip(waits_ms, answers, strict=True) if a is not None]
    assert len(responses) == N_TRIALS - 1
    for data, wait_ms in zip(responses, answered_waits, strict=True):
        assert wait_ms - 5 <= data["rt_ms"] < wait_ms + 3000
    assert (events["type"] == "trial_start").sum() == N_TRIALS
    times = {
        (kind, data["trial"]): t
        for kind, data, t in zip(events["type"], events["data"], events["t"], strict=True)
        if kind in ("trial_start", "feedback")
    }
    # A missed face ends at its 3 s deadline (a frame's slack either way).
    missed_wait = times[("feedback", MISSED_TRIAL)] - times[("trial_start", MISSED_TRIAL)]
    assert 3000.0 - 17.0 <= missed_wait <= 3000.0 + 250.0

    # The metrics are those the schedule and the answers imply.
    schedule = config["schedule"]
    planned = pd.DataFrame(
        {
            "session": game_session.pk,
            "trial": [entry["trial"] for entry in schedule],
            "block": [entry["block"] for entry in schedule],
            "stimulus": [entry["stimulus"] for entry in schedule],
            "correct": correct,
            "rt_ms": [data["rt_ms"] for data in outcomes],
        }
    )
    expected = GAME.extract(planned).session_values(game_session.pk)
    assert stored == pytest.approx(expected)
    rich = [c for c, e in zip(correct, schedule, strict=True) if e["stimulus"] == "rich"]
    assert stored["rich_accuracy"] == pytest.approx(np.nanmean(rich))
    assert {f"response_bias_block_{block}" for block in (1, 2, 3)} <= set(stored)
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []


def test_lengths_with_every_accommodation_and_the_keyboard_alone(
    services: Services, browser: Any
) -> None:
    """Extended time, reduced motion and the colour-safe palette, played with Tab and Enter.

    The short schedule is cut to its first 4 faces (one block). The candidate answers
    the practice with the arrow keys, then answers with Tab and Enter on the buttons,
    and lets the last face run out: under extended time its deadline is 6 s.
    """
    run = open_game(
        services,
        browser,
        "lengths",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    full = GAME.make_config(game_session.seed, short=True)
    schedule = [{**entry, "reward_due": True} for entry in full["schedule"][:4]]
    config = {**full, "schedule": schedule, "trials": 4}
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()
    for _ in range(2):
        page.click("#jspsych-instructions-next")
    assert "Each face waits up to 6 seconds for your answer." in page.inner_text(
        ".game-instructions"
    )
    page.click("#jspsych-instructions-next")

    classes = page.get_attribute("[data-testid=lengths-game]", "class") or ""
    assert {"prt--colour-safe", "prt--reduced-motion", "prt--practice"} <= set(classes.split())
    for face in range(1, PRACTICE_FACES + 1):
        _wait_for_answer(page, face)
        page.keyboard.press("ArrowRight")
    page.wait_for_selector("[data-testid=lengths-continue]:not([hidden])")
    page.keyboard.press("Enter")
    page.click("[data-testid=game-ready]")

    focused = "() => document.activeElement && document.activeElement.dataset.testid"
    answers: list[str | None] = []
    for trial, entry in enumerate(schedule[:3], start=1):
        _wait_for_answer(page, trial)
        page.focus("[data-testid=lengths-short]")
        if entry["length"] == "long":
            page.keyboard.press("Tab")
            assert page.evaluate(focused) == "lengths-long"
        page.wait_for_timeout(250)
        page.keyboard.press("Enter")
        answers.append(entry["length"])
        page.wait_for_selector(
            f"[data-testid=lengths-game][data-phase=feedback][data-trial='{trial}']"
        )
        # Every face has a reward due here, so every correct answer is rewarded at once.
        page.wait_for_selector("[data-testid=lengths-reward]:not([hidden])")
        animation = page.eval_on_selector(
            "[data-testid=lengths-reward]", "node => getComputedStyle(node).animationName"
        )
        assert animation == "none"
    _wait_for_answer(page, 4)
    answers.append(None)

    run.finish(timeout_ms=90_000)
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    # Every answer was right; a kind of face that was answered has accuracy 1.
    for stimulus in ("rich", "lean"):
        if any(entry["stimulus"] == stimulus for entry in schedule[:3]):
            assert stored[f"{stimulus}_accuracy"] == 1.0
    events = events_frame(game_session_ids=[game_session.pk])
    outcomes = [data for kind, data in zip(events["type"], events["data"], strict=True)
                if kind == "feedback"]  # fmt: skip
    assert [data["response"] for data in outcomes] == answers
    assert [data["rewarded"] for data in outcomes] == [True, True, True, False]
    times = {
        (kind, data["trial"]): t
        for kind, data, t in zip(events["type"], events["data"], events["t"], strict=True)
        if kind in ("trial_start", "feedback")
    }
    # Extended time doubles the deadline to 6 s and the 1.5 s outcome pause to 3 s.
    assert 6000.0 - 17.0 <= times[("feedback", 4)] - times[("trial_start", 4)] <= 6250.0
    for trial in (1, 2, 3):
        pause = times[("trial_start", trial + 1)] - times[("feedback", trial)]
        assert pause >= 3000.0 + 500.0 + 500.0 + 500.0 - 17.0
