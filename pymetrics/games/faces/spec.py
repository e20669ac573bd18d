"""What the faces game (emotion recognition) records.

Every trial shows one face, drawn by the page itself as a parametric SVG (no
photographs): eyebrows, eyelids, nose, cheeks and mouth are placed by a dozen
facial-action parameters (:data:`ACTIONS`, after the Facial Action Coding System of
Ekman & Friesen 1978). Each face shows one of seven expressions (:data:`EMOTIONS`) at
one of three intensities: the parameters are blended from the neutral face towards
the expression's full prototype (:data:`FACE_CUES`) by the level's weight
(:data:`LEVEL_WEIGHTS`: 40%, 70% or 100%). A neutral face has intensity 0. The
candidate picks the expression's label from seven big labelled buttons (keys 1-7).
The face stays until the answer: the task is self-paced, so nothing can be missed.

Events, in the order the browser sends them for each trial::

    trial_start {"trial": 1..42, "emotion", "intensity": 0..3, "face": 1..4}
                                   on the frame that paints the face (the onset)
    response    {"trial", "emotion", "intensity", "response": label,
                 "rt_ms": float, ms from the face's frame to the click or key}

``emotion`` and ``response`` are labels from :data:`EMOTIONS`; ``intensity`` is 0 for
``neutral`` and 1..3 for every other expression; ``face`` is which of the
:data:`N_FACES` drawn people shows it. ``response`` carries the trial's whole
outcome, so the trial table (one row per trial: ``emotion``, ``intensity``,
``response``, ``rt_ms``) is built from it alone, which is also what an imported CSV
file (columns ``emotion``, ``response``, ``rt_ms``; ``intensity`` is NaN then) turns
into. The practice faces shown before trial 1 are never sent.
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
    reject_unknown_keys,
    require_choice,
    require_int,
    require_number,
)

KEY = "faces"
TITLE = "Faces"
EXTRACTOR_VERSION = 1

#: The seven labels, in the order of the answer buttons (keys 1-7).
EMOTIONS: tuple[str, ...] = (
    "happy",
    "sad",
    "angry",
    "fearful",
    "surprised",
    "disgusted",
    "neutral",
)
NEUTRAL = "neutral"
#: Trials per expression; 7 x 6 = 42. Each expression other than neutral comes twice
#: at each of the three intensities.
TRIALS_PER_EMOTION = 6
N_TRIALS = TRIALS_PER_EMOTION * len(EMOTIONS)
#: The short schedule (demos, end-to-end tests): every expression twice, at intensities
#: 1 and 3 (neutral twice at 0); 14 trials.
SHORT_LEVELS: tuple[int, ...] = (1, 3)
#: Intensity level -> share of the way from the neutral face to the full expression.
LEVEL_WEIGHTS: Mapping[int, float] = {1: 0.4, 2: 0.7, 3: 1.0}
#: Drawn people (face shape, hair, skin tone); each trial's is seeded. The cues of an
#: expression are the same on every face.
N_FACES = 4
#: Blank pause between an answer and the next face (ms); doubled under extended time.
ITI_MS = 500
#: How long practice feedback stays up (ms); doubled under extended time.
FEEDBACK_MS = 1500
#: Longest accepted time to an answer (ms). The task is self-paced, so the bound is
#: generous (one hour on one face); the page caps what it sends at this value.
MAX_RT_MS = 3_600_000.0
#: The unrecorded practice: one face each, full intensity, with feedback.
PRACTICE: tuple[str, ...] = ("happy", "surprised", "angry", "neutral")

#: Facial actions the drawing understands (0 = neutral position, 1 = fully on), with
#: the FACS action unit each one stands for.
ACTIONS: Mapping[str, str] = {
    "inner_brow_raise": "AU1",
    "outer_brow_raise": "AU2",
    "brow_lower": "AU4 (brows down and drawn together)",
    "upper_lid_raise": "AU5 (eyes wide)",
    "cheek_raise": "AU6 (cheeks up, eyes narrowed from below)",
    "lid_tighten": "AU7",
    "nose_wrinkle": "AU9",
    "upper_lip_raise": "AU10",
    "lip_corner_pull": "AU12 (mouth corners up)",
    "lip_corner_depress": "AU15 (mouth corners down)",
    "lip_stretch": "AU20 (lips stretched sideways)",
    "lip_press": "AU24 (lips pressed together)",
    "jaw_drop": "AU26/27 (mouth open)",
}

#: Each expression's full (intensity 3) prototype; unlisted actions stay at 0. The
#: prototypes follow the EMFACS predictions for the basic emotions (Ekman & Friesen
#: 1978; Ekman, Friesen & Hager 2002): happy 6+12, sad 1+4+15, angry 4+5/7+24,
#: fearful 1+2+4+5+20+26, surprised 1+2+5+26, disgusted 9+10(+15).
FACE_CUES: Mapping[str, Mapping[str, float]] = {
    "happy": {"cheek_raise": 1.0, "lip_corner_pull": 1.0, "jaw_drop": 0.3},
    "sad": {
        "inner_brow_raise": 1.0,
        "brow_lower": 0.35,
        "upper_lid_raise": -0.35,
        "lip_corner_depress": 1.0,
    },
    "angry": {"brow_lower": 1.0, "lid_tighten": 0.7, "lip_press": 1.0, "lip_corner_depress": 0.2},
    "fearful": {
        "inner_brow_raise": 1.0,
        "outer_brow_raise": 0.5,
        "brow_lower": 0.45,
        "upper_lid_raise": 1.0,
        "lip_stretch": 1.0,
        "jaw_drop": 0.45,
    },
    "surprised": {
        "inner_brow_raise": 1.0,
        "outer_brow_raise": 1.0,
        "upper_lid_raise": 0.8,
        "jaw_drop": 1.0,
    },
    "disgusted": {
        "nose_wrinkle": 1.0,
        "upper_lip_raise": 1.0,
        "brow_lower": 0.5,
        "lid_tighten": 0.4,
        "lip_corner_depress": 0.35,
    },
    "neutral": {},
}

TRIAL_COLUMNS: tuple[str, ...] = ("session", "trial", "emotion", "intensity", "response", "rt_ms")

#: Labels other tools write for the same expressions (noun forms), accepted on import.
_LABEL_ALIASES: Mapping[str, str] = {
    **{emotion: emotion for emotion in EMOTIONS},
    "happiness": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful",
    "surprise": "surprised",
    "disgust": "disgusted",
}


def face_actions(emotion: str, intensity: int) -> dict[str, float]:
    """Every action's value for ``emotion`` at ``intensity`` (what the page draws)."""
    weight = LEVEL_WEIGHTS.get(intensity, 0.0)
    cues = FACE_CUES[emotion]
    return {action: round(weight * cues.get(action, 0.0), 4) for action in ACTIONS}


# --- event validators -------------------------------------------------------------


def _stimulus_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> tuple[str, int]:
    """Check the shape every faces event shares; return its emotion and intensity."""
    if not isinstance(data, Mapping):
        raise EventDataError("", "must be an object")
    reject_unknown_keys(data, allowed)
    require_int(data, "trial", minimum=1, maximum=N_TRIALS)
    emotion = require_choice(data, "emotion", EMOTIONS)
    intensity = require_int(data, "intensity", minimum=0, maximum=max(LEVEL_WEIGHTS))
    if (emotion == NEUTRAL) != (intensity == 0):
        raise EventDataError(
            "intensity", "must be 0 for a neutral face and 1-3 for any other expression"
        )
    return emotion, intensity


def validate_trial_start(data: Mapping[str, Any]) -> None:
    """A face is painted (``t`` = that frame's timestamp, the onset of ``rt_ms``)."""
    _stimulus_fields(data, ("trial", "emotion", "intensity", "face"))
    require_int(data, "face", minimum=1, maximum=N_FACES)


def validate_response(data: Mapping[str, Any]) -> None:
    """The label the candidate picked for the face, with its in-browser reaction time."""
    _stimulus_fields(data, ("trial", "emotion", "intensity", "response", "rt_ms"))
    require_choice(data, "response", EMOTIONS)
    require_number(data, "rt_ms", minimum=0.0, maximum=MAX_RT_MS)


EVENT_TYPES: Mapping[str, EventValidator] = {
    "trial_start": validate_trial_start,
    "response": validate_response,
}

TRIAL_EVENT_TYPES: frozenset[str] = frozenset({"response"})


# --- CSV columns ------------------------------------------------------------------


def _parse_label(values: pd.Series, column: str) -> pd.Series:
    labels = values.str.lower().map(_LABEL_ALIASES)
    bad = np.flatnonzero(labels.isna().to_numpy())
    if bad.size:
        position = int(bad[0])
        raise CsvValueError(
            column,
            f"expected one of {', '.join(EMOTIONS)}, got {values.iloc[position]!r}",
            row_index=position,
        )
    return labels.astype(object)


def _parse_emotion(values: pd.Series) -> pd.Series:
    return _parse_label(values, "emotion")


def _parse_response(values: pd.Series) -> pd.Series:
    return _parse_label(values, "response")


def _parse_rt_ms(values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    array = numbers.to_numpy()
    bad = np.flatnonzero(~np.isfinite(array) | (array < 0))
    if bad.size:
        position = int(bad[0])
        raise CsvValueError(
            "rt_ms",
            f"expected a number >= 0 in ms, got {values.iloc[position]!r}",
            row_index=position,
        )
    return numbers


CSV_COLUMNS: tuple[CsvColumn, ...] = (
    CsvColumn(
        "emotion",
        _parse_emotion,
        description="expression shown: " + ", ".join(EMOTIONS) + " (noun forms accepted)",
    ),
    CsvColumn("response", _parse_response, description="label chosen, from the same set"),
    CsvColumn("rt_ms", _parse_rt_ms, description="time from the face to the answer, in ms"),
)

METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "Faces labelled correctly / faces.", "fraction"),
    *(
        Metric(
            f"accuracy_{emotion}",
            f"Of the faces showing {emotion}, the fraction labelled {emotion}.",
            "fraction",
        )
        for emotion in EMOTIONS
    ),
    *(
        Metric(
            f"unbiased_hit_rate_{emotion}",
            f"Wagner's (1993) unbiased hit rate for {emotion}: hits squared / (faces showing "
            f"{emotion} x answers using the label {emotion}); 0 when there is no hit. It "
            "discounts a label's hits by how freely the label was used.",
            "fraction",
        )
        for emotion in EMOTIONS
    ),
    Metric("rt_correct_mean_ms", "Mean time to a correct label, from the face's onset.", "ms"),
)


# --- trial tables -----------------------------------------------------------------


def _empty_trials() -> pd.DataFrame:
    return empty_trials(
        {
            "session": "object",
            "trial": "int64",
            "emotion": "object",
            "intensity": "float64",
            "response": "object",
            "rt_ms": "float64",
        }
    )


def events_to_trials(events: pd.DataFrame) -> pd.DataFrame:
    """One trial row per ``response`` event.

    Other event types are ignored. Should a stream ever hold two ``response`` events
    for one trial, the first (lowest ``seq``) is the answer the page acted on, so it wins.
    """
    answers = events.loc[events["type"].isin(list(TRIAL_EVENT_TYPES)), ["session", "seq", "data"]]
    if answers.empty:
        return _empty_trials()
    answers = answers.sort_values(["session", "seq"], kind="stable")
    payloads = answers["data"].tolist()
    trials = pd.DataFrame(
        {
            "session": answers["session"].to_numpy(),
            "trial": np.array([p["trial"] for p in payloads], dtype="int64"),
            "emotion": np.array([p["emotion"] for p in payloads], dtype=object),
            "intensity": np.array([p["intensity"] for p in payloads], dtype="float64"),
            "response": np.array([p["response"] for p in payloads], dtype=object),
            "rt_ms": np.array([p["rt_ms"] for p in payloads], dtype="float64"),
        }
    )
    trials = trials.drop_duplicates(["session", "trial"], keep="first")
    return trials.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)


def csv_to_trials(table: pd.DataFrame) -> pd.DataFrame:
    """The trial table from imported rows (``session``, parsed ``trial``, raw text columns).

    Raises :class:`CsvValueError` naming the column (and the 0-based data row) for a
    missing column, a value outside its domain or a trial number repeated for one
    participant. Imported files do not say how intense a face was: ``intensity`` is NaN.
    """
    by_lower_name = {str(name).strip().lower(): name for name in table.columns}
    parsed: dict[str, pd.Series] = {}
    for column in CSV_COLUMNS:
        source = by_lower_name.get(column.name)
        if source is None:
            raise CsvValueError(column.name, f"column {column.name!r} is required")
        raw = table[source].fillna("").astype(str).str.strip().reset_index(drop=True)
        parsed[column.name] = column.parse(raw)

    trials = pd.DataFrame(
        {
            "session": table["session"].to_numpy(),
            "trial": table["trial"].to_numpy().astype("int64"),
            "emotion": parsed["emotion"].to_numpy(dtype=object),
            "intensity": np.full(len(table), np.nan),
            "response": parsed["response"].to_numpy(dtype=object),
            "rt_ms": parsed["rt_ms"].to_numpy(dtype="float64"),
        }
    )
    return ordered_trials(trials)


# --- schedule ---------------------------------------------------------------------


def _spread(rng: np.random.Generator, items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A random order of ``items`` in which no expression comes twice in a row.

    Each position draws among the expressions other than the previous one, weighted
    by how many of their faces are left; an expression holding more than half of the
    remaining faces must go at once (with r places left and the previous one taken by
    another expression, c faces fit only while 2c <= r + 1), so the draw never gets stuck.
    """
    left: dict[str, list[int]] = {}
    for emotion, level in items:
        left.setdefault(emotion, []).append(level)
    for levels in left.values():
        rng.shuffle(levels)
    order: list[tuple[str, int]] = []
    previous: str | None = None
    for remaining in range(len(items), 0, -1):
        open_names = [name for name, levels in left.items() if levels and name != previous]
        forced = [name for name in open_names if 2 * len(left[name]) > remaining]
        candidates = forced or open_names
        weights = np.array([len(left[name]) for name in candidates], dtype="float64")
        choice = candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]
        order.append((choice, left[choice].pop()))
        previous = choice
    return order


def _schedule(rng: np.random.Generator, levels: Iterable[int]) -> list[dict[str, Any]]:
    """Every expression at each of ``levels`` (neutral at 0 as often), seeded order."""
    level_list = list(levels)
    items = [
        (emotion, 0 if emotion == NEUTRAL else level)
        for emotion in EMOTIONS
        for level in level_list
    ]
    order = _spread(rng, items)
    faces = rng.permutation(np.resize(np.arange(1, N_FACES + 1), len(order)))
    return [
        {"trial": number, "emotion": emotion, "intensity": level, "face": int(face)}
        for number, ((emotion, level), face) in enumerate(zip(order, faces, strict=True), start=1)
    ]


def make_config(seed: int, short: bool = False) -> dict[str, Any]:
    """The session's seeded schedule and everything the page needs to draw it.

    * ``trials``: 42 dicts ``{trial, emotion, intensity, face}``: each expression 6
      times (every expression but neutral twice at each intensity 1, 2, 3; neutral 6
      times at 0), in a seeded order in which no expression comes twice in a row; the
      drawn person (``face`` 1-4) is balanced and shuffled. ``short=True`` gives 14
      trials instead: each expression twice, at intensities 1 and 3 (neutral at 0).
    * ``practice``: 4 unrecorded full-intensity faces (happy, surprised, angry,
      neutral, seeded order) with feedback.
    * ``emotions`` (button order), ``actions``, ``cues`` (:data:`FACE_CUES`) and
      ``levels`` (:data:`LEVEL_WEIGHTS`): the page draws a face as neutral +
      weight x cue, so the stored config says exactly what was shown.
    * ``iti_ms`` and ``feedback_ms`` are for standard time; extended time doubles them
      in the browser. There is no answer deadline, so there is nothing else to extend.
    """
    rng = np.random.default_rng(seed)
    trials = _schedule(rng, SHORT_LEVELS if short else (1, 1, 2, 2, 3, 3))
    practice_rng = np.random.default_rng([seed, 1])
    practice_order = practice_rng.permutation(len(PRACTICE))
    practice = [
        {
            "trial": number,
            "emotion": PRACTICE[int(index)],
            "intensity": 0 if PRACTICE[int(index)] == NEUTRAL else max(LEVEL_WEIGHTS),
            "face": int(number - 1) % N_FACES + 1,
        }
        for number, index in enumerate(practice_order, start=1)
    ]
    return {
        "seed": int(seed),
        "n_trials": len(trials),
        "trials": trials,
        "practice": practice,
        "emotions": list(EMOTIONS),
        "actions": list(ACTIONS),
        "cues": {emotion: dict(cues) for emotion, cues in FACE_CUES.items()},
        "levels": {str(level): weight for level, weight in LEVEL_WEIGHTS.items()},
        "iti_ms": ITI_MS,
        "feedback_ms": FEEDBACK_MS,
    }
