"""A simulated ultimatum and dictator player with known traits.

* As **responder** the bot accepts an offer with probability
  ``logistic((offer / total - fairness_threshold) / acceptance_softness)``: offers
  well above its threshold are nearly always taken, offers well below it nearly
  always refused (inequity aversion read as a soft threshold; Fehr & Schmidt 1999).
* As **dictator** it gives ``generosity`` of the total, plus Gaussian noise of SD
  ``amount_noise`` (as a share), rounded to a whole amount and kept within 0..total.
* As **proposer** it offers more than it would give for nothing, because a low offer
  may be refused: the share aimed at is ``generosity + caution * (0.5 - generosity)``
  (``caution`` 0 offers what it would give, 1 offers an even split), with the same
  noise and rounding.

Because the traits are known, a simulation can check that the metrics recover them
(:data:`RECOVERY_TARGETS`):

* ``fairness_threshold`` -> ``min_accepted_offer``: the smallest accepted share sits
  just above the threshold (the offers are spaced 10% apart). ``-unfair_acceptance_rate``
  follows it too, more weakly: every threshold above 30% gives a rate near 0.
* ``generosity`` -> ``dictator_fraction``: the mean share given with no veto.

Decision times are log-normal with median ``rt_median_ms`` for accepting or
rejecting; choosing and confirming an amount takes ``AMOUNT_RT_FACTOR`` times as long.
The event stream doubles as a fixture for ingestion and load tests, and the browser
test replays the bot's decisions on the real page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.money_exchange_2.spec import (
    DICTATOR,
    MAX_RT_MS,
    PROPOSER,
    RESPONDER,
    partner_accepts,
    payoff,
)

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "fairness_threshold": "min_accepted_offer",
    "generosity": "dictator_fraction",
}

#: The frame on which a change appears comes this long after the code made it.
FRAME_MS = 16.7
#: Nobody decides faster than this; keeps the bot's times plausible.
MIN_RT_MS = 250.0
#: Choosing an amount (slider, +/-, typing) and confirming takes longer than a yes/no.
AMOUNT_RT_FACTOR = 1.8
#: Time spent reading a part's introduction before pressing its Start button.
INTRO_READ_MS = 4000.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``fairness_threshold`` (share of the total, 0..0.5) is the offer at which the bot
    accepts half the time; ``acceptance_softness`` (> 0) how gradually acceptance rises
    around it. ``generosity`` (0..1) is the share it gives as dictator; ``caution``
    (0..1) how far towards an even split it moves as proposer; ``amount_noise`` the SD
    of its amounts as a share of the total. Decision times are log-normal with median
    ``rt_median_ms`` and log-SD ``rt_log_sd``.
    """

    fairness_threshold: float
    generosity: float
    caution: float = 0.5
    acceptance_softness: float = 0.03
    amount_noise: float = 0.06
    rt_median_ms: float = 1800.0
    rt_log_sd: float = 0.35


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    Thresholds uniform on 0.02..0.42 of the total (responders commonly refuse offers
    under 20-30%; Guth et al. 1982, Camerer 2003), dictator giving uniform on 0..0.5
    (gifts of nothing to an even split span most of the observed range; Forsythe et
    al. 1994, Engel 2011), caution uniform on 0.2..0.9 (proposers offer more than
    dictators give). Median decision times 1.2..3 s.
    """
    return Latent(
        fairness_threshold=float(rng.uniform(0.02, 0.42)),
        generosity=float(rng.uniform(0.0, 0.5)),
        caution=float(rng.uniform(0.2, 0.9)),
        acceptance_softness=float(rng.uniform(0.015, 0.04)),
        amount_noise=float(rng.uniform(0.03, 0.08)),
        rt_median_ms=float(rng.uniform(1200.0, 3000.0)),
        rt_log_sd=float(rng.uniform(0.25, 0.5)),
    )


def _amount(share: float, total: int, latent: Latent, rng: np.random.Generator) -> int:
    noisy = (share + rng.normal(0.0, latent.amount_noise)) * total
    return int(min(total, max(0, np.floor(noisy + 0.5))))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    Each part opens with its introduction (read for INTRO_READ_MS); each round sends
    ``round_start`` on the frame its controls appear, ``decision`` after the bot's
    decision time, and ``outcome`` on the next frame (after the simulated partner's
    pause in proposer rounds); the result stays up for ``feedback_ms``. ``t`` is in
    milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    feedback_ms = float(config["feedback_ms"])
    partner_ms = float(config["partner_ms"])
    events: list[dict[str, Any]] = []
    clock = 0.0
    previous_role: str | None = None

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    for item in config["rounds"]:
        trial, role, total = int(item["trial"]), str(item["role"]), int(item["total"])
        if previous_role is not None:
            clock += feedback_ms
        if role != previous_role:
            clock += INTRO_READ_MS
        previous_role = role
        clock += FRAME_MS
        shown: dict[str, Any] = {"trial": trial, "role": role, "total": total}
        if role == RESPONDER:
            shown["offer"] = int(item["offer"])
        emit("round_start", shown)

        rt = float(latent.rt_median_ms * np.exp(rng.normal(0.0, latent.rt_log_sd)))
        if role != RESPONDER:
            rt *= AMOUNT_RT_FACTOR
        rt = round(min(MAX_RT_MS, max(MIN_RT_MS, rt)), 1)
        clock += rt
        decision: dict[str, Any] = {"trial": trial, "role": role, "total": total}
        if role == RESPONDER:
            offer = int(item["offer"])
            margin = (offer / total - latent.fairness_threshold) / latent.acceptance_softness
            accepted = bool(rng.random() < 1.0 / (1.0 + np.exp(-np.clip(margin, -50, 50))))
            decision.update(offer=offer, accepted=accepted)
        elif role == PROPOSER:
            aim = latent.generosity + latent.caution * (0.5 - latent.generosity)
            offer = _amount(aim, total, latent, rng)
            accepted = partner_accepts(item, offer)
            decision["offer"] = offer
        else:
            offer = _amount(latent.generosity, total, latent, rng)
            accepted = True
            decision["offer"] = offer
        decision["rt_ms"] = rt
        emit("decision", decision)

        if role == PROPOSER:
            clock += partner_ms
        clock += FRAME_MS
        result: dict[str, Any] = {"trial": trial, "role": role, "total": total, "offer": offer}
        if role != DICTATOR:
            result["accepted"] = accepted
        result["payoff"] = payoff(role, total, offer, accepted)
        emit("outcome", result)
    return events


def planned_decisions(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``decision`` data of a stream in trial order (what the browser test plays)."""
    return [event["data"] for event in stream if event["type"] == "decision"]
