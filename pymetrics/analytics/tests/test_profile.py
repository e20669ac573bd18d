"""A candidate's profile read from the database: traits, metric standings, timelines, caching."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from django.core.cache import cache

from pymetrics.analytics.cache import cached_value
from pymetrics.analytics.selectors.profile import candidate_profile, profile_scopes
from pymetrics.assessments.models import Attempt, Candidate
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.conftest import HAND_PLAN, start_play
from pymetrics.psychometrics import TraitMap, build_norms
from pymetrics.scoring.models import NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create, traits_infer

#: A hand-made norm population of five people. Its percentiles are easy to read:
#: for 1, 2, 3, 4, 5 the p-th percentile is 1 + 4p/100, so x reads as 25 (x - 1).
POPULATION = {
    "balloons.adjusted_pumps": [1.0, 2.0, 3.0, 4.0, 5.0],
    "balloons.mean_pumps": [1.0, 2.0, 3.0, 4.0, 5.0],
    "balloons.bursts": [0.0, 0.0, 1.0, 1.0, 2.0],
    "balloons.earnings_cents": [10.0, 20.0, 30.0, 40.0, 50.0],
    "balloons.adjusted_pumps_block_1": [2.0, 3.0, 4.0, 5.0, 6.0],
    "easy_or_hard.hard_choice_rate_p12": [0.1, 0.3, 0.2, 0.5, 0.4],
}


def hand_norm_table(
    *, name: str = "Hand norms", organization: Any = None, shift: float = 0.0, version: int = 1
) -> NormTable:
    """A simulated norm table of :data:`POPULATION` (every value moved by ``shift``)."""
    row = trait_map_version_get_or_create(version=1)
    frame = pd.DataFrame({key: [v + shift for v in values] for key, values in POPULATION.items()})
    data = build_norms(frame, TraitMap.from_dict(row.definition))
    return NormTable.objects.create(
        organization=organization,
        name=name,
        version=version,
        population=NormPopulation.SIMULATED,
        is_simulated=True,
        trait_map=row,
        n_attempts=len(frame),
        data=data.to_dict(),
        reliabilities={},
    )


def play_balloons(
    invitation: Any, plan: Any, make_balloon_events: Callable[..., Any], capture: Any
) -> int:
    """Play one balloons session through the candidate API; scoring runs on commit."""
    play = start_play(invitation)
    assert play.send(make_balloon_events(plan)).status_code == 200
    with capture(execute=True):
        assert play.client.post(play.complete_url).status_code == 202
    return play.attempt_id


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scored_with_norms(scored_play, django_capture_on_commit_callbacks):
    """The hand-made balloons session, its traits scored against the hand-made norms."""
    table = hand_norm_table()
    with django_capture_on_commit_callbacks(execute=True):
        traits_infer(attempt_ids=[scored_play.attempt_id])
    return scored_play, table


def _metric(profile: dict, name: str) -> dict:
    (game,) = profile["games"]
    return next(m for m in game["metrics"] if m["name"] == name)


def test_the_profile_shows_the_latest_attempt_s_traits_against_the_norms(scored_with_norms):
    play, table = scored_with_norms
    candidate = Attempt.objects.get(pk=play.attempt_id).candidate

    profile = candidate_profile(candidate=candidate)

    assert profile["attempt"]["id"] == play.attempt_id
    assert profile["attempt"]["assessment_name"] == "Graduates 2027"
    assert profile["norm_table"] == {
        "id": table.pk,
        "name": "Hand norms",
        "version": 1,
        "population": "simulated",
        "simulated": True,
        "n": 5,
        "trait_map": 1,
    }
    # the nine traits in the map's order, each with its poles (high pole first)
    assert [t["trait"] for t in profile["traits"]] == [
        "attention",
        "decision_making",
        "effort",
        "emotion",
        "fairness",
        "focus",
        "generosity",
        "learning",
        "risk_tolerance",
    ]
    risk = profile["traits"][-1]
    stored = TraitScore.objects.get(attempt_id=play.attempt_id, trait="risk_tolerance")
    assert risk["poles"] == ["risk-seeking", "cautious"]
    assert risk["scored"] is True
    assert (risk["z"], risk["z_low"], risk["z_high"]) == (stored.z, stored.z_low, stored.z_high)
    assert risk["percentile"] == stored.percentile
    # balloons alone cannot score attention: no number, the reason instead
    attention = profile["traits"][0]
    assert attention["scored"] is False
    assert attention["z"] is None
    assert "0 of 2 metrics present" in attention["reason"]
    # no job-fit model exists: nothing is shown, nothing invented
    assert profile["fit"] == []


def test_every_metric_has_its_z_and_percentile_in_the_norm_table(scored_with_norms):
    play, _ = scored_with_norms
    profile = candidate_profile(candidate=Attempt.objects.get(pk=play.attempt_id).candidate)

    (game,) = profile["games"]
    assert game["game"] == "balloons"
    assert game["state"] == "scored"
    assert game["flags"] == []
    # every metric of the game in its documented order, absent ones included
    assert [m["name"] for m in game["metrics"]] == [
        "adjusted_pumps",
        "mean_pumps",
        "bursts",
        "earnings_cents",
        "adjusted_pumps_block_1",
        "adjusted_pumps_block_2",
        "adjusted_pumps_block_3",
    ]
    adjusted = _metric(profile, "adjusted_pumps")
    # 1.5 among 1..5: percentile 25 x 0.5 = 12.5; z = (1.5 - 3) / sqrt(2.5)
    assert adjusted["value"] == 1.5
    assert adjusted["percentile"] == pytest.approx(12.5)
    assert adjusted["z"] == pytest.approx(-1.5 / math.sqrt(2.5))
    # 5/3 among 1..5: 25 x 2/3
    assert _metric(profile, "mean_pumps")["percentile"] == pytest.approx(50 / 3)
    # 1 burst among 0, 0, 1, 1, 2: tied with percentiles 50..75, the middle is 62.5
    assert _metric(profile, "bursts")["percentile"] == 62.5
    # 15 cents among 10..50 by tens: 12.5
    assert _metric(profile, "earnings_cents")["percentile"] == pytest.approx(12.5)
    # 1.5 is below the 1st percentile of 2..6 (2.04)
    block = _metric(profile, "adjusted_pumps_block_1")
    assert (block["percentile"], block["beyond"]) == (1.0, -1)
    # blocks 2 and 3 held no balloon: absent, no standing
    assert _metric(profile, "adjusted_pumps_block_2") == {
        "name": "adjusted_pumps_block_2",
        "description": _metric(profile, "adjusted_pumps_block_2")["description"],
        "unit": _metric(profile, "adjusted_pumps_block_2")["unit"],
        "value": None,
        "normed": False,
        "z": None,
        "percentile": None,
        "beyond": None,
    }


def test_each_game_s_timeline_is_drawn_from_its_events(scored_with_norms):
    play, _ = scored_with_norms
    profile = candidate_profile(candidate=Attempt.objects.get(pk=play.attempt_id).candidate)

    timeline = profile["games"][0]["timeline"]

    # HAND_PLAN: 3 pumps collected, 2 pumps burst, 0 pumps collected
    assert HAND_PLAN == ((3, False), (2, True), (0, False))
    assert timeline["x"] == [1, 2, 3]
    series = {s["key"]: s["values"] for s in timeline["series"]}
    assert series == {"collected": [3, None, 0], "burst": [None, 2, None]}
    assert timeline["points"] == 3


def test_the_profile_is_cached_and_a_new_score_changes_the_next_read(
    scored_with_norms, django_capture_on_commit_callbacks, django_assert_num_queries
):
    play, table = scored_with_norms
    candidate = Attempt.objects.get(pk=play.attempt_id).candidate
    first = candidate_profile(candidate=candidate)
    assert cached_value(f"profile:{candidate.pk}", profile_scopes(candidate)) == first
    with django_assert_num_queries(0):
        assert candidate_profile(candidate=candidate) == first

    # when a newer shared norm table (a population 1 higher) applies and the
    # candidate is scored again
    newer = hand_norm_table(name="Hand norms", shift=1.0, version=2)
    with django_capture_on_commit_callbacks(execute=True):
        traits_infer(attempt_ids=[play.attempt_id])

    again = candidate_profile(candidate=candidate)

    # then the next read shows the new table, the new trait score and percentiles
    assert again["norm_table"]["id"] == newer.pk
    stored = TraitScore.objects.get(
        attempt_id=play.attempt_id, trait="risk_tolerance", norm_table=newer
    )
    assert again["traits"][-1]["z"] == stored.z != first["traits"][-1]["z"]
    # 1.5 among 2..6: below the 1st percentile now
    assert _metric(again, "adjusted_pumps")["beyond"] == -1
    assert table.pk != newer.pk


def test_a_cold_read_takes_a_fixed_number_of_queries(scored_with_norms, django_assert_num_queries):
    play, _ = scored_with_norms
    candidate = Attempt.objects.get(pk=play.attempt_id).candidate

    # attempts, norm table, sessions, their metric sets, trait scores, events, fit
    # scores (the test's transaction holds the snapshot: no SET TRANSACTION counted)
    with django_assert_num_queries(7):
        candidate_profile(candidate=candidate)


def test_a_new_attempt_becomes_the_one_shown_and_the_others_are_listed(
    scored_with_norms, organization, django_capture_on_commit_callbacks
):
    play, _ = scored_with_norms
    candidate = Attempt.objects.get(pk=play.attempt_id).candidate
    candidate_profile(candidate=candidate)  # cached now
    later = assessment_create(organization=organization, name="Second round", games=["cards"])

    with django_capture_on_commit_callbacks(execute=True):  # the invite bumps the scopes
        invitation = candidate_invite(assessment=later, external_id="cand-001")

    profile = candidate_profile(candidate=candidate)
    assert profile["attempt"]["id"] == invitation.attempt.pk
    assert profile["attempt"]["state"] == "invited"
    assert profile["games"] == []  # not started: no sessions yet
    assert [a["assessment_name"] for a in profile["attempts"]] == ["Second round", "Graduates 2027"]
    # scores are those of the latest attempt: none yet
    assert not any(t["scored"] for t in profile["traits"])


def test_without_norms_nothing_is_scored_and_metrics_have_no_percentile(scored_play):
    candidate = Attempt.objects.get(pk=scored_play.attempt_id).candidate

    profile = candidate_profile(candidate=candidate)

    assert profile["norm_table"] is None
    assert len(profile["traits"]) == 9
    assert not any(t["scored"] for t in profile["traits"])
    adjusted = _metric(profile, "adjusted_pumps")
    assert (adjusted["value"], adjusted["percentile"], adjusted["normed"]) == (1.5, None, False)


def test_a_profile_holds_no_personal_data(scored_with_norms):
    play, _ = scored_with_norms
    candidate = Candidate.objects.get(attempts__pk=play.attempt_id)

    profile = candidate_profile(candidate=candidate)

    text = repr(profile)
    assert candidate.name == "Cara Candidate"
    assert "Cara" not in text
    assert "cara@example.org" not in text
