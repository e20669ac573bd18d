"""A candidate plays faces (emotion recognition) through the real page.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery
worker. To keep the test short, the session's config is replaced by the short
schedule of a fixed seed (``make_config(2024, short=True)``: 14 faces, every
expression twice) after the game page has opened, and the page is reloaded.

The candidate reads the instructions, labels the four practice faces (one of them
wrongly, to see the correction), presses Start, then gives the answers a simulated
player (the faces bot's :func:`decide`) planned for the schedule, with number keys
and clicks in turn. The page must show each face the schedule holds; the worker's
stored metrics must equal the extractor run on the stored events, and the accuracies
the plan implies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.faces import GAME
from pymetrics.games.faces.bot import Latent, decide
from pymetrics.games.faces.spec import EMOTIONS, make_config
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

N_FACES = 14
#: A fixed schedule, so the planned answers (some right, some wrong) are the same every run.
SEED = 2024
PLANNER = Latent(sensitivity=1.2, rt_median_ms=450.0, rt_log_sd=0.2)


def _wait_for_face(page: Any, number: int) -> None:
    page.wait_for_selector(
        f"[data-testid=faces-game][data-state=face][data-trial='{number}']", timeout=15_000
    )


def _shown(page: Any) -> tuple[str, int]:
    stage = page.locator("[data-testid=faces-face]")
    return str(stage.get_attribute("data-emotion")), int(stage.get_attribute("data-intensity"))


def _answer(page: Any, emotion: str, turn: int) -> None:
    """Number key or a click on the labelled button, in turn."""
    if turn % 2:
        page.keyboard.press(str(EMOTIONS.index(emotion) + 1))
    else:
        page.click(f"[data-testid=faces-answer-{emotion}]")


def test_candidate_plays_faces_in_the_browser(services: Services, browser: Any) -> None:
    run = open_game(services, browser, "faces")
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    config = make_config(SEED, short=True)
    GameSession.objects.filter(pk=game_session.pk).update(seed=SEED, config=config)
    page.reload()

    # Three pages of instructions (the first shows a drawn face), then the practice.
    page.wait_for_selector("#jspsych-instructions-next")
    assert "14 drawn faces" in page.inner_text(".game-instructions")
    assert page.locator(".game-instructions svg.fcs-face__svg").count() == 1
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    practice = config["practice"]
    for number, item in enumerate(practice, start=1):
        _wait_for_face(page, number)
        assert page.inner_text("[data-testid=faces-counter]") == f"Practice face {number} of 4"
        assert _shown(page) == (item["emotion"], item["intensity"])
        if number == 2:
            wrong = "neutral" if item["emotion"] != "neutral" else "happy"
            _answer(page, wrong, number)
            page.wait_for_selector("[data-testid=faces-feedback]:not([hidden])")
            assert page.inner_text("[data-testid=faces-feedback]") == (
                f"\u2716 This face shows \u201c{item['emotion'].title()}\u201d; you chose "
                f"\u201c{wrong.title()}\u201d."
            )
        else:
            page.wait_for_timeout(200)
            _answer(page, item["emotion"], number)
    page.click("[data-testid=game-ready]")

    # The real game: the planner's answers, right or wrong, after about its times.
    plan = decide(PLANNER, np.random.default_rng(7), config["trials"])
    hits = [
        answer.response == item["emotion"]
        for answer, item in zip(plan, config["trials"], strict=True)
    ]
    assert 0 < sum(hits) < N_FACES
    for number, (item, answer) in enumerate(zip(config["trials"], plan, strict=True), start=1):
        _wait_for_face(page, number)
        assert page.inner_text("[data-testid=faces-counter]") == f"Face {number} of {N_FACES}"
        assert _shown(page) == (item["emotion"], item["intensity"])
        if number == 5:
            page.screenshot(path=str(ARTIFACTS / "faces-game.png"))
        page.wait_for_timeout(min(600.0, max(200.0, answer.rt_ms)))
        _answer(page, answer.response, number)

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))

    # The stored answers are the plan's, timed from the painted face.
    events = events_frame(game_session_ids=[game_session.pk])
    responses = [data for kind, data in zip(events["type"], events["data"], strict=True)
                 if kind == "response"]  # fmt: skip
    assert [data["response"] for data in responses] == [answer.response for answer in plan]
    assert [data["emotion"] for data in responses] == [item["emotion"] for item in config["trials"]]
    for data, answer in zip(responses, plan, strict=True):
        assert min(600.0, max(200.0, answer.rt_ms)) - 5 <= data["rt_ms"] < 5000.0
    assert (events["type"] == "trial_start").sum() == N_FACES

    # Every metric but the time is the plan's, whatever the times were.
    planned = pd.DataFrame(
        {
            "session": game_session.pk,
            "trial": range(1, N_FACES + 1),
            "emotion": [item["emotion"] for item in config["trials"]],
            "intensity": [float(item["intensity"]) for item in config["trials"]],
            "response": [answer.response for answer in plan],
            "rt_ms": [data["rt_ms"] for data in responses],
        }
    )
    expected = GAME.extract(planned).session_values(game_session.pk)
    assert stored == pytest.approx(expected)
    assert stored["accuracy"] == pytest.approx(sum(hits) / N_FACES)
    for emotion in EMOTIONS:
        shown = [
            hit
            for hit, item in zip(hits, config["trials"], strict=True)
            if item["emotion"] == emotion
        ]
        assert stored[f"accuracy_{emotion}"] == pytest.approx(sum(shown) / 2)
    metric_set = MetricSet.objects.get(game_session=game_session)
    assert metric_set.quality_flags == []


def test_faces_with_every_accommodation_and_the_keyboard_alone(
    services: Services, browser: Any
) -> None:
    """Extended time, reduced motion and the colour-safe palette, played with Tab and Enter.

    The schedule is cut to its first 3 faces. The practice is answered with number keys;
    in the game the candidate focuses Happy and presses Enter, then Tab (the focus stays
    on the button through the pause) and Enter twice: happy, sad, angry. The pause
    between an answer and the next face is doubled (500 ms -> 1 s).
    """
    run = open_game(
        services,
        browser,
        "faces",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    page = run.page
    page.wait_for_selector("#jspsych-instructions-next")
    page.wait_for_load_state("networkidle")
    game_session = run.game_session()
    config = make_config(game_session.seed, short=True)
    config["trials"] = config["trials"][:3]
    config["n_trials"] = 3
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page.reload()

    page.wait_for_selector("#jspsych-instructions-next")
    for _ in range(3):
        page.click("#jspsych-instructions-next")
    classes = page.get_attribute("[data-testid=faces-game]", "class") or ""
    assert {"fcs--colour-safe", "fcs--reduced-motion", "fcs--practice"} <= set(classes.split())
    for number, item in enumerate(config["practice"], start=1):
        _wait_for_face(page, number)
        page.keyboard.press(str(EMOTIONS.index(item["emotion"]) + 1))
        if number == 1:
            page.wait_for_selector("[data-testid=faces-feedback]:not([hidden])")
            animation = page.eval_on_selector(
                "[data-testid=faces-feedback]", "node => getComputedStyle(node).animationName"
            )
            assert animation == "none"
    page.click("[data-testid=game-ready]")

    focused = "() => document.activeElement && document.activeElement.dataset.testid"
    answers: list[str] = []
    for number in range(1, 4):
        _wait_for_face(page, number)
        if number == 1:
            page.focus("[data-testid=faces-answer-happy]")
        else:
            # Focus stays on the last button used; Tab moves to the next label.
            page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        answers.append(str(page.evaluate(focused)).removeprefix("faces-answer-"))
        page.keyboard.press("Enter")

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(game_session.pk))
    hits = [
        answer == item["emotion"] for answer, item in zip(answers, config["trials"], strict=True)
    ]
    assert answers == ["happy", "sad", "angry"]
    assert stored["accuracy"] == pytest.approx(sum(hits) / 3)

    events = events_frame(game_session_ids=[game_session.pk])
    recorded = [data["response"] for kind, data in zip(events["type"], events["data"], strict=True)
                if kind == "response"]  # fmt: skip
    assert recorded == answers
    times = {
        (kind, data["trial"]): t
        for kind, data, t in zip(events["type"], events["data"], events["t"], strict=True)
        if kind in ("trial_start", "response")
    }
    for trial in (1, 2):
        assert times[("trial_start", trial + 1)] - times[("response", trial)] >= 1000.0 - 17.0
