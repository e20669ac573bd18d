"""Anomaly detection over a game's metric vectors: which sessions a person should review.

The rule-based quality flags (SCIENCE.md section 3) catch the crude automations
(``too_uniform``: every RT the same; ``too_fast``: answers before anyone could see the
display). A script that adds a little jitter to its timing, or one that presses the
same key throughout, passes those rules, yet its *metrics* look like no person's: a
flanker congruency effect and a switch cost of zero together, an RT spread a quarter
of the smallest any person showed, half the answers wrong. This module looks at the
metric vector of each session against a reference population of the same game and
puts the sessions that stand out in a review queue, saying why. Nobody is rejected by
it: a suspicious session is one a person should look at.

A session is **suspicious** when any of three things holds:

1. **A rule flag that signals automation** (:data:`BOT_SIGNAL_FLAGS`): ``too_fast``
   or ``too_uniform``. No person produces them (SCIENCE.md section 3 sets their
   thresholds there), so they count whatever the rest says. The other flags
   (``mostly_omissions``, ``focus_lost``, ``ssrt_invalid``, ``one_option_only``,
   ``timing_unreliable``) say the data are thin or the candidate was distracted, which
   people do all the time; they are listed among the reasons of a suspicious session
   but never make one on their own.
2. **The isolation forest** (Liu, Ting & Zhou 2008; scikit-learn's
   :class:`~sklearn.ensemble.IsolationForest`, seeded) fitted on the reference
   population's metric vectors gives an anomaly score above the threshold. The score
   is Liu et al.'s s(x) in (0, 1], higher = isolated in fewer random splits = more
   unusual (it is ``-score_samples``). The threshold is the ``1 - false_alarm_rate``
   quantile (default 0.98) of the reference sessions' *held-out* scores, each scored
   by a forest fitted on the other folds (5, seeded): scored by the forest that learnt
   them, reference sessions look more ordinary than new ones, so a threshold taken
   from their own scores flags more new sessions than it promises. A quantile of the
   reference rather than sklearn's ``contamination``: the reference population is
   meant to be clean, so the rate one can choose honestly is the false-alarm rate,
   not a share of bots. Measured (arrows and stop, 12 seeds each, 400 new normal
   sessions per run, 300 reference sessions): the forest flagged 2.3% of new normal
   sessions on average (2.6% with the in-sample threshold), but anywhere from 0% to
   5.5% in a single run, because the 98th percentile of 300 scores rests on six of
   them; with 600 reference sessions 2.0% (0.5% to 4.25%). Use a reference population
   of many hundreds.
3. **A metric beyond the reference population**: further below the lowest (or above
   the highest) value any reference session showed by more than ``envelope_margin``
   (default 25%) of that extreme's distance from the median. This covers the
   isolation forest's blind spot, measured while building this module: the forest
   learns its splits from the reference population alone, so a new session far
   outside the reference range on one metric lands in the same leaves as the most
   extreme reference sessions and scores like them, no higher (a session answering
   half the trials wrong scored at the reference's 80th-97th percentile). The margin
   keeps a new person's chance of crossing the line small (with normal tails and 300
   reference sessions the line sits near 3.6 SD from the median; measured as above,
   0.4% of new normal sessions crossed it, 0.2% with 600), while a machine's metric
   crosses it by far. A metric constant in the reference population has no margin:
   any other value crosses.

Inputs. One row per session (the index is the session id), one column per metric of
the game (its extractor's ``METRICS`` names); NaN marks an absent metric. Every column
is robust-standardised with the reference population's median and IQR:
``z = (x - median) / (IQR / 1.349)``; 1.349 is the IQR of a standard normal, so z reads
like an ordinary z-score for normally distributed metrics while a few wild reference
sessions cannot stretch the scale the way they stretch an SD. A column whose IQR is 0
(a metric most sessions share, like ``ssrt_valid``) uses its SD instead, and a
constant one uses 1 (raw units); ``scale_sources`` in :meth:`AnomalyDetector.to_dict`
records which. Absent values are imputed with the median, i.e. z = 0: an absent metric
is already a quality matter (no trials of the kind it needs; ``mostly_omissions``), so
it must not also look anomalous, and scikit-learn's own NaN routing would learn
absence from the few reference sessions that show it and make it rare, hence
anomalous. A tree ensemble's splits are invariant to per-column affine maps, so the
standardisation does not change the forest's verdict: it puts every metric on the scale
the reasons report (largest |z| first), and makes the imputation explicit.

Reasons. The metrics "most responsible" are the present metrics with the largest
|robust z|, each with its value and the reference median. That is a heuristic: the
forest isolates sessions where their values are extreme, which is where |z| is large,
but an unusual *combination* of moderate values (a congruency effect and a switch cost
both near zero) shows as moderate z's, and the reviewer should read them together.

The detector is refitted from the reference data whenever it is needed (same data and
seed, same forest, same threshold); :meth:`AnomalyDetector.to_dict` and
:attr:`AnomalyDetector.fingerprint` record its parameters for storage beside the
assessments it produced.

Pure numpy/pandas/scikit-learn; no Django import.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from scipy import stats
from sklearn.ensemble import IsolationForest

#: Bumped when the decision rule or its inputs change; stored with every fingerprint.
DETECTOR_VERSION = 1

#: The quality flags (codes of :mod:`pymetrics.games.quality`) that make a session
#: suspicious on their own, with the reason a reviewer reads. Only these two, because
#: no person produces them; the other flags describe thin data or distraction.
BOT_SIGNAL_FLAGS: Mapping[str, str] = {
    "too_fast": (
        "more than 10% of the responses came faster than 150 ms, quicker than a person can react"
    ),
    "too_uniform": (
        "the response or tapping times were almost identical from one to the next "
        "(coefficient of variation below 0.02), which people do not produce"
    ),
}

DEFAULT_FALSE_ALARM_RATE = 0.02
DEFAULT_ENVELOPE_MARGIN = 0.25
DEFAULT_N_ESTIMATORS = 200
#: How many metrics the reasons name, largest |robust z| first.
TOP_METRICS = 3
#: IQR of the standard normal distribution, 2 x Phi^-1(0.75) = 1.3489795...
IQR_OF_STANDARD_NORMAL = float(2.0 * stats.norm.ppf(0.75))
#: Folds of the cross-fitted threshold (see :func:`_held_out_scores`).
THRESHOLD_FOLDS = 5
#: Below this a reference population has no tail to take a quantile of; a useful one
#: has hundreds of sessions (the tests measure 300).
MIN_REFERENCE_SESSIONS = 10


@dataclass(frozen=True)
class MetricDeviation:
    """How far one metric of a session lies from the reference population."""

    metric: str
    value: float
    reference_median: float
    robust_z: float
    #: beyond the reference population's range by more than the margin (rule 3)
    beyond_reference: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "reference_median": self.reference_median,
            "robust_z": self.robust_z,
            "beyond_reference": self.beyond_reference,
        }


@dataclass(frozen=True)
class SessionAssessment:
    """One session's verdict and the plain-language reasons a reviewer reads."""

    session: Hashable
    #: isolation forest score s(x) in (0, 1]; higher = more unusual
    anomaly_score: float
    #: any of the three rules (module docstring) holds: put it in the review queue
    suspicious: bool
    #: rule 2 alone: the anomaly score is above the detector's threshold
    forest_suspicious: bool
    #: rule 1: the session's flags that signal automation
    bot_flags: tuple[str, ...]
    #: rule 3: metrics beyond the reference population's range, in column order
    beyond_reference: tuple[str, ...]
    #: every quality flag the session carries, sorted
    flags: tuple[str, ...]
    #: the present metrics with the largest |robust z|, largest first
    top_metrics: tuple[MetricDeviation, ...]
    #: metrics absent for this session (imputed with the reference median)
    absent_metrics: tuple[str, ...]
    #: sentences for the reviewer; empty when the session is not suspicious
    reasons: tuple[str, ...]
    #: :attr:`AnomalyDetector.fingerprint` of the detector that judged it
    detector_fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "session": _json_session(self.session),
            "anomaly_score": self.anomaly_score,
            "suspicious": self.suspicious,
            "forest_suspicious": self.forest_suspicious,
            "bot_flags": list(self.bot_flags),
            "beyond_reference": list(self.beyond_reference),
            "flags": list(self.flags),
            "top_metrics": [deviation.to_dict() for deviation in self.top_metrics],
            "absent_metrics": list(self.absent_metrics),
            "reasons": list(self.reasons),
            "detector_fingerprint": self.detector_fingerprint,
        }


@dataclass(frozen=True, eq=False)
class AnomalyDetector:
    """A reference population's robust scales, its isolation forest and thresholds.

    Build it with :func:`fit_anomaly_detector`; arrays are indexed like ``metrics``.
    """

    game: str
    metrics: tuple[str, ...]
    reference_n: int
    medians: np.ndarray
    iqrs: np.ndarray
    scales: np.ndarray
    scale_sources: tuple[str, ...]
    #: smallest and largest value of each metric in the reference population
    reference_low: np.ndarray
    reference_high: np.ndarray
    #: anomaly scores above this are suspicious (rule 2)
    threshold: float
    false_alarm_rate: float
    envelope_margin: float
    seed: int
    n_estimators: int
    max_samples: int
    forest: IsolationForest = field(repr=False)

    # -- scoring ----------------------------------------------------------------------

    def robust_z(self, metrics: pd.DataFrame) -> pd.DataFrame:
        """Each metric as (value - reference median) / scale; NaN stays NaN."""
        values = self._values(metrics)
        return pd.DataFrame(
            (values - self.medians) / self.scales, index=metrics.index, columns=self.metrics
        )

    def anomaly_scores(self, metrics: pd.DataFrame) -> np.ndarray:
        """The isolation forest's s(x) of every row (higher = more unusual)."""
        z = self.robust_z(metrics).to_numpy(dtype="float64")
        if len(z) == 0:
            return np.empty(0, dtype="float64")
        return -self.forest.score_samples(np.nan_to_num(z, nan=0.0))

    def beyond_reference(self, metrics: pd.DataFrame) -> pd.DataFrame:
        """True where a metric lies beyond the reference range by more than the margin."""
        values = self._values(metrics)
        low_limit = self.reference_low - self.envelope_margin * (self.medians - self.reference_low)
        high_limit = self.reference_high + self.envelope_margin * (
            self.reference_high - self.medians
        )
        with np.errstate(invalid="ignore"):
            beyond = (values < low_limit) | (values > high_limit)
        return pd.DataFrame(beyond, index=metrics.index, columns=self.metrics)

    def assess(
        self,
        metrics: pd.DataFrame,
        flags: Mapping[Any, Sequence[str]] | None = None,
    ) -> list[SessionAssessment]:
        """One assessment per row of ``metrics``, in row order.

        ``metrics`` holds this game's metric columns (a missing column counts as absent
        for every session; a column the detector does not know is an error, since a
        misspelt metric would otherwise be silently ignored). ``flags`` maps session
        ids (the index of ``metrics``) to their quality-flag codes.
        """
        self._check_columns(metrics)
        if not metrics.index.is_unique:
            repeated = metrics.index[metrics.index.duplicated()].unique().tolist()
            raise ValueError(f"sessions appear more than once: {repeated[:5]!r}")
        flags = {} if flags is None else flags
        strangers = [session for session in flags if session not in metrics.index]
        if strangers:
            raise ValueError(
                f"flags given for sessions that have no metrics row: {strangers[:5]!r}"
            )
        values = self._values(metrics)
        z = self.robust_z(metrics).to_numpy(dtype="float64")
        scores = self.anomaly_scores(metrics)
        beyond = self.beyond_reference(metrics).to_numpy(dtype=bool)
        fingerprint = self.fingerprint

        assessments = []
        for row, session in enumerate(metrics.index):
            codes = tuple(sorted(set(flags.get(session, ()))))
            bot_flags = tuple(code for code in codes if code in BOT_SIGNAL_FLAGS)
            score = float(scores[row])
            forest_suspicious = score > self.threshold
            outside = tuple(
                name for name, out in zip(self.metrics, beyond[row], strict=True) if out
            )
            present = ~np.isnan(values[row])
            # Largest |z| first; ties keep the column order (a stable sort).
            order = [
                int(i)
                for i in np.argsort(-np.abs(np.where(present, z[row], 0.0)), kind="stable")
                if present[i]
            ]
            top = tuple(
                MetricDeviation(
                    metric=self.metrics[i],
                    value=float(values[row, i]),
                    reference_median=float(self.medians[i]),
                    robust_z=float(z[row, i]),
                    beyond_reference=bool(beyond[row, i]),
                )
                for i in order[:TOP_METRICS]
            )
            suspicious = bool(bot_flags) or forest_suspicious or bool(outside)
            assessments.append(
                SessionAssessment(
                    session=session,
                    anomaly_score=score,
                    suspicious=suspicious,
                    forest_suspicious=forest_suspicious,
                    bot_flags=bot_flags,
                    beyond_reference=outside,
                    flags=codes,
                    top_metrics=top,
                    absent_metrics=tuple(
                        name for name, here in zip(self.metrics, present, strict=True) if not here
                    ),
                    reasons=self._reasons(
                        values=values[row],
                        score=score,
                        codes=codes,
                        bot_flags=bot_flags,
                        forest_suspicious=forest_suspicious,
                        outside=outside,
                        top=top,
                    )
                    if suspicious
                    else (),
                    detector_fingerprint=fingerprint,
                )
            )
        return assessments

    # -- storage ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The detector's parameters as plain JSON types, with its fingerprint."""
        parameters = self._parameters()
        return {**parameters, "fingerprint": _fingerprint(parameters)}

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the canonical JSON of :meth:`to_dict` (without itself)."""
        return _fingerprint(self._parameters())

    def _parameters(self) -> dict[str, Any]:
        def per_metric(array: np.ndarray) -> dict[str, float]:
            return {name: float(value) for name, value in zip(self.metrics, array, strict=True)}

        return {
            "detector_version": DETECTOR_VERSION,
            "method": "isolation_forest",
            "game": self.game,
            "metrics": list(self.metrics),
            "reference_n": self.reference_n,
            "medians": per_metric(self.medians),
            "iqrs": per_metric(self.iqrs),
            "scales": per_metric(self.scales),
            "scale_sources": dict(zip(self.metrics, self.scale_sources, strict=True)),
            "reference_low": per_metric(self.reference_low),
            "reference_high": per_metric(self.reference_high),
            "threshold": float(self.threshold),
            "false_alarm_rate": self.false_alarm_rate,
            "envelope_margin": self.envelope_margin,
            "bot_signal_flags": sorted(BOT_SIGNAL_FLAGS),
            "seed": self.seed,
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "sklearn_version": sklearn.__version__,
        }

    # -- helpers ----------------------------------------------------------------------

    def _check_columns(self, metrics: pd.DataFrame) -> None:
        unknown = [str(name) for name in metrics.columns if name not in self.metrics]
        if unknown:
            raise ValueError(
                f"unknown metric column(s) for the {self.game} detector: {', '.join(unknown)}; "
                f"it knows {', '.join(self.metrics)}"
            )

    def _values(self, metrics: pd.DataFrame) -> np.ndarray:
        self._check_columns(metrics)
        return _numeric_matrix(metrics.reindex(columns=list(self.metrics)), self.metrics)

    def _reasons(
        self,
        *,
        values: np.ndarray,
        score: float,
        codes: tuple[str, ...],
        bot_flags: tuple[str, ...],
        forest_suspicious: bool,
        outside: tuple[str, ...],
        top: tuple[MetricDeviation, ...],
    ) -> tuple[str, ...]:
        reasons = [f"Rule flag {code}: {BOT_SIGNAL_FLAGS[code]}." for code in bot_flags]
        if forest_suspicious:
            described = "; ".join(
                f"{deviation.metric} = {deviation.value:.4g} (reference median "
                f"{deviation.reference_median:.4g}, robust z {deviation.robust_z:+.2f})"
                for deviation in top
            )
            percentile = 100.0 * (1.0 - self.false_alarm_rate)
            reasons.append(
                f"The isolation forest found this session unusual: anomaly score {score:.3f} "
                f"is above {self.threshold:.3f}, the {percentile:g}th percentile of the "
                f"reference population. Most unusual metrics: {described or 'none present'}."
            )
        for name in outside:
            i = self.metrics.index(name)
            below = values[i] < self.medians[i]
            extreme = self.reference_low[i] if below else self.reference_high[i]
            reasons.append(
                f"{name} = {values[i]:.4g} is far {'below' if below else 'above'} every "
                f"session of the reference population ({'lowest' if below else 'highest'} "
                f"{extreme:.4g}, median {self.medians[i]:.4g})."
            )
        others = [code for code in codes if code not in BOT_SIGNAL_FLAGS]
        if others:
            reasons.append(
                f"Also flagged: {', '.join(others)} (data-quality flags, not by themselves "
                "a sign of automation)."
            )
        return tuple(reasons)


def fit_anomaly_detector(
    *,
    game: str,
    metrics: pd.DataFrame,
    seed: int = 0,
    columns: Sequence[str] | None = None,
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE,
    envelope_margin: float = DEFAULT_ENVELOPE_MARGIN,
    n_estimators: int = DEFAULT_N_ESTIMATORS,
) -> AnomalyDetector:
    """Fit the detector on a reference population of ``game``'s sessions.

    ``metrics`` has one row per reference session and one column per metric (NaN =
    absent); ``columns`` picks the metrics to use (default: every column). Raises
    ValueError for fewer than two sessions, an unknown column, a metric with no value
    in the reference population, a non-numeric or infinite value, or parameters out of
    range.
    """
    names = tuple(str(name) for name in (metrics.columns if columns is None else columns))
    if not names:
        raise ValueError(f"no metric columns to fit the {game} detector on")
    unknown = [name for name in names if name not in metrics.columns]
    if unknown:
        raise ValueError(
            f"unknown metric column(s) for {game}: {', '.join(unknown)}; "
            f"the reference population has {', '.join(map(str, metrics.columns))}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"metric columns repeated: {', '.join(names)}")
    if len(metrics) < MIN_REFERENCE_SESSIONS:
        raise ValueError(
            f"the reference population of {game} has {len(metrics)} session(s); "
            f"the detector needs at least {MIN_REFERENCE_SESSIONS}"
        )
    if not 0.0 < false_alarm_rate < 0.5:
        raise ValueError(f"false_alarm_rate must be in (0, 0.5), got {false_alarm_rate}")
    if not (math.isfinite(envelope_margin) and envelope_margin >= 0.0):
        raise ValueError(f"envelope_margin must be >= 0, got {envelope_margin}")
    if n_estimators < 1:
        raise ValueError(f"n_estimators must be >= 1, got {n_estimators}")

    values = _numeric_matrix(metrics, names)
    empty = [name for name, column in zip(names, values.T, strict=True) if np.isnan(column).all()]
    if empty:
        raise ValueError(
            f"metric(s) with no value in the reference population of {game}: "
            f"{', '.join(empty)}; leave them out with columns="
        )
    medians = np.nanmedian(values, axis=0)
    q1, q3 = np.nanquantile(values, [0.25, 0.75], axis=0)
    iqrs = q3 - q1
    counts = (~np.isnan(values)).sum(axis=0)
    with np.errstate(invalid="ignore"):
        sds = np.where(counts >= 2, np.nanstd(values, axis=0, ddof=1), np.nan)
    scales = np.empty(len(names), dtype="float64")
    sources: list[str] = []
    for i in range(len(names)):
        if iqrs[i] > 0:
            scales[i], source = iqrs[i] / IQR_OF_STANDARD_NORMAL, "iqr"
        elif np.isfinite(sds[i]) and sds[i] > 0:
            scales[i], source = sds[i], "sd"
        else:
            scales[i], source = 1.0, "unit"
        sources.append(source)

    z = np.nan_to_num((values - medians) / scales, nan=0.0)
    max_samples = min(256, len(metrics))
    forest = _forest(z, n_estimators=n_estimators, max_samples=max_samples, seed=seed)
    held_out = _held_out_scores(z, n_estimators=n_estimators, seed=seed)
    return AnomalyDetector(
        game=game,
        metrics=names,
        reference_n=len(metrics),
        medians=medians,
        iqrs=iqrs,
        scales=scales,
        scale_sources=tuple(sources),
        reference_low=np.nanmin(values, axis=0),
        reference_high=np.nanmax(values, axis=0),
        threshold=float(np.quantile(held_out, 1.0 - false_alarm_rate)),
        false_alarm_rate=float(false_alarm_rate),
        envelope_margin=float(envelope_margin),
        seed=int(seed),
        n_estimators=int(n_estimators),
        max_samples=max_samples,
        forest=forest,
    )


def _forest(z: np.ndarray, *, n_estimators: int, max_samples: int, seed: int) -> IsolationForest:
    return IsolationForest(
        n_estimators=n_estimators, max_samples=max_samples, random_state=seed, n_jobs=1
    ).fit(z)


def _held_out_scores(z: np.ndarray, *, n_estimators: int, seed: int) -> np.ndarray:
    """Every reference session's anomaly score from a forest fitted without it.

    Scored by the forest that learnt them, reference sessions look more ordinary than
    new sessions do, so a threshold taken from those scores flags more new sessions
    than it promises. Each of THRESHOLD_FOLDS folds (a seeded shuffle) is scored by a
    forest fitted on the others, so the scores behave like those of new sessions.
    """
    n = len(z)
    folds = np.random.default_rng(seed).permutation(n) % min(THRESHOLD_FOLDS, n)
    scores = np.empty(n, dtype="float64")
    for fold in np.unique(folds):
        held = folds == fold
        training = z[~held]
        forest = _forest(
            training, n_estimators=n_estimators, max_samples=min(256, len(training)), seed=seed
        )
        scores[held] = -forest.score_samples(z[held])
    return scores


def _numeric_matrix(metrics: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """The named columns as float64; a non-numeric or infinite value is an error."""
    columns = []
    for name in names:
        try:
            column = pd.to_numeric(metrics[name], errors="raise").to_numpy(dtype="float64")
        except (TypeError, ValueError) as error:
            raise ValueError(f"metric {name!r} has a non-numeric value: {error}") from None
        if np.isinf(column).any():
            raise ValueError(f"metric {name!r} has an infinite value")
        columns.append(column)
    if not columns:
        return np.empty((len(metrics), 0), dtype="float64")
    return np.column_stack(columns)


def _fingerprint(parameters: Mapping[str, Any]) -> str:
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _json_session(session: Hashable) -> str | int:
    """A session id as JSON: integers and strings as they are, anything else as text."""
    if isinstance(session, bool):
        return str(session)
    if isinstance(session, int | np.integer):
        return int(session)
    if isinstance(session, str):
        return session
    return str(session)
