"""A simulated digits player with known memory spans.

The bot recalls a sequence of length L correctly with probability
``logistic((span - L) / noise)``: ``span_forward`` and ``span_backward`` are the
lengths it gets right half the time in each direction (its capacities), ``noise`` how
sharply its recall falls off around them. It goes through the same adaptive
procedure as the browser (two sequences per length, up a length after at least one
correct, stop after two failures), so a simulation can check that ``forward_span`` and
``backward_span`` recover the capacities (:data:`RECOVERY_TARGETS`). A wrong answer
is a typical recall error (two neighbours swapped, a digit lost, or a digit
replaced), typed as the candidate would. The browser test reuses
:func:`planned_trials` to drive the real page with the same decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pymetrics.games.digits.spec import (
    ATTEMPTS_PER_LENGTH,
    BACKWARD,
    DIGIT_OFF_MS,
    DIGIT_ON_MS,
    DIRECTIONS,
    MAX_LENGTH,
    START_LENGTH,
    expected_answer,
    sequence_for,
)

#: Latent parameter -> the metric meant to recover it.
RECOVERY_TARGETS: dict[str, str] = {
    "span_forward": "forward_span",
    "span_backward": "backward_span",
}

#: "Get ready" pause before each sequence's first digit (the plugin's lead-in).
LEAD_IN_MS = 1000.0
#: The plugin's pause after an answer before the next trial's lead-in.
AFTER_ANSWER_MS = 700.0
#: trial_end is recorded just after the response it follows (same handler).
TRIAL_END_DELAY_MS = 0.3
#: Nobody types faster than this; keeps the bot's timestamps plausible.
MIN_INTERVAL_MS = 80.0


@dataclass(frozen=True)
class Latent:
    """The bot's hidden traits.

    ``span_forward`` and ``span_backward`` are memory capacities in digits: the
    sequence length recalled correctly half the time, in the same and in reverse
    order. ``noise`` (digits) spreads recall around them: 0 makes it all-or-nothing.
    The ``*_ms`` fields are mean delays; each delay is a gamma draw, as human typing
    intervals are right-skewed.
    """

    span_forward: float
    span_backward: float
    noise: float = 0.5
    keystroke_ms: float = 450.0
    start_latency_ms: float = 1200.0
    done_latency_ms: float = 700.0
    #: Time between the parts (backward instructions, practice, ready screen).
    interlude_ms: float = 30_000.0


@dataclass(frozen=True)
class PlannedTrial:
    """One sequence as the bot answers it."""

    trial: int
    direction: str
    length: int
    attempt: int
    sequence: str
    entered: str
    correct: int


def sample_latent(rng: np.random.Generator) -> Latent:
    """A player from a realistic adult population.

    Forward capacity ~ normal(6.5, 1.5) kept within 3.5..10, backward ~ normal(5.0,
    1.5) within 2.5..9, correlated 0.5 as the two spans are in adult norms (WAIS-IV
    longest digit span forward about 6-7, backward about 4-5, SD about 1.3-1.5).
    ``noise`` is uniform in 0.3..0.8 digits.
    """
    while True:
        z_forward, z_other = rng.standard_normal(2)
        forward = 6.5 + 1.5 * z_forward
        backward = 5.0 + 1.5 * (0.5 * z_forward + math.sqrt(0.75) * z_other)
        if 3.5 <= forward <= 10.0 and 2.5 <= backward <= 9.0:
            break
    return Latent(
        span_forward=float(forward),
        span_backward=float(backward),
        noise=float(rng.uniform(0.3, 0.8)),
        keystroke_ms=float(rng.uniform(250.0, 700.0)),
        start_latency_ms=float(rng.uniform(600.0, 2500.0)),
        done_latency_ms=float(rng.uniform(300.0, 1200.0)),
        interlude_ms=float(rng.uniform(15_000.0, 60_000.0)),
    )


def p_correct(latent: Latent, direction: str, length: int) -> float:
    """Probability of recalling a sequence of ``length`` correctly."""
    span = latent.span_forward if direction != BACKWARD else latent.span_backward
    if latent.noise <= 0:
        return 1.0 if length <= span else 0.0
    z = (span - length) / latent.noise
    return 1.0 / (1.0 + math.exp(-max(-700.0, min(700.0, z))))


def wrong_answer(answer: str, rng: np.random.Generator) -> str:
    """A typical recall error: two neighbours swapped, a digit lost, or one replaced."""
    kind = int(rng.integers(3)) if len(answer) >= 2 else 2
    if kind == 0:
        position = int(rng.integers(len(answer) - 1))
        swapped = (
            answer[:position] + answer[position + 1] + answer[position] + answer[position + 2 :]
        )
        if swapped != answer:
            return swapped
        kind = 2
    if kind == 1:
        position = int(rng.integers(len(answer)))
        return answer[:position] + answer[position + 1 :]
    position = int(rng.integers(len(answer)))
    others = [digit for digit in "123456789" if digit != answer[position]]
    return answer[:position] + str(rng.choice(others)) + answer[position + 1 :]


def planned_trials(
    latent: Latent, rng: np.random.Generator, config: dict[str, Any]
) -> list[PlannedTrial]:
    """Every sequence the bot is given, in order, with what it types back.

    The adaptive procedure of the browser: in each direction from length 3, both
    sequences of a length are given; the next length follows when at least one was
    right, up to the direction's maximum; the direction ends after two failures.
    """
    planned: list[PlannedTrial] = []
    for direction in DIRECTIONS:
        longest = int(config.get("max_length", MAX_LENGTH)[direction])
        length = int(config.get("start_length", START_LENGTH))
        while length <= longest:
            any_correct = False
            for attempt in range(1, ATTEMPTS_PER_LENGTH + 1):
                sequence = sequence_for(config, direction, length, attempt)
                answer = expected_answer(sequence, direction)
                correct = bool(rng.random() < p_correct(latent, direction, length))
                entered = answer if correct else wrong_answer(answer, rng)
                any_correct |= correct
                planned.append(
                    PlannedTrial(
                        trial=len(planned) + 1,
                        direction=direction,
                        length=length,
                        attempt=attempt,
                        sequence=sequence,
                        entered=entered,
                        correct=int(correct),
                    )
                )
            if not any_correct:
                break
            length += 1
    return planned


def _wait(rng: np.random.Generator, mean_ms: float) -> float:
    """A right-skewed human delay with the given mean (gamma, shape 4)."""
    return max(MIN_INTERVAL_MS, float(rng.gamma(4.0, max(mean_ms, 1.0) / 4.0)))


def play(latent: Latent, rng: np.random.Generator, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The event stream the browser would send for one session of ``config``.

    The decisions are drawn from ``rng`` first (:func:`planned_trials`), then the
    timings, so a caller holding the same seed can reproduce the decisions. ``t`` is
    in milliseconds since the game started, rounded to 0.1 ms like ``performance.now()``.
    """
    trials = planned_trials(latent, rng, config)
    digit_ms = float(config.get("digit_on_ms", DIGIT_ON_MS)) + float(
        config.get("digit_off_ms", DIGIT_OFF_MS)
    )

    events: list[dict[str, Any]] = []
    clock = 0.0

    def emit(event_type: str, data: dict[str, Any]) -> None:
        events.append(
            {"seq": len(events) + 1, "t": round(clock, 1), "type": event_type, "data": data}
        )

    previous_direction = None
    for planned in trials:
        if previous_direction is not None:
            clock += AFTER_ANSWER_MS
            if planned.direction != previous_direction:
                clock += _wait(rng, latent.interlude_ms)
        previous_direction = planned.direction
        clock += LEAD_IN_MS
        emit(
            "sequence_shown",
            {
                "trial": planned.trial,
                "direction": planned.direction,
                "length": planned.length,
                "attempt": planned.attempt,
            },
        )
        prompt = clock + planned.length * digit_ms
        rt = _wait(rng, latent.start_latency_ms)
        rt += sum(_wait(rng, latent.keystroke_ms) for _ in range(len(planned.entered) - 1))
        rt += _wait(rng, latent.done_latency_ms)
        rt_ms = round(rt, 1)
        clock = prompt + rt_ms
        emit("response", {"trial": planned.trial, "entered": planned.entered, "rt_ms": rt_ms})
        clock += TRIAL_END_DELAY_MS
        emit(
            "trial_end",
            {
                "trial": planned.trial,
                "direction": planned.direction,
                "length": planned.length,
                "attempt": planned.attempt,
                "correct": planned.correct,
            },
        )
    return events
