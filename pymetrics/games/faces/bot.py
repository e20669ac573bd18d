"""A simulated faces player with a known recognition sensitivity for every expression.

The player's sensitivity to expression e is
``s_e = sensitivity x EASE[e] x relative_e``: ``sensitivity`` is its general skill at
reading faces, :data:`EASE` how easy the expression is for people in general (happy
faces are recognised best, fearful ones worst; Palermo & Coltheart 2004; Montagne et
al. 2007) and ``relative_e`` the player's own strength or weakness on that expression.
A face of e at intensity weight x (0.4, 0.7, 1.0; a neutral face counts as 1.0) is
labelled correctly with probability

    p = 1/7 + (6/7) x (1 - exp(-s_e x))

so it rises from guessing towards certainty as sensitivity x intensity grows. A wrong
answer goes to a label people confuse with e (:data:`CONFUSIONS`: fear with surprise,
anger with disgust, sadness with neutral, ...). Answer times are log-normal with median
``rt_median_ms``, longer for weaker faces and for errors.

Recovery (:data:`RECOVERY_TARGETS`): ``sensitivity`` -> ``accuracy`` and
``rt_median_ms`` -> ``rt_correct_mean_ms``. Each expression's own sensitivity s_e
(``sensitivity_<e>``, :func:`latent_parameters`) is recovered by the augmented
subscore of ``accuracy_<e>`` with ``accuracy`` (:data:`SUBSCORE_TARGETS`): six faces
per expression leave binomial noise about as large as the differences between
people, so ``accuracy_<e>`` alone follows s_e with Spearman rho 0.57-0.78 over seven
population seeds, while the augmented estimate, which borrows strength from all 42
faces, reaches about 0.81-0.88. Most of s_e is the general skill; how much the
expression adds of its own (``relative_e``) is reported beside it in docs/science.md.

The event stream doubles as a fixture for ingestion and load tests, and the browser
test replays :func:`decide` on the real page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.base import SubscoreTarget
from pymetrics.games.faces.spec import EMOTIONS, ITI_MS, LEVEL_WEIGHTS, MAX_RT_MS, NEUTRAL

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "sensitivity": "accuracy",
    "rt_median_ms": "rt_correct_mean_ms",
}


def _items(emotion: str) -> Any:
    def items(config: Mapping[str, Any]) -> tuple[int, int]:
        trials = config["trials"]
        return sum(1 for trial in trials if trial["emotion"] == emotion), len(trials)

    return items


#: Each expression's own sensitivity -> its subscale (see :func:`latent_parameters`).
SUBSCORE_TARGETS: dict[str, SubscoreTarget] = {
    f"sensitivity_{emotion}": SubscoreTarget(
        subscore=f"accuracy_{emotion}", total="accuracy", items=_items(emotion)
    )
    for emotion in EMOTIONS
}


def latent_parameters(latent: Latent) -> dict[str, float]:
    """``sensitivity_<e>``: the sensitivity s_e to every expression."""
    return {f"sensitivity_{emotion}": latent.emotion_sensitivity(emotion) for emotion in EMOTIONS}


#: How easy each expression is to recognise for people in general (a multiplier of
#: sensitivity), in the order adults' accuracies usually fall.
EASE: dict[str, float] = {
    "happy": 1.8,
    "surprised": 1.3,
    "neutral": 1.2,
    "sad": 1.0,
    "angry": 0.9,
    "disgusted": 0.8,
    "fearful": 0.6,
}

#: Where a wrong answer goes: weights over the other labels (normalised when drawn),
#: after the usual confusions in labelling studies (Ekman & Friesen 1976; Calder et
#: al. 1996): fear <-> surprise, anger <-> disgust, sadness <-> neutral and fear.
CONFUSIONS: dict[str, dict[str, float]] = {
    "happy": {"surprised": 4, "neutral": 4, "sad": 0.5, "angry": 0.5, "fearful": 0.5,
              "disgusted": 0.5},
    "sad": {"neutral": 4, "fearful": 2.5, "disgusted": 1.5, "angry": 1.5, "surprised": 0.5,
            "happy": 0.5},
    "angry": {"disgusted": 5, "sad": 1.5, "neutral": 1.5, "fearful": 1, "surprised": 0.5,
              "happy": 0.5},
    "fearful": {"surprised": 6, "sad": 1.5, "disgusted": 1, "angry": 0.5, "neutral": 0.5,
                "happy": 0.5},
    "surprised": {"fearful": 5.5, "happy": 2, "neutral": 1.5, "sad": 0.3, "angry": 0.3,
                  "disgusted": 0.4},
    "disgusted": {"angry": 5.5, "sad": 1.5, "fearful": 1, "neutral": 1, "surprised": 0.5,
                  "happy": 0.5},
    "neutral": {"sad": 3.5, "angry": 2, "happy": 1.5, "fearful": 1, "surprised": 1,
                "disgusted": 1},
}  # fmt: skip

#: Chance of the right label when guessing among seven.
GUESS = 1.0 / len(EMOTIONS)
#: Nobody reads a face and picks a label out of seven faster than this.
MIN_RT_MS = 250.0
#: A face is painted on the animation frame after the pause before it.
FRAME_MS = 1000.0 / 60.0
#: Weaker faces take longer: the median grows by this share at intensity weight 0.
WEAK_FACE_SLOWING = 0.3
#: Errors take longer than correct answers by this factor.
ERROR_SLOWING = 1.15


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``sensitivity`` (> 0) is the general skill at reading expressions; ``relative_<e>``
    (> 0, 1 = as good as usual) the player's own strength on expression e, so that its
    sensitivity to e is :meth:`emotion_sensitivity`. Answer times are log-normal with
    median ``rt_median_ms`` on a full-intensity face and log-SD ``rt_log_sd``.
    """

    sensitivity: float
    relative_happy: float = 1.0
    relative_sad: float = 1.0
    relative_angry: float = 1.0
    relative_fearful: float = 1.0
    relative_surprised: float = 1.0
    relative_disgusted: float = 1.0
    relative_neutral: float = 1.0
    rt_median_ms: float = 1400.0
    rt_log_sd: float = 0.3

    def emotion_sensitivity(self, emotion: str) -> float:
        """s_e: the sensitivity that decides how often a face of ``emotion`` is named."""
        return float(self.sensitivity * EASE[emotion] * getattr(self, f"relative_{emotion}"))

    def p_correct(self, emotion: str, intensity: int) -> float:
        """The probability of the right label for a face of ``emotion`` at ``intensity``."""
        weight = 1.0 if emotion == NEUTRAL else LEVEL_WEIGHTS[intensity]
        return float(
            GUESS + (1.0 - GUESS) * (1.0 - np.exp(-self.emotion_sensitivity(emotion) * weight))
        )


@dataclass(frozen=True)
class Answer:
    """What the bot answers to one face, and how long it takes."""

    response: str
    rt_ms: float


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic adult population.

    General sensitivity is log-uniform on 0.5..4, which puts overall accuracy between
    about 40% and 95% (the range adults score on multi-intensity labelling tasks);
    each expression's relative strength is log-normal with a log-SD of 0.35. Median
    answer times 900..2200 ms (seven labels to choose from), log-SD 0.2..0.4.
    """
    relative = np.exp(rng.normal(0.0, 0.35, size=len(EMOTIONS)))
    return Latent(
        sensitivity=float(np.exp(rng.uniform(np.log(0.5), np.log(4.0)))),
        **{
            f"relative_{emotion}": float(value)
            for emotion, value in zip(EMOTIONS, relative, strict=True)
        },
        rt_median_ms=float(rng.uniform(900.0, 2200.0)),
        rt_log_sd=float(rng.uniform(0.2, 0.4)),
    )


def decide(latent: Latent, rng: np.random.Generator, trials: list[dict[str, Any]]) -> list[Answer]:
    """The bot's answer to every face of a schedule (``config["trials"]``), in order."""
    answers: list[Answer] = []
    for trial in trials:
        emotion = str(trial["emotion"])
        intensity = int(trial["intensity"])
        correct = rng.random() < latent.p_correct(emotion, intensity)
        if correct:
            response = emotion
        else:
            labels = list(CONFUSIONS[emotion])
            weights = np.array([CONFUSIONS[emotion][label] for label in labels])
            response = labels[int(rng.choice(len(labels), p=weights / weights.sum()))]
        weight = 1.0 if emotion == NEUTRAL else LEVEL_WEIGHTS[intensity]
        median = latent.rt_median_ms * (1.0 + WEAK_FACE_SLOWING * (1.0 - weight))
        if not correct:
            median *= ERROR_SLOWING
        rt = median * float(np.exp(rng.normal(0.0, latent.rt_log_sd)))
        answers.append(Answer(response, round(min(MAX_RT_MS, max(MIN_RT_MS, rt)), 1)))
    return answers


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The answers are drawn from ``rng`` first (:func:`decide`), then the frame timings,
    so a caller holding the same seed can reproduce the answers. For each face:
    ``trial_start`` on the frame that paints it, ``response`` after the answer time.
    ``t`` is in milliseconds since the game started, rounded to 0.1 ms.
    """
    trials: list[dict[str, Any]] = list(config["trials"])
    iti = float(config.get("iti_ms", ITI_MS))
    answers = decide(latent, rng, trials)
    events: list[dict[str, Any]] = []
    clock = float(rng.uniform(0.0, FRAME_MS))

    def emit(event_type: str, data: dict[str, Any]) -> None:
        # The client never lets t go backwards; rounding must not make two equal.
        t = round(clock, 1)
        if events and t <= events[-1]["t"]:
            t = round(events[-1]["t"] + 0.1, 1)
        events.append({"seq": len(events) + 1, "t": t, "type": event_type, "data": data})

    for trial, answer in zip(trials, answers, strict=True):
        shown = {
            "trial": int(trial["trial"]),
            "emotion": str(trial["emotion"]),
            "intensity": int(trial["intensity"]),
        }
        emit("trial_start", {**shown, "face": int(trial["face"])})
        clock += answer.rt_ms
        emit("response", {**shown, "response": answer.response, "rt_ms": answer.rt_ms})
        clock += iti + float(rng.uniform(0.0, FRAME_MS))
    return events
