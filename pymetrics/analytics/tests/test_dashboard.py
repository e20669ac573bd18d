"""The assessment dashboard summary: exact numbers from a hand-built assessment, fresh reads.

The assessment ``Dash`` has the battery balloons, cards, stop and seven candidates:

    id  state      games finished          notes
    i1  invited    -                       only invited
    i2  expired    -                       invitation expired
    s1  started    balloons                cards in progress, an event 30 s ago: playing now;
                                           balloons flagged too_fast
    s2  started    -                       balloons in progress, last event 10 minutes ago
    c1  completed  all three               10 minutes; stop flagged ssrt_invalid and too_fast
    c2  completed  all three               20 minutes; an older stop extractor version
                                           was flagged, the newest is not: not flagged
    c3  completed  all three               45 minutes

    counts: invited 7, started 5, completed 3, expired 1, flagged 2 (s1, c1)
    funnel: 7 -> 5 (5/7) -> 3 (3/5; 3/7 of the invited)
    finished per game: balloons 4 (s1, c1-c3), cards 3, stop 3
    left off: s1 at cards (index 1), s2 at balloons (index 0)
    reached: balloons 5, cards 5 - 1 = 4, stop 4 - 1 = 3; stop rates 1/5, 1/4, 0/3
    completion minutes 10, 20, 45: median 20, p90 20 + 0.8 * 25 = 40;
    histogram width 5 (span 35 in at most 12 bins), bins from 10 to 50
    risk_tolerance percentiles of c1-c3: 5, 55, 95 -> bins 0, 5, 9; z -1.5, 0.2, 1.9 ->
    mean 0.2 (s1's score is left out: not completed; so is a score under an older table)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.analytics.selectors.dashboard import (
    FLAGGED_LISTED,
    PLAYING_NOW_WINDOW_S,
    assessment_dashboard_summary,
    candidates_playing_now,
)
from pymetrics.assessments.models import Assessment, Attempt, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_start,
    candidate_invite,
    game_session_mark_completed,
)
from pymetrics.events.models import Event
from pymetrics.games.quality import FLAG_DESCRIPTIONS
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Ids come back between tests on SQLite; cached reads must not."""
    cache.clear()
    yield
    cache.clear()


def _attempt(
    assessment: Assessment,
    external_id: str,
    *,
    state: str = "invited",
    finished: tuple[str, ...] = (),
    in_progress: tuple[str, ...] = (),
    minutes: float | None = None,
    simulated: bool = False,
) -> Attempt:
    attempt = candidate_invite(
        assessment=assessment, external_id=external_id, is_simulated=simulated
    ).attempt
    if state in ("started", "completed"):
        attempt_start(attempt=attempt)
        GameSession.objects.filter(attempt=attempt, game__in=finished).update(state="scored")
        GameSession.objects.filter(attempt=attempt, game__in=in_progress).update(
            state="in_progress"
        )
    Attempt.objects.filter(pk=attempt.pk).update(
        state=state,
        started_at=T0 if state in ("started", "completed") else None,
        completed_at=T0 + timedelta(minutes=minutes) if minutes is not None else None,
    )
    attempt.refresh_from_db()
    return attempt


def _metric_set(attempt: Attempt, game: str, flags: list[str], version: int = 1) -> None:
    MetricSet.objects.create(
        game_session=GameSession.objects.get(attempt=attempt, game=game),
        game=game,
        extractor_version=version,
        values={},
        quality_flags=flags,
    )


def _event(attempt: Attempt, game: str, seq: int, seconds_ago: float) -> None:
    Event.objects.create(
        game_session=GameSession.objects.get(attempt=attempt, game=game),
        seq=seq,
        t=seq * 100.0,
        type="pump",
        data={},
        received_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def _norm_table(organization: Organization | None, name: str, version: int) -> NormTable:
    return NormTable.objects.create(
        organization=organization,
        name=name,
        version=version,
        population="organisation" if organization else "simulated",
        is_simulated=organization is None,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=40,
        data={},
    )


def _trait(attempt: Attempt, table: NormTable, trait: str, percentile: float, z: float) -> None:
    TraitScore.objects.create(
        attempt=attempt,
        trait=trait,
        norm_table=table,
        trait_map=table.trait_map,
        scored=True,
        z=z,
        percentile=percentile,
        metrics_present=2,
        metrics_total=2,
        reliability=0.7,
    )


@pytest.fixture
def dash(organization: Organization) -> dict[str, Any]:
    assessment = assessment_create(
        organization=organization, name="Dash", games=["balloons", "cards", "stop"]
    )
    everything = ("balloons", "cards", "stop")
    people = {
        "i1": _attempt(assessment, "i1"),
        "i2": _attempt(assessment, "i2", state="expired"),
        "s1": _attempt(
            assessment, "s1", state="started", finished=("balloons",), in_progress=("cards",)
        ),
        "s2": _attempt(assessment, "s2", state="started", in_progress=("balloons",)),
        "c1": _attempt(assessment, "c1", state="completed", finished=everything, minutes=10),
        "c2": _attempt(assessment, "c2", state="completed", finished=everything, minutes=20),
        "c3": _attempt(
            assessment, "c3", state="completed", finished=everything, minutes=45, simulated=True
        ),
    }
    _metric_set(people["s1"], "balloons", ["too_fast"])
    _metric_set(people["c1"], "balloons", [])
    _metric_set(people["c1"], "stop", ["ssrt_invalid", "too_fast"])
    _metric_set(people["c2"], "stop", ["too_fast"], version=1)
    _metric_set(people["c2"], "stop", [], version=2)
    _event(people["s1"], "cards", 1, seconds_ago=60)
    _event(people["s1"], "cards", 2, seconds_ago=30)
    _event(people["s2"], "balloons", 1, seconds_ago=600)
    shared = _norm_table(None, "Simulated reference population", 1)
    table = _norm_table(organization, "Acme norms", 2)
    for key, percentile, z in (("c1", 5.0, -1.5), ("c2", 55.0, 0.2), ("c3", 95.0, 1.9)):
        _trait(people[key], table, "risk_tolerance", percentile, z)
        _trait(people[key], shared, "risk_tolerance", 50.0, 0.0)  # not the current table
    _trait(people["s1"], table, "risk_tolerance", 50.0, 0.0)  # not completed
    return {"assessment": assessment, "people": people, "table": table}


def test_counts_and_funnel(dash):
    summary = assessment_dashboard_summary(assessment=dash["assessment"])

    assert summary["assessment"] == {
        "id": dash["assessment"].pk,
        "name": "Dash",
        "games": ["balloons", "cards", "stop"],
    }
    assert summary["counts"] == {
        "invited": 7,
        "started": 5,
        "completed": 3,
        "expired": 1,
        "withdrawn": 0,
        "flagged": 2,
        "simulated": 1,
    }
    assert summary["candidates_simulated"] is True
    assert summary["funnel"]["stages"] == [
        {"stage": "invited", "count": 7, "of_previous": None, "of_first": 1.0},
        {"stage": "started", "count": 5, "of_previous": 5 / 7, "of_first": 5 / 7},
        {"stage": "completed", "count": 3, "of_previous": 0.6, "of_first": 3 / 7},
    ]
    assert summary["funnel"]["games"] == [
        {
            "game": "balloons",
            "title": "Balloons",
            "position": 1,
            "reached": 5,
            "finished": 4,
            "stopped_here": 1,
            "stop_rate": 0.2,
        },
        {
            "game": "cards",
            "title": "Cards",
            "position": 2,
            "reached": 4,
            "finished": 3,
            "stopped_here": 1,
            "stop_rate": 0.25,
        },
        {
            "game": "stop",
            "title": "Stop Signal",
            "position": 3,
            "reached": 3,
            "finished": 3,
            "stopped_here": 0,
            "stop_rate": 0.0,
        },
    ]


def test_completion_time_distribution(dash):
    completion = assessment_dashboard_summary(assessment=dash["assessment"])["completion_minutes"]

    assert (completion["n"], completion["median"], completion["p90"]) == (3, 20.0, 40.0)
    assert [(b["low"], b["high"], b["count"]) for b in completion["bins"]] == [
        (10.0, 15.0, 1),
        (15.0, 20.0, 0),
        (20.0, 25.0, 1),
        (25.0, 30.0, 0),
        (30.0, 35.0, 0),
        (35.0, 40.0, 0),
        (40.0, 45.0, 0),
        (45.0, 50.0, 1),
    ]


def test_traits_of_completed_candidates_against_the_current_norm_table(dash):
    summary = assessment_dashboard_summary(assessment=dash["assessment"])

    assert summary["norm_table"] == {
        "id": dash["table"].pk,
        "name": "Acme norms",
        "version": 2,
        "simulated": False,
        "n_attempts": 40,
        "trait_map_version": 1,
    }
    traits = summary["traits"]
    assert traits["edges"] == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert traits["expected_share"] == [0.1] * 10
    # every trait of the map, in its order, scored or not
    assert [t["trait"] for t in traits["traits"]] == [
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
    risk = traits["traits"][-1]
    assert risk["poles"] == ["risk-seeking", "cautious"]
    assert risk["n"] == 3
    assert risk["counts"] == [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert risk["shares"] == [1 / 3, 0, 0, 0, 0, 1 / 3, 0, 0, 0, 1 / 3]
    assert risk["mean_z"] == pytest.approx(0.2)
    attention = traits["traits"][0]
    assert (attention["n"], attention["mean_z"], attention["shares"]) == (0, None, [None] * 10)


def test_quality_flags_count_candidates_and_sessions_on_the_newest_metrics(dash):
    flags = assessment_dashboard_summary(assessment=dash["assessment"])["quality_flags"]

    # too_fast: s1 (balloons) and c1 (stop); c2's flag was on an older extractor version
    assert flags["flags"] == [
        {
            "code": "too_fast",
            "description": FLAG_DESCRIPTIONS["too_fast"],
            "candidates": 2,
            "sessions": 2,
        },
        {
            "code": "ssrt_invalid",
            "description": FLAG_DESCRIPTIONS["ssrt_invalid"],
            "candidates": 1,
            "sessions": 1,
        },
    ]
    people = dash["people"]
    # newest attempt first: c1 was invited after s1
    assert flags["candidates"] == [
        {
            "attempt_id": people["c1"].pk,
            "candidate_id": people["c1"].candidate_id,
            "participant": "c1",
            "simulated": False,
            "flags": [
                {"game": "stop", "code": "ssrt_invalid"},
                {"game": "stop", "code": "too_fast"},
            ],
        },
        {
            "attempt_id": people["s1"].pk,
            "candidate_id": people["s1"].candidate_id,
            "participant": "s1",
            "simulated": False,
            "flags": [{"game": "balloons", "code": "too_fast"}],
        },
    ]


def test_a_superseded_session_s_flags_do_not_count(dash):
    GameSession.objects.filter(attempt=dash["people"]["s1"], game="balloons").update(
        state="superseded"
    )

    summary = assessment_dashboard_summary(assessment=dash["assessment"])

    assert summary["counts"]["flagged"] == 1
    assert [c["participant"] for c in summary["quality_flags"]["candidates"]] == ["c1"]


def test_playing_now_is_a_game_in_progress_with_a_recent_event(dash):
    playing = assessment_dashboard_summary(assessment=dash["assessment"])["playing_now"]

    # s1's cards event 30 s ago counts; s2's last balloons event 10 minutes ago does not
    assert playing["count"] == 1
    assert playing["window_s"] == PLAYING_NOW_WINDOW_S == 300
    assert playing["games"] == [{"game": "cards", "count": 1}]


def test_the_summary_is_plain_json(dash):
    import json

    summary = assessment_dashboard_summary(assessment=dash["assessment"])

    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_an_assessment_without_candidates_or_norms(organization):
    empty = assessment_create(organization=organization, name="Empty", games=["balloons"])

    summary = assessment_dashboard_summary(assessment=empty)

    assert summary["counts"] == {
        "invited": 0,
        "started": 0,
        "completed": 0,
        "expired": 0,
        "withdrawn": 0,
        "flagged": 0,
        "simulated": 0,
    }
    assert summary["candidates_simulated"] is False
    assert [s["of_first"] for s in summary["funnel"]["stages"]] == [None, None, None]
    assert summary["funnel"]["games"][0]["stop_rate"] is None
    assert summary["completion_minutes"] == {"n": 0, "median": None, "p90": None, "bins": []}
    assert summary["traits"]["traits"] == []
    assert summary["norm_table"] is None
    assert summary["quality_flags"] == {"flags": [], "candidates": []}
    assert summary["playing_now"]["count"] == 0


def test_an_invitation_past_its_expiry_counts_as_expired(organization):
    assessment = assessment_create(organization=organization, name="Old", games=["balloons"])
    attempt = candidate_invite(assessment=assessment, external_id="late").attempt
    Attempt.objects.filter(pk=attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(hours=1)
    )

    counts = assessment_dashboard_summary(assessment=assessment)["counts"]

    assert (counts["invited"], counts["expired"]) == (1, 1)


def test_flagged_candidates_are_listed_up_to_the_limit_and_counted_in_full(organization):
    assessment = assessment_create(organization=organization, name="Many", games=["balloons"])
    for index in range(FLAGGED_LISTED + 2):
        attempt = _attempt(assessment, f"f{index}", state="completed", finished=("balloons",))
        _metric_set(attempt, "balloons", ["too_fast"])

    summary = assessment_dashboard_summary(assessment=assessment)

    assert summary["counts"]["flagged"] == FLAGGED_LISTED + 2
    assert len(summary["quality_flags"]["candidates"]) == FLAGGED_LISTED
    assert summary["quality_flags"]["flags"][0]["candidates"] == FLAGGED_LISTED + 2


def test_a_computed_summary_is_served_from_the_cache(dash, django_assert_num_queries):
    assessment_dashboard_summary(assessment=dash["assessment"])

    with django_assert_num_queries(0):
        assessment_dashboard_summary(assessment=dash["assessment"])


def test_a_miss_costs_a_fixed_number_of_queries(dash, django_assert_num_queries):
    # counts, completion times, finished per game, unfinished sessions, flags,
    # norm table, trait scores; then playing now
    with django_assert_num_queries(8):
        assessment_dashboard_summary(assessment=dash["assessment"])


def test_writes_make_the_next_read_fresh(dash, django_capture_on_commit_callbacks):
    assessment = dash["assessment"]
    before = assessment_dashboard_summary(assessment=assessment)

    # a new invitation
    with django_capture_on_commit_callbacks(execute=True):
        candidate_invite(assessment=assessment, external_id="late-comer")
    after_invite = assessment_dashboard_summary(assessment=assessment)
    # s1 finishes cards and stop: the attempt completes
    with django_capture_on_commit_callbacks(execute=True):
        for game in ("cards", "stop"):
            game_session = GameSession.objects.get(attempt=dash["people"]["s1"], game=game)
            game_session_mark_completed(game_session_id=game_session.pk)
    after_completion = assessment_dashboard_summary(assessment=assessment)

    assert before["counts"]["invited"] == 7
    assert after_invite["counts"]["invited"] == 8
    assert after_completion["counts"]["completed"] == 4
    assert after_completion["funnel"]["games"][1]["finished"] == 4


def test_a_new_norm_table_makes_the_next_read_fresh(
    dash, organization, django_capture_on_commit_callbacks
):
    from pymetrics.common.versions import bump, organization_norms_scope, organization_scope

    assessment_dashboard_summary(assessment=dash["assessment"])
    with django_capture_on_commit_callbacks(execute=True):
        newer = _norm_table(organization, "Acme norms", 3)
        # as norm_table_build does
        bump(organization_scope(organization.pk), organization_norms_scope(organization.pk))

    summary = assessment_dashboard_summary(assessment=dash["assessment"])

    assert summary["norm_table"]["id"] == newer.pk
    assert summary["traits"]["traits"][-1]["n"] == 0


def test_playing_now_alone_reads_once(dash, django_assert_num_queries):
    with django_assert_num_queries(1):
        playing = candidates_playing_now(assessment=dash["assessment"])

    assert playing["count"] == 1


def test_a_score_landing_makes_the_next_read_fresh(
    organization, django_capture_on_commit_callbacks
):
    """Four completed candidates scored against their organisation's own norms.

    risk_tolerance = balloons.adjusted_pumps (+) and easy_or_hard.hard_choice_rate_p12 (+);
    with pumps 10, 20, 30, 40 and p12 0, .2, .2, .6 the trait percentiles are the
    mid-ranks 12.5, 37.5, 62.5, 87.5 (worked out in scoring/tests/test_traits.py),
    bins 1, 3, 6, 8; trait z is standardised in the same four people, so its mean is 0.
    """
    from pymetrics.scoring.services import norm_table_build, traits_infer

    battery = assessment_create(
        organization=organization, name="Risk battery", games=["balloons", "easy_or_hard"]
    )
    attempts = []
    for index, (pumps, p12) in enumerate(
        zip([10.0, 20.0, 30.0, 40.0], [0.0, 0.2, 0.2, 0.6], strict=True)
    ):
        attempt = _attempt(
            battery,
            f"p{index + 1}",
            state="completed",
            finished=("balloons", "easy_or_hard"),
            minutes=5,
        )
        for game, values in (
            ("balloons", {"adjusted_pumps": pumps}),
            ("easy_or_hard", {"hard_choice_rate_p12": p12, "hard_choice_rate": 0.5}),
        ):
            MetricSet.objects.create(
                game_session=GameSession.objects.get(attempt=attempt, game=game),
                game=game,
                extractor_version=1,
                values=values,
            )
        attempts.append(attempt)
    norm_table_build(population="organisation", name="Acme norms", organization=organization)
    before = assessment_dashboard_summary(assessment=battery)["traits"]["traits"][-1]

    with django_capture_on_commit_callbacks(execute=True):
        traits_infer(attempt_ids=[attempt.pk for attempt in attempts])
    after = assessment_dashboard_summary(assessment=battery)["traits"]["traits"][-1]

    assert (before["trait"], before["n"]) == ("risk_tolerance", 0)
    assert after["n"] == 4
    assert after["counts"] == [0, 1, 0, 1, 0, 0, 1, 0, 1, 0]
    assert after["mean_z"] == pytest.approx(0.0, abs=1e-9)
