"""Session timelines from hand-made trial tables, one game at a time."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pymetrics.analytics.stats.timelines import (
    TIMELINES,
    arrows_timeline,
    balloons_timeline,
    cards_timeline,
    digits_timeline,
    easy_or_hard_timeline,
    faces_timeline,
    keypresses_timeline,
    lengths_timeline,
    money_exchange_1_timeline,
    money_exchange_2_timeline,
    session_timeline,
    stop_timeline,
    tower_timeline,
)
from pymetrics.games.registry import all_games, game_keys

NAN = float("nan")


def _values(timeline, key):
    return timeline.series_by_key(key).values


def test_balloons_pumps_per_balloon_collected_and_burst_apart():
    # rows out of order on purpose: the timeline follows the trial column
    trials = pd.DataFrame(
        {"session": 7, "trial": [2, 1, 3], "pumps": [2, 3, 0], "burst": [1, 0, 0]}
    )

    timeline = balloons_timeline(trials)

    assert timeline.x == [1, 2, 3]
    assert _values(timeline, "collected") == [3, None, 0]
    assert _values(timeline, "burst") == [None, 2, None]
    assert timeline.points == 3  # one bar per balloon
    assert timeline.rows == [[1, 3, 0], [2, 2, 1], [3, 0, 0]]


def test_stop_staircase_over_stop_trials_and_go_rts():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4, 5],
            "stop": [0, 1, 0, 1, 0],
            "ssd_ms": [NAN, 250.0, NAN, 300.0, NAN],
            # trial 2: stopped (no response); trial 4: responded to the stop signal;
            # trial 5: a go omission
            "rt_ms": [510.0, NAN, 480.5, 440.0, NAN],
            "correct": [1.0, NAN, 0.0, NAN, NAN],
        }
    )

    timeline = stop_timeline(trials)

    ssd = timeline.series_by_key("ssd_ms")
    assert ssd.kind == "step"
    assert ssd.values == [None, 250.0, None, 300.0, None]
    assert ssd.markers == ["", "stopped", "", "failed_stop", ""]
    # go RTs: go trials with a response only (the omission is no point)
    assert _values(timeline, "go_rt_ms") == [510.0, None, 480.5, None, None]
    assert timeline.points == 2 + 2
    assert timeline.rows[1] == [2, 1, 250.0, None, None]


def test_cards_deck_choices_and_running_net_score():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4, 5],
            "deck": [1, 3, 4, 2, 4],
            "gain": [100.0, 50.0, 50.0, 100.0, 50.0],
            "loss": [0.0, 0.0, 50.0, 1250.0, 0.0],
            "rt_ms": [900.0] * 5,
        }
    )

    timeline = cards_timeline(trials)

    assert _values(timeline, "deck") == ["A", "C", "D", "B", "D"]
    # (C + D) - (A + B) after each choice: -1, 0, +1, 0, +1
    assert _values(timeline, "net_score") == [-1, 0, 1, 0, 1]
    assert timeline.series_by_key("net_score").axis == "y2"
    assert timeline.rows[3] == [4, "B", 100.0, 1250.0, 0]


def test_arrows_rt_by_congruency_with_switches_and_errors_marked():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4],
            "congruent": [1, 0, 0, 1],
            "rule": ["centre", "centre", "flankers", "flankers"],
            "rt_ms": [400.0, 520.0, NAN, 450.0],
            "correct": [1, 0, 0, 1],
        }
    )

    timeline = arrows_timeline(trials)

    assert _values(timeline, "congruent") == [400.0, None, None, 450.0]
    # trial 3 had no response: no point
    assert _values(timeline, "incongruent") == [None, 520.0, None, None]
    # trial 2 repeats the rule but is wrong; trial 3 switches (and is wrong: error wins)
    assert timeline.series_by_key("congruent").markers == ["", "error", "error", ""]
    assert [row[3] for row in timeline.rows] == ["first", "repeat", "switch", "repeat"]


def test_digits_span_per_sequence_right_and_wrong_by_direction():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4, 5, 6],
            "direction": ["forward", "forward", "forward", "forward", "backward", "backward"],
            "length": [3, 3, 4, 4, 3, 3],
            "correct": [1, 0, 0, 0, 1, 0],
        }
    )

    timeline = digits_timeline(trials)

    assert _values(timeline, "forward_correct") == [3, None, None, None, None, None]
    assert _values(timeline, "forward_wrong") == [None, 3, 4, 4, None, None]
    assert _values(timeline, "backward_correct") == [None, None, None, None, 3, None]
    assert _values(timeline, "backward_wrong") == [None, None, None, None, None, 3]
    assert timeline.points == 6


def test_keypresses_inter_tap_intervals_over_time_per_trial():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 1, 1, 1, 2, 2, 2],
            "kind": ["trial", "tap", "tap", "tap", "trial", "tap", "tap"],
            "hand": ["dominant"] * 4 + ["non_dominant"] * 3,
            "duration_ms": [10000] * 7,
            "t_ms": [NAN, 100.0, 250.0, 450.0, NAN, 300.0, 500.0],
        }
    )

    timeline = keypresses_timeline(trials)

    first, second = timeline.series
    assert first.params == {"trial": 1, "hand": "dominant"}
    # intervals 250 - 100 and 450 - 250, at 0.25 s and 0.45 s; the first tap has none
    assert first.values == [{"x": 0.25, "y": 150.0}, {"x": 0.45, "y": 200.0}]
    assert second.values == [{"x": 0.5, "y": 200.0}]
    assert timeline.points == 3
    assert timeline.rows[0] == [1, "dominant", 1, 100.0, None]
    assert timeline.rows[-1] == [2, "non_dominant", 2, 500.0, 200.0]


def test_keypresses_trial_without_taps_is_an_empty_series():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1],
            "kind": ["trial"],
            "hand": ["dominant"],
            "duration_ms": [10000],
            "t_ms": [NAN],
        }
    )

    timeline = keypresses_timeline(trials)

    assert [s.values for s in timeline.series] == [[]]
    assert timeline.rows == []


def test_easy_or_hard_choices_and_completion_at_the_offered_reward():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4],
            "probability": [0.12, 0.5, 0.88, 0.5],
            "reward": [1.5, 2.25, 4.0, 3.1],
            "choice": ["hard", "hard", "easy", "easy"],
            "completed": [1, 0, 1, 0],
            "rt_ms": [900.0, 800.0, NAN, 700.0],
            "timed_out": [0, 0, 1, 0],
        }
    )

    timeline = easy_or_hard_timeline(trials)

    assert _values(timeline, "hard_completed") == [1.5, None, None, None]
    assert _values(timeline, "hard_not_completed") == [None, 2.25, None, None]
    assert _values(timeline, "easy_completed") == [None, None, 4.0, None]
    assert _values(timeline, "easy_not_completed") == [None, None, None, 3.1]


def test_lengths_rich_and_lean_accuracy_per_block_without_unanswered_trials():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4, 5, 6, 7],
            "block": [1, 1, 1, 1, 2, 2, 2],
            "stimulus": ["rich", "rich", "lean", "lean", "rich", "lean", "lean"],
            # trial 4 unanswered: left out of block 1's lean accuracy
            "correct": [1.0, 0.0, 1.0, NAN, 1.0, 0.0, 0.0],
            "rt_ms": [500.0] * 7,
        }
    )

    timeline = lengths_timeline(trials)

    assert timeline.x == [1, 2]
    assert _values(timeline, "rich_accuracy") == [0.5, 1.0]
    assert _values(timeline, "lean_accuracy") == [1.0, 0.0]
    assert timeline.rows == [[1, 2, 0.5, 1, 1.0], [2, 1, 1.0, 2, 0.0]]


def test_tower_moves_against_the_minimum():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3],
            "min_moves": [2, 3, 5],
            "moves": [2, 6, 9],
            "first_move_ms": [800.0, 1200.0, 2000.0],
            "total_ms": [3000.0, 9000.0, 30000.0],
            "solved": [1, 1, 0],
        }
    )

    timeline = tower_timeline(trials)

    assert _values(timeline, "moves_solved") == [2, 6, None]
    assert _values(timeline, "moves_unsolved") == [None, None, 9]
    assert _values(timeline, "min_moves") == [2, 3, 5]


def test_faces_accuracy_by_expression_and_intensity():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4, 5, 6],
            "emotion": ["sad", "happy", "happy", "happy", "neutral", "sad"],
            "intensity": [3.0, 1.0, 1.0, 3.0, 0.0, 3.0],
            "response": ["sad", "happy", "neutral", "happy", "neutral", "angry"],
            "rt_ms": [1500.0] * 6,
        }
    )

    timeline = faces_timeline(trials)

    # expressions in the specification's order: happy, sad, ..., neutral
    assert timeline.x == ["happy", "sad", "neutral"]
    by_intensity = {s.params["intensity"]: s.values for s in timeline.series}
    assert by_intensity == {
        0: [None, None, 1.0],
        1: [0.5, None, None],  # happy at 1: one of two right
        3: [1.0, 0.5, None],  # sad at 3: one of two right
    }
    assert timeline.rows == [
        ["happy", 1, 2, 1, 0.5],
        ["happy", 3, 1, 1, 1.0],
        ["sad", 3, 2, 1, 0.5],
        ["neutral", 0, 1, 1, 1.0],
    ]


def test_money_exchange_1_amounts_per_round():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2],
            "role": ["investor", "trustee"],
            "endowment": [10.0, 10.0],
            "sent": [4.0, 6.0],
            "received": [12.0, 18.0],
            "returned": [5.0, 9.0],
            "rt_ms": [3000.0, NAN],
        }
    )

    timeline = money_exchange_1_timeline(trials)

    assert _values(timeline, "sent") == [4.0, 6.0]
    assert _values(timeline, "returned") == [5.0, 9.0]
    assert _values(timeline, "received") == [12.0, 18.0]
    assert timeline.rows[1] == [2, "trustee", 10.0, 6.0, 18.0, 9.0]


def test_money_exchange_2_offers_by_role_and_response():
    trials = pd.DataFrame(
        {
            "session": 1,
            "trial": [1, 2, 3, 4],
            "role": ["responder", "responder", "proposer", "dictator"],
            "total": [10.0, 10.0, 10.0, 20.0],
            "offer": [5.0, 1.0, 4.0, 5.0],
            "accepted": [1.0, 0.0, NAN, NAN],
            "rt_ms": [2000.0] * 4,
        }
    )

    timeline = money_exchange_2_timeline(trials)

    assert _values(timeline, "accepted") == [0.5, None, None, None]
    assert _values(timeline, "rejected") == [None, 0.1, None, None]
    assert _values(timeline, "proposed") == [None, None, 0.4, None]
    assert _values(timeline, "given") == [None, None, None, 0.25]


def test_every_game_has_a_timeline_and_an_empty_session_has_none():
    assert set(TIMELINES) == set(game_keys())
    assert session_timeline("balloons", pd.DataFrame(columns=["session", "trial"])) is None
    assert session_timeline("chess", pd.DataFrame({"trial": [1]})) is None


@pytest.mark.parametrize("game", all_games(), ids=lambda game: game.key)
def test_a_bot_session_s_timeline_is_json_and_covers_its_trials(game):
    rng = np.random.default_rng(3)
    events = game.play(game.sample_latent(rng), rng, game.make_config(3, short=True))
    frame = pd.DataFrame([{"session": 1, **event} for event in events])
    trials = game.events_to_trials(frame)

    timeline = session_timeline(game.key, trials)

    assert timeline is not None
    encoded = json.dumps(timeline.to_dict(), allow_nan=False)  # no NaN reaches a page
    assert json.loads(encoded)["points"] == timeline.points > 0
    assert all(len(row) == len(timeline.columns) for row in timeline.rows)
    for series in timeline.series:
        if series.kind != "xy":
            assert len(series.values) == len(timeline.x)
