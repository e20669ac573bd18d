"""The funnel arithmetic on plain counts, worked out by hand."""

from __future__ import annotations

import pytest

from pymetrics.analytics.stats.funnel import (
    FunnelStage,
    GameDropoff,
    funnel_stages,
    game_dropoff,
)


def test_each_stage_is_a_share_of_the_one_before_and_of_the_first():
    stages = funnel_stages([("invited", 8), ("started", 6), ("completed", 3)])

    # 6 / 8 = 0.75 of the invited started; 3 / 6 = 0.5 of them completed, 3 / 8 of all
    assert stages == [
        FunnelStage(stage="invited", count=8, of_previous=None, of_first=1.0),
        FunnelStage(stage="started", count=6, of_previous=0.75, of_first=0.75),
        FunnelStage(stage="completed", count=3, of_previous=0.5, of_first=0.375),
    ]


def test_an_empty_funnel_has_counts_but_no_shares():
    stages = funnel_stages([("invited", 0), ("started", 0), ("completed", 0)])

    assert [(s.count, s.of_previous, s.of_first) for s in stages] == [
        (0, None, None),
        (0, None, None),
        (0, None, None),
    ]


def test_dropoff_counts_who_reached_finished_and_left_off_at_each_game():
    # 5 started a battery of 3 games. Two left off: one at game 0, one at game 1
    # (the other three finished everything).
    # reached: game 0: 5; game 1: 5 - 1 = 4; game 2: 4 - 1 = 3
    # stop rates: 1 / 5 = 0.2, 1 / 4 = 0.25, 0 / 3 = 0
    dropoff = game_dropoff(started=5, finished=[4, 3, 3], first_unfinished=[1, 0])

    assert dropoff == [
        GameDropoff(index=0, reached=5, finished=4, stopped_here=1, stop_rate=0.2),
        GameDropoff(index=1, reached=4, finished=3, stopped_here=1, stop_rate=0.25),
        GameDropoff(index=2, reached=3, finished=3, stopped_here=0, stop_rate=0.0),
    ]


def test_dropoff_of_nobody_started_has_no_rates():
    dropoff = game_dropoff(started=0, finished=[0, 0], first_unfinished=[])

    assert [(d.reached, d.finished, d.stopped_here, d.stop_rate) for d in dropoff] == [
        (0, 0, 0, None),
        (0, 0, 0, None),
    ]


def test_everyone_stopping_at_the_first_game_leaves_the_rest_unreached():
    dropoff = game_dropoff(started=3, finished=[0, 0], first_unfinished=[0, 0, 0])

    assert [(d.reached, d.stopped_here, d.stop_rate) for d in dropoff] == [
        (3, 3, 1.0),
        (0, 0, None),
    ]


def test_a_position_outside_the_battery_is_refused():
    with pytest.raises(ValueError, match="outside the battery"):
        game_dropoff(started=1, finished=[0], first_unfinished=[1])
