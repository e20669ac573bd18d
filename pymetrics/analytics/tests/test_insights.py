"""The insights read model on hand-made records: histogram, correlations and notes.

"Now" is Wednesday 2025-03-12 12:00 UTC (see test_trends); the notes look at the
candidates completed in the 28 days before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pymetrics.analytics.selectors.insights import (
    insights_correlations,
    insights_histogram,
    insights_notes,
)
from pymetrics.analytics.tests.test_trends import (
    NOW,
    UNIFORM,
    _fixed_now,  # noqa: F401 - the fixed clock, autouse
    completed,
    make_norm_table,
)
from pymetrics.assessments.models import Assessment

OLD = datetime(2025, 1, 6, 10, tzinfo=UTC)


def test_the_histogram_counts_whole_numbers_one_bin_each_beside_the_norms(organization, assessment):
    # a norm where 60% burst no balloon, 30% one, the rest two (99th percentile 2)
    make_norm_table(
        metrics={
            "balloons.bursts": {
                "n": 200,
                "mean": 0.49,
                "sd": 0.66,
                "percentiles": [0.0] * 60 + [1.0] * 30 + [2.0] * 9,
            }
        }
    )
    for bursts in (0, 1, 1, 2, 4):
        completed(assessment, OLD, metrics={"balloons": {"bursts": float(bursts)}})

    found = insights_histogram(organization=organization, key="balloons.bursts")

    assert found["n"] == 5
    assert found["mean"] == pytest.approx(1.6)  # (0 + 1 + 1 + 2 + 4) / 5
    assert found["discrete"] is True
    assert found["edges"] == [-0.5, 0.5, 1.5, 2.5, 3.5, 4.5]
    assert found["counts"] == [1, 2, 1, 0, 1]
    # n x the norm's share: F(0) = .6, F(1) = .9, F(2) = 1 -> 3, 1.5, 0.5, 0, 0
    assert found["norm_expected"] == pytest.approx([3.0, 1.5, 0.5, 0.0, 0.0])
    assert found["norm"] == {"n": 200, "mean": 0.49, "sd": 0.66}
    assert found["norm_table"]["simulated"] is True


def test_a_histogram_without_norms_has_no_overlay(organization, assessment):
    completed(assessment, OLD, metrics={"balloons": {"bursts": 3.0}})

    found = insights_histogram(organization=organization, key="balloons.bursts")

    assert (found["n"], found["counts"], found["norm_expected"], found["norm"]) == (
        1,
        [1],
        None,
        None,
    )


def test_correlations_are_spearman_over_the_candidates_with_both(organization, assessment):
    # adjusted pumps 1, 2, 3, 4; bursts 5, 6, 7, 8 -> rho 1; mean pumps 4, 3, 2, 1 -> rho -1
    for index in range(4):
        completed(
            assessment,
            OLD,
            metrics={
                "balloons": {
                    "adjusted_pumps": 1.0 + index,
                    "bursts": 5.0 + index,
                    "mean_pumps": 4.0 - index,
                }
            },
        )
    # a candidate without bursts counts for the other pair only
    completed(assessment, OLD, metrics={"balloons": {"adjusted_pumps": 9.0, "mean_pumps": 0.0}})

    found = insights_correlations(
        organization=organization,
        keys=["balloons.adjusted_pumps", "balloons.bursts", "balloons.mean_pumps"],
    )

    assert found["keys"] == ["balloons.adjusted_pumps", "balloons.bursts", "balloons.mean_pumps"]
    assert found["candidates"] == 5
    assert found["rho"][0][1] == pytest.approx(1.0)
    assert found["rho"][0][2] == pytest.approx(-1.0)
    assert found["n"] == [[5, 4, 5], [4, 4, 4], [5, 4, 5]]
    assert found["rho"][1][2] == found["rho"][2][1] == pytest.approx(-1.0)


def test_a_heatmap_has_at_most_20_metrics(organization, assessment):
    keys = [f"cards.net_score_block_{b}" for b in range(1, 6)] * 5 + [
        "balloons.bursts",
        "balloons.mean_pumps",
        "balloons.adjusted_pumps",
        "balloons.earnings_cents",
        "balloons.adjusted_pumps_block_1",
        "balloons.adjusted_pumps_block_2",
        "balloons.adjusted_pumps_block_3",
        "cards.net_score",
        "cards.learning_slope",
        "cards.deck_a_rate",
        "cards.deck_b_rate",
        "cards.deck_c_rate",
        "cards.deck_d_rate",
        "cards.net_earnings",
        "stop.ssrt_ms",
        "stop.p_respond_signal",
    ]

    found = insights_correlations(organization=organization, keys=keys)

    assert len(found["keys"]) == 20
    assert len(found["rho"]) == 20
    assert {len(row) for row in found["rho"]} == {20}


def test_a_note_says_how_far_the_recent_candidates_are_from_the_norm(organization, assessment):
    # norm: bursts mean 10, SD 2, n 100; adjusted pumps like the candidates' (no note)
    make_norm_table(
        metrics={
            "balloons.bursts": {"n": 100, "mean": 10.0, "sd": 2.0, "percentiles": UNIFORM},
            "balloons.adjusted_pumps": {"n": 100, "mean": 30.0, "sd": 5.0, "percentiles": UNIFORM},
        }
    )
    # 12 recent candidates with bursts 10..21: mean 15.5, 2.75 SD and 55% above the norm
    for index in range(12):
        completed(
            assessment,
            NOW - timedelta(days=1 + index),
            metrics={"balloons": {"bursts": 10.0 + index, "adjusted_pumps": 25.0 + index}},
        )
    # older candidates are outside the window
    for _ in range(5):
        completed(assessment, OLD, metrics={"balloons": {"bursts": 100.0}})

    found = insights_notes(organization=organization)

    assert found["recent"]["completed"] == 12
    assert found["tested"] == 2
    assert len(found["notes"]) == 1
    note = found["notes"][0]
    assert (note["key"], note["n"], note["direction"]) == ("balloons.bursts", 12, "higher")
    assert note["mean"] == pytest.approx(15.5)
    assert note["difference_sd"] == pytest.approx(2.75)  # (15.5 - 10) / 2
    assert note["relative"] == pytest.approx(0.55)  # 5.5 / 10
    assert note["q"] < 0.05
    assert note["description"] == "Number of balloons that burst."


def test_no_note_from_fewer_than_10_candidates(organization, assessment):
    make_norm_table(
        metrics={"balloons.bursts": {"n": 100, "mean": 10.0, "sd": 2.0, "percentiles": UNIFORM}}
    )
    for index in range(9):
        completed(
            assessment, NOW - timedelta(days=1), metrics={"balloons": {"bursts": 30.0 + index}}
        )

    found = insights_notes(organization=organization)

    assert (found["tested"], found["notes"]) == (0, [])


def test_another_organisations_candidates_never_count(organization, other_organization):
    make_norm_table(
        metrics={"balloons.bursts": {"n": 100, "mean": 10.0, "sd": 2.0, "percentiles": UNIFORM}}
    )
    theirs = Assessment.objects.create(
        organization=other_organization, name="Theirs", games=["balloons"]
    )
    for index in range(12):
        completed(theirs, NOW - timedelta(days=1), metrics={"balloons": {"bursts": 30.0 + index}})
    Assessment.objects.create(organization=organization, name="Ours", games=["balloons"])

    assert insights_notes(organization=organization)["notes"] == []
    assert insights_histogram(organization=organization, key="balloons.bursts")["n"] == 0


def test_a_newly_scored_game_changes_the_next_histogram(organization, assessment, request):
    completed(assessment, OLD, metrics={"balloons": {"bursts": 3.0}})
    assert insights_histogram(organization=organization, key="balloons.bursts")["n"] == 1

    # when a candidate plays the assessment's one game, which completes and is scored
    # (the hand-made session: 1 burst; the services bump the organisation's reads)
    request.getfixturevalue("scored_play")

    # then the next read has both
    found = insights_histogram(organization=organization, key="balloons.bursts")
    assert found["n"] == 2
    assert found["counts"] == [1, 0, 1]  # bursts 1 and 3
