"""Trait profiles to compare: candidates, an assessment's completed candidates, the norm group."""

from __future__ import annotations

import math

import pytest
from django.core.cache import cache

from pymetrics.analytics.selectors.compare import (
    assessment_trait_profile,
    candidate_trait_profile,
    comparable_norm_table,
    compare_assessments_get,
    compare_candidates_get,
    compare_choices,
    compare_traits,
    norm_group_trait_profile,
)
from pymetrics.analytics.tests.test_profile import hand_norm_table, play_balloons
from pymetrics.assessments.models import Attempt
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.common.errors import NotFound
from pymetrics.scoring.models import TraitScore

#: Three candidates' balloons: (pumps, burst) per balloon.
#: adjusted pumps: 1.5 (kept 3 and 0), 4 (kept 4 and 4), 2 (kept 2)
PLANS = {
    "p-1": ((3, False), (2, True), (0, False)),
    "p-2": ((4, False), (4, False), (9, True)),
    "p-3": ((2, False), (6, True)),
}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scored_group(assessment, make_balloon_events, django_capture_on_commit_callbacks):
    """Three candidates who completed the balloons assessment, scored on the hand norms."""
    table = hand_norm_table()
    attempts = {}
    for external_id, plan in PLANS.items():
        invitation = candidate_invite(
            assessment=assessment, external_id=external_id, name=f"Person {external_id}"
        )
        attempts[external_id] = play_balloons(
            invitation, plan, make_balloon_events, django_capture_on_commit_callbacks
        )
    return table, attempts


def _risk(attempt_id: int) -> TraitScore:
    return TraitScore.objects.get(attempt_id=attempt_id, trait="risk_tolerance", scored=True)


def test_a_candidate_s_profile_is_their_latest_attempt_s_z_with_intervals(scored_group):
    table, attempts = scored_group
    candidate = Attempt.objects.get(pk=attempts["p-2"]).candidate

    profile = candidate_trait_profile(candidate=candidate)

    stored = _risk(attempts["p-2"])
    assert profile["kind"] == "candidate"
    assert profile["attempt_id"] == attempts["p-2"]
    # only scored traits: balloons alone scores risk tolerance (1 of its 2 metrics)
    assert profile["traits"] == {
        "risk_tolerance": {
            "value": stored.z,
            "low": stored.z_low,
            "high": stored.z_high,
            "percentile": stored.percentile,
            "n": 1,
        }
    }
    assert stored.norm_table_id == table.pk


def test_an_assessment_s_profile_is_the_mean_z_of_its_completed_candidates(
    scored_group, assessment, django_capture_on_commit_callbacks
):
    _, attempts = scored_group
    # an invited candidate who has not completed counts in nothing
    with django_capture_on_commit_callbacks(execute=True):
        candidate_invite(assessment=assessment, external_id="p-4")

    profile = assessment_trait_profile(assessment=assessment)

    zs = [float(_risk(attempt_id).z or 0.0) for attempt_id in attempts.values()]
    mean = sum(zs) / 3
    sd = math.sqrt(sum((z - mean) ** 2 for z in zs) / 2)
    half = 2.919986 * sd / math.sqrt(3)  # t(0.95, 2 df)
    risk = profile["traits"]["risk_tolerance"]
    assert profile["completed"] == 3
    assert risk["n"] == 3
    assert risk["value"] == pytest.approx(mean)
    assert risk["low"] == pytest.approx(mean - half, abs=1e-6)
    assert risk["high"] == pytest.approx(mean + half, abs=1e-6)
    assert set(profile["traits"]) == {"risk_tolerance"}


def test_the_assessment_profile_follows_a_newly_scored_candidate(
    scored_group, assessment, make_balloon_events, django_capture_on_commit_callbacks
):
    before = assessment_trait_profile(assessment=assessment)

    with django_capture_on_commit_callbacks(execute=True):
        invitation = candidate_invite(assessment=assessment, external_id="p-5")
    play_balloons(
        invitation,
        ((10, False), (12, False)),
        make_balloon_events,
        django_capture_on_commit_callbacks,
    )

    after = assessment_trait_profile(assessment=assessment)
    assert before["traits"]["risk_tolerance"]["n"] == 3
    assert after["traits"]["risk_tolerance"]["n"] == 4
    assert after["completed"] == 4


def test_the_norm_group_has_mean_zero_and_the_interval_of_its_mean(scored_group):
    table, _ = scored_group

    profile = norm_group_trait_profile(norm_table=table)

    # five people scorable on risk tolerance: t(0.95, 4) = 2.131847, SD 1
    risk = profile["traits"]["risk_tolerance"]
    assert risk["value"] == 0.0
    assert risk["n"] == 5
    assert risk["high"] == pytest.approx(2.131847 / math.sqrt(5), abs=1e-6)
    assert risk["low"] == pytest.approx(-risk["high"])
    assert profile["simulated"] is True


def test_only_the_current_norm_table_is_a_comparable_group(
    scored_group, organization, other_organization
):
    table, _ = scored_group
    assert comparable_norm_table(organization=organization, norm_table_id=table.pk) == table

    # another organisation's own table is not found, and it does not apply here
    theirs = hand_norm_table(name="Globex norms", organization=other_organization)
    with pytest.raises(NotFound):
        comparable_norm_table(organization=organization, norm_table_id=theirs.pk)
    # a newer shared table makes the old one incomparable: scores are on the new scale
    newer = hand_norm_table(version=2, shift=1.0)
    with pytest.raises(NotFound):
        comparable_norm_table(organization=organization, norm_table_id=table.pk)
    assert comparable_norm_table(organization=organization, norm_table_id=newer.pk) == newer


def test_another_organisation_s_ids_are_not_found(scored_group, other_organization):
    _, attempts = scored_group
    organization = Attempt.objects.get(pk=attempts["p-1"]).candidate.organization
    foreign = assessment_create(organization=other_organization, name="Theirs", games=["cards"])
    stranger = candidate_invite(assessment=foreign, external_id="x-1").candidate
    mine = Attempt.objects.get(pk=attempts["p-1"]).candidate

    assert compare_candidates_get(organization=organization, ids=[mine.pk]) == [mine]
    with pytest.raises(NotFound, match=f"candidate {stranger.pk} not found"):
        compare_candidates_get(organization=organization, ids=[mine.pk, stranger.pk])
    with pytest.raises(NotFound, match=f"assessment {foreign.pk} not found"):
        compare_assessments_get(organization=organization, ids=[foreign.pk])


def test_the_choices_are_scored_candidates_assessments_with_completions_and_the_norms(
    scored_group, assessment, organization
):
    table, _ = scored_group
    assessment_create(organization=organization, name="Nobody yet", games=["cards"])
    candidate_invite(assessment=assessment, external_id="p-9")  # invited: not scored

    choices = compare_choices(organization=organization)

    assert [c.external_id for c in choices["candidates"]] == ["p-3", "p-2", "p-1"]
    assert [a.name for a in choices["assessments"]] == ["Graduates 2027"]
    assert choices["assessments"][0].completed_count == 3
    assert choices["norm_table"] == table
    scale = compare_traits(organization=organization)
    assert scale["norm_table"]["id"] == table.pk
    assert len(scale["traits"]) == 9
