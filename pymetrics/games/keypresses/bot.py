"""A simulated finger-tapping player with a known speed, evenness and fatigue.

The bot taps like a renewal process: after a short reaction to "Go", each
inter-tap interval is a gamma draw whose mean is set by the bot's current rate and
whose coefficient of variation is its latent ``variability``. The rate is its
``tapping_rate`` with the writing hand, ``non_dominant_ratio`` of that with the
other hand, and it changes by ``fatigue`` taps per trial from one trial position to
the next. Because the parameters are known, a simulation can check that the metrics
recover them (:data:`RECOVERY_TARGETS`), and the event stream doubles as a fixture
for ingestion and load tests. The browser test reuses :func:`planned_taps` to press
Space at the same moments on the real page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.keypresses.spec import NON_DOMINANT

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "tapping_rate": "taps_per_s",
    "variability": "iti_cv",
    "fatigue": "fatigue_slope",
}

#: After a trial's time is up the browser waits this long for key events still in
#: its queue (stamped before the end), then sends ``trial_end``.
END_GRACE_MS = 120.0
#: No finger taps faster than this; keeps the bot's timestamps plausible and increasing.
MIN_ITI_MS = 40.0
#: The slowest rate the bot taps at, however tired (a tap every 2 s).
MIN_RATE_PER_S = 0.5


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``tapping_rate`` is taps per second with the writing hand on the first trial;
    ``variability`` the coefficient of variation of its inter-tap intervals;
    ``fatigue`` the change in taps per trial from one trial position to the next
    (negative: slowing down over the game). ``non_dominant_ratio`` scales the rate
    of the other hand. The ``*_ms`` fields are mean delays (gamma draws): from
    "Go" to the first tap, and from the start button appearing to pressing it.
    """

    tapping_rate: float
    variability: float
    fatigue: float
    non_dominant_ratio: float = 0.92
    start_latency_ms: float = 250.0
    ready_latency_ms: float = 1500.0


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic adult population.

    Rates are normal around 5.5 taps/s truncated to 4-7 (index-finger tapping norms
    for 10 s trials are about 45-65 taps); interval CVs are spread over 0.05-0.25;
    the other hand is 5-10% slower; fatigue is normal around -0.8 taps per trial
    per position (a few taps fewer by the sixth trial) truncated to -2.5..1.
    """
    rate = rng.normal(5.5, 0.7)
    while not 4.0 <= rate <= 7.0:
        rate = rng.normal(5.5, 0.7)
    fatigue = rng.normal(-0.8, 0.7)
    while not -2.5 <= fatigue <= 1.0:
        fatigue = rng.normal(-0.8, 0.7)
    return Latent(
        tapping_rate=float(rate),
        variability=float(rng.uniform(0.05, 0.25)),
        fatigue=float(fatigue),
        non_dominant_ratio=float(rng.uniform(0.90, 0.95)),
        start_latency_ms=float(rng.uniform(150.0, 400.0)),
        ready_latency_ms=float(rng.uniform(500.0, 3000.0)),
    )


def trial_rate(latent: Latent, position: int, hand: str, duration_ms: float) -> float:
    """Taps per second the bot aims for on the trial at ``position`` (1-based)."""
    rate = latent.tapping_rate * (latent.non_dominant_ratio if hand == NON_DOMINANT else 1.0)
    rate += latent.fatigue * (position - 1) / (duration_ms / 1000.0)
    return max(MIN_RATE_PER_S, rate)


def _intervals(rng: np.random.Generator, mean_ms: float, cv: float, size: int) -> np.ndarray:
    """Gamma-distributed intervals with the given mean and coefficient of variation."""
    if cv < 1e-6:
        # Perfectly even (an auto-clicker), or too close to it for a gamma shape.
        draws = np.full(size, mean_ms)
    else:
        shape = 1.0 / (cv * cv)
        draws = rng.gamma(shape, mean_ms / shape, size=size)
    return np.maximum(MIN_ITI_MS, draws)


def _delay(rng: np.random.Generator, mean_ms: float) -> float:
    """A right-skewed human delay with the given mean (gamma, shape 4)."""
    return max(MIN_ITI_MS, float(rng.gamma(4.0, max(mean_ms, 1.0) / 4.0)))


def planned_taps(
    latent: Latent, rng: np.random.Generator, config: dict[str, Any]
) -> list[list[float]]:
    """Every trial's tap times (ms since "Go", within the trial, rounded to 1 us)."""
    plans: list[list[float]] = []
    for position, trial in enumerate(config["trials"], start=1):
        duration = float(trial["duration_ms"])
        mean_ms = 1000.0 / trial_rate(latent, position, str(trial["hand"]), duration)
        first = _delay(rng, latent.start_latency_ms)
        size = math.ceil(duration / mean_ms * 1.5) + 10
        times = first + np.concatenate(
            ([0.0], np.cumsum(_intervals(rng, mean_ms, latent.variability, size)))
        )
        while times[-1] <= duration:
            more = np.cumsum(_intervals(rng, mean_ms, latent.variability, size))
            times = np.concatenate((times, times[-1] + more))
        plans.append([round(float(t), 3) for t in times if t <= duration])
    return plans


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The tap plans are drawn from ``rng`` first (:func:`planned_taps`), then the
    pauses, so a caller holding the same seed can reproduce the taps. ``t`` is in
    milliseconds since the game started (the first trial's start button appears at
    0), rounded to 1 us like the event client.
    """
    plans = planned_taps(latent, rng, config)
    countdown_ms = float(config["countdown_steps"]) * float(config["countdown_step_ms"])
    rest_ms = float(config["rest_ms"])

    events: list[dict[str, Any]] = []

    def emit(event_type: str, at: float, data: dict[str, Any]) -> None:
        events.append({"seq": len(events) + 1, "t": round(at, 3), "type": event_type, "data": data})

    clock = 0.0
    for index, (trial, taps) in enumerate(zip(config["trials"], plans, strict=True)):
        number = int(trial["trial"])
        hand = str(trial["hand"])
        duration = int(trial["duration_ms"])
        if index:
            clock += rest_ms
        clock += _delay(rng, latent.ready_latency_ms) + countdown_ms
        onset = clock
        emit("trial_start", onset, {"trial": number, "hand": hand, "duration_ms": duration})
        for t_ms in taps:
            emit("tap", onset + t_ms, {"trial": number, "t_ms": t_ms})
        clock = onset + duration + END_GRACE_MS
        emit(
            "trial_end",
            clock,
            {"trial": number, "hand": hand, "taps": len(taps), "duration_ms": duration},
        )
    return events
