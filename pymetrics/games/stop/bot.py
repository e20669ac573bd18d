"""A simulated stop-signal player: a go process and a stop process racing (Logan & Cowan 1984).

On every trial the bot draws a go RT from a right-skewed (log-normal) distribution
with its latent mean ``go_rt_mean`` and SD ``go_rt_sd``; now and then it has a
lapse and does not respond at all, and a draw beyond the deadline is a miss too.
It presses the wrong key with probability ``error_rate``. On a stop trial the stop
process finishes ``ssrt`` ms after the stop signal, so the bot responds if and only
if its go RT is shorter than SSD + SSRT (the independent race model), and it
follows the same SSD staircase as the page. Because the latents are known, a
simulation can check that the metrics recover them (:data:`RECOVERY_TARGETS`), and
the event stream doubles as a fixture for ingestion and load tests. The browser
test reuses :func:`go_decisions` to drive the real page with the same go decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.stop.spec import SSD_MAX_MS, SSD_MIN_MS

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "go_rt_mean": "go_rt_mean_ms",
    "go_rt_sd": "go_rt_sd_ms",
    "ssrt": "ssrt_ms",
}

#: A 60 Hz display: a stimulus is painted on the first frame after it is due.
FRAME_MS = 1000.0 / 60.0
#: Nobody responds faster than this; keeps the bot's RTs humanly plausible.
MIN_RT_MS = 120.0
#: The page writes ``trial_end`` right after the press that ended the trial.
END_DELAY_MS = 0.5
#: Mean time spent on the rest screen between blocks.
BREAK_MEAN_MS = 6000.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``go_rt_mean`` and ``go_rt_sd`` (ms) are the mean and SD of its go RT
    distribution before the deadline cuts it; ``ssrt`` (ms) is how long its stop
    process takes from the signal's onset. ``error_rate`` is the chance of pressing
    the other key, ``lapse_rate`` the chance of not responding at all on a trial.
    """

    go_rt_mean: float
    go_rt_sd: float
    ssrt: float
    error_rate: float = 0.03
    lapse_rate: float = 0.02


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic adult population.

    Go RTs in stop-signal tasks average about 450-650 ms (people slow down a little
    when they expect stop signals), with SDs of 50-180 ms; SSRTs are mostly 150-320
    ms (Verbruggen et al. 2019). Means are drawn truncated to plausible ranges;
    errors and lapses are rare.
    """

    def truncated(mean: float, sd: float, low: float, high: float) -> float:
        value = rng.normal(mean, sd)
        while not low <= value <= high:
            value = rng.normal(mean, sd)
        return float(value)

    return Latent(
        go_rt_mean=truncated(540.0, 90.0, 350.0, 800.0),
        go_rt_sd=float(rng.uniform(50.0, 180.0)),
        ssrt=truncated(230.0, 55.0, 120.0, 400.0),
        error_rate=float(rng.uniform(0.0, 0.06)),
        lapse_rate=float(rng.uniform(0.0, 0.04)),
    )


def go_decisions(
    latent: Latent, rng: np.random.Generator, n_trials: int
) -> list[tuple[float, bool]]:
    """Each trial's go RT (``inf`` for a lapse) and whether the matching key is pressed.

    Drawn before anything else in :func:`play`, so a caller holding the same seed
    can reproduce the decisions. The RT is log-normal with the latent mean and SD,
    never below :data:`MIN_RT_MS`; whether it beats the deadline is the caller's
    business.
    """
    mean = max(latent.go_rt_mean, 1.0)
    sd = max(latent.go_rt_sd, 0.0)
    sigma = math.sqrt(math.log1p((sd / mean) ** 2))
    mu = math.log(mean) - sigma**2 / 2
    rts = np.maximum(MIN_RT_MS, rng.lognormal(mu, sigma, size=n_trials))
    lapses = rng.random(n_trials) < latent.lapse_rate
    right_key = rng.random(n_trials) >= latent.error_rate
    return [
        (math.inf if lapse else float(rt), bool(right))
        for rt, lapse, right in zip(rts, lapses, right_key, strict=True)
    ]


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    ``t`` is in milliseconds since the game started, rounded to 0.1 ms like
    ``performance.now()``; stimuli appear on the next frame of a 60 Hz display.
    """
    schedule: list[dict[str, Any]] = list(config["schedule"])
    deadline = float(config["go_deadline_ms"])
    fixation = float(config["fixation_ms"])
    iti = float(config["iti_ms"])
    block_size = int(config["block_size"])
    step = int(config["ssd_step_ms"])
    low = int(config.get("ssd_min_ms", SSD_MIN_MS))
    high = int(config.get("ssd_max_ms", SSD_MAX_MS))
    ssd = int(config["ssd_start_ms"])
    decisions = go_decisions(latent, rng, len(schedule))

    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(at: float, event_type: str, data: dict[str, Any]) -> None:
        events.append({"seq": len(events) + 1, "t": round(at, 1), "type": event_type, "data": data})

    def frame_delay() -> float:
        return float(rng.uniform(0.5, FRAME_MS))

    for index, (entry, (go_rt, right_key)) in enumerate(zip(schedule, decisions, strict=True)):
        trial = int(entry["trial"])
        stop = bool(entry["stop"])
        direction = str(entry["direction"])
        if index:
            clock += iti
            if index % block_size == 0:
                clock += max(1000.0, float(rng.gamma(4.0, BREAK_MEAN_MS / 4.0)))
        emit(clock, "trial_start", {"trial": trial, "stop": stop, "direction": direction})
        # Times are kept on the 0.1 ms grid the page reports, so the order of a press
        # and a stop signal in the same tenth is decided the way the stream shows it.
        onset = round(clock + fixation + frame_delay(), 1)
        emit(onset, "stimulus", {"trial": trial})

        pressed = go_rt <= deadline
        rt_ms = round(go_rt, 1) if pressed else None
        signal_at = round(onset + ssd + frame_delay(), 1) if stop else math.inf
        if stop:
            # The race: the go process wins if it finishes before the stop process.
            pressed = pressed and go_rt < ssd + latent.ssrt
            rt_ms = rt_ms if pressed else None
        response_at = round(onset + rt_ms, 1) if rt_ms is not None else math.inf
        if stop and response_at > signal_at:
            emit(signal_at, "stop_signal", {"trial": trial, "ssd_ms": ssd})
        if rt_ms is not None:
            other = "right" if direction == "left" else "left"
            key = direction if right_key else other
            emit(response_at, "response", {"trial": trial, "key": key, "rt_ms": rt_ms})
            clock = response_at + END_DELAY_MS
        else:
            # The deadline ends the trial (after the stop signal, were it ever later).
            clock = max(onset + deadline, signal_at + END_DELAY_MS if stop else 0.0)
        emit(
            clock,
            "trial_end",
            {
                "trial": trial,
                "stop": stop,
                "direction": direction,
                "ssd_ms": ssd if stop else None,
                "rt_ms": rt_ms,
                "correct": int(right_key) if rt_ms is not None and not stop else None,
            },
        )
        if stop:
            ssd = min(high, max(low, ssd + (-step if rt_ms is not None else step)))
    return events
