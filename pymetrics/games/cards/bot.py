"""A simulated cards player: a PVL-Delta learner (Ahn et al. 2008) with known traits.

Each card's outcome is turned into a subjective utility
``u = (gain/100) ** shape - loss_aversion * (loss/100) ** shape`` (amounts in units of
100 points, so ``consistency`` reads the same whatever the currency); the chosen
deck's expectancy moves towards it by the delta rule
``E[deck] += learning_rate * (u - E[deck])``; the next deck is drawn from a softmax of
``consistency * E``. Every expectancy starts at 0, so the first choices are even.

Because the traits are known, a simulation can check that the metrics recover them
(:data:`RECOVERY_TARGETS`):

* ``loss_aversion`` -> ``net_score``. With ``shape`` near 1 a bad deck is worth
  ``1 - 1.25 * loss_aversion`` per card and a good one ``0.5 - 0.25 * loss_aversion``,
  so the good decks win once loss aversion passes 0.5, and by more the higher it is.
* ``learning_rate`` -> ``win_stay_rate``. A high learning rate lets the last card
  dominate a deck's expectancy, so a card that paid without a loss pulls the next
  choice back to its deck. None of the SCIENCE.md cards metrics follows the learning
  rate closely (in this population the closest, deck B's rate, falls as the rate
  rises with a Spearman rho of about -0.6; learning_slope reaches about 0.1), hence
  the one extra metric.

The event stream doubles as a fixture for ingestion and load tests, and the browser
test replays the bot's choices on the real page: the schedule is fixed, so the same
choices give the same cards there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.cards.spec import DECKS, MAX_RT_MS, card_outcome

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "learning_rate": "win_stay_rate",
    "loss_aversion": "net_score",
}

#: How long the page shows a card's outcome before the decks open again (plugin.js).
FEEDBACK_MS = 1200.0
#: The frame on which the decks appear comes this long after the feedback ends.
FRAME_MS = 16.7
#: Nobody chooses faster than this; keeps the bot's times plausible.
MIN_RT_MS = 180.0
#: Utilities are computed on amounts in units of this many points.
UNIT = 100.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``learning_rate`` (0..1) is the delta-rule step; ``loss_aversion`` (>= 0) weighs a
    loss against a gain of the same size; ``shape`` (0..1] bends the utility of
    amounts; ``consistency`` is the softmax inverse temperature on utilities in units
    of 100 points. Reaction times are log-normal with median ``rt_median_ms`` and
    log-SD ``rt_log_sd``, as human choice times are right-skewed.
    """

    learning_rate: float
    loss_aversion: float
    shape: float = 1.0
    consistency: float = 5.0
    rt_median_ms: float = 1100.0
    rt_log_sd: float = 0.4


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic population.

    Learning rates are log-uniform on 0.02..0.9 and loss aversion uniform on 0..1.5,
    the ranges of PVL-Delta fits to healthy adults' IGT choices (Ahn et al. 2008;
    Steingroever et al. 2013); utility shape 0.85..1 and consistency 4..6 vary a
    little. Median choice times 700..1800 ms.
    """
    return Latent(
        learning_rate=float(np.exp(rng.uniform(np.log(0.02), np.log(0.9)))),
        loss_aversion=float(rng.uniform(0.0, 1.5)),
        shape=float(rng.uniform(0.85, 1.0)),
        consistency=float(rng.uniform(4.0, 6.0)),
        rt_median_ms=float(rng.uniform(700.0, 1800.0)),
        rt_log_sd=float(rng.uniform(0.25, 0.55)),
    )


def _utility(latent: Latent, gain: int, loss: int) -> float:
    return float(
        (gain / UNIT) ** latent.shape - latent.loss_aversion * (loss / UNIT) ** latent.shape
    )


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    For each trial: ``deck_shown`` on the frame the decks open, then ``choice`` after
    the bot's reaction time, carrying the card the schedule deals. ``t`` is in
    milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    n_trials = int(config["trials"])
    expectancy = np.zeros(len(DECKS))
    draws = dict.fromkeys(DECKS, 0)
    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    for trial in range(1, n_trials + 1):
        if trial > 1:
            clock += FEEDBACK_MS + FRAME_MS
        emit("deck_shown", {"trial": trial})
        logits = latent.consistency * expectancy
        weights = np.exp(logits - logits.max())
        cumulative = np.cumsum(weights / weights.sum())
        index = min(int(np.searchsorted(cumulative, rng.random(), side="right")), len(DECKS) - 1)
        deck = DECKS[index]
        gain, loss = card_outcome(config, deck, draws[deck])
        draws[deck] += 1
        rt = float(latent.rt_median_ms * np.exp(rng.normal(0.0, latent.rt_log_sd)))
        # The page caps rt_ms at the spec's bound too (a candidate who walked away).
        rt = round(min(MAX_RT_MS, max(MIN_RT_MS, rt)), 1)
        clock += rt
        emit("choice", {"trial": trial, "deck": deck, "gain": gain, "loss": loss, "rt_ms": rt})
        expectancy[index] += latent.learning_rate * (
            _utility(latent, gain, loss) - expectancy[index]
        )
    return events


def planned_decks(stream: list[dict[str, Any]]) -> list[str]:
    """The decks a stream chose, in trial order (what the browser test plays)."""
    return [event["data"]["deck"] for event in stream if event["type"] == "choice"]
