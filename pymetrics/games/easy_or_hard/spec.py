"""What the easy_or_hard game (Effort Expenditure for Rewards Task, Treadway et al. 2009) records.

Every trial offers two tasks. The EASY task is 30 key presses in 7 s for $1.00; the
HARD task is 100 presses in 21 s for a larger reward that changes from trial to trial
($1.24-$4.30). Either task, once completed, pays out with the trial's probability of
winning (12%, 50% or 88%), which is shown with the offer. The candidate has 5 s to
choose; if no choice comes in time a task is assigned at random, as in the original
task (here: the seeded ``fallback_choices`` of :func:`make_config`, so the outcome is
reproducible). Then the candidate presses (Space, or a big button) until the task is
done or its time runs out, and sees whether the win came up (the seeded
``win_draws``: a trial is won when its task was completed and its draw is below its
probability).

Events, in the order the browser sends them for each trial::

    offer     {"trial": 1..30, "probability": 0.12|0.5|0.88, "reward": 1.24..4.30}
    choice    {"trial", "choice": "easy"|"hard", "rt_ms": float, "timed_out": bool}
    press     {"trial", "presses": count so far, 1..100}     (once per counted press)
    trial_end {"trial", "probability", "reward", "choice", "completed": 0|1, "won": 0|1}

``reward`` is always the HARD task's reward on offer (the easy reward is fixed), also
when the easy task was chosen: the metrics relate choices to what was on offer. The
``trial_end`` event carries the trial's whole outcome, so the trial table is built
from it; the first ``choice`` of each trial adds its response time (``rt_ms`` from
the offer's onset frame; a timed-out choice has no response time) for the
response-time quality flags. ``press`` events are the detailed record only. The
practice trial played before trial 1 is never sent to the server.

An imported CSV file (columns ``probability``, ``reward``, ``choice``, ``completed``)
turns into the same trial table, with no response times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    first_event_per_trial,
    ordered_trials,
    parse_binary_column,
    reject_unknown_keys,
    require_bool,
    require_int,
    require_number,
)

KEY = "easy_or_hard"
TITLE = "Easy or Hard"
EXTRACTOR_VERSION = 1

N_TRIALS = 30
#: Trials of the short schedule (``make_config(seed, short=True)``): 2 per probability.
SHORT_TRIALS = 6
#: Probabilities of winning, each used equally often (SCIENCE.md; Treadway et al. 2009).
PROBABILITIES: tuple[float, ...] = (0.12, 0.5, 0.88)
#: The hard task's reward range in dollars, drawn in whole cents.
HARD_REWARD_MIN = 1.24
HARD_REWARD_MAX = 4.30
EASY_REWARD = 1.00
EASY_PRESSES = 30
HARD_PRESSES = 100
EASY_TIME_MS = 7_000
HARD_TIME_MS = 21_000
#: Time to choose; under extended time there is no limit.
CHOICE_TIME_MS = 5_000
#: Longest accepted choice time (an hour): extended time removes the 5 s limit, so
#: the bound only rejects nonsense, not slow candidates.
MAX_RT_MS = 3_600_000.0
CHOICES: tuple[str, ...] = ("easy", "hard")

TRIAL_COLUMNS: tuple[str, ...] = (
    "session",
    "trial",
    "probability",
    "reward",
    "choice",
    "completed",
    "rt_ms",
    "timed_out",
)


def _require_probability(data: Mapping[str, Any]) -> float:
    value = require_number(data, "probability", minimum=0.0, maximum=1.0)
    if value not in PROBABILITIES:
        raise EventDataError("probability", f"must be one of 0.12, 0.5, 0.88, got {value}")
    return value


def _require_reward(data: Mapping[str, Any]) -> float:
    return require_number(data, "reward", minimum=HARD_REWARD_MIN, maximum=HARD_REWARD_MAX)


def _require_choice(data: Mapping[str, Any]) -> str:
    if "choice" not in data:
        raise EventDataError("choice", "is required")
    value = data["choice"]
    if value not in CHOICES:
        raise EventDataError("choice", f"must be 'easy' or 'hard', got {value!r}")
    return str(value)


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every easy_or_hard event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=N_TRIALS)


def validate_offer(data: Mapping[str, Any]) -> None:
    """The offer is on screen (sent on the frame that paints it)."""
    _event_fields(data, ("trial", "probability", "reward"))
    _require_probability(data)
    _require_reward(data)


def validate_choice(data: Mapping[str, Any]) -> None:
    """The task the candidate chose, or the one assigned when time ran out."""
    _event_fields(data, ("trial", "choice", "rt_ms", "timed_out"))
    _require_choice(data)
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)
    require_bool(data, "timed_out")


def validate_press(data: Mapping[str, Any]) -> None:
    """One counted press; ``presses`` counts this trial's presses including this one."""
    _event_fields(data, ("trial", "presses"))
    require_int(data, "presses", minimum=1, maximum=HARD_PRESSES)


def validate_trial_end(data: Mapping[str, Any]) -> None:
    """The trial's outcome; only a completed task can win."""
    _event_fields(data, ("trial", "probability", "reward", "choice", "completed", "won"))
    _require_probability(data)
    _require_reward(data)
    _require_choice(data)
    completed = require_int(data, "completed", minimum=0, maximum=1)
    won = require_int(data, "won", minimum=0, maximum=1)
    if won and not completed:
        raise EventDataError("won", "a task that was not completed cannot win")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "offer": validate_offer,
    "choice": validate_choice,
    "press": validate_press,
    "trial_end": validate_trial_end,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"trial_end", "choice"})


def _parse_probability(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    allowed = np.array(PROBABILITIES)
    # Files written by other tools may say 0.50 or .5; snap to the canonical level.
    matches = np.isclose(numbers[:, None], allowed[None, :], rtol=0.0, atol=1e-9)
    bad = ~matches.any(axis=1)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise CsvValueError(
            "probability",
            f"expected 0.12, 0.5 or 0.88, got {values.iloc[position]!r}",
            row_index=position,
        )
    return pd.Series(allowed[matches.argmax(axis=1)], dtype="float64")


def _parse_reward(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | ~np.isfinite(numbers)
    bad |= (numbers < HARD_REWARD_MIN) | (numbers > HARD_REWARD_MAX)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise CsvValueError(
            "reward",
            f"expected a number between {HARD_REWARD_MIN} and {HARD_REWARD_MAX}, "
            f"got {values.iloc[position]!r}",
            row_index=position,
        )
    return numbers.astype("float64").reset_index(drop=True)


def _parse_choice(values: pd.Series) -> pd.Series:
    lowered = values.astype(str).str.strip().str.lower().reset_index(drop=True)
    bad = ~lowered.isin(CHOICES)
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise CsvValueError(
            "choice", f"expected 'easy' or 'hard', got {values.iloc[position]!r}", position
        )
    return lowered.astype("object")


def _parse_completed(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "completed")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn(
        "probability",
        _parse_probability,
        description="probability of winning shown with the offer (0.12, 0.5 or 0.88)",
    ),
    CsvColumn(
        "reward",
        _parse_reward,
        description="the hard task's reward on offer, in dollars (1.24 to 4.30)",
    ),
    CsvColumn("choice", _parse_choice, description="the task taken: easy or hard"),
    CsvColumn("completed", _parse_completed, description="1 if the task was completed, else 0"),
)

METRICS: tuple[Metric, ...] = (
    Metric("hard_choice_rate", "Share of trials on which the hard task was taken.", "fraction"),
    Metric(
        "hard_choice_rate_p12",
        "Share of hard choices on trials with a 12% chance of winning (absent without such "
        "trials).",
        "fraction",
    ),
    Metric(
        "hard_choice_rate_p50",
        "Share of hard choices on trials with a 50% chance of winning (absent without such "
        "trials).",
        "fraction",
    ),
    Metric(
        "hard_choice_rate_p88",
        "Share of hard choices on trials with an 88% chance of winning (absent without such "
        "trials).",
        "fraction",
    ),
    Metric(
        "reward_sensitivity",
        "Pearson correlation between choosing hard (1) or easy (0) and the hard reward on "
        "offer (absent when either does not vary).",
        "r",
    ),
    Metric("completion_rate", "Share of trials whose task was completed in time.", "fraction"),
)


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "probability": "float64",
            "reward": "float64",
            "choice": "object",
            "completed": "int64",
            "rt_ms": "float64",
            "timed_out": "int64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per ``trial_end`` event, with the response time of the trial's choice.

    Other event types are ignored. Should a stream ever hold two ``trial_end`` (or two
    ``choice``) events for one trial, the first (lowest ``seq``) is the one the
    candidate saw, so it wins. A timed-out choice, or a trial without a ``choice``
    event, has no response time (NaN).
    """
    ends, end_data = first_event_per_trial(events, "trial_end")
    if ends.empty:
        return _empty_trials()
    trials = ends.assign(
        probability=np.array([d["probability"] for d in end_data], dtype="float64"),
        reward=np.array([d["reward"] for d in end_data], dtype="float64"),
        choice=np.array([d["choice"] for d in end_data], dtype="object"),
        completed=np.array([d["completed"] for d in end_data], dtype="int64"),
    )
    choices, choice_data = first_event_per_trial(events, "choice")
    timed_out = np.array([bool(d["timed_out"]) for d in choice_data], dtype=bool)
    rt = np.array([float(d["rt_ms"]) for d in choice_data], dtype="float64")
    choices = choices.assign(
        rt_ms=np.where(timed_out, np.nan, rt), timed_out=timed_out.astype("int64")
    )
    trials = trials.merge(choices, on=["session", "trial"], how="left", validate="one_to_one")
    trials["rt_ms"] = trials["rt_ms"].astype("float64")
    trials["timed_out"] = trials["timed_out"].fillna(0).astype("int64")
    trials = trials[list(TRIAL_COLUMNS)]
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, or a trial number repeated for one
    participant. Imported rows carry no response times (``rt_ms`` NaN, ``timed_out`` 0).
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    n_rows = len(table)
    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "probability": parsed["probability"].to_numpy(dtype="float64"),
            "reward": parsed["reward"].to_numpy(dtype="float64"),
            "choice": parsed["choice"].to_numpy(dtype="object"),
            "completed": parsed["completed"].to_numpy().astype("int64"),
            "rt_ms": np.full(n_rows, np.nan),
            "timed_out": np.zeros(n_rows, dtype="int64"),
        }
    )
    return ordered_trials(trials)


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule, trial by trial.

    * ``probabilities``: 0.12, 0.5 and 0.88 ten times each, shuffled.
    * ``rewards``: the hard reward, uniform over whole cents from $1.24 to $4.30.
    * ``win_draws``: a uniform number in [0, 1) per trial; a completed task wins when
      its draw is below the trial's probability, so wins are reproducible.
    * ``fallback_choices``: the task assigned when no choice comes in time (the
      original task assigns one at random).

    The task constants ride along so the browser plays exactly what is stored.

    ``short=True`` (demos and end-to-end tests) draws 6 trials the same way, each
    probability twice: every metric can still be computed (``reward_sensitivity``
    only when the candidate takes both tasks, as on the full schedule).
    """
    n_trials = SHORT_TRIALS if short else N_TRIALS
    rng = np.random.default_rng(seed)
    per_level = n_trials // len(PROBABILITIES)
    probabilities = rng.permutation(np.repeat(PROBABILITIES, per_level))
    reward_cents = rng.integers(
        round(HARD_REWARD_MIN * 100), round(HARD_REWARD_MAX * 100), size=n_trials, endpoint=True
    )
    win_draws = rng.random(n_trials)
    fallback = rng.integers(0, len(CHOICES), size=n_trials)
    return {
        "seed": int(seed),
        "trials": n_trials,
        "probabilities": [float(p) for p in probabilities],
        "rewards": [int(cents) / 100 for cents in reward_cents],
        "win_draws": [round(float(draw), 4) for draw in win_draws],
        "fallback_choices": [CHOICES[int(index)] for index in fallback],
        "easy_reward": EASY_REWARD,
        "easy_presses": EASY_PRESSES,
        "hard_presses": HARD_PRESSES,
        "easy_time_ms": EASY_TIME_MS,
        "hard_time_ms": HARD_TIME_MS,
        "choice_time_ms": CHOICE_TIME_MS,
    }
