"""A simulated easy_or_hard player with a known effort cost and reward sensitivity.

On each offer the bot takes the hard task with probability
``logistic(reward_sensitivity * (reward - REFERENCE_REWARD)
+ probability_weight * (probability - 0.5) - effort_cost)``: the reward term is
centred on the middle of the reward range, so ``effort_cost`` sets how often the bot
works hard overall and ``reward_sensitivity`` how strongly larger rewards pull it
towards the hard task. It then presses at its own rate (``press_rate_hz``, varying a
little from trial to trial) until the task is done or its time is up, which sets how
many tasks it completes. Because the decisions are known, a simulation can check
that the metrics recover the latent traits (:data:`RECOVERY_TARGETS`), and the event
stream doubles as a fixture for ingestion and load tests. The browser test reuses
:func:`planned_choices` to drive the real page with the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.easy_or_hard.spec import (
    CHOICE_TIME_MS,
    EASY_PRESSES,
    EASY_TIME_MS,
    HARD_PRESSES,
    HARD_TIME_MS,
)

#: Latent parameter -> the metric meant to recover it ("-" = the metric falls as it rises).
RECOVERY_TARGETS: dict[str, str] = {
    "effort_cost": "-hard_choice_rate",
    "reward_sensitivity": "reward_sensitivity",
    "press_rate_hz": "completion_rate",
}

#: The middle of the hard reward range ($1.24-$4.30): rewards above it tempt, below deter.
REFERENCE_REWARD = 2.77
#: The game's "get ready" pause between the choice and the press phase.
READY_MS = 1000.0
#: How long the feedback stays on screen before the next offer.
FEEDBACK_MS = 2000.0
#: The browser sends trial_end on the frame that paints the feedback, just after the
#: last press or the deadline.
END_DELAY_MS = 16.7
#: Nobody presses faster than this; keeps the bot's timestamps plausible and increasing.
MIN_INTERVAL_MS = 60.0
#: Nobody reads an offer and chooses faster than this (a choice is a decision, not a
#: reflex: simple reaction times alone are about 200 ms); below 150 ms answers are
#: flagged too_fast, which a plausible player should not trip by chance.
MIN_CHOICE_MS = 250.0
#: How regular pressing is: the shape of the gamma distribution of press intervals.
PRESS_SHAPE = 25.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``effort_cost`` (logit units) lowers the chance of taking the hard task on every
    offer; ``reward_sensitivity`` (logit units per dollar) is how much each extra
    dollar of hard reward raises it; ``probability_weight`` (logit units per unit
    probability) how much a likelier win raises it. ``press_rate_hz`` is the mean
    pressing speed (the hard task needs 100 / 21 s = 4.76 per second, the easy one
    30 / 7 s = 4.29), varying from trial to trial by the fraction ``press_rate_sd``.
    ``choice_latency_ms`` is the mean time to choose; a choice slower than the 5 s
    limit times out and the task is assigned.
    """

    effort_cost: float
    reward_sensitivity: float
    press_rate_hz: float
    probability_weight: float = 1.0
    press_rate_sd: float = 0.08
    choice_latency_ms: float = 1500.0


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    Effort cost is normal around 0 (SD 1.2), so most players mix both tasks and take
    the hard one on about 20-80% of trials, as in published EEfRT samples; reward
    sensitivity is uniform over 0-3 per dollar, from players who ignore the reward to
    players for whom the whole reward range swings the choice from unlikely to likely;
    pressing speed is uniform over 4-7 presses per second, so most players complete
    most tasks and some often fall short on the hard one.
    """
    return Latent(
        effort_cost=float(rng.normal(0.0, 1.2)),
        reward_sensitivity=float(rng.uniform(0.0, 3.0)),
        press_rate_hz=float(rng.uniform(4.0, 7.0)),
        probability_weight=float(rng.uniform(0.0, 3.0)),
        press_rate_sd=float(rng.uniform(0.03, 0.12)),
        choice_latency_ms=float(rng.uniform(700.0, 2200.0)),
    )


def _logistic(value: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-value)), dtype="float64")


def hard_probabilities(latent: Latent, config: dict[str, Any]) -> np.ndarray:
    """The bot's chance of taking the hard task on each trial of ``config``."""
    reward = np.asarray(config["rewards"], dtype="float64")
    probability = np.asarray(config["probabilities"], dtype="float64")
    value = (
        latent.reward_sensitivity * (reward - REFERENCE_REWARD)
        + latent.probability_weight * (probability - 0.5)
        - latent.effort_cost
    )
    return _logistic(value)


def planned_choices(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[str]:
    """The task the bot means to take on each trial (before any timeout)."""
    p_hard = hard_probabilities(latent, config)
    draws = rng.random(len(p_hard))
    return ["hard" if draw < p else "easy" for draw, p in zip(draws, p_hard, strict=True)]


def _wait(rng: np.random.Generator, mean_ms: float, floor_ms: float = MIN_INTERVAL_MS) -> float:
    """A right-skewed human delay with the given mean (gamma, shape 4), at least ``floor_ms``."""
    return max(floor_ms, float(rng.gamma(4.0, mean_ms / 4.0)))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The choices are drawn from ``rng`` first (:func:`planned_choices`), then the
    timings, so a caller holding the same seed can reproduce the decisions. ``t`` is
    in milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    plans = planned_choices(latent, rng, config)
    probabilities = [float(p) for p in config["probabilities"]]
    rewards = [float(r) for r in config["rewards"]]
    draws = [float(d) for d in config["win_draws"]]
    fallbacks = list(config["fallback_choices"])
    choice_limit = float(config.get("choice_time_ms", CHOICE_TIME_MS))
    presses_needed = {
        "easy": int(config.get("easy_presses", EASY_PRESSES)),
        "hard": int(config.get("hard_presses", HARD_PRESSES)),
    }
    time_limit = {
        "easy": float(config.get("easy_time_ms", EASY_TIME_MS)),
        "hard": float(config.get("hard_time_ms", HARD_TIME_MS)),
    }

    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    for index, plan in enumerate(plans):
        trial = index + 1
        probability, reward = probabilities[index], rewards[index]
        clock += FEEDBACK_MS if trial > 1 else 0.0
        emit("offer", {"trial": trial, "probability": probability, "reward": reward})

        rt = _wait(rng, latent.choice_latency_ms, MIN_CHOICE_MS)
        timed_out = rt > choice_limit
        if timed_out:
            # The page's timer fires a little after the limit and assigns the task.
            rt = choice_limit + float(rng.uniform(0.5, 8.0))
        choice = fallbacks[index] if timed_out else plan
        clock += rt
        emit(
            "choice",
            {"trial": trial, "choice": choice, "rt_ms": round(rt, 1), "timed_out": timed_out},
        )

        clock += READY_MS
        start = clock
        deadline = start + time_limit[choice]
        needed = presses_needed[choice]
        rate = max(0.5, latent.press_rate_hz * (1.0 + latent.press_rate_sd * rng.normal()))
        mean_interval = 1000.0 / rate
        presses = 0
        at = start
        while presses < needed:
            step = max(MIN_INTERVAL_MS, float(rng.gamma(PRESS_SHAPE, mean_interval / PRESS_SHAPE)))
            if at + step > deadline:
                break
            at += step
            presses += 1
            clock = at
            emit("press", {"trial": trial, "presses": presses})
        completed = presses >= needed
        clock = (at if completed else deadline) + END_DELAY_MS
        won = completed and draws[index] < probability
        emit(
            "trial_end",
            {
                "trial": trial,
                "probability": probability,
                "reward": reward,
                "choice": choice,
                "completed": int(completed),
                "won": int(won),
            },
        )
    return events
