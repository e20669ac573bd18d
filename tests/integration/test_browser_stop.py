"""A candidate's browser plays the stop-signal game through the real plugin.

Headless Chromium (through Playwright) against the real ASGI server, PostgreSQL,
Redis and a Celery worker. To keep the test short, the session's seeded schedule is
cut after the page opens: the shortest prefix (at least 20 trials) holding five stop
trials, and a 4-trial practice; the cut config is saved on the GameSession and the
page reloaded, so the plugin plays exactly that. Go trials follow the stop bot's go
decisions (matching key, other key, or no press); on the five stop trials the
candidate presses at once on the 1st and 4th and holds back on the others, so the
stored p_respond_signal and the SSD staircase (mean_ssd_ms) are known in advance.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.stop.bot import Latent, go_decisions
from tests.integration.conftest import ARTIFACTS, CandidateRun, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = "[data-testid=stop-game]"
#: Press at once (True) or hold back (False) on the 1st..5th stop trial, and so on
#: round again should the shortened schedule hold more stop trials.
STOP_PLAN = [True, False, False, True, False]
#: The go decisions come from a bot that sometimes errs and sometimes misses.
LATENT = Latent(go_rt_mean=450.0, go_rt_sd=80.0, ssrt=220.0, error_rate=0.15, lapse_rate=0.1)
KEYS = {"left": ("ArrowLeft", "f"), "right": ("ArrowRight", "j")}


def _wait_for_response_window(run: CandidateRun, trial: int) -> str:
    """Wait until trial ``trial``'s arrow is painted and presses count; its direction."""
    run.page.wait_for_selector(
        f"{ROOT}[data-trial='{trial}']:is([data-phase=stimulus], [data-phase=signal])",
        timeout=10_000,
    )
    direction: str = run.page.get_attribute("[data-testid=stop-stimulus]", "data-direction")
    return direction


def _wait_for_trial_end(run: CandidateRun, trial: int) -> None:
    run.page.wait_for_function(
        "([root, n]) => { const r = document.querySelector(root);"
        " return !r || r.dataset.trial !== String(n) || r.dataset.phase === 'iti'; }",
        arg=[ROOT, trial],
        timeout=10_000,
    )


def _play_practice(run: CandidateRun, trials: int) -> None:
    """Answer every practice arrow with its matching key, then continue."""
    for trial in range(1, trials + 1):
        direction = _wait_for_response_window(run, trial)
        run.page.keyboard.press(KEYS[direction][0])
        _wait_for_trial_end(run, trial)
    run.page.click("[data-testid=stop-continue]")


def _shorten(schedule: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stop_positions = [i for i, entry in enumerate(schedule) if entry["stop"]]
    length = max(20, stop_positions[len(STOP_PLAN) - 1] + 1)
    return schedule[:length]


def test_candidate_plays_stop_signal_in_the_browser(services: Services, browser) -> None:
    started = time.monotonic()
    run = open_game(services, browser, "stop")
    game_session = run.game_session()
    config = dict(game_session.config)
    schedule = _shorten(config["schedule"])
    config.update(schedule=schedule, trials=len(schedule), blocks=1, practice_trials=4)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    run.page.reload()

    for _ in range(3):  # three pages of instructions
        run.page.click("#jspsych-instructions-next")
    _play_practice(run, 4)
    run.page.click("[data-testid=game-ready]")

    # Go decisions in go-trial order (the prefix has at least 15 go trials); with this
    # seed the 6th and 7th go trials get the other key and the 4th and 12th no press.
    decisions = iter(go_decisions(LATENT, np.random.default_rng(9), 32))
    deadline = config["go_deadline_ms"]
    stop_index = presses = 0
    ssd = config["ssd_start_ms"]
    expected_ssd: list[int] = []
    go_trials = go_presses = go_errors = 0
    for position, entry in enumerate(schedule):
        trial = entry["trial"]
        direction = _wait_for_response_window(run, trial)
        assert direction == entry["direction"]
        other = "right" if direction == "left" else "left"
        if entry["stop"]:
            press = STOP_PLAN[stop_index % len(STOP_PLAN)]
            stop_index += 1
            expected_ssd.append(ssd)
            presses += int(press)
            ssd = min(1150, max(0, ssd + (-50 if press else 50)))
            if press:
                run.page.keyboard.press(KEYS[direction][0])
            elif stop_index == 2:
                run.page.wait_for_selector(f"{ROOT}[data-trial='{trial}'][data-phase=signal]")
                run.page.screenshot(path=str(ARTIFACTS / "stop-game.png"))
        else:
            rt, right_key = next(decisions)
            go_trials += 1
            if math.isfinite(rt) and rt <= deadline:
                go_presses += 1
                go_errors += 0 if right_key else 1
                side = direction if right_key else other
                run.page.wait_for_timeout(180)  # a human-like pause, so no too_fast flag
                if position % 4 == 3:
                    run.page.click(f"[data-testid=stop-{side}]")
                else:
                    run.page.keyboard.press(KEYS[side][position % 2])
        _wait_for_trial_end(run, trial)

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    session_id = run.game_session().pk
    assert stored == pytest.approx(result.session_values(session_id))

    # SSD staircase under the plan: 250 (pressed) -> 200 (held) -> 250 (held) -> 300
    # (pressed) -> 250 (held) -> ...; for five stop trials p = 2/5 and the mean SSD is
    # (250 + 200 + 250 + 300 + 250) / 5 = 250.
    assert expected_ssd[:5] == [250, 200, 250, 300, 250]
    assert stored["p_respond_signal"] == pytest.approx(presses / stop_index)
    assert stored["mean_ssd_ms"] == pytest.approx(sum(expected_ssd) / len(expected_ssd))
    if stop_index == 5:
        assert (stored["p_respond_signal"], stored["mean_ssd_ms"]) == (0.4, 250.0)
    assert stored["go_omission_rate"] == pytest.approx((go_trials - go_presses) / go_trials)
    assert stored["go_error_rate"] == pytest.approx(go_errors / go_presses)
    assert 180.0 <= stored["go_rt_mean_ms"] < 1500.0
    assert (go_trials - go_presses, go_errors) == (2, 2)
    assert len(result.metrics) == 1
    assert time.monotonic() - started < 120


def test_accommodations_on_a_touch_phone(services: Services, browser) -> None:
    """Extended time doubles the deadline; colour-safe and reduced-motion reach the game.

    A phone-sized touch screen; the schedule is cut to its first 3 trials and the
    practice to one arrow. Every arrow is tapped on its button except the first go
    trial's, which is left to run out: with extended time it lasts 3000 ms.
    """
    run = open_game(
        services,
        browser,
        "stop",
        has_touch=True,
        accommodations={"extended_time": True, "colour_safe": True, "reduced_motion": True},
        viewport={"width": 390, "height": 844},
    )
    game_session = run.game_session()
    config = dict(game_session.config)
    schedule = config["schedule"][:3]
    config.update(schedule=schedule, trials=3, blocks=1, practice_trials=1)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    run.page.reload()

    for _ in range(3):
        run.page.tap("#jspsych-instructions-next")
    direction = _wait_for_response_window(run, 1)
    run.page.tap(f"[data-testid=stop-{direction}]")
    run.page.tap("[data-testid=stop-continue]")
    run.page.tap("[data-testid=game-ready]")

    root = run.page.locator(ROOT)
    assert "sst--colour-safe" in (root.get_attribute("class") or "")
    assert "sst--reduced-motion" in (root.get_attribute("class") or "")
    ring = run.page.eval_on_selector(".sst-signal__ring", "node => getComputedStyle(node).stroke")
    assert ring == "rgb(230, 97, 0)"  # orange, not red
    box = run.page.locator("[data-testid=stop-left]").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert box["width"] >= 44

    missed = next(entry["trial"] for entry in schedule if not entry["stop"])
    for entry in schedule:
        direction = _wait_for_response_window(run, entry["trial"])
        if entry["trial"] == missed:
            run.page.screenshot(path=str(ARTIFACTS / "stop-phone.png"))
        elif not entry["stop"]:
            run.page.tap(f"[data-testid=stop-{direction}]")
        _wait_for_trial_end(run, entry["trial"])

    run.finish()
    stored, result = run.stored_and_expected_metrics()
    assert stored == pytest.approx(result.session_values(run.game_session().pk))
    events = events_frame(game_session_ids=[game_session.pk])
    times: dict[tuple[str, int], float] = {}
    for event_type, data, t in zip(events["type"], events["data"], events["t"], strict=True):
        if isinstance(data, dict) and "trial" in data:
            times[(str(event_type), int(data["trial"]))] = float(t)
    assert times[("trial_end", missed)] - times[("stimulus", missed)] >= 3000 - 1
    assert ("response", missed) not in times
