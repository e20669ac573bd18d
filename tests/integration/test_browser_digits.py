"""A candidate's browser plays digits through the real plugin, as the digits bot decides.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
The session keeps its full seeded schedule (no shortening is needed): the bot is a
low-capacity player whose seeded decisions make the run short, so the candidate gets
the first length-3 forward sequence right and the second wrong, both length-4
forward sequences wrong (the forward part stops), and both length-3 backward
sequences wrong (the backward part stops): six recorded trials. The answers are
typed exactly as :func:`pymetrics.games.digits.bot.planned_trials` says, the first
one with clicks on the on-screen keypad, the others on the keyboard, so the stored
metrics can be predicted: forward_span 3, backward_span 0, total_correct 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.digits.bot import Latent, PlannedTrial, planned_trials
from pymetrics.games.digits.spec import expected_answer
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, CandidateRun, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

#: A player who holds about 3 digits forward and 2 backward, and decides sharply.
LOW_SPAN = Latent(span_forward=3.0, span_backward=2.0, noise=0.3)
#: The bot's seed; with it the plan is the short run the module docstring describes.
PLAN_SEED = 8
GAME_ROOT = "[data-testid=digits-game]"


def _answer_phase(practice: bool, trial: str) -> str:
    return (
        f"{GAME_ROOT}[data-practice={'true' if practice else 'false'}]"
        f"[data-phase=answer][data-trial='{trial}']"
    )


def _practise(run: CandidateRun, sequence: str, direction: str) -> None:
    """The unrecorded practice run: answer right on the keyboard, read, continue."""
    page = run.page
    page.wait_for_selector(_answer_phase(True, "practice-1"))
    page.keyboard.type(expected_answer(sequence, direction))
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=digits-continue]:visible")
    assert "That is it" in page.inner_text("[data-testid=digits-status]")
    page.click("[data-testid=digits-continue]")


def _play(run: CandidateRun, planned: PlannedTrial) -> None:
    """Wait until the sequence has been shown and the answer is wanted, then type it."""
    page = run.page
    if planned.trial == 1:
        # The first digit on screen is the first digit of the seeded schedule.
        page.wait_for_function(
            "digit => document.querySelector('[data-testid=digits-stimulus]')"
            "?.textContent === digit",
            arg=planned.sequence[0],
        )
    if planned.trial == 3:
        page.wait_for_selector(f"{GAME_ROOT}[data-phase=showing][data-trial='3']")
        page.screenshot(path=str(ARTIFACTS / "digits-game.png"))
    page.wait_for_selector(_answer_phase(False, str(planned.trial)))
    counter = page.inner_text("[data-testid=digits-counter]")
    assert counter.startswith("Trial ")
    if planned.trial == 1:
        for digit in planned.entered:
            page.click(f"[data-testid=digits-key-{digit}]")
        page.wait_for_selector(f"[data-testid=digits-answer][data-entered='{planned.entered}']")
        page.click("[data-testid=digits-done]")
    else:
        page.keyboard.type(planned.entered)
        page.wait_for_selector(f"[data-testid=digits-answer][data-entered='{planned.entered}']")
        page.keyboard.press("Enter")


def test_candidate_plays_digits_in_the_browser_as_the_bot_decides(
    services: Services, browser
) -> None:
    run = open_game(services, browser, "digits")
    game_session = run.game_session()
    config = game_session.config
    plan = planned_trials(LOW_SPAN, np.random.default_rng(PLAN_SEED), config)
    assert [(p.direction, p.length, p.correct) for p in plan] == [
        ("forward", 3, 1),
        ("forward", 3, 0),
        ("forward", 4, 0),
        ("forward", 4, 0),
        ("backward", 3, 0),
        ("backward", 3, 0),
    ]
    page = run.page

    for _ in range(3):  # three pages of instructions
        page.click("#jspsych-instructions-next")
    _practise(run, config["practice"]["forward"], "forward")
    page.click("[data-testid=game-ready]")
    for planned in plan:
        if planned.direction == "backward" and planned.attempt == 1 and planned.length == 3:
            page.click("#jspsych-instructions-next")  # one page: reverse order
            _practise(run, config["practice"]["backward"], "backward")
            page.click("[data-testid=game-ready]")
        _play(run, planned)

    run.finish()
    stored, result = run.stored_and_expected_metrics()

    game_session = GameSession.objects.get(pk=game_session.pk)
    assert stored == pytest.approx(result.session_values(game_session.pk))
    assert stored == {"forward_span": 3.0, "backward_span": 0.0, "total_correct": 1.0}
    assert MetricSet.objects.get(game_session=game_session).quality_flags == []

    # The stored events are the bot's decisions, in the plugin's order and timing.
    events = events_frame(game_session_ids=[game_session.pk])
    ours = events[events["type"].isin(["sequence_shown", "response", "trial_end"])]
    assert ours["type"].tolist() == ["sequence_shown", "response", "trial_end"] * len(plan)
    responses = ours[ours["type"] == "response"]
    assert [data["entered"] for data in responses["data"]] == [p.entered for p in plan]
    assert all(data["rt_ms"] > 0 for data in responses["data"])
    shown_t = ours.loc[ours["type"] == "sequence_shown", "t"].to_numpy()
    response_t = responses["t"].to_numpy()
    lengths = np.array([p.length for p in plan])
    # The answer can only come after every digit has been shown, one a second.
    assert (response_t - shown_t >= 1000 * lengths - 20).all()
    ends = list(ours.loc[ours["type"] == "trial_end", "data"])
    assert [
        (d["trial"], d["direction"], d["length"], d["attempt"], d["correct"]) for d in ends
    ] == [(p.trial, p.direction, p.length, p.attempt, p.correct) for p in plan]
