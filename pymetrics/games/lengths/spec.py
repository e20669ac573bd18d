"""What the lengths game (probabilistic reward task, Pizzagalli et al. 2005) records.

Every trial shows a fixation cross, then a cartoon face without a mouth, then for
100 ms the same face with a short or a long mouth (11.5 or 13 units on a face 26
units wide, the proportions of the original task's 11.5 and 13 mm mouths on a
26 mm face). The candidate answers "short" or "long". Correct answers are
sometimes rewarded ("Correct! You won 5 cents"), and a correct answer to the
*rich* length is rewarded three times as often as one to the *lean* length. Which
length is rich is counterbalanced by the seed.

Rewards follow the task's controlled reinforcement schedule: :func:`make_config`
fixes, for each block, which trials of each kind have a reward *due* (30 of the 50
rich and 10 of the 50 lean trials of a 100-trial block). A due reward is paid on
that trial if the answer is correct, else on the next correct answer to the same
kind of face in the block (:class:`RewardLedger`), so every candidate who answers
well enough earns the same 3:1 ratio; a reward still owed when the block ends
lapses. The ledger runs in the browser (it depends on the answers); the bot runs
this module's copy of it.

Events, in the order the browser sends them for each trial::

    trial_start {"trial", "block", "length": "short"|"long", "stimulus": "rich"|"lean"}
                 on the frame that paints the mouth (the onset rt_ms counts from)
    response    {"trial", "response": "short"|"long", "rt_ms"}   the first answer only
    feedback    {"trial", "block", "length", "stimulus", "response", "correct",
                 "rt_ms", "rewarded": bool}   on the frame that shows the outcome

``response`` is not sent when no answer came before the deadline (3000 ms after the
mouth's onset; 6000 ms under extended time); ``feedback`` then has ``response``,
``correct`` and ``rt_ms`` null. Otherwise ``correct`` is 1 when ``response`` equals
``length`` and 0 when it does not. The practice trials are never sent.

``feedback`` carries the trial's whole outcome, so the trial table (one row per
trial: ``block``, ``stimulus`` "rich"/"lean", ``correct`` 1/0/NaN, ``rt_ms``) is built
from it alone; imported CSV rows (columns ``block``, ``stimulus``, ``correct``,
``rt_ms``) turn into the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pymetrics.games.base import (
    CsvColumn,
    CsvValueError,
    EventDataError,
    EventValidator,
    Metric,
    empty_trials,
    ordered_trials,
    parse_int_column,
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_number,
)

KEY = "lengths"
TITLE = "Lengths"
EXTRACTOR_VERSION = 1

#: The full task: 3 blocks of 100 trials, 30 rich and 10 lean rewards per block.
N_BLOCKS = 3
TRIALS_PER_BLOCK = 100
REWARDS_PER_BLOCK: Mapping[str, int] = {"rich": 30, "lean": 10}
#: The short schedule: 3 blocks of 8 trials (4 of each length), 3 rich and 1 lean
#: reward per block, which keeps the 3:1 ratio.
SHORT_TRIALS_PER_BLOCK = 8
SHORT_REWARDS_PER_BLOCK: Mapping[str, int] = {"rich": 3, "lean": 1}
#: The most trials a session can hold (the validators' bound).
MAX_TRIALS = N_BLOCKS * TRIALS_PER_BLOCK

LENGTHS: tuple[str, ...] = ("short", "long")
STIMULI: tuple[str, ...] = ("rich", "lean")
#: Mouth lengths on a face 26 units wide (the original 11.5 and 13 mm on a 26 mm face).
MOUTH_UNITS: Mapping[str, float] = {"short": 11.5, "long": 13.0}
FACE_UNITS = 26.0
#: Never more than this many faces of the same length in a row (Pizzagalli et al. 2005).
MAX_RUN = 3

FIXATION_MS = 500
#: The face without a mouth, before the mouth appears.
FACE_MS = 500
#: How long the mouth is shown. Not lengthened under extended time: the brief
#: exposure is what makes the two lengths hard to tell apart.
MOUTH_MS = 100
#: An answer later than this after the mouth's onset is missed (an omission).
RESPONSE_DEADLINE_MS = 3000
#: The deadline under the extended-time accommodation (doubled).
EXTENDED_RESPONSE_DEADLINE_MS = 2 * RESPONSE_DEADLINE_MS
#: How long the outcome (reward message or the plain face) stays up.
FEEDBACK_MS = 1500
#: Blank screen between one trial's outcome and the next fixation cross.
ITI_MS = 500
REWARD_CENTS = 5
PRACTICE_TRIALS = 6
SHORT_PRACTICE_TRIALS = 4
#: Upper bound for a browser-measured RT: the extended deadline plus room for timer
#: and frame jitter (an answer is accepted until the deadline timer runs).
MAX_RT_MS = EXTENDED_RESPONSE_DEADLINE_MS + 1000.0

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "block", "stimulus", "correct", "rt_ms")


@dataclass
class RewardLedger:
    """The controlled reinforcement schedule: which correct answers are rewarded.

    ``settle(entry, correct)`` is called once per trial in order with the trial's
    schedule entry (``block``, ``stimulus``, ``reward_due``) and whether the answer
    was correct; it returns whether that trial is rewarded. Rewards owed for each kind
    of face are counted from the block's first trial; the browser's copy of this
    logic is in ``static/plugin.js``.
    """

    block: int = 0
    owed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STIMULI, 0))

    def settle(self, entry: Mapping[str, Any], correct: bool) -> bool:
        if entry["block"] != self.block:
            self.block = int(entry["block"])
            self.owed = dict.fromkeys(STIMULI, 0)
        stimulus = str(entry["stimulus"])
        if entry["reward_due"]:
            self.owed[stimulus] += 1
        if correct and self.owed[stimulus] > 0:
            self.owed[stimulus] -= 1
            return True
        return False


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every lengths event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=MAX_TRIALS)


def _require_rt(data: Mapping[str, Any]) -> float:
    return require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def _require_face(data: Mapping[str, Any]) -> None:
    require_int(data, "block", minimum=1, maximum=N_BLOCKS)
    require_choice(data, "length", LENGTHS)
    require_choice(data, "stimulus", STIMULI)


def validate_trial_start(data: Mapping[str, Any]) -> None:
    """The mouth's first painted frame: the trial's face, its block and its kind."""
    _event_fields(data, ("trial", "block", "length", "stimulus"))
    _require_face(data)


def validate_response(data: Mapping[str, Any]) -> None:
    """The first answer of a trial and its RT from the mouth's onset."""
    _event_fields(data, ("trial", "response", "rt_ms"))
    require_choice(data, "response", LENGTHS)
    _require_rt(data)


def validate_feedback(data: Mapping[str, Any]) -> None:
    """The trial's outcome; ``response``, ``correct`` and ``rt_ms`` are null without an answer.

    ``correct`` must agree with ``response`` and ``length`` (1 when they are equal), and
    only a correct answer can be rewarded.
    """
    _event_fields(
        data,
        ("trial", "block", "length", "stimulus", "response", "correct", "rt_ms", "rewarded"),
    )
    _require_face(data)
    for key in ("response", "correct", "rt_ms"):
        if key not in data:
            raise EventDataError(key, "is required (null when there was no answer)")
    rewarded = require_bool(data, "rewarded")
    if data["response"] is None:
        for key in ("correct", "rt_ms"):
            if data[key] is not None:
                raise EventDataError(key, "must be null when there was no answer")
        if rewarded:
            raise EventDataError("rewarded", "must be false when there was no answer")
        return
    response = require_choice(data, "response", LENGTHS)
    _require_rt(data)
    correct = require_int(data, "correct", minimum=0, maximum=1)
    if correct != int(response == data["length"]):
        raise EventDataError(
            "correct", f"must be {int(response == data['length'])} for this response and length"
        )
    if rewarded and not correct:
        raise EventDataError("rewarded", "must be false for an incorrect answer")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "trial_start": validate_trial_start,
    "response": validate_response,
    "feedback": validate_feedback,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"feedback"})


def _parse_block(values: pd.Series) -> pd.Series:
    return parse_int_column(values, "block", minimum=1, maximum=N_BLOCKS)


def _parse_stimulus(values: pd.Series) -> pd.Series:
    lowered = values.str.lower().reset_index(drop=True)
    bad = ~lowered.isin(STIMULI)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise CsvValueError(
            "stimulus", f"expected 'rich' or 'lean', got {values.iloc[position]!r}", position
        )
    return lowered.astype("object")


def _parse_correct(values: pd.Series) -> pd.Series:
    """0/1, or empty (NaN) for a trial without an answer."""
    empty = (values == "").reset_index(drop=True)
    parsed = parse_int_column(values.where(values != "", "0"), "correct", minimum=0, maximum=1)
    return parsed.astype("float64").where(~empty, np.nan)


def _parse_rt(values: pd.Series) -> pd.Series:
    """A number >= 0 (ms), or empty (NaN) when the trial had no answer or no time."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").reset_index(drop=True)
    empty = (values == "").to_numpy()
    bad = (~np.isfinite(numbers.to_numpy()) | (numbers.to_numpy() < 0)) & ~empty
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise CsvValueError(
            "rt_ms",
            f"expected a number >= 0 or an empty cell, got {values.iloc[position]!r}",
            row_index=position,
        )
    return numbers.where(~empty, np.nan)


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("block", _parse_block, description="block of the trial (1-3)"),
    CsvColumn(
        "stimulus",
        _parse_stimulus,
        description="rich (the more often rewarded length) or lean",
    ),
    CsvColumn(
        "correct",
        _parse_correct,
        description="1 = the length was named correctly, 0 = not; empty = no response (excluded)",
    ),
    CsvColumn(
        "rt_ms",
        _parse_rt,
        description="response time in ms from the mouth's onset (a number >= 0); empty when "
        "there was no response (or no time was recorded)",
    ),
)

METRICS: tuple[Metric, ...] = (
    Metric(
        "response_bias",
        "log b = 0.5 * log10((rc * li) / (ri * lc)) over answered trials, with rich/lean "
        "correct/incorrect counts each plus 0.5 (Hautus 1995): the lean towards naming the "
        "more often rewarded length.",
        "log10 units",
    ),
    Metric(
        "discriminability",
        "log d = 0.5 * log10((rc * lc) / (ri * li)) over answered trials, counts plus 0.5: "
        "how well the two mouth lengths were told apart.",
        "log10 units",
    ),
    *(
        Metric(
            f"response_bias_block_{block}",
            f"Response bias (log b) within block {block}.",
            "log10 units",
        )
        for block in range(1, N_BLOCKS + 1)
    ),
    Metric(
        "bias_change",
        "Response bias of the last block minus that of the first block: how much the lean "
        "towards the rich length grew over the game.",
        "log10 units",
    ),
    Metric(
        "rich_accuracy",
        "Share of answered rich-length faces named correctly (no correction).",
        "fraction",
    ),
    Metric(
        "lean_accuracy",
        "Share of answered lean-length faces named correctly (no correction).",
        "fraction",
    ),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "block": "int64",
            "stimulus": "object",
            "correct": "float64",
            "rt_ms": "float64",
        }
    )


def _float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per trial from its ``feedback`` event.

    Other event types are ignored. Should a stream ever hold two ``feedback`` events
    for one trial, the first (lowest ``seq``) is the outcome the candidate saw, so it
    wins.
    """
    outcomes = events.loc[
        events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "type", "data"]
    ]
    if outcomes.empty:
        return _empty_trials()
    outcomes = outcomes.sort_values(["session", "seq"], kind="stable")
    payloads = outcomes["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": outcomes["session"].to_numpy(),
            "trial": np.array([payload["trial"] for payload in payloads], dtype="int64"),
            "block": np.array([payload["block"] for payload in payloads], dtype="int64"),
            "stimulus": np.array([payload["stimulus"] for payload in payloads], dtype="object"),
            "correct": np.array(
                [_float_or_nan(payload["correct"]) for payload in payloads], dtype="float64"
            ),
            "rt_ms": np.array(
                [_float_or_nan(payload["rt_ms"]) for payload in payloads], dtype="float64"
            ),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, a response time on a row without a
    response (``correct`` empty), or a trial number repeated for one participant.
    ``rt_ms`` may be empty on answered rows (files without times).
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    correct = parsed["correct"].to_numpy(dtype="float64")
    rt = parsed["rt_ms"].to_numpy(dtype="float64")
    timed_without_answer = np.flatnonzero(np.isnan(correct) & ~np.isnan(rt))
    if timed_without_answer.size:
        raise CsvValueError(
            "rt_ms",
            "must be empty when correct is empty (a trial without a response has no time)",
            row_index=int(timed_without_answer[0]),
        )
    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "block": parsed["block"].to_numpy().astype("int64"),
            "stimulus": parsed["stimulus"].to_numpy(dtype="object"),
            "correct": correct,
            "rt_ms": rt,
        }
    )
    return ordered_trials(trials)


def _block_lengths(rng: np.random.Generator, n_trials: int) -> list[str]:
    """Half short and half long faces in a random order with runs of at most MAX_RUN.

    Drawn one face at a time with weights proportional to what is left of each
    length; the rare draw that paints itself into a corner (only one length left
    and its run already full) starts again.
    """
    while True:
        left = dict.fromkeys(LENGTHS, n_trials // 2)
        order: list[str] = []
        for _ in range(n_trials):
            run_full = len(order) >= MAX_RUN and len(set(order[-MAX_RUN:])) == 1
            options = [
                length
                for length in LENGTHS
                if left[length] > 0 and not (run_full and order[-1] == length)
            ]
            if not options:
                break
            weights = np.array([left[length] for length in options], dtype="float64")
            pick = options[int(rng.choice(len(options), p=weights / weights.sum()))]
            left[pick] -= 1
            order.append(pick)
        if len(order) == n_trials:
            return order


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule: every trial's face and its due rewards.

    The seed picks the rich length (short or long, counterbalanced), then each block
    gets half short and half long faces in a random order with no more than three of
    the same length in a row, and the trials on which a reward falls due: 30 of the
    block's 50 rich trials and 10 of its 50 lean trials, chosen at random. The
    default schedule is the full task, 3 blocks of 100 trials with 6 practice trials;
    ``short=True`` gives 3 blocks of 8 trials (3 rich and 1 lean reward each, still
    3:1) and 4 practice trials, for demonstrations and end-to-end tests. The screen
    timings, the deadlines and the practice faces go along, so the page needs
    nothing else.
    """
    rng = np.random.default_rng(seed)
    rich_length = LENGTHS[int(rng.integers(0, 2))]
    trials_per_block = SHORT_TRIALS_PER_BLOCK if short else TRIALS_PER_BLOCK
    rewards = SHORT_REWARDS_PER_BLOCK if short else REWARDS_PER_BLOCK
    schedule: list[dict[str, Any]] = []
    for block in range(1, N_BLOCKS + 1):
        lengths = _block_lengths(rng, trials_per_block)
        stimuli = np.array(["rich" if length == rich_length else "lean" for length in lengths])
        due = np.zeros(trials_per_block, dtype=bool)
        for stimulus in STIMULI:
            positions = np.flatnonzero(stimuli == stimulus)
            due[rng.choice(positions, size=rewards[stimulus], replace=False)] = True
        for position, length in enumerate(lengths):
            schedule.append(
                {
                    "trial": len(schedule) + 1,
                    "block": block,
                    "length": length,
                    "stimulus": str(stimuli[position]),
                    "reward_due": bool(due[position]),
                }
            )
    practice_trials = SHORT_PRACTICE_TRIALS if short else PRACTICE_TRIALS
    practice = rng.permutation(np.repeat(LENGTHS, practice_trials // 2))
    return {
        "seed": int(seed),
        "blocks": N_BLOCKS,
        "trials_per_block": trials_per_block,
        "trials": N_BLOCKS * trials_per_block,
        "rich_length": rich_length,
        "rewards_per_block": dict(rewards),
        "schedule": schedule,
        "mouth_units": dict(MOUTH_UNITS),
        "face_units": FACE_UNITS,
        "fixation_ms": FIXATION_MS,
        "face_ms": FACE_MS,
        "mouth_ms": MOUTH_MS,
        "response_deadline_ms": RESPONSE_DEADLINE_MS,
        "extended_response_deadline_ms": EXTENDED_RESPONSE_DEADLINE_MS,
        "feedback_ms": FEEDBACK_MS,
        "iti_ms": ITI_MS,
        "reward_cents": REWARD_CENTS,
        "practice": [str(length) for length in practice],
    }
