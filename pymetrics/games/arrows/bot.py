"""A simulated arrows player with known speed, interference and switch costs.

Each trial's reaction time is an ex-Gaussian draw (a normal plus an exponential
tail, the usual description of human choice RTs) whose mean is the latent
``base_rt`` on a congruent trial that repeats the rule, plus ``interference_cost``
on an incongruent display and ``switch_cost`` when the rule differs from the
previous trial's. Independently of its RT, a trial is answered with the wrong key
with probability ``error_rate`` (plus ``interference_errors`` on incongruent
displays: conflict costs accuracy as well as time), or not at all with probability
``omission_rate``; an RT beyond the deadline is an omission too, as in the browser.

Because the costs are known, a simulation can check that the metrics recover them
(:data:`RECOVERY_TARGETS`), and the event stream doubles as a fixture for ingestion
and load tests. The browser test reuses :func:`decide` to drive the real page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.arrows.spec import DEADLINE_MS, ITI_MS, correct_answer

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "base_rt": "rt_mean_ms",
    "interference_cost": "congruency_effect_rt_ms",
    "switch_cost": "switch_cost_rt_ms",
}

#: Nobody answers a display faster than this; keeps the bot's RTs plausible.
MIN_RT_MS = 120.0
#: The arrows are painted on the next animation frame after the fixation ends.
FRAME_MS = 1000.0 / 60.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``base_rt`` is the mean RT (ms) of a correct-looking answer on a congruent display
    under a repeated rule; ``interference_cost`` (ms) is added on incongruent displays
    and ``switch_cost`` (ms) when the rule just changed. ``rt_sigma`` and ``rt_tau``
    are the ex-Gaussian's normal SD and exponential mean (the tail): the normal's
    mean is ``base_rt - rt_tau`` so that ``base_rt`` stays the mean RT.
    ``error_rate``, ``interference_errors`` and ``omission_rate`` are probabilities.
    """

    base_rt: float
    interference_cost: float
    switch_cost: float
    rt_sigma: float = 45.0
    rt_tau: float = 80.0
    error_rate: float = 0.03
    interference_errors: float = 0.04
    omission_rate: float = 0.01


@dataclass(frozen=True)
class Decision:
    """What the bot does on one trial: a key and its RT, or nothing (``None``, ``None``)."""

    key: str | None
    rt_ms: float | None


def _truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, low: float, high: float
) -> float:
    value = rng.normal(mean, sd)
    while not low <= value <= high:
        value = rng.normal(mean, sd)
    return float(value)


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic adult population.

    Mean RTs of 330-750 ms, flanker interference of 5-170 ms and rule-switch costs of
    10-280 ms cover the ranges reported for flanker and cued task-switching studies;
    error rates are a few percent, higher on incongruent displays.
    """
    return Latent(
        base_rt=_truncated_normal(rng, 500.0, 80.0, 330.0, 750.0),
        interference_cost=_truncated_normal(rng, 75.0, 40.0, 5.0, 170.0),
        switch_cost=_truncated_normal(rng, 120.0, 60.0, 10.0, 280.0),
        rt_sigma=float(rng.uniform(25.0, 60.0)),
        rt_tau=float(rng.uniform(40.0, 120.0)),
        error_rate=float(rng.uniform(0.005, 0.05)),
        interference_errors=float(rng.uniform(0.0, 0.08)),
        omission_rate=float(rng.uniform(0.0, 0.02)),
    )


def decide(
    latent: Latent,
    rng: np.random.Generator,
    trials: list[dict[str, Any]],
    deadline_ms: float = DEADLINE_MS,
) -> list[Decision]:
    """The bot's answer to every trial of a schedule (``config["trials"]``), in order."""
    n = len(trials)
    incongruent = np.array([not trial["congruent"] for trial in trials], dtype=bool)
    rules = [trial["rule"] for trial in trials]
    switch = np.array([i > 0 and rules[i] != rules[i - 1] for i in range(n)], dtype=bool)
    mean = latent.base_rt + latent.interference_cost * incongruent + latent.switch_cost * switch
    rts = rng.normal(mean - latent.rt_tau, latent.rt_sigma, size=n) + rng.exponential(
        max(latent.rt_tau, 1e-9), size=n
    )
    p_error = np.clip(latent.error_rate + latent.interference_errors * incongruent, 0.0, 1.0)
    errors = rng.random(n) < p_error
    lapses = rng.random(n) < latent.omission_rate

    decisions: list[Decision] = []
    for trial, rt, error, lapse in zip(trials, rts, errors, lapses, strict=True):
        rt_ms = round(max(MIN_RT_MS, float(rt)), 2)
        if lapse or rt_ms > deadline_ms:
            decisions.append(Decision(None, None))
            continue
        right = correct_answer(bool(trial["congruent"]), trial["rule"], trial["centre"])
        wrong = "left" if right == "right" else "right"
        decisions.append(Decision(wrong if error else right, rt_ms))
    return decisions


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The decisions are drawn from ``rng`` first (:func:`decide`), then the timings, so
    a caller holding the same seed can reproduce the decisions. ``t`` is in
    milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    trials: list[dict[str, Any]] = list(config["trials"])
    fixation: list[int] = list(config["fixation_ms"])
    deadline = float(config.get("deadline_ms", DEADLINE_MS))
    iti = float(config.get("iti_ms", ITI_MS))
    decisions = decide(latent, rng, trials, deadline)

    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any], at: float) -> None:
        # The client never lets t go backwards; rounding must not make two equal.
        t = round(at, 1)
        if events and t <= events[-1]["t"]:
            t = round(events[-1]["t"] + 0.1, 1)
        events.append({"seq": len(events) + 1, "t": t, "type": event_type, "data": data})

    for trial, decision, fixation_ms in zip(trials, decisions, fixation, strict=True):
        display = {
            "congruent": bool(trial["congruent"]),
            "rule": trial["rule"],
            "centre": trial["centre"],
        }
        number = int(trial["trial"])
        emit("trial_start", {"trial": number, **display}, clock)
        onset = clock + fixation_ms + float(rng.uniform(0.0, FRAME_MS))
        emit("stimulus", {"trial": number}, onset)
        if decision.key is None or decision.rt_ms is None:
            end = onset + deadline + float(rng.uniform(0.5, 4.0))
            correct = 0
        else:
            answered = onset + decision.rt_ms
            emit(
                "response",
                {"trial": number, "key": decision.key, "rt_ms": decision.rt_ms},
                answered,
            )
            end = answered + float(rng.uniform(0.2, 2.0))
            right = correct_answer(display["congruent"], display["rule"], display["centre"])
            correct = int(decision.key == right)
        emit(
            "trial_end",
            {
                "trial": number,
                **display,
                "key": decision.key,
                "rt_ms": decision.rt_ms,
                "correct": correct,
            },
            end,
        )
        clock = end + iti + float(rng.uniform(0.0, FRAME_MS))
    return events
