"""A candidate's browser plays keypresses through the real plugin, tapping as the bot plans.

Headless Chromium against the real ASGI server, PostgreSQL, Redis and a Celery worker.
To keep the run short, the session's stored schedule is shortened after the game page
opens (then the page is reloaded): the same 6 trials, hands alternating from the
writing hand, but each trial lasts 2.5 s instead of 10 s, the practice 1.5 s, and
the countdown steps and rests are shorter.

In each trial the test presses Space (trial 2: clicks the on-screen pad) at the tap
times :func:`pymetrics.games.keypresses.bot.planned_taps` plans, stopping well
before the time is up so every press lands inside the trial; trial 3 starts with the
key held down (an auto-repeat keydown, which must not count). So the number of taps
of every trial is known exactly, and with it taps_per_s, hand_asymmetry and
fatigue_slope.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.events.selectors import events_frame
from pymetrics.games.keypresses.bot import Latent, planned_taps
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, CandidateRun, Services, open_game

pytestmark = pytest.mark.django_db(transaction=True)

GAME_ROOT = "[data-testid=keypresses-game]"
#: A steady player: about 5 taps/s, intervals varying by 10%.
PLAYER = Latent(tapping_rate=5.0, variability=0.1, fatigue=0.0, start_latency_ms=200.0)
PLAN_SEED = 5
DURATION_MS = 2500
#: Presses stop this long before the trial's end (as the test's clock sees it,
#: which may start late on a busy machine), so none can miss it.
SAFETY_MS = 1000


#: Records on the page when trial 1 ends and when trial 2 becomes ready.
REST_CLOCK = """root => {
  const node = document.querySelector(root);
  window.restClock = {};
  new MutationObserver(() => {
    const clock = window.restClock;
    if (node.dataset.endedTrial === '1' && clock.ended === undefined) {
      clock.ended = performance.now();
    }
    if (node.dataset.state === 'ready' && node.dataset.trial === '2' && clock.ready === undefined) {
      clock.ready = performance.now();
    }
  }).observe(node, {attributes: true});
}"""


def _shortened(config: dict[str, Any]) -> dict[str, Any]:
    return {
        **config,
        "trials": [{**trial, "duration_ms": DURATION_MS} for trial in config["trials"]],
        "practice_duration_ms": 1500,
        "countdown_step_ms": 400,
        "rest_ms": 400,
    }


def _state(state: str, trial: int) -> str:
    return f"{GAME_ROOT}[data-state={state}][data-trial='{trial}']"


def _press_planned(run: CandidateRun, taps: list[float], trial: int) -> int:
    """Tap at the planned times (ms after "Tap!" appeared); return the presses made."""
    page = run.page
    pad_box = page.locator("[data-testid=keypresses-pad]").bounding_box() if trial == 2 else None
    started = time.monotonic()
    pressed = 0
    for t_ms in taps:
        if t_ms > DURATION_MS - SAFETY_MS:
            break
        wait = started + t_ms / 1000 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if (time.monotonic() - started) * 1000 > DURATION_MS - SAFETY_MS:
            break
        if pad_box is not None:
            page.mouse.click(
                pad_box["x"] + pad_box["width"] / 2, pad_box["y"] + pad_box["height"] / 2
            )
        else:
            page.keyboard.press("Space")
        pressed += 1
    return pressed


def test_candidate_taps_keypresses_in_the_browser_as_the_bot_plans(
    services: Services, browser
) -> None:
    run = open_game(services, browser, "keypresses")
    game_session = run.game_session()
    config = _shortened(game_session.config)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page = run.page
    page.reload()
    plan = planned_taps(PLAYER, np.random.default_rng(PLAN_SEED), config)

    for _ in range(3):  # three pages of instructions
        page.click("#jspsych-instructions-next")

    # Practice: three taps, feedback, continue. Nothing of it is recorded.
    page.wait_for_selector("[data-testid=keypresses-start]:visible")
    assert page.inner_text("[data-testid=keypresses-counter]") == "Practice"
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{GAME_ROOT}[data-state=tapping]")
    for _ in range(3):
        page.keyboard.press("Space")
    page.wait_for_selector(f"{GAME_ROOT}[data-state=feedback]")
    assert page.get_attribute(GAME_ROOT, "data-last-taps") == "3"
    assert "practice" in page.inner_text("[data-testid=keypresses-status]")
    page.click("[data-testid=keypresses-continue]")
    page.click("[data-testid=game-ready]")

    counted: list[int] = []
    for trial, taps in enumerate(plan, start=1):
        page.wait_for_selector(_state("ready", trial))
        assert page.inner_text("[data-testid=keypresses-counter]") == f"Trial {trial} of 6"
        hand = page.get_attribute(GAME_ROOT, "data-hand")
        assert hand == config["trials"][trial - 1]["hand"]
        assert ("Writing hand" if hand == "dominant" else "Other hand") in page.inner_text(
            "[data-testid=keypresses-hand]"
        )
        if trial == 1:
            page.click("[data-testid=keypresses-start]")
        else:
            page.keyboard.press("Enter")
        page.wait_for_selector(_state("tapping", trial))
        extra = 0
        if trial == 3:
            # Holding Space down: the auto-repeat keydown must not count.
            page.keyboard.down("Space")
            page.keyboard.down("Space")
            page.keyboard.up("Space")
            extra = 1
        pressed = _press_planned(run, taps, trial) + extra
        if trial == 4:
            page.screenshot(path=str(ARTIFACTS / "keypresses-game.png"))
        page.wait_for_selector(f"{GAME_ROOT}[data-ended-trial='{trial}']", timeout=10_000)
        shown = int(page.get_attribute(GAME_ROOT, "data-last-taps") or "-1")
        assert shown == pressed, (trial, shown, pressed)
        counted.append(pressed)

    run.finish()
    stored, result = run.stored_and_expected_metrics()

    game_session = GameSession.objects.get(pk=game_session.pk)
    assert stored == pytest.approx(result.session_values(game_session.pk))
    assert MetricSet.objects.get(game_session=game_session).quality_flags == []

    # The stored events hold exactly the presses that landed, trial by trial.
    events = events_frame(game_session_ids=[game_session.pk])
    starts = events[events["type"] == "trial_start"]
    ends = events[events["type"] == "trial_end"]
    tap_events = events[events["type"] == "tap"]
    assert [d["trial"] for d in starts["data"]] == [1, 2, 3, 4, 5, 6]
    assert [d["hand"] for d in starts["data"]] == [t["hand"] for t in config["trials"]]
    assert {d["duration_ms"] for d in ends["data"]} == {DURATION_MS}
    per_trial = [sum(d["trial"] == trial for d in tap_events["data"]) for trial in range(1, 7)]
    assert per_trial == counted
    assert [d["taps"] for d in ends["data"]] == counted
    # every tap the game counted fell inside its trial's window (the test's own clock
    # starts after the onset, so how far inside depends on the machine's load)
    assert all(0 <= d["t_ms"] < DURATION_MS for d in tap_events["data"])
    onset = {d["trial"]: t for d, t in zip(starts["data"], starts["t"], strict=True)}
    for data, t in zip(tap_events["data"], tap_events["t"], strict=True):
        assert t == pytest.approx(onset[data["trial"]] + data["t_ms"], abs=0.01)

    # ... and the metrics follow from the counts.
    total_s = 6 * DURATION_MS / 1000
    assert stored["taps_per_s"] * total_s == pytest.approx(sum(counted))
    dominant, other = sum(counted[0::2]), sum(counted[1::2])
    assert stored["hand_asymmetry"] == pytest.approx((dominant - other) / sum(counted))
    slope = np.polyfit(np.arange(1, 7), np.array(counted, dtype=float), 1)[0]
    assert stored["fatigue_slope"] == pytest.approx(slope)
    assert 100 < stored["iti_mean_ms"] < 400
    assert set(stored) == {
        "taps_per_s",
        "iti_mean_ms",
        "iti_sd_ms",
        "iti_cv",
        "fatigue_slope",
        "hand_asymmetry",
    }


def test_accommodations_change_the_look_and_the_rests_not_the_trial(
    services: Services, browser
) -> None:
    """Colour-safe, reduced-motion and extended-time mode, played with the pad and keys.

    The schedule is shortened as above (rest 400 ms, doubled to 800 ms here). Only
    the practice and the first trial are played; the point is the page's behaviour.
    """
    run = open_game(
        services,
        browser,
        "keypresses",
        accommodations={"extended_time": True, "reduced_motion": True, "colour_safe": True},
    )
    game_session = run.game_session()
    config = _shortened(game_session.config)
    GameSession.objects.filter(pk=game_session.pk).update(config=config)
    page = run.page
    page.reload()

    page.click("#jspsych-instructions-next")
    assert "longer for you" in page.inner_text(".game-instructions")
    page.click("#jspsych-instructions-next")
    page.click("#jspsych-instructions-next")

    page.wait_for_selector("[data-testid=keypresses-start]:visible")
    classes = page.get_attribute(GAME_ROOT, "class") or ""
    assert {"kp--colour-safe", "kp--reduced-motion"} <= set(classes.split())
    assert page.eval_on_selector(
        ".kp-timer__fill", "node => getComputedStyle(node).transitionDuration"
    ) in ("0s", "0ms")
    page.click("[data-testid=keypresses-start]")
    page.wait_for_selector(f"{GAME_ROOT}[data-state=tapping]")
    for _ in range(4):
        page.click("[data-testid=keypresses-pad]")
    page.wait_for_selector(f"{GAME_ROOT}[data-state=feedback]")
    assert page.get_attribute(GAME_ROOT, "data-last-taps") == "4"
    page.keyboard.press("Enter")  # Continue
    page.click("[data-testid=game-ready]")

    page.wait_for_selector(_state("ready", 1))
    # the rest is timed on the page's own clock: the test may see a state late
    page.evaluate(REST_CLOCK, GAME_ROOT)
    page.keyboard.press("Enter")
    page.wait_for_selector(_state("tapping", 1))
    for _ in range(3):
        page.keyboard.press("Space")
    page.wait_for_selector(f"{GAME_ROOT}[data-ended-trial='1']")
    page.screenshot(path=str(ARTIFACTS / "keypresses-accommodations.png"))
    page.wait_for_selector(_state("ready", 2))
    rest_ms = page.evaluate("() => window.restClock.ready - window.restClock.ended")
    assert rest_ms >= 800 - 20  # 2 x 400 ms, a frame of slack
    assert page.get_attribute(GAME_ROOT, "data-last-taps") == "3"
    assert page.get_attribute(GAME_ROOT, "data-hand") == "non_dominant"
    assert run.console_errors == []
