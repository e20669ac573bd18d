"""What the arrows game (a flanker task with a rule switch, Eriksen & Eriksen 1974) records.

Every trial shows five arrows in a row, e.g. ``<<><<``. The display's colour, frame
and label say which rule applies: a black display with a solid frame labelled
"Middle" asks for the direction of the **centre** arrow; a red display with a
double dashed frame labelled "Outer" asks for the direction of the four
**flanking** arrows. In a congruent display all five arrows point the same way;
in an incongruent one the flankers point against the centre. The candidate
answers left or right (keys or buttons) within a deadline; only the first answer
counts, and no answer by the deadline is an omission (incorrect, no RT).

Events, in the order the browser sends them for each trial::

    trial_start {"trial": 1..96, "congruent": bool, "rule": "centre"|"flankers",
                 "centre": "left"|"right"}                    (fixation cross shown)
    stimulus    {"trial"}                                     (frame that paints the arrows)
    response    {"trial", "key": "left"|"right", "rt_ms"}     (first answer only; none
                                                               when the deadline passes)
    trial_end   {"trial", "congruent", "rule", "centre",
                 "key": "left"|"right"|null, "rt_ms": float|null, "correct": 0|1}

``trial_end`` carries the trial's whole outcome, so the trial table (one row per
trial: ``trial``, ``congruent`` 0/1, ``rule``, ``rt_ms`` NaN when no response,
``correct`` 0/1) is built from it alone, which is also what an imported CSV file
(columns ``congruent``, ``rule``, ``rt_ms``, ``correct``) turns into. The other
events are the detailed record (e.g. for timing checks). The practice trials
shown before trial 1 are never sent: they teach the rules and must not count.

``rt_ms`` is measured in the browser (the key or pointer event's timestamp minus
the timestamp of the frame that painted the arrows), in milliseconds.
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
    ordered_trials,
    parse_binary_column,
    reject_unknown_keys,
    require_bool,
    require_choice,
    require_int,
    require_number,
)

KEY = "arrows"
TITLE = "Arrows"
EXTRACTOR_VERSION = 1

N_TRIALS = 96
N_PRACTICE = 8
#: Rule runs (trials in a row with the same rule) are 1..MAX_RUN long, so that about
#: 40% of the trials switch rule: enough switch and repeat trials for a switch cost.
MAX_RUN = 4
#: Runs of each rule per session: 48 trials of a rule in 19 runs of 1..4 trials, the two
#: rules alternating, gives 38 runs, i.e. 37 switch trials and 58 repeat trials.
RUNS_PER_RULE = 19
#: The short schedule (``make_config(seed, short=True)``): 16 trials, 8 of each rule in
#: 3 runs each, i.e. 6 runs, 5 switch and 10 repeat trials.
SHORT_TRIALS = 16
SHORT_RUNS_PER_RULE = 3
#: Time to answer after the arrows appear; doubled under the extended-time accommodation.
DEADLINE_MS = 2000
#: Fixation cross before each display, drawn per trial so the onset cannot be anticipated.
FIXATION_MIN_MS = 400
FIXATION_MAX_MS = 700
#: Blank pause after each answer (or after the deadline) before the next fixation.
ITI_MS = 500
#: Largest rt_ms an event may carry: far above the longest deadline (4000 ms under
#: extended time), as timers may fire late on a busy device, but it rules out nonsense.
MAX_RT_MS = 10_000.0

RULES: tuple[str, ...] = ("centre", "flankers")
DIRECTIONS: tuple[str, ...] = ("left", "right")

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "congruent", "rule", "rt_ms", "correct")


def correct_answer(congruent: bool, rule: str, centre: str) -> str:
    """The direction the rule asks for: the centre arrow's, or the flankers'."""
    if rule == "centre" or congruent:
        return centre
    return "left" if centre == "right" else "right"


def arrows_display(congruent: bool, centre: str) -> str:
    """The five arrows as text, e.g. ``"<<><<"`` (what the candidate sees)."""
    middle = "<" if centre == "left" else ">"
    outer = middle if congruent else (">" if centre == "left" else "<")
    return outer * 2 + middle + outer * 2


# --- event validators -------------------------------------------------------------


def _event_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> int:
    """Check the shape shared by every arrows event and return its trial number."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    return require_int(data, "trial", minimum=1, maximum=N_TRIALS)


def _display_fields(data: Mapping[str, Any]) -> tuple[bool, str, str]:
    return (
        require_bool(data, "congruent"),
        require_choice(data, "rule", RULES),
        require_choice(data, "centre", DIRECTIONS),
    )


def validate_trial_start(data: Mapping[str, Any]) -> None:
    """The fixation cross of a trial appears; the display it will show is declared."""
    _event_fields(data, ("trial", "congruent", "rule", "centre"))
    _display_fields(data)


def validate_stimulus(data: Mapping[str, Any]) -> None:
    """The arrows are painted (``t`` = that frame's timestamp)."""
    _event_fields(data, ("trial",))


def validate_response(data: Mapping[str, Any]) -> None:
    """The first answer of a trial, with its in-browser reaction time."""
    _event_fields(data, ("trial", "key", "rt_ms"))
    require_choice(data, "key", DIRECTIONS)
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


def validate_trial_end(data: Mapping[str, Any]) -> None:
    """The trial's outcome: its display, the answer (or null) and whether it was right.

    Consistency is checked too, so a client bug cannot store an impossible row: a key
    comes with an RT and no key with no RT, an omission is never correct, and
    ``correct`` must agree with what the rule asks for.
    """
    _event_fields(data, ("trial", "congruent", "rule", "centre", "key", "rt_ms", "correct"))
    congruent, rule, centre = _display_fields(data)
    for key in ("key", "rt_ms"):
        if key not in data:
            raise EventDataError(key, "is required (null when there was no response)")
    key_value = data["key"]
    correct = require_int(data, "correct", minimum=0, maximum=1)
    if key_value is None:
        if data["rt_ms"] is not None:
            raise EventDataError("rt_ms", "must be null when there was no response")
        if correct:
            raise EventDataError("correct", "must be 0 when there was no response")
        return
    require_choice(data, "key", DIRECTIONS)
    if data["rt_ms"] is None:
        raise EventDataError("rt_ms", "is required when there was a response")
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)
    if correct != int(key_value == correct_answer(congruent, rule, centre)):
        raise EventDataError("correct", "does not match the key and the rule")


EVENT_TYPES: Mapping[str, EventValidator] = {
    "trial_start": validate_trial_start,
    "stimulus": validate_stimulus,
    "response": validate_response,
    "trial_end": validate_trial_end,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"trial_end"})


# --- CSV columns ------------------------------------------------------------------


def _first_bad(bad: np.ndarray, column: str, message: str, values: pd.Series) -> None:
    positions = np.flatnonzero(bad)
    if positions.size:
        position = int(positions[0])
        raise CsvValueError(column, f"{message}, got {values.iloc[position]!r}", row_index=position)


def _parse_congruent(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "congruent")


def _parse_rule(values: pd.Series) -> pd.Series:
    rules = values.str.lower()
    _first_bad(
        (~rules.isin(list(RULES))).to_numpy(), "rule", "expected 'centre' or 'flankers'", values
    )
    return rules.astype(object)


def _parse_rt_ms(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values.where(values != ""), errors="coerce").astype("float64")
    given = (values != "").to_numpy()
    finite = np.isfinite(numbers.to_numpy())
    bad = given & (~finite | (numbers.to_numpy() < 0))
    _first_bad(bad, "rt_ms", "expected a number >= 0 in ms (or empty for no response)", values)
    return numbers


def _parse_correct(values: pd.Series) -> pd.Series:
    return parse_binary_column(values, "correct")


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn("congruent", _parse_congruent, description="1 if all five arrows agree, else 0"),
    CsvColumn(
        "rule",
        _parse_rule,
        description="'centre' (answer the middle arrow) or 'flankers' (the outer arrows)",
    ),
    CsvColumn("rt_ms", _parse_rt_ms, description="reaction time in ms; empty = no response"),
    CsvColumn("correct", _parse_correct, description="1 if the answer was right, else 0"),
)

METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "Correct trials / trials (omissions count as errors).", "fraction"),
    Metric("rt_mean_ms", "Mean reaction time of correct trials.", "ms"),
    Metric(
        "congruency_effect_rt_ms",
        "Mean correct RT on incongruent displays minus that on congruent displays.",
        "ms",
    ),
    Metric(
        "congruency_effect_accuracy",
        "Accuracy on congruent displays minus accuracy on incongruent displays.",
        "fraction",
    ),
    Metric(
        "switch_cost_rt_ms",
        "Mean correct RT on trials whose rule differs from the previous trial's minus that "
        "on trials whose rule repeats (the first trial is neither).",
        "ms",
    ),
)


# --- trial tables -----------------------------------------------------------------


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "congruent": "int64",
            "rule": "object",
            "rt_ms": "float64",
            "correct": "int64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per ``trial_end`` event.

    Other event types are ignored. Should a stream ever hold two ``trial_end`` events
    for one trial, the first (lowest ``seq``) is the one the candidate saw, so it wins.
    """
    ends = events.loc[events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "data"]]
    if ends.empty:
        return _empty_trials()
    ends = ends.sort_values(["session", "seq"], kind="stable")
    payloads = ends["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": ends["session"].to_numpy(),
            "trial": np.array([p["trial"] for p in payloads], dtype="int64"),
            "congruent": np.array([bool(p["congruent"]) for p in payloads], dtype="int64"),
            "rule": np.array([p["rule"] for p in payloads], dtype=object),
            "rt_ms": np.array(
                [np.nan if p["rt_ms"] is None else p["rt_ms"] for p in payloads], dtype="float64"
            ),
            "correct": np.array([p["correct"] for p in payloads], dtype="int64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain, a trial marked correct without a
    response, or a trial number repeated for one participant.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    rt_ms = parsed["rt_ms"].to_numpy(dtype="float64")
    correct = parsed["correct"].to_numpy()
    correct_without_response = np.flatnonzero((correct == 1) & np.isnan(rt_ms))
    if correct_without_response.size:
        raise CsvValueError(
            "correct",
            "a trial without a response (empty rt_ms) cannot be correct",
            row_index=int(correct_without_response[0]),
        )

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "congruent": parsed["congruent"].to_numpy().astype("int64"),
            "rule": parsed["rule"].to_numpy(dtype=object),
            "rt_ms": rt_ms,
            "correct": correct.astype("int64"),
        }
    )
    return ordered_trials(trials)


# --- schedule ---------------------------------------------------------------------


def _run_lengths(rng: np.random.Generator, total: int, runs: int) -> np.ndarray:
    """``runs`` run lengths of 1..MAX_RUN adding up to ``total`` (a random composition).

    Every run starts at 1 trial; the remaining trials are dealt one at a time to a
    random run that is not yet full, so all compositions within the bounds can occur.
    """
    lengths = np.ones(runs, dtype="int64")
    for _ in range(total - runs):
        open_runs = np.flatnonzero(lengths < MAX_RUN)
        lengths[rng.choice(open_runs)] += 1
    return lengths


def _rule_sequence(rng: np.random.Generator, n_trials: int, runs_per_rule: int) -> list[str]:
    """Alternating runs of the two rules, each rule on half of the trials."""
    first = int(rng.integers(2))
    order = (RULES[first], RULES[1 - first])
    per_rule = n_trials // 2
    lengths = [_run_lengths(rng, per_rule, runs_per_rule) for _ in order]
    sequence: list[str] = []
    for run in range(runs_per_rule):
        for rule, rule_lengths in zip(order, lengths, strict=True):
            sequence.extend([rule] * int(rule_lengths[run]))
    return sequence


def _schedule(rng: np.random.Generator, n_trials: int, runs_per_rule: int) -> list[dict[str, Any]]:
    """Trials with rules in runs, and congruency x centre direction balanced within each rule.

    Each rule gets an equal share of the four displays (congruent or not, centre left
    or right), shuffled over that rule's positions, so congruency and direction are
    independent of the rule and half of all trials are congruent.
    """
    rules = _rule_sequence(rng, n_trials, runs_per_rule)
    trials: list[dict[str, Any]] = [{} for _ in rules]
    for rule in RULES:
        positions = [i for i, value in enumerate(rules) if value == rule]
        cells = [(c, d) for c in (1, 0) for d in DIRECTIONS] * (len(positions) // 4)
        order = rng.permutation(len(cells))
        for position, index in zip(positions, order, strict=True):
            congruent, centre = cells[index]
            trials[position] = {
                "trial": position + 1,
                "congruent": congruent,
                "rule": rule,
                "centre": centre,
            }
    return trials


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule.

    ``trials``: 96 dicts ``{trial, congruent 0/1, rule, centre}``: rules alternate in
    runs of 1-4 trials (48 trials of each rule, 37 switch and 58 repeat trials), and
    within each rule the four displays (congruent/incongruent x centre left/right)
    come 12 times each in random order. ``fixation_ms``: each trial's fixation time,
    400..700 ms. ``practice``: 8 unrecorded trials (4 of each rule in two runs
    each, every display once per rule). Times are for standard time; extended time doubles the
    deadline (the browser applies it, so the stored schedule is the same).

    ``short=True`` (demos and end-to-end tests) draws 16 trials the same way: 8 of
    each rule in 3 runs each (5 switch and 10 repeat trials), every display twice
    per rule, so every metric still has congruent, incongruent, switch and repeat
    trials; the practice is the same 8 trials.
    """
    n_trials, runs_per_rule = (
        (SHORT_TRIALS, SHORT_RUNS_PER_RULE) if short else (N_TRIALS, RUNS_PER_RULE)
    )
    rng = np.random.default_rng(seed)
    trials = _schedule(rng, n_trials, runs_per_rule)
    fixation = rng.integers(FIXATION_MIN_MS, FIXATION_MAX_MS, size=n_trials, endpoint=True)
    practice_rng = np.random.default_rng([seed, 1])
    practice = _schedule(practice_rng, N_PRACTICE, 2)
    return {
        "seed": int(seed),
        "n_trials": n_trials,
        "trials": trials,
        "fixation_ms": [int(value) for value in fixation],
        "practice": practice,
        "deadline_ms": DEADLINE_MS,
        "iti_ms": ITI_MS,
    }
