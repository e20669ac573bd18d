"""A simulated lengths player: a signal-detection observer whose criterion learns from rewards.

Each face gives the observer a noisy impression of the mouth's length,
``x ~ Normal(+d'/2, 1)`` for a long mouth and ``Normal(-d'/2, 1)`` for a short one,
and it answers "long" when ``x`` is above its criterion. The criterion starts at the
player's own preference (``start_bias`` towards "long", in units of the noise SD) and
moves by ``learning_rate`` towards the rewarded length after every reward: towards
the rich length after a rich reward, towards the lean one after a lean reward.
Rich rewards come three times as often, so the criterion drifts towards the rich
length, faster the higher the learning rate: the reward learning that the task
measures (Pizzagalli et al. 2005). Rewards follow the same controlled schedule as
the page (:class:`~pymetrics.games.lengths.spec.RewardLedger`).

Because the traits are known, a simulation can check that the metrics recover them
(:data:`RECOVERY_TARGETS`):

* ``discriminability`` (d') -> ``discriminability`` (log d, which is about
  0.5 * log10 of the odds ratio of a correct answer, monotone in d').
* ``learning_rate`` -> ``response_bias``: the criterion's drift towards the rich
  length is what log b measures; the starting preference is towards a *length*, and
  the rich length is counterbalanced, so it only adds noise.

Answer times are log-normal (median ``rt_median_ms``, log-SD ``rt_log_sd``); an
answer slower than the deadline, or a lapse (``lapse_rate``), is a missed trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.lengths.spec import (
    FACE_MS,
    FEEDBACK_MS,
    FIXATION_MS,
    ITI_MS,
    RESPONSE_DEADLINE_MS,
    RewardLedger,
)

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "discriminability": "discriminability",
    "learning_rate": "response_bias",
}

#: One display frame: outcomes are painted on the frame after the answer.
FRAME_MS = 16.7
#: Nobody names a briefly shown length faster than this.
MIN_RT_MS = 200.0
#: How long the bot rests on the untimed break screen between blocks.
BREAK_MS = 8000.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``discriminability`` is the perceptual d' between the two mouth lengths;
    ``learning_rate`` the criterion shift (noise-SD units) towards the rewarded length
    per reward; ``start_bias`` the criterion's initial shift towards answering
    "long". ``lapse_rate`` is the chance of missing a trial outright.
    """

    discriminability: float
    learning_rate: float
    start_bias: float = 0.0
    lapse_rate: float = 0.0
    rt_median_ms: float = 600.0
    rt_log_sd: float = 0.3


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    d' uniform on 0.5..2.5 (accuracies of about 60-90%, the range reported for the
    task in healthy adults); learning rates uniform on 0..0.02 per reward, which over
    the full task's 90 rich and 30 lean rewards moves the criterion by up to 1.2 noise
    SDs towards the rich length (a whole-session log b of about -0.2..0.7, mean 0.2,
    near the published values); a starting preference for one length with SD 0.1;
    lapses up to 2%; median answer times 450..900 ms. The learning rate is uniform
    rather than log-uniform because rates below about 0.002 move the criterion less
    than the starting preference does, so no session could tell them apart.
    """
    return Latent(
        discriminability=float(rng.uniform(0.5, 2.5)),
        learning_rate=float(rng.uniform(0.0, 0.02)),
        start_bias=float(rng.normal(0.0, 0.1)),
        lapse_rate=float(rng.uniform(0.0, 0.02)),
        rt_median_ms=float(rng.uniform(450.0, 900.0)),
        rt_log_sd=float(rng.uniform(0.2, 0.4)),
    )


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    For each trial: ``trial_start`` on the mouth's onset frame (after the blank, the
    fixation cross and the mouthless face), ``response`` after the bot's answer time
    unless the trial is missed, and ``feedback`` one frame after the answer (or the
    deadline). ``t`` is in milliseconds since the game started, rounded to 0.1 ms
    like ``performance.now()``.
    """
    schedule = config["schedule"]
    rich_length = config["rich_length"]
    deadline = float(config.get("response_deadline_ms", RESPONSE_DEADLINE_MS))
    half_d = latent.discriminability / 2.0
    towards_rich = 0.0
    ledger = RewardLedger()
    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    previous_block = None
    for entry in schedule:
        if previous_block is not None and entry["block"] != previous_block:
            clock += BREAK_MS
        previous_block = entry["block"]
        clock += ITI_MS + FIXATION_MS + FACE_MS + FRAME_MS
        onset = clock
        face = {
            "trial": entry["trial"],
            "block": entry["block"],
            "length": entry["length"],
            "stimulus": entry["stimulus"],
        }
        emit("trial_start", face)
        # The criterion for "long", lowered by a lean towards long.
        towards_long = latent.start_bias + (
            towards_rich if rich_length == "long" else -towards_rich
        )
        impression = rng.normal(half_d if entry["length"] == "long" else -half_d, 1.0)
        response = "long" if impression > -towards_long else "short"
        rt = max(MIN_RT_MS, latent.rt_median_ms * float(np.exp(rng.normal(0.0, latent.rt_log_sd))))
        rt = round(rt, 1)
        answered = rng.random() >= latent.lapse_rate and rt < deadline
        if answered:
            clock = onset + rt
            emit("response", {"trial": entry["trial"], "response": response, "rt_ms": rt})
            correct = response == entry["length"]
            clock += FRAME_MS
        else:
            correct = False
            clock = onset + deadline + FRAME_MS
        rewarded = ledger.settle(entry, correct)
        emit(
            "feedback",
            {
                **face,
                "response": response if answered else None,
                "correct": int(correct) if answered else None,
                "rt_ms": rt if answered else None,
                "rewarded": rewarded,
            },
        )
        clock += FEEDBACK_MS
        if rewarded:
            towards_rich += latent.learning_rate * (1.0 if entry["stimulus"] == "rich" else -1.0)
    return events


def planned_responses(stream: list[dict[str, Any]]) -> list[str | None]:
    """Each trial's answer in a stream, None for a missed trial (what the browser test plays)."""
    return [event["data"]["response"] for event in stream if event["type"] == "feedback"]
