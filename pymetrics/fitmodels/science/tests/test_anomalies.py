"""Tests for the anomaly detector over metric vectors (review queue for bot-like sessions).

The recall test plays the real game bots (``pymetrics.games``, pure like this package)
and turns some of their sessions into machines' sessions by rewriting the fields the
extractors read. The unit tests use small hand-made populations whose medians, IQRs
and z-scores are worked out in the comments.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.ensemble import IsolationForest

from pymetrics.fitmodels.science.anomalies import (
    IQR_OF_STANDARD_NORMAL,
    AnomalyDetector,
    SessionAssessment,
    fit_anomaly_detector,
)
from pymetrics.games.arrows.spec import correct_answer
from pymetrics.games.registry import get_game

# --- simulated sessions (the loop of pymetrics.scoring.services.simulated_population) --

#: Trees of the unit tests' forests: enough for the behaviour they check, and fast.
TREES = 25

MACHINE_RT_MS = 400.0
#: SD of the jittered machine's RTs: CV = 12 / 400 = 0.03, above too_uniform's 0.02.
MACHINE_JITTER_MS = 12.0
#: 13 + 14 + 13 = 40 bot-like sessions per game, in this order.
MACHINE_KINDS: tuple[str, ...] = ("constant",) * 13 + ("jittered",) * 14 + ("same_key",) * 13


def machine_events(
    events: list[dict[str, Any]], kind: str, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """A bot's session as an automation tool would have played it.

    ``constant``: every RT exactly 400 ms. ``jittered``: 400 ms plus normal noise of
    SD 12 ms, just enough to pass the too_uniform rule. ``same_key``: always the left
    key (``correct`` recomputed). Only the ``response`` and ``trial_end`` fields the
    arrows and stop extractors read are rewritten; which trials got a response is the
    bot's, so the stop task's staircase stays the one it played.
    """
    rewritten = []
    for event in events:
        data = dict(event["data"])
        answered = event["type"] in ("response", "trial_end")
        if kind in ("constant", "jittered") and answered and data.get("rt_ms") is not None:
            noise = 0.0 if kind == "constant" else float(rng.normal(0.0, MACHINE_JITTER_MS))
            data["rt_ms"] = round(MACHINE_RT_MS + noise, 1)
        if kind == "same_key" and answered and data.get("key") is not None:
            data["key"] = "left"
        if kind == "same_key" and event["type"] == "trial_end" and data.get("correct") is not None:
            if "centre" in data:  # arrows
                right = correct_answer(bool(data["congruent"]), data["rule"], data["centre"])
            else:  # stop: a go trial with a press
                right = data["direction"]
            data["correct"] = int(right == "left")
        rewritten.append({**event, "data": data})
    return rewritten


def simulated_sessions(
    game_key: str,
    sessions: int,
    rng: np.random.Generator,
    kinds: tuple[str, ...] | None = None,
) -> tuple[pd.DataFrame, dict[Hashable, list[str]]]:
    """Metrics and quality flags of ``sessions`` bots (machines where ``kinds`` says)."""
    game = get_game(game_key)
    frames = []
    for session in range(sessions):
        config = game.make_config(int(rng.integers(0, 2**31 - 1)))
        events = game.play(game.sample_latent(rng), rng, config)
        if kinds is not None:
            events = machine_events(events, kinds[session], rng)
        frame = pd.DataFrame(events, columns=["seq", "t", "type", "data"])
        frame.insert(0, "session", session)
        frames.append(frame)
    events_frame = pd.concat(frames, ignore_index=True)
    trials = game.events_to_trials(events_frame[events_frame["type"].isin(game.trial_event_types)])
    result = game.extract(trials)
    return result.metrics, dict(result.flags)


def count(assessments: list[SessionAssessment], attribute: str) -> dict[str, int]:
    """How many bot-like sessions of each kind have ``attribute`` set."""
    totals = dict.fromkeys(dict.fromkeys(MACHINE_KINDS), 0)
    for assessment, kind in zip(assessments, MACHINE_KINDS, strict=True):
        totals[kind] += bool(getattr(assessment, attribute))
    return totals


@pytest.fixture(scope="module")
def mixed_populations() -> dict[str, tuple[list[SessionAssessment], list[SessionAssessment]]]:
    """Per game: assessments of 400 fresh normal sessions and of 40 bot-like ones.

    The detector is fitted on 300 other normal sessions of the same game (seed 1).
    """
    assessed = {}
    for game_key in ("arrows", "stop"):
        rng = np.random.default_rng(1)
        reference, _ = simulated_sessions(game_key, 300, rng)
        normal, normal_flags = simulated_sessions(game_key, 400, rng)
        machines, machine_flags = simulated_sessions(game_key, 40, rng, MACHINE_KINDS)
        detector = fit_anomaly_detector(game=game_key, metrics=reference, seed=0)
        assessed[game_key] = (
            detector.assess(normal, normal_flags),
            detector.assess(machines, machine_flags),
        )
    return assessed


# --- the recall test ------------------------------------------------------------------


def test_bot_like_sessions_are_caught_with_few_false_alarms(
    mixed_populations: dict[str, tuple[list[SessionAssessment], list[SessionAssessment]]],
) -> None:
    # given 400 normal and 40 bot-like sessions per game, judged against 300 others
    # when we count the suspicious ones
    figures = {
        game_key: (
            sum(a.suspicious for a in machines),
            sum(a.suspicious for a in normal),
        )
        for game_key, (normal, machines) in mixed_populations.items()
    }
    # then (caught of 40, false alarms of 400), exactly as seeded
    assert figures == {"arrows": (40, 6), "stop": (40, 8)}
    for caught, false_alarms in figures.values():
        assert caught >= 36  # recall >= 90%
        assert false_alarms < 20  # < 5% of normal sessions


def test_the_forest_catches_what_the_rules_miss(
    mixed_populations: dict[str, tuple[list[SessionAssessment], list[SessionAssessment]]],
) -> None:
    # given the same sessions, broken down by bot kind and by the rule that fired
    arrows_normal, arrows_machines = mixed_populations["arrows"]
    stop_normal, stop_machines = mixed_populations["stop"]

    # then the quality-flag rule catches the constant machines only (too_uniform): the
    # jittered ones (CV 0.03) and the one-key ones pass it
    assert count(arrows_machines, "bot_flags") == {"constant": 13, "jittered": 0, "same_key": 0}
    assert count(stop_machines, "bot_flags") == {"constant": 13, "jittered": 0, "same_key": 0}

    # and in arrows the forest alone catches every jittered machine, whose metrics
    # (congruency effect and switch cost both near 0) stay inside the reference range;
    # one-key sessions (accuracy 0.5) are far outside it, where the forest is weak
    # and the beyond-the-reference rule takes over
    assert count(arrows_machines, "forest_suspicious") == {
        "constant": 13,
        "jittered": 14,
        "same_key": 5,
    }
    assert count(arrows_machines, "beyond_reference") == {
        "constant": 0,
        "jittered": 0,
        "same_key": 13,
    }
    forest_only = [
        kind
        for a, kind in zip(arrows_machines, MACHINE_KINDS, strict=True)
        if a.forest_suspicious and not a.bot_flags and not a.beyond_reference
    ]
    assert forest_only == ["jittered"] * 14

    # in stop the machines' go RT SD (0 or about 12 ms; people 48-197 ms) puts them
    # beyond the reference, and the forest adds little
    assert count(stop_machines, "forest_suspicious") == {
        "constant": 12,
        "jittered": 9,
        "same_key": 2,
    }
    assert count(stop_machines, "beyond_reference") == {
        "constant": 13,
        "jittered": 14,
        "same_key": 13,
    }

    # and the false alarms come mostly from the forest, by construction about 2% of 400
    assert sum(a.forest_suspicious for a in arrows_normal) == 6
    assert sum(bool(a.beyond_reference) for a in arrows_normal) == 0
    assert sum(a.forest_suspicious for a in stop_normal) == 7
    assert [a.beyond_reference for a in stop_normal if a.beyond_reference] == [
        ("go_omission_rate",)
    ]
    assert sum(bool(a.bot_flags) for a in arrows_normal + stop_normal) == 0


def test_a_jittered_machine_is_explained_by_its_metrics(
    mixed_populations: dict[str, tuple[list[SessionAssessment], list[SessionAssessment]]],
) -> None:
    # given the first jittered machine in arrows (session 13)
    _, machines = mixed_populations["arrows"]
    assessment = machines[13]
    # then its reasons are the forest's, naming the RT costs that vanished
    assert assessment.bot_flags == ()
    assert assessment.forest_suspicious
    assert assessment.reasons[0].startswith("The isolation forest found this session unusual")
    named = {deviation.metric for deviation in assessment.top_metrics}
    assert {"congruency_effect_rt_ms", "switch_cost_rt_ms"} <= named


# --- robust standardisation -----------------------------------------------------------


def hand_reference() -> pd.DataFrame:
    """Eleven sessions whose median, IQR and SD are easy to work out by hand."""
    return pd.DataFrame(
        {
            # sorted: median = 6 (6th of 11); linear quantiles at positions 2.5 and 7.5
            # give Q1 = 3.5 and Q3 = 8.5, so IQR = 5
            "spread": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 100.0],
            # nine 0s and two 1s: median 0, IQR 0, so the SD (ddof=1) is the scale:
            # mean 2/11, SD = sqrt((9 (2/11)^2 + 2 (9/11)^2) / 10) = sqrt(198/1210)
            "mostly_zero": [0.0] * 9 + [1.0, 1.0],
            # constant: no spread at all, scale 1 (raw units)
            "constant": [5.0] * 11,
        },
        index=pd.Index([f"r{i}" for i in range(11)], name="session"),
    )


def test_robust_standardisation_matches_hand_computation() -> None:
    # given the hand-made reference
    detector = fit_anomaly_detector(
        game="demo", n_estimators=TREES, metrics=hand_reference(), seed=0
    )
    # then medians, IQRs and scales are the hand-computed ones
    assert detector.medians.tolist() == [6.0, 0.0, 5.0]
    assert detector.iqrs.tolist() == [5.0, 0.0, 0.0]
    assert detector.iqrs[0] == stats.iqr(hand_reference()["spread"])
    assert detector.scale_sources == ("iqr", "sd", "unit")
    assert detector.scales[0] == pytest.approx(5.0 / 1.3489795003921634, rel=1e-15)
    assert detector.scales[1] == pytest.approx(math.sqrt(198 / 1210), rel=1e-12)
    assert detector.scales[2] == 1.0
    assert pytest.approx(2 * stats.norm.ppf(0.75), rel=1e-15) == IQR_OF_STANDARD_NORMAL

    # when a session is standardised
    z = detector.robust_z(
        pd.DataFrame({"spread": [16.0], "mostly_zero": [1.0], "constant": [7.0]}, index=["s"])
    )
    # then z = (16 - 6) / (5 / 1.34898) = 2.69796; 1 / 0.404520 = 2.47207; (7 - 5) / 1 = 2
    assert z.to_numpy()[0].tolist() == pytest.approx([2.6979590, 2.4720661, 2.0], abs=1e-6)


def test_reasons_name_the_metric_that_departs() -> None:
    # given 300 reference sessions of three independent standard-normal metrics
    rng = np.random.default_rng(3)
    reference = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    detector = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    # when a session is ordinary on a and c but 8 robust z above the median on b
    b = float(detector.medians[1] + 8.0 * detector.scales[1])
    session = pd.DataFrame(
        {"a": [detector.medians[0]], "b": [b], "c": [detector.medians[2] + 0.1]},
        index=["odd"],
    )
    [assessment] = detector.assess(session)
    # then b leads the list with its value, the reference median and z = 8
    top = assessment.top_metrics[0]
    assert (top.metric, top.value, top.reference_median) == ("b", b, detector.medians[1])
    assert top.robust_z == pytest.approx(8.0, rel=1e-12)
    assert [d.metric for d in assessment.top_metrics] == ["b", "c", "a"]
    # and it is beyond the reference range (its maximum z is far below 8), so suspicious
    assert assessment.beyond_reference == ("b",)
    assert assessment.suspicious
    assert any(reason.startswith("b = ") and "far above" in reason for reason in assessment.reasons)


def test_absent_metrics_are_imputed_with_the_reference_median() -> None:
    # given a reference whose column b misses some values
    rng = np.random.default_rng(4)
    reference = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    reference.loc[[3, 10, 20], "b"] = np.nan
    detector = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    # then the median ignores the absent values
    assert detector.medians[1] == np.median(reference["b"].dropna())
    # when a session lacks b, and another has b at the median
    sessions = pd.DataFrame({"a": [1.5, 1.5], "b": [np.nan, detector.medians[1]]}, index=[1, 2])
    absent, at_median = detector.assess(sessions)
    # then both get the same score, and the absent one says b was absent
    assert absent.anomaly_score == at_median.anomaly_score
    assert absent.absent_metrics == ("b",)
    assert [d.metric for d in absent.top_metrics] == ["a"]
    assert not absent.beyond_reference


def test_a_missing_column_counts_as_absent_for_every_session() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    detector = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    [assessment] = detector.assess(pd.DataFrame({"a": [0.2]}, index=["x"]))
    assert assessment.absent_metrics == ("b",)


def test_a_game_with_a_single_metric() -> None:
    # given a one-metric game: reference values 10, 11, ..., 29
    reference = pd.DataFrame({"taps_per_s": np.arange(10.0, 30.0)})
    detector = fit_anomaly_detector(game="tapping", n_estimators=TREES, metrics=reference, seed=0)
    # median 19.5; Q1 = 14.75, Q3 = 24.25 (positions 4.75 and 14.25), IQR 9.5
    assert (detector.medians[0], detector.iqrs[0]) == (19.5, 9.5)
    # when one session taps at 19.5 and one at 60 (far above the highest, 29)
    typical, fast = detector.assess(pd.DataFrame({"taps_per_s": [19.5, 60.0]}, index=["t", "f"]))
    # then z = (60 - 19.5) / (9.5 / 1.34898) = 5.75091, and only the fast one is suspicious
    assert fast.top_metrics[0].robust_z == pytest.approx(5.7509126, abs=1e-6)
    assert (typical.suspicious, fast.suspicious) == (False, True)
    assert fast.beyond_reference == ("taps_per_s",)


# --- rule flags -----------------------------------------------------------------------


def test_a_bot_signal_flag_makes_a_session_suspicious_whatever_the_forest_says() -> None:
    rng = np.random.default_rng(6)
    reference = pd.DataFrame(rng.normal(size=(100, 2)), columns=["a", "b"])
    detector = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    # given three sessions at the reference median
    sessions = pd.DataFrame(
        {"a": [detector.medians[0]] * 3, "b": [detector.medians[1]] * 3}, index=[1, 2, 3]
    )
    flags = {1: ["too_uniform"], 2: ["mostly_omissions", "focus_lost"], 3: []}
    uniform, distracted, clean = detector.assess(sessions, flags)
    # then the forest finds none of them unusual
    assert [s.forest_suspicious for s in (uniform, distracted, clean)] == [False] * 3
    # and the too_uniform one is suspicious on its flag alone, with the reason
    assert (uniform.suspicious, uniform.bot_flags) == (True, ("too_uniform",))
    assert uniform.reasons[0].startswith("Rule flag too_uniform: the response or tapping")
    # while data-quality flags do not make a session suspicious
    assert (distracted.suspicious, distracted.flags) == (False, ("focus_lost", "mostly_omissions"))
    assert distracted.reasons == ()
    assert clean.suspicious is False


# --- serialisation and refitting ------------------------------------------------------


def test_assessments_and_detector_serialise_to_plain_json() -> None:
    reference = hand_reference()
    detector = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    sessions = pd.DataFrame(
        {"spread": [np.nan, 500.0], "mostly_zero": [0.0, 0.0], "constant": [5.0, 5.0]},
        index=pd.Index([np.int64(7), np.int64(8)]),
    )
    absent, wild = detector.assess(sessions, {np.int64(8): ["too_fast"]})
    stored = json.loads(json.dumps([absent.to_dict(), wild.to_dict()], allow_nan=False))
    assert stored[0]["session"] == 7
    assert stored[0]["absent_metrics"] == ["spread"]
    assert stored[1]["bot_flags"] == ["too_fast"]
    assert stored[1]["beyond_reference"] == ["spread"]
    assert stored[1]["top_metrics"][0] == {
        "metric": "spread",
        "value": 500.0,
        "reference_median": 6.0,
        # (500 - 6) / (5 / 1.3489795) = 133.2791...
        "robust_z": pytest.approx(133.279175, abs=1e-5),
        "beyond_reference": True,
    }
    assert stored[1]["detector_fingerprint"] == detector.fingerprint

    parameters = json.loads(json.dumps(detector.to_dict(), allow_nan=False))
    assert parameters["reference_n"] == 11
    assert parameters["medians"] == {"spread": 6.0, "mostly_zero": 0.0, "constant": 5.0}
    assert parameters["iqrs"] == {"spread": 5.0, "mostly_zero": 0.0, "constant": 0.0}
    assert parameters["scale_sources"] == {"spread": "iqr", "mostly_zero": "sd", "constant": "unit"}
    assert parameters["reference_low"]["spread"] == 1.0
    assert parameters["reference_high"]["spread"] == 100.0
    assert parameters["threshold"] == detector.threshold
    assert parameters["fingerprint"] == detector.fingerprint


def test_refitting_the_same_reference_gives_the_same_detector() -> None:
    rng = np.random.default_rng(8)
    reference = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    first = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    again = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=0)
    other_seed = fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=reference, seed=1)
    assert first.to_dict() == again.to_dict()
    assert first.fingerprint != other_seed.fingerprint


def test_the_threshold_is_the_quantile_of_held_out_scores() -> None:
    # given a reference population, and the procedure redone with sklearn directly:
    # folds = seeded permutation mod 5, each fold scored by a forest fitted on the rest
    rng = np.random.default_rng(9)
    reference = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    detector = fit_anomaly_detector(
        game="demo", n_estimators=TREES, metrics=reference, seed=4, false_alarm_rate=0.1
    )
    z = detector.robust_z(reference).to_numpy()
    folds = np.random.default_rng(4).permutation(50) % 5
    held_out = np.empty(50)
    for fold in range(5):
        forest = IsolationForest(n_estimators=TREES, max_samples=40, random_state=4)
        forest.fit(z[folds != fold])
        held_out[folds == fold] = -forest.score_samples(z[folds == fold])
    # then the detector's threshold is their 90th percentile
    assert detector.threshold == np.quantile(held_out, 0.9)
    # and its scores are those of one forest fitted on every reference session
    whole = IsolationForest(n_estimators=TREES, max_samples=50, random_state=4).fit(z)
    assert detector.anomaly_scores(reference).tolist() == (-whole.score_samples(z)).tolist()


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metrics", "options", "message"),
    [
        pytest.param(
            pd.DataFrame({"a": pd.Series([], dtype="float64")}),
            {},
            "reference population of demo has 0 session",
            id="empty-reference",
        ),
        pytest.param(
            pd.DataFrame({"a": np.arange(12.0)}),
            {"columns": ["a", "nope"]},
            "unknown metric column.*nope",
            id="unknown-reference-column",
        ),
        pytest.param(
            pd.DataFrame({"a": np.arange(12.0), "b": [np.nan] * 12}),
            {},
            "no value in the reference population of demo: b",
            id="all-absent-column",
        ),
        pytest.param(
            pd.DataFrame({"a": [*np.arange(11.0), np.inf]}),
            {},
            "metric 'a' has an infinite value",
            id="infinite-value",
        ),
        pytest.param(
            pd.DataFrame({"a": np.arange(12.0)}),
            {"false_alarm_rate": 0.0},
            "false_alarm_rate must be in",
            id="bad-false-alarm-rate",
        ),
        pytest.param(
            pd.DataFrame(index=range(12)),
            {},
            "no metric columns",
            id="no-columns",
        ),
    ],
)
def test_fit_refuses_bad_input(
    metrics: pd.DataFrame, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=metrics, **options)


@pytest.fixture
def small_detector() -> AnomalyDetector:
    return fit_anomaly_detector(game="demo", n_estimators=TREES, metrics=hand_reference(), seed=0)


def test_assess_refuses_unknown_columns(small_detector: AnomalyDetector) -> None:
    with pytest.raises(ValueError, match=r"unknown metric column\(s\) for the demo detector: sprd"):
        small_detector.assess(pd.DataFrame({"sprd": [1.0]}, index=["s"]))


def test_assess_refuses_flags_of_sessions_without_metrics(small_detector: AnomalyDetector) -> None:
    with pytest.raises(ValueError, match="flags given for sessions that have no metrics row"):
        small_detector.assess(pd.DataFrame({"spread": [1.0]}, index=["s"]), {"t": ["too_fast"]})


def test_assess_of_no_sessions_is_empty(small_detector: AnomalyDetector) -> None:
    assert small_detector.assess(pd.DataFrame({"spread": pd.Series([], dtype="float64")})) == []
