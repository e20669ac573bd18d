"""Per-game session timelines: what one candidate did, trial by trial, in each game.

Each function takes the trial table of **one** game session (the rows
``get_game(key).events_to_trials`` gives; they are taken in ``trial`` order) and
returns a :class:`Timeline`: the positions along the x axis, the series drawn over
them, and the same numbers as table rows (the accessible table and the CSV of the
chart). Series and columns are named by keys, never by words: the page that draws
them translates. Absent values are ``None`` (JSON has no NaN).

Pure pandas/numpy, no Django; :data:`TIMELINES` maps each game key to its function.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Faces' expressions in the order of the science specification.
EMOTION_ORDER: tuple[str, ...] = (
    "happy",
    "sad",
    "angry",
    "fearful",
    "surprised",
    "disgusted",
    "neutral",
)
#: IGT decks, as the cards trial table numbers them (1..4).
DECKS: tuple[str, ...] = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Series:
    """One line, bar set or point set of a timeline.

    ``kind`` is ``bar``, ``line``, ``step`` (a staircase), ``point`` (markers only)
    or ``xy`` (markers at explicit ``{"x", "y"}`` positions, for time axes).
    ``values`` is aligned with the timeline's ``x`` (None where the series has no
    value), except for ``xy``. ``markers`` optionally names a marker per value
    (``"switch"``, ``"error"``, ``"failed_stop"``...). ``axis`` is ``y`` or ``y2``.
    ``params`` fill the series label (a trial number, a hand, an intensity).
    """

    key: str
    kind: str
    values: list[Any]
    axis: str = "y"
    markers: list[str] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def points(self) -> int:
        return sum(value is not None for value in self.values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "values": self.values,
            "axis": self.axis,
            "markers": self.markers,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Timeline:
    """What one session's chart shows: ``x`` positions, series, and table rows."""

    x_key: str
    x: list[Any]
    series: tuple[Series, ...]
    columns: tuple[str, ...]
    rows: list[list[Any]]

    @property
    def points(self) -> int:
        """Values drawn, over every series (a gap is not a point)."""
        return sum(series.points() for series in self.series)

    def series_by_key(self, key: str) -> Series:
        for series in self.series:
            if series.key == key:
                return series
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "x_key": self.x_key,
            "x": self.x,
            "series": [series.to_dict() for series in self.series],
            "columns": list(self.columns),
            "rows": self.rows,
            "points": self.points,
        }


def _value(value: Any) -> Any:
    """A plain Python value for JSON: numpy scalars unwrapped, NaN as None."""
    if value is None:
        return None
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _values(items: Iterable[Any]) -> list[Any]:
    return [_value(item) for item in items]


def _ordered(trials: pd.DataFrame) -> pd.DataFrame:
    return trials.sort_values("trial", kind="stable").reset_index(drop=True)


def _where(values: pd.Series, mask: pd.Series | np.ndarray) -> list[Any]:
    """``values`` where ``mask`` holds, None elsewhere."""
    return [_value(v) if keep else None for v, keep in zip(values, mask, strict=True)]


def _rows(frame: pd.DataFrame, columns: Iterable[str]) -> list[list[Any]]:
    return [_values(row) for row in frame[list(columns)].itertuples(index=False, name=None)]


def balloons_timeline(trials: pd.DataFrame) -> Timeline:
    """Pumps per balloon, collected and burst balloons as two bar series."""
    trials = _ordered(trials)
    burst = trials["burst"].to_numpy() == 1
    return Timeline(
        x_key="balloon",
        x=_values(trials["trial"]),
        series=(
            Series("collected", "bar", _where(trials["pumps"], ~burst)),
            Series("burst", "bar", _where(trials["pumps"], burst)),
        ),
        columns=("balloon", "pumps", "burst"),
        rows=_rows(trials, ("trial", "pumps", "burst")),
    )


def stop_timeline(trials: pd.DataFrame) -> Timeline:
    """The SSD staircase over stop trials (marked by outcome) and go RTs by trial."""
    trials = _ordered(trials)
    stop = trials["stop"].to_numpy() == 1
    responded = trials["rt_ms"].notna().to_numpy()
    failed = stop & responded
    return Timeline(
        x_key="trial",
        x=_values(trials["trial"]),
        series=(
            Series(
                "ssd_ms",
                "step",
                _where(trials["ssd_ms"], stop),
                markers=[
                    ("failed_stop" if f else "stopped") if s else ""
                    for s, f in zip(stop, failed, strict=True)
                ],
            ),
            Series("go_rt_ms", "point", _where(trials["rt_ms"], ~stop & responded), axis="y"),
        ),
        columns=("trial", "stop", "ssd_ms", "rt_ms", "correct"),
        rows=_rows(trials, ("trial", "stop", "ssd_ms", "rt_ms", "correct")),
    )


def cards_timeline(trials: pd.DataFrame) -> Timeline:
    """The deck of every choice, and the running net score ((C + D) - (A + B)) after it."""
    trials = _ordered(trials)
    decks = trials["deck"].astype(int).to_numpy()
    step = np.where(decks >= 3, 1, -1)
    running = np.cumsum(step)
    letters = [DECKS[d - 1] for d in decks]
    table = trials.assign(deck=letters, net_score=running)
    return Timeline(
        x_key="choice",
        x=_values(trials["trial"]),
        series=(
            Series("deck", "point", letters),
            Series("net_score", "line", _values(running), axis="y2"),
        ),
        columns=("choice", "deck", "gain", "loss", "net_score"),
        rows=_rows(table, ("trial", "deck", "gain", "loss", "net_score")),
    )


def arrows_timeline(trials: pd.DataFrame) -> Timeline:
    """RT per trial, congruent and incongruent apart; switch trials and errors marked.

    A trial whose rule differs from the previous trial's is a switch; the first
    trial is neither switch nor repeat (as in ``switch_cost_rt_ms``).
    """
    trials = _ordered(trials)
    rules = trials["rule"].astype(str).tolist()
    transition = ["first"] + [
        "switch" if rule != before else "repeat" for before, rule in itertools.pairwise(rules)
    ]
    correct = trials["correct"].to_numpy() == 1
    congruent = trials["congruent"].to_numpy() == 1
    markers = [
        "error" if not ok else ("switch" if step == "switch" else "")
        for ok, step in zip(correct, transition, strict=True)
    ]
    table = trials.assign(transition=transition)
    return Timeline(
        x_key="trial",
        x=_values(trials["trial"]),
        series=(
            Series("congruent", "point", _where(trials["rt_ms"], congruent), markers=markers),
            Series("incongruent", "point", _where(trials["rt_ms"], ~congruent), markers=markers),
        ),
        columns=("trial", "congruent", "rule", "transition", "rt_ms", "correct"),
        rows=_rows(table, ("trial", "congruent", "rule", "transition", "rt_ms", "correct")),
    )


def digits_timeline(trials: pd.DataFrame) -> Timeline:
    """The length of every sequence, right and wrong apart, forward then backward."""
    trials = _ordered(trials)
    correct = trials["correct"].to_numpy() == 1
    forward = trials["direction"].astype(str).to_numpy() == "forward"
    return Timeline(
        x_key="trial",
        x=_values(trials["trial"]),
        series=(
            Series("forward_correct", "point", _where(trials["length"], forward & correct)),
            Series("forward_wrong", "point", _where(trials["length"], forward & ~correct)),
            Series("backward_correct", "point", _where(trials["length"], ~forward & correct)),
            Series("backward_wrong", "point", _where(trials["length"], ~forward & ~correct)),
        ),
        columns=("trial", "direction", "length", "correct"),
        rows=_rows(trials, ("trial", "direction", "length", "correct")),
    )


def keypresses_timeline(trials: pd.DataFrame) -> Timeline:
    """Every tap's inter-tap interval against its time in the trial, one series per trial.

    A tap's interval is the time since the previous tap of the same trial, so a
    trial's first tap has none and is not drawn (it is in the table).
    """
    taps = trials[trials["kind"] == "tap"].sort_values(["trial", "t_ms"], kind="stable")
    taps = taps.assign(iti_ms=taps.groupby("trial")["t_ms"].diff())
    ends = trials[trials["kind"] == "trial"].sort_values("trial", kind="stable")
    series = []
    for trial, hand in zip(ends["trial"], ends["hand"], strict=True):
        mine = taps[(taps["trial"] == trial) & taps["iti_ms"].notna()]
        series.append(
            Series(
                "trial",
                "xy",
                [
                    {"x": _value(t / 1000.0), "y": _value(iti)}
                    for t, iti in zip(mine["t_ms"], mine["iti_ms"], strict=True)
                ],
                params={"trial": int(trial), "hand": str(hand)},
            )
        )
    numbered = taps.assign(tap=taps.groupby("trial").cumcount() + 1)
    return Timeline(
        x_key="time_s",
        x=[],
        series=tuple(series),
        columns=("trial", "hand", "tap", "t_ms", "iti_ms"),
        rows=_rows(numbered, ("trial", "hand", "tap", "t_ms", "iti_ms")),
    )


def easy_or_hard_timeline(trials: pd.DataFrame) -> Timeline:
    """Each trial's offered hard reward, marked by the choice made and whether it was done."""
    trials = _ordered(trials)
    hard = trials["choice"].astype(str).to_numpy() == "hard"
    done = trials["completed"].to_numpy() == 1
    return Timeline(
        x_key="trial",
        x=_values(trials["trial"]),
        series=(
            Series("hard_completed", "point", _where(trials["reward"], hard & done)),
            Series("hard_not_completed", "point", _where(trials["reward"], hard & ~done)),
            Series("easy_completed", "point", _where(trials["reward"], ~hard & done)),
            Series("easy_not_completed", "point", _where(trials["reward"], ~hard & ~done)),
        ),
        columns=("trial", "probability", "reward", "choice", "completed"),
        rows=_rows(trials, ("trial", "probability", "reward", "choice", "completed")),
    )


def lengths_timeline(trials: pd.DataFrame) -> Timeline:
    """Accuracy on rich and lean trials in each block (trials without a response left out)."""
    answered = trials[trials["correct"].notna()]
    blocks = sorted(int(block) for block in trials["block"].unique())
    rows: list[list[Any]] = []
    rich_accuracy: list[Any] = []
    lean_accuracy: list[Any] = []
    for block in blocks:
        row: list[Any] = [block]
        for stimulus, target in (("rich", rich_accuracy), ("lean", lean_accuracy)):
            mine = answered[(answered["block"] == block) & (answered["stimulus"] == stimulus)]
            accuracy = float(mine["correct"].mean()) if len(mine) else None
            target.append(accuracy)
            row += [len(mine), accuracy]
        rows.append(row)
    return Timeline(
        x_key="block",
        x=blocks,
        series=(
            Series("rich_accuracy", "bar", rich_accuracy),
            Series("lean_accuracy", "bar", lean_accuracy),
        ),
        columns=("block", "rich_trials", "rich_accuracy", "lean_trials", "lean_accuracy"),
        rows=rows,
    )


def tower_timeline(trials: pd.DataFrame) -> Timeline:
    """Moves made per problem (solved and unsolved apart) against the minimum."""
    trials = _ordered(trials)
    solved = trials["solved"].to_numpy() == 1
    return Timeline(
        x_key="problem",
        x=_values(trials["trial"]),
        series=(
            Series("moves_solved", "bar", _where(trials["moves"], solved)),
            Series("moves_unsolved", "bar", _where(trials["moves"], ~solved)),
            Series("min_moves", "line", _values(trials["min_moves"])),
        ),
        columns=("problem", "min_moves", "moves", "solved", "first_move_ms", "total_ms"),
        rows=_rows(trials, ("trial", "min_moves", "moves", "solved", "first_move_ms", "total_ms")),
    )


def faces_timeline(trials: pd.DataFrame) -> Timeline:
    """Accuracy per expression, one series per intensity shown."""
    shown_emotions = trials["emotion"].astype(str).tolist()
    answers = trials["response"].astype(str).tolist()
    levels = trials["intensity"].tolist()
    # (emotion, intensity) -> [trials, hits]
    counts: dict[tuple[str, int], list[int]] = {}
    for emotion, answer, level in zip(shown_emotions, answers, levels, strict=True):
        if level is None or level != level:  # NaN: no intensity recorded
            continue
        tally = counts.setdefault((emotion, int(level)), [0, 0])
        tally[0] += 1
        tally[1] += int(answer == emotion)
    shown = {emotion for emotion, _ in counts}
    emotions = [e for e in EMOTION_ORDER if e in shown] + sorted(shown - set(EMOTION_ORDER))
    intensities = sorted({level for _, level in counts})
    series = []
    for intensity in intensities:
        values: list[Any] = []
        for emotion in emotions:
            found = counts.get((emotion, intensity))
            values.append(found[1] / found[0] if found else None)
        series.append(Series("intensity", "bar", values, params={"intensity": intensity}))
    rows: list[list[Any]] = [
        [emotion, intensity, size, hits, hits / size]
        for emotion in emotions
        for intensity in intensities
        if (emotion, intensity) in counts
        for size, hits in [counts[(emotion, intensity)]]
    ]
    return Timeline(
        x_key="emotion",
        x=emotions,
        series=tuple(series),
        columns=("emotion", "intensity", "trials", "correct", "accuracy"),
        rows=rows,
    )


def money_exchange_1_timeline(trials: pd.DataFrame) -> Timeline:
    """Amounts sent, received and returned in each round (investor, then trustee)."""
    trials = _ordered(trials)
    return Timeline(
        x_key="round",
        x=_values(trials["trial"]),
        series=(
            Series("sent", "bar", _values(trials["sent"])),
            Series("returned", "bar", _values(trials["returned"])),
            Series("received", "line", _values(trials["received"])),
        ),
        columns=("round", "role", "endowment", "sent", "received", "returned"),
        rows=_rows(trials, ("trial", "role", "endowment", "sent", "received", "returned")),
    )


def money_exchange_2_timeline(trials: pd.DataFrame) -> Timeline:
    """Each round's offer as a share of the total: offers accepted or rejected as
    responder, offers made as proposer, gifts as dictator."""
    trials = _ordered(trials)
    share = trials["offer"] / trials["total"]
    role = trials["role"].astype(str).to_numpy()
    accepted = trials["accepted"].to_numpy() == 1
    responder = role == "responder"
    table = trials.assign(share=share)
    return Timeline(
        x_key="round",
        x=_values(trials["trial"]),
        series=(
            Series("accepted", "point", _where(share, responder & accepted)),
            Series("rejected", "point", _where(share, responder & ~accepted)),
            Series("proposed", "point", _where(share, role == "proposer")),
            Series("given", "point", _where(share, role == "dictator")),
        ),
        columns=("round", "role", "total", "offer", "share", "accepted"),
        rows=_rows(table, ("trial", "role", "total", "offer", "share", "accepted")),
    )


#: Game key -> its timeline function.
TIMELINES: Mapping[str, Callable[[pd.DataFrame], Timeline]] = {
    "balloons": balloons_timeline,
    "cards": cards_timeline,
    "stop": stop_timeline,
    "arrows": arrows_timeline,
    "digits": digits_timeline,
    "keypresses": keypresses_timeline,
    "easy_or_hard": easy_or_hard_timeline,
    "lengths": lengths_timeline,
    "tower": tower_timeline,
    "faces": faces_timeline,
    "money_exchange_1": money_exchange_1_timeline,
    "money_exchange_2": money_exchange_2_timeline,
}


def session_timeline(game: str, trials: pd.DataFrame) -> Timeline | None:
    """The timeline of one session of ``game``; None for a game without one or no trials."""
    function = TIMELINES.get(game)
    if function is None or trials.empty:
        return None
    return function(trials)
