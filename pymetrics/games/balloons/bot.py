"""A simulated balloons player with a known risk propensity.

The bot plans a number of pumps for every balloon before it sees the balloon (its
latent ``target_pumps`` plus trial-to-trial noise), then pumps one at a time until
it reaches the plan and collects, or until the balloon bursts. Because the plan is
known, a simulation can check that ``adjusted_pumps`` recovers the latent propensity
(:data:`RECOVERY_TARGETS`), and the event stream doubles as a fixture for ingestion
and load tests. The browser test reuses :func:`planned_pumps` to drive the real page
with the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.balloons.spec import MAX_PUMPS

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {"target_pumps": "adjusted_pumps"}

#: The game's own pause between a balloon's end and the next one (feedback animation).
BALLOON_GAP_MS = 1000.0
#: The browser emits ``burst`` right after the pump that burst the balloon.
BURST_DELAY_MS = 2.0
#: Nobody clicks faster than this; keeps the bot's timestamps plausible and increasing.
MIN_INTERVAL_MS = 60.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``target_pumps`` is the risk propensity: the number of pumps it plans per
    balloon, before ``pump_sd`` trial-to-trial noise. The ``*_ms`` fields are
    mean delays; each delay is a gamma draw, as human inter-click times are
    right-skewed.
    """

    target_pumps: float
    pump_sd: float
    pump_interval_ms: float
    start_latency_ms: float = 800.0
    collect_latency_ms: float = 600.0


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population (adjusted pumps mostly 10-70).

    Target pumps follow a normal distribution truncated to 10..70 (adult BART
    samples average around 30-40 adjusted pumps); the trial-to-trial SD is a
    10-35% share of the target.
    """
    target = rng.normal(38.0, 14.0)
    while not 10.0 <= target <= 70.0:
        target = rng.normal(38.0, 14.0)
    return Latent(
        target_pumps=float(target),
        pump_sd=float(target * rng.uniform(0.10, 0.35)),
        pump_interval_ms=float(rng.uniform(200.0, 500.0)),
        start_latency_ms=float(rng.uniform(400.0, 1500.0)),
        collect_latency_ms=float(rng.uniform(300.0, 1200.0)),
    )


def planned_pumps(latent: Latent, rng: np.random.Generator, n_balloons: int) -> list[int]:
    """How many pumps the bot intends to give each balloon (0..128)."""
    plans = np.rint(rng.normal(latent.target_pumps, latent.pump_sd, size=n_balloons))
    return [int(plan) for plan in np.clip(plans, 0, MAX_PUMPS)]


def _wait(rng: np.random.Generator, mean_ms: float) -> float:
    """A right-skewed human delay with the given mean (gamma, shape 4)."""
    return max(MIN_INTERVAL_MS, float(rng.gamma(4.0, mean_ms / 4.0)))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The plans are drawn from ``rng`` first (:func:`planned_pumps`), then the timings,
    so a caller holding the same seed can reproduce the decisions. ``t`` is in
    milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    burst_points: list[int] = list(config["burst_points"])
    n_balloons = int(config["balloons"])
    plans = planned_pumps(latent, rng, n_balloons)

    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, int]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    for balloon, (plan, burst_point) in enumerate(zip(plans, burst_points, strict=True), start=1):
        clock += BALLOON_GAP_MS if balloon > 1 else 0.0
        emit("balloon_start", {"balloon": balloon})
        clock += _wait(rng, latent.start_latency_ms)
        pumps = 0
        burst = False
        while pumps < plan and not burst:
            if pumps:
                clock += _wait(rng, latent.pump_interval_ms)
            pumps += 1
            emit("pump", {"balloon": balloon, "pumps": pumps})
            burst = pumps >= burst_point
        if burst:
            clock += BURST_DELAY_MS
            emit("burst", {"balloon": balloon, "pumps": pumps})
        else:
            if pumps:
                clock += _wait(rng, latent.collect_latency_ms)
            emit("collect", {"balloon": balloon, "pumps": pumps})
    return events
