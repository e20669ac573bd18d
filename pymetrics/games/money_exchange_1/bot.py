"""A simulated trust-game player with known trust and reciprocity.

As investor the bot sends ``round_half_up(endowment * (trust + e))`` points, clipped
to 0..endowment, where ``e`` is normal noise with SD ``noise`` drawn afresh every
round. As trustee it returns the share
``reciprocity + responsiveness * (sent / endowment - 0.5) + e`` of what it received
(clipped to 0..1, then rounded half up to a whole point): people return more to
partners who sent more (positive reciprocity, e.g. Cox 2004), and ``responsiveness``
sets how much. Decisions take a log-normal time (median ``rt_median_ms``, log-SD
``rt_log_sd``): reading the round, setting the amount and confirming take seconds.

Because the traits are known, a simulation can check that the metrics recover them
(:data:`RECOVERY_TARGETS`):

* ``trust`` -> ``fraction_sent``: the mean share sent is ``trust`` plus averaged
  noise, bent only by clipping at 0 and 10.
* ``reciprocity`` -> ``fraction_returned``: the mean share returned is
  ``reciprocity`` plus averaged noise and the responsiveness term, which averages
  out over the simulated investors' spread of amounts.

The event stream doubles as a fixture for ingestion and load tests, and the browser
test replays the bot's amounts on the real page: the partners follow the seeded
schedule, so the same amounts give the same exchanges there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.money_exchange_1.spec import (
    MAX_RT_MS,
    MULTIPLIER,
    partner_returned,
    payoff,
)

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "trust": "fraction_sent",
    "reciprocity": "fraction_returned",
}

#: A painted frame comes this long after the DOM change that asked for it.
FRAME_MS = 16.7
#: Nobody reads a round, sets an amount and confirms faster than this.
MIN_RT_MS = 600.0
#: Median time spent reading a round's result before pressing Next.
READ_MEDIAN_MS = 2500.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``trust`` (0..1) is the share of the endowment it means to send as investor;
    ``reciprocity`` (0..1) the share of what it received that it means to return as
    trustee; ``responsiveness`` (>= 0) how much more it returns to an investor who
    sent more; ``noise`` the SD of the round-to-round variation of both shares.
    Decision times are log-normal with median ``rt_median_ms`` and log-SD
    ``rt_log_sd``.
    """

    trust: float
    reciprocity: float
    responsiveness: float = 0.2
    noise: float = 0.1
    rt_median_ms: float = 4000.0
    rt_log_sd: float = 0.4


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    Trust ~ Beta(2, 2) (mean 0.5) and reciprocity ~ Beta(2, 3) (mean 0.4): in a
    meta-analysis of 162 trust games investors sent about half their endowment and
    trustees returned about 37% of what they received (Johnson & Mislin 2011), with
    every share from 0 to all observed. Responsiveness 0..0.4, noise 0.05..0.2, median
    decision times 2.5..8 s.
    """
    return Latent(
        trust=float(rng.beta(2.0, 2.0)),
        reciprocity=float(rng.beta(2.0, 3.0)),
        responsiveness=float(rng.uniform(0.0, 0.4)),
        noise=float(rng.uniform(0.05, 0.2)),
        rt_median_ms=float(rng.uniform(2500.0, 8000.0)),
        rt_log_sd=float(rng.uniform(0.25, 0.55)),
    )


def _round_half_up(value: float) -> int:
    return int(np.floor(value + 0.5))


def decide(latent: Latent, rng: np.random.Generator, round_config: dict[str, Any]) -> int:
    """The amount the bot sends (investor) or returns (trustee) in one round."""
    endowment = int(round_config["endowment"])
    if round_config["role"] == "investor":
        share = latent.trust + rng.normal(0.0, latent.noise)
        return min(endowment, max(0, _round_half_up(endowment * share)))
    sent = int(round_config["partner_sent"])
    received = MULTIPLIER * sent
    share = (
        latent.reciprocity
        + latent.responsiveness * (sent / endowment - 0.5)
        + rng.normal(0.0, latent.noise)
    )
    share = min(1.0, max(0.0, share))
    return min(received, max(0, _round_half_up(received * share)))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    For each round: ``round_start`` on the frame the round is painted, ``decision``
    after the bot's decision time, ``outcome`` on the next frame, then a reading
    pause before the next round. ``t`` is in milliseconds since the game started,
    rounded to 0.1 ms like ``performance.now()``.
    """
    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    for index, round_config in enumerate(config["rounds"]):
        number = int(round_config["round"])
        role = str(round_config["role"])
        endowment = int(round_config["endowment"])
        if index > 0:
            clock += float(READ_MEDIAN_MS * np.exp(rng.normal(0.0, 0.3))) + FRAME_MS
        start: dict[str, Any] = {"round": number, "role": role, "endowment": endowment}
        if role == "trustee":
            sent = int(round_config["partner_sent"])
            start.update(sent=sent, received=MULTIPLIER * sent)
        emit("round_start", start)

        amount = decide(latent, rng, round_config)
        if role == "investor":
            sent = amount
            returned = partner_returned(
                MULTIPLIER * sent, int(round_config["partner_return_percent"])
            )
        else:
            returned = amount
        received = MULTIPLIER * sent
        rt = float(latent.rt_median_ms * np.exp(rng.normal(0.0, latent.rt_log_sd)))
        # The page caps rt_ms at the spec's bound too (a candidate who walked away).
        rt = round(min(MAX_RT_MS, max(MIN_RT_MS, rt)), 1)
        clock += rt
        emit("decision", {"round": number, "role": role, "amount": amount, "rt_ms": rt})
        clock += FRAME_MS
        emit(
            "outcome",
            {
                "round": number,
                "role": role,
                "endowment": endowment,
                "sent": sent,
                "received": received,
                "returned": returned,
                "payoff": payoff(role, endowment, sent, received, returned),
            },
        )
    return events


def planned_amounts(stream: list[dict[str, Any]]) -> list[int]:
    """The amounts a stream decided, in round order (what the browser test plays)."""
    return [int(event["data"]["amount"]) for event in stream if event["type"] == "decision"]
