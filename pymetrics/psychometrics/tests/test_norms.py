"""Norm tables checked against means, SDs, percentiles and trait scores worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pymetrics.psychometrics.norms import (
    PERCENTILES,
    Distribution,
    NormTableData,
    build_norms,
    metric_distribution,
)
from pymetrics.psychometrics.trait_map import load_trait_map

NAN = math.nan


def test_percentiles_are_1_to_99() -> None:
    assert tuple(range(1, 100)) == PERCENTILES


def test_metric_distribution_by_hand() -> None:
    # Values 10..50 (NaN ignored, order irrelevant): mean 30;
    # squared deviations 400 + 100 + 0 + 100 + 400 = 1000, / (5 - 1) = 250 -> SD sqrt(250).
    # Linear percentiles: position h = (n - 1) p / 100 = 4p / 100 in the sorted values:
    #   p=1 -> h=0.04 -> 10 + 0.04 * 10 = 10.4     p=10 -> h=0.4 -> 14
    #   p=25 -> h=1 -> 20    p=50 -> h=2 -> 30     p=99 -> h=3.96 -> 40 + 0.96 * 10 = 49.6
    dist = metric_distribution(np.array([30.0, 50.0, NAN, 10.0, 40.0, 20.0]))
    assert dist is not None
    assert dist.n == 5
    assert dist.mean == 30.0
    assert dist.sd == pytest.approx(math.sqrt(250))
    assert len(dist.percentiles) == 99
    hand = {1: 10.4, 10: 14.0, 25: 20.0, 50: 30.0, 99: 49.6}
    for p, value in hand.items():
        assert dist.percentiles[p - 1] == pytest.approx(value)


def test_two_values_are_enough() -> None:
    # 1 and 3: mean 2, SD sqrt(((1-2)^2 + (3-2)^2) / 1) = sqrt(2); median 2.
    dist = metric_distribution(pd.Series([1.0, NAN, 3.0]))
    assert dist is not None
    assert (dist.n, dist.mean) == (2, 2.0)
    assert dist.sd == pytest.approx(math.sqrt(2))
    assert dist.percentiles[49] == 2.0


@pytest.mark.parametrize(
    "values",
    [
        [],
        [5.0],
        [NAN, 2.0, NAN],
        [3.0, 3.0, 3.0],
        # identical floats: no spread, even though a float mean could leave a 1e-17 SD
        [0.1, 0.1, 0.1],
        [math.inf, 1.0],
    ],
)
def test_no_distribution_without_two_values_and_spread(values: list[float]) -> None:
    assert metric_distribution(np.array(values, dtype="float64")) is None


# A population of 5 persons (p6 has every metric absent and counts nowhere):
#   digits.forward_span            4, 8, 6, 4, 8   mean 6, squared dev 4+4+0+4+4 = 16, /4 -> SD 2
#   arrows.congruency_effect_rt_ms 40, 40, 50, 60, 60  mean 50, squared dev 400, /4 -> SD 10
#   keypresses.taps_per_s          2, 6, 6, -, 6   mean 5, squared dev 9+1+1+1 = 12, /3 -> SD 2
#   arrows.rt_mean_ms              500..900        mean 700, sq. dev 100000, /4 -> SD sqrt(25000)
#   stop.go_rt_mean_ms (no trait)  400, 500, 600   mean 500, SD 100 - normed all the same
#   digits.total_correct           10 x 5          no spread -> no distribution
POPULATION = pd.DataFrame(
    {
        "digits.forward_span": [4, 8, 6, 4, 8, NAN],
        "arrows.congruency_effect_rt_ms": [40, 40, 50, 60, 60, NAN],
        "keypresses.taps_per_s": [2, 6, 6, NAN, 6, NAN],
        "arrows.rt_mean_ms": [500, 600, 700, 800, 900, NAN],
        "stop.go_rt_mean_ms": [400, 500, 600, NAN, NAN, NAN],
        "digits.total_correct": [10, 10, 10, 10, 10, NAN],
    },
    index=pd.Index(["p1", "p2", "p3", "p4", "p5", "p6"], name="person"),
)
# Trait raw scores of that population with those norms:
#   attention = mean(+z forward_span, -z congruency):
#     p1 (-1, +1) -> 0   p2 (+1, +1) -> 1   p3 (0, 0) -> 0   p4 (-1, -1) -> -1   p5 (+1, -1) -> 0
#     -> -1, 0, 0, 0, 1: mean 0, squared dev 2, /4 -> SD sqrt(0.5)
#   effort = mean(+z hard_choice_rate, +z taps) over present ones; hard_choice_rate never
#     present, so 1 of 2 (exactly half, scored): taps z = -1.5, 0.5, 0.5, -, 0.5
#     -> mean 0, squared dev 2.25 + 3 x 0.25 = 3, /3 -> SD 1; p4 and p6 not scorable
#   decision_making: only arrows.rt_mean_ms of 3 metrics -> nobody scorable -> no norm
#   focus, the other traits: no metrics at all -> no norm


def test_build_norms_metrics() -> None:
    norms = build_norms(POPULATION, load_trait_map(1))
    summary = {key: (d.n, d.mean, d.sd) for key, d in norms.metrics.items()}
    assert summary == {
        "digits.forward_span": (5, 6.0, 2.0),
        "arrows.congruency_effect_rt_ms": (5, 50.0, 10.0),
        "keypresses.taps_per_s": (4, 5.0, 2.0),
        "arrows.rt_mean_ms": (5, 700.0, pytest.approx(math.sqrt(25000))),
        "stop.go_rt_mean_ms": (3, 500.0, 100.0),
    }
    # taps 2, 6, 6, 6: p1 at h = 3 x 0.01 = 0.03 -> 2 + 0.03 x 4 = 2.12; p50 at h = 1.5 -> 6
    taps = norms.metrics["keypresses.taps_per_s"].percentiles
    assert taps[0] == pytest.approx(2.12)
    assert taps[49] == 6.0


def test_build_norms_traits() -> None:
    norms = build_norms(POPULATION, load_trait_map(1))
    assert set(norms.traits) == {"attention", "effort"}
    assert norms.trait_raw_scores == {
        "attention": (-1.0, 0.0, 0.0, 0.0, 1.0),
        "effort": (-1.5, 0.5, 0.5, 0.5),
    }
    attention = norms.traits["attention"]
    assert (attention.n, attention.mean) == (5, 0.0)
    assert attention.sd == pytest.approx(math.sqrt(0.5))
    # -1, 0, 0, 0, 1: p1 h=0.04 -> -0.96; p10 h=0.4 -> -0.6; p50 h=2 -> 0; p90 h=3.6 -> 0.6
    assert attention.percentiles[0] == pytest.approx(-0.96)
    assert attention.percentiles[9] == pytest.approx(-0.6)
    assert attention.percentiles[49] == 0.0
    assert attention.percentiles[89] == pytest.approx(0.6)
    effort = norms.traits["effort"]
    assert (effort.n, effort.mean, effort.sd) == (4, 0.0, 1.0)


def test_metric_clipping_applies_to_the_population_too() -> None:
    # One value apart from n - 1 equal ones has z = (n - 1) / sqrt(n) (SD ddof=1):
    # 30 persons at span 0 and one at 100 -> z = 30 / sqrt(31) = 5.39, clipped to 4.
    values = [0.0] * 30 + [100.0]
    population = pd.DataFrame({"digits.forward_span": values})
    norms = build_norms(population, load_trait_map(1))
    dist = norms.metrics["digits.forward_span"]
    assert (100.0 - dist.mean) / dist.sd == pytest.approx(30 / math.sqrt(31))
    # attention = 1 of 2 metrics (half, scored) = the clipped z of forward span
    assert norms.trait_raw_scores["attention"][-1] == 4.0


def test_norm_table_round_trips_through_json() -> None:
    norms = build_norms(POPULATION, load_trait_map(1))
    text = json.dumps(norms.to_dict())
    assert NormTableData.from_dict(json.loads(text)) == norms
    assert NormTableData.from_dict({}) == NormTableData(metrics={}, traits={}, trait_raw_scores={})


def _dist_dict(n: int = 3, mean: float = 0.0, sd: float = 1.0) -> dict[str, object]:
    return {"n": n, "mean": mean, "sd": sd, "percentiles": [0.0] * 99}


def test_from_dict_sorts_raw_scores() -> None:
    table = NormTableData.from_dict(
        {"traits": {"attention": _dist_dict()}, "trait_raw_scores": {"attention": [1, -1, 0]}}
    )
    assert table.trait_raw_scores == {"attention": (-1.0, 0.0, 1.0)}
    assert table.traits["attention"] == Distribution(n=3, mean=0.0, sd=1.0, percentiles=(0.0,) * 99)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metric": {}}, "unknown key 'metric'"),
        ({"metrics": []}, "metrics must be an object"),
        ({"metrics": {"a.b": {**_dist_dict(), "percentiles": [0.0] * 98}}}, "99 numbers"),
        ({"metrics": {"a.b": _dist_dict(sd=0.0)}}, "sd must be > 0"),
        ({"metrics": {"a.b": _dist_dict(n=1)}}, "n must be an integer >= 2"),
        ({"metrics": {"a.b": _dist_dict(mean=math.nan)}}, "mean must be finite"),
        ({"metrics": {"a.b": {"n": 2}}}, "missing key 'mean'"),
        ({"traits": {"focus": _dist_dict()}}, "needs both a distribution and raw scores"),
        ({"trait_raw_scores": {"focus": [1.0, 2.0]}}, "needs both a distribution and raw scores"),
        (
            {"traits": {"focus": _dist_dict(n=3)}, "trait_raw_scores": {"focus": [1.0, 2.0]}},
            "n = 3 but 2 raw scores",
        ),
        (
            {"traits": {"focus": _dist_dict(n=2)}, "trait_raw_scores": {"focus": [1.0, "x"]}},
            "must be a number",
        ),
    ],
)
def test_malformed_norm_tables_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NormTableData.from_dict(data)
