"""Trait scores checked against z-scores, percentiles and intervals worked out by hand."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.psychometrics.inference import (
    INTERVAL_Z,
    RESULT_COLUMNS,
    Z_CLIP,
    empirical_percentile,
    infer_traits,
    metric_z_scores,
    trait_raw_scores,
)
from pymetrics.psychometrics.norms import Distribution, NormTableData
from pymetrics.psychometrics.trait_map import load_trait_map

NAN = math.nan
TRAIT_MAP = load_trait_map(1)


def _dist(n: int, mean: float, sd: float) -> Distribution:
    # Inference never reads the stored percentiles; any 99 numbers do.
    return Distribution(n=n, mean=mean, sd=sd, percentiles=(mean,) * 99)


# A hand-made norm table (the numbers of test_norms' population, plus a few more):
NORMS = NormTableData(
    metrics={
        "digits.forward_span": _dist(5, 6.0, 2.0),
        "arrows.congruency_effect_rt_ms": _dist(5, 50.0, 10.0),
        "keypresses.taps_per_s": _dist(4, 5.0, 2.0),
        "arrows.rt_mean_ms": _dist(5, 700.0, 100.0),
        "stop.ssrt_ms": _dist(5, 200.0, 20.0),
        "arrows.accuracy": _dist(5, 0.5, 0.25),
        "balloons.adjusted_pumps": _dist(5, 30.0, 10.0),
        # keypresses.iti_cv and the tower metrics have no norm.
    },
    traits={
        "attention": _dist(5, 0.0, math.sqrt(0.5)),
        "effort": _dist(4, 0.0, 1.0),
        "decision_making": _dist(5, 0.0, 1.0),
        "focus": _dist(5, 0.0, math.sqrt(0.625)),
        # risk_tolerance and the rest: no trait norm.
    },
    trait_raw_scores={
        "attention": (-1.0, 0.0, 0.0, 0.0, 1.0),
        "effort": (-1.5, 0.5, 0.5, 0.5),
        "decision_making": (-1.0, -1.0, 0.0, 1.0, 1.0),
        "focus": (-1.0, -0.5, 0.0, 0.5, 1.0),
    },
)

# Candidates (metric z in brackets, sign applied where the trait uses -1):
#   c1: span 8 (+1), congruency 40 (-1 -> +1), taps 6 (+0.5), rt 800 (+1),
#       ssrt 240 (+2 -> -2), accuracy 0.75 (+1), pumps 40 (+1)
#   c2: span 16 (z 5 -> clipped 4), congruency 50 (0), ssrt 240, iti_cv 0.1 (no norm)
#   c3: span 6 (0), congruency absent
#   c4: every metric absent
CANDIDATES = pd.DataFrame(
    {
        "digits.forward_span": [8, 16, 6, NAN],
        "arrows.congruency_effect_rt_ms": [40, 50, NAN, NAN],
        "keypresses.taps_per_s": [6, NAN, NAN, NAN],
        "arrows.rt_mean_ms": [800, NAN, NAN, NAN],
        "stop.ssrt_ms": [240, 240, NAN, NAN],
        "keypresses.iti_cv": [NAN, 0.1, NAN, NAN],
        "arrows.accuracy": [0.75, NAN, NAN, NAN],
        "balloons.adjusted_pumps": [40, NAN, NAN, NAN],
        "unknown.metric": [1, 2, 3, 4],
    },
    index=pd.Index(["c1", "c2", "c3", "c4"], name="session"),
)


def _row(result: pd.DataFrame, person: str, trait: str) -> pd.Series:
    rows = result[(result["person"] == person) & (result["trait"] == trait)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_constants() -> None:
    assert Z_CLIP == 4.0
    assert INTERVAL_Z == 1.645


def test_metric_z_scores_clip_at_4_and_keep_absent() -> None:
    frame = pd.DataFrame(
        {
            # (8-6)/2 = 1; (16-6)/2 = 5 -> 4; (-3-6)/2 = -4.5 -> -4; absent stays absent
            "digits.forward_span": [8, 16, -3, NAN],
            "unknown.metric": [1, 2, 3, 4],
            # (40-50)/10 = -1; (50-50)/10 = 0; infinite is absent; (80-50)/10 = 3
            "arrows.congruency_effect_rt_ms": [40, 50, math.inf, 80],
        },
        index=["a", "b", "c", "d"],
    )
    z = metric_z_scores(frame, NORMS)
    assert list(z.columns) == ["digits.forward_span", "arrows.congruency_effect_rt_ms"]
    assert list(z.index) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(z.to_numpy(), [[1.0, -1.0], [4.0, 0.0], [-4.0, NAN], [NAN, 3.0]])


def test_trait_raw_scores_by_hand() -> None:
    raw = trait_raw_scores(CANDIDATES, NORMS, TRAIT_MAP)
    assert list(raw.index) == ["c1", "c2", "c3", "c4"]
    expected_columns = []
    for trait in TRAIT_MAP.traits:
        expected_columns += [trait.name, f"{trait.name}__present"]
    assert list(raw.columns) == expected_columns
    # attention: c1 (+1 + +1)/2 = 1; c2 (4 + 0)/2 = 2 (5 unclipped would give 2.5);
    # c3 1 of 2 present = exactly half -> scored, 0; c4 nothing -> NaN
    np.testing.assert_array_equal(raw["attention"], [1.0, 2.0, 0.0, NAN])
    np.testing.assert_array_equal(raw["attention__present"], [2, 2, 1, 0])
    # focus = mean(-z ssrt, -z iti_cv, +z accuracy): c1 (-2 + 1)/2 = -0.5 with 2 of 3;
    # c2 has ssrt and iti_cv, but iti_cv has no norm -> 1 of 3 -> not scorable
    np.testing.assert_array_equal(raw["focus"], [-0.5, NAN, NAN, NAN])
    np.testing.assert_array_equal(raw["focus__present"], [2, 1, 0, 0])
    # decision_making: rt only, 1 of 3 -> not scorable even for c1
    np.testing.assert_array_equal(raw["decision_making"], [NAN] * 4)
    np.testing.assert_array_equal(raw["decision_making__present"], [1, 0, 0, 0])
    assert raw["attention__present"].dtype == np.int64


def test_negative_sign_flips_the_metric() -> None:
    # attention uses -z congruency: congruency 70 (z +2) alone is 1 of 2 -> raw -2
    frame = pd.DataFrame({"arrows.congruency_effect_rt_ms": [70.0]})
    assert trait_raw_scores(frame, NORMS, TRAIT_MAP)["attention"].tolist() == [-2.0]


def test_empirical_mid_rank_percentile_with_ties() -> None:
    # population 1, 2, 2, 2, 3, 5 (n = 6); 100 x (below + equal / 2) / 6:
    #   0 -> 0; 1 -> 0.5/6 = 8.33; 2 -> (1 + 1.5)/6 = 41.67; 2.5 -> 4/6 = 66.67;
    #   5 -> (5 + 0.5)/6 = 91.67; 6 -> 100; NaN -> NaN
    population = np.array([1.0, 2.0, 2.0, 2.0, 3.0, 5.0])
    values = np.array([0.0, 1.0, 2.0, 2.5, 5.0, 6.0, NAN])
    expected = [0.0, 100 * 0.5 / 6, 100 * 2.5 / 6, 100 * 4 / 6, 100 * 5.5 / 6, 100.0, NAN]
    np.testing.assert_allclose(empirical_percentile(population, values), expected)


def test_infer_layout() -> None:
    result = infer_traits(CANDIDATES, NORMS, TRAIT_MAP)
    assert list(result.columns) == list(RESULT_COLUMNS)
    names = [trait.name for trait in TRAIT_MAP.traits]
    assert len(result) == 4 * 9
    assert result["person"].tolist() == [p for p in ["c1", "c2", "c3", "c4"] for _ in names]
    assert result["trait"].tolist() == names * 4
    assert result["scored"].dtype == bool
    assert result["metrics_present"].dtype == np.int64
    assert result["metrics_total"].tolist() == [2, 3, 2, 2, 2, 3, 3, 2, 2] * 4


def test_scored_trait_with_interval_r_075() -> None:
    # c1 attention: raw 1; z = (1 - 0) / sqrt(0.5) = sqrt(2); among -1, 0, 0, 0, 1 the
    # value 1 has 4 below and 1 equal -> 100 x 4.5 / 5 = 90.
    # r = 0.75: SEM = sqrt(0.25) = 0.5 -> z +/- 1.645 x 0.5 = z +/- 0.8225.
    # Raw at the ends: sqrt(0.5) x (sqrt(2) -/+ 0.8225) = 1 -/+ 0.5816: 0.4184 has 4 below
    # -> 80; 1.5816 has 5 below -> 100.
    result = infer_traits(CANDIDATES, NORMS, TRAIT_MAP, {"attention": 0.75, "not_a_trait": 0.1})
    row = _row(result, "c1", "attention")
    assert bool(row["scored"]) is True
    assert row["raw"] == 1.0
    assert row["z"] == pytest.approx(math.sqrt(2))
    assert row["percentile"] == 90.0
    assert row["z_low"] == pytest.approx(math.sqrt(2) - 0.8225)
    assert row["z_high"] == pytest.approx(math.sqrt(2) + 0.8225)
    assert (row["percentile_low"], row["percentile_high"]) == (80.0, 100.0)
    assert (row["metrics_present"], row["metrics_total"]) == (2, 2)
    assert row["reliability"] == 0.75
    assert row["reason"] == ""


def test_tie_at_the_middle_and_half_present() -> None:
    # c3 attention: only span (z 0) of 2 -> exactly half, scored; raw 0, z 0.
    # 0 among -1, 0, 0, 0, 1: 1 below, 3 equal -> 100 x 2.5 / 5 = 50.
    # r = 0.75: z -/+ 0.8225 -> raw -/+ 0.5816: -0.5816 has 1 below -> 20; +0.5816 has 4 -> 80.
    row = _row(infer_traits(CANDIDATES, NORMS, TRAIT_MAP, {"attention": 0.75}), "c3", "attention")
    assert bool(row["scored"]) is True
    assert (row["raw"], row["z"], row["percentile"]) == (0.0, 0.0, 50.0)
    assert (row["z_low"], row["z_high"]) == (pytest.approx(-0.8225), pytest.approx(0.8225))
    assert (row["percentile_low"], row["percentile_high"]) == (20.0, 80.0)
    assert (row["metrics_present"], row["metrics_total"], row["reason"]) == (1, 2, "")


def test_default_reliability_and_tied_percentile() -> None:
    # c1 effort: taps z 0.5 alone (1 of 2) -> raw 0.5; z = 0.5 / 1 = 0.5.
    # 0.5 among -1.5, 0.5, 0.5, 0.5: 1 below, 3 equal -> 100 x 2.5 / 4 = 62.5.
    # Default r = 0.7: half width 1.645 x sqrt(0.3) = 0.90101 -> z_low = -0.40101 (raw the
    # same, SD 1) has 1 below -> 25; z_high = 1.40101 has 4 below -> 100.
    row = _row(infer_traits(CANDIDATES, NORMS, TRAIT_MAP), "c1", "effort")
    assert row["reliability"] == 0.7
    assert (row["raw"], row["z"], row["percentile"]) == (0.5, 0.5, 62.5)
    assert row["z_low"] == pytest.approx(0.5 - 1.645 * math.sqrt(0.3))
    assert row["z_high"] == pytest.approx(0.5 + 1.645 * math.sqrt(0.3))
    assert (row["percentile_low"], row["percentile_high"]) == (25.0, 100.0)


def test_clipped_metric_and_unclipped_trait_z() -> None:
    # c2 attention: raw (4 + 0) / 2 = 2; trait z = 2 / sqrt(0.5) = 2 sqrt(2), not clipped.
    row = _row(infer_traits(CANDIDATES, NORMS, TRAIT_MAP), "c2", "attention")
    assert row["raw"] == 2.0
    assert row["z"] == pytest.approx(2 * math.sqrt(2))
    assert row["percentile"] == 100.0


def test_negative_sign_in_a_three_metric_trait() -> None:
    # c1 focus: (-2 + 1) / 2 = -0.5 -> z = -0.5 / sqrt(0.625) = -0.63246;
    # -0.5 among -1, -0.5, 0, 0.5, 1: 1 below, 1 equal -> 100 x 1.5 / 5 = 30.
    row = _row(infer_traits(CANDIDATES, NORMS, TRAIT_MAP), "c1", "focus")
    assert (row["scored"], row["raw"], row["percentile"]) == (True, -0.5, 30.0)
    assert row["z"] == pytest.approx(-0.5 / math.sqrt(0.625))
    assert (row["metrics_present"], row["metrics_total"]) == (2, 3)


def test_fewer_than_half_present_names_the_missing_metrics() -> None:
    result = infer_traits(CANDIDATES, NORMS, TRAIT_MAP)
    row = _row(result, "c1", "decision_making")
    assert bool(row["scored"]) is False
    assert (row["metrics_present"], row["metrics_total"]) == (1, 3)
    assert row["reason"] == (
        "1 of 3 metrics present (needs at least 2): "
        "missing tower.planning_time_ms, tower.excess_moves"
    )
    for column in ("raw", "z", "percentile", "z_low", "z_high", "percentile_low"):
        assert math.isnan(row[column])
    # c2 focus: iti_cv has a value but no norm, so it counts as absent and says so.
    row = _row(result, "c2", "focus")
    assert bool(row["scored"]) is False
    assert row["metrics_present"] == 1
    assert row["reason"] == (
        "1 of 3 metrics present (needs at least 2): "
        "missing keypresses.iti_cv (not in the norm table), arrows.accuracy"
    )


def test_a_metric_without_a_norm_counts_as_absent() -> None:
    # Without the congruency norm c1's attention rests on span alone: 1 of 2, raw +1.
    norms = dataclasses.replace(
        NORMS,
        metrics={k: v for k, v in NORMS.metrics.items() if k != "arrows.congruency_effect_rt_ms"},
    )
    row = _row(infer_traits(CANDIDATES, norms, TRAIT_MAP), "c1", "attention")
    assert (row["scored"], row["raw"], row["metrics_present"]) == (True, 1.0, 1)


def test_no_trait_norm_is_a_reason() -> None:
    result = infer_traits(CANDIDATES, NORMS, TRAIT_MAP)
    # c1 risk_tolerance: pumps present (1 of 2, enough) but no trait norm.
    row = _row(result, "c1", "risk_tolerance")
    assert (row["scored"], row["metrics_present"]) == (False, 1)
    assert math.isnan(row["raw"])
    assert row["reason"] == "the norm table has no risk_tolerance scores to compare with"
    # c4 emotion: nothing present and no norm -> both reasons.
    row = _row(result, "c4", "emotion")
    assert row["reason"] == (
        "0 of 2 metrics present (needs at least 1): missing faces.accuracy, "
        "faces.rt_correct_mean_ms; the norm table has no emotion scores to compare with"
    )


def test_person_with_every_metric_absent() -> None:
    result = infer_traits(CANDIDATES, NORMS, TRAIT_MAP)
    rows = result[result["person"] == "c4"]
    assert not rows["scored"].any()
    assert (rows["metrics_present"] == 0).all()
    assert rows[["raw", "z", "percentile", "percentile_high"]].isna().all().all()
    assert _row(result, "c4", "attention")["reason"] == (
        "0 of 2 metrics present (needs at least 1): "
        "missing digits.forward_span, arrows.congruency_effect_rt_ms"
    )


def test_no_persons() -> None:
    result = infer_traits(CANDIDATES.iloc[:0], NORMS, TRAIT_MAP)
    assert list(result.columns) == list(RESULT_COLUMNS)
    assert result.empty


@pytest.mark.parametrize("r", [-0.1, 1.5, math.nan])
def test_reliability_outside_0_1_is_refused(r: float) -> None:
    with pytest.raises(ValueError, match="reliability of 'attention'"):
        infer_traits(CANDIDATES, NORMS, TRAIT_MAP, {"attention": r})
