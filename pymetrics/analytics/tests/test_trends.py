"""The trends read model on hand-made records: weekly counts, trait means, metric spread, drift.

The records are written directly (no games are played) so that every number is
known: "now" is Wednesday 2025-03-12 12:00 UTC, in ISO week 2025-W11; the drift
window (28 days) starts on 2025-02-12 12:00, in week 2025-W07.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache

from pymetrics.accounts.models import Organization
from pymetrics.analytics.selectors.trends import (
    completed_attempts,
    default_metrics,
    metric_values_by_attempt,
    trends_metric,
    trends_overview,
)
from pymetrics.analytics.stats.drift import noise_level
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.assessments.services import (
    attempt_start,
    candidate_invite,
    game_session_mark_completed,
)
from pymetrics.psychometrics import load_trait_map
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import trait_map_version_get_or_create

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
#: A distribution whose k-th percentile is k: deciles at 10, 20, ..., 90.
UNIFORM = [float(k) for k in range(1, 100)]


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    cache.clear()


def distribution(mean: float = 50.0, sd: float = 28.0, n: int = 100) -> dict[str, Any]:
    return {"n": n, "mean": mean, "sd": sd, "percentiles": list(UNIFORM)}


def make_norm_table(
    *,
    organization: Organization | None = None,
    metrics: dict[str, dict[str, Any]] | None = None,
    traits: dict[str, dict[str, Any]] | None = None,
    simulated: bool = True,
    name: str = "Reference",
) -> NormTable:
    return NormTable.objects.create(
        organization=organization,
        name=name,
        version=1,
        population=NormPopulation.SIMULATED if simulated else NormPopulation.ORGANISATION,
        is_simulated=simulated,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=100,
        data={
            "metrics": metrics or {},
            "traits": traits or {},
            "trait_raw_scores": {name: [] for name in traits or {}},
        },
    )


def completed(
    assessment: Assessment,
    when: datetime,
    *,
    metrics: dict[str, dict[str, float]] | None = None,
    simulated: bool = False,
    state: str = AttemptState.COMPLETED,
) -> Attempt:
    """A finished attempt with one scored session per game in ``metrics``."""
    candidate = Candidate.objects.create(
        organization=assessment.organization, is_simulated=simulated, created_at=when
    )
    attempt = Attempt.objects.create(
        candidate=candidate,
        assessment=assessment,
        state=state,
        started_at=when - timedelta(hours=1),
        completed_at=when if state == AttemptState.COMPLETED else None,
    )
    for position, (game, values) in enumerate((metrics or {}).items(), start=1):
        session = GameSession.objects.create(
            attempt=attempt,
            game=game,
            position=position,
            seed=position,
            state=GameSessionState.SCORED,
            completed_at=when,
        )
        MetricSet.objects.create(
            game_session=session, game=game, extractor_version=1, values=values
        )
    return attempt


def trait(attempt: Attempt, table: NormTable, name: str, z: float) -> TraitScore:
    """A scored trait whose raw score equals its z (the tests' norm is on the raw scale)."""
    return TraitScore.objects.create(
        attempt=attempt,
        trait=name,
        norm_table=table,
        trait_map=table.trait_map,
        scored=True,
        raw=z,
        z=z,
        percentile=50.0,
        metrics_present=2,
        metrics_total=2,
        reliability=0.8,
    )


@pytest.fixture
def history(organization: Organization, assessment: Assessment) -> dict[str, Any]:
    """Four completed attempts in weeks 6, 6, 8 and 11 of 2025, and some that do not count.

    attention z (= raw):      1.0 (W06), 3.0 (W06), -1.0 (W08), 0.5 (W11)
    balloons.bursts:            4        6          10          12
    """
    table = make_norm_table(
        metrics={"balloons.bursts": distribution()}, traits={"attention": distribution()}
    )
    rows = [
        (datetime(2025, 2, 3, 10, tzinfo=UTC), 1.0, 4.0),
        (datetime(2025, 2, 5, 10, tzinfo=UTC), 3.0, 6.0),
        (datetime(2025, 2, 20, 10, tzinfo=UTC), -1.0, 10.0),
        (datetime(2025, 3, 11, 9, tzinfo=UTC), 0.5, 12.0),
    ]
    attempts = []
    for when, z, bursts in rows:
        attempt = completed(assessment, when, metrics={"balloons": {"bursts": bursts}})
        trait(attempt, table, "attention", z)
        attempts.append(attempt)
    # an older extractor version of the third attempt's balloons: never read
    MetricSet.objects.create(
        game_session=attempts[2].game_sessions.get(),
        game="balloons",
        extractor_version=0,
        values={"bursts": 99.0},
    )
    # an attempt still being played and another organisation's completion: not counted
    completed(assessment, datetime(2025, 3, 1, tzinfo=UTC), state=AttemptState.STARTED)
    other = Organization.objects.create(name="Globex", slug="globex")
    other_assessment = Assessment.objects.create(
        organization=other, name="Other", games=["balloons"]
    )
    completed(
        other_assessment, datetime(2025, 3, 10, tzinfo=UTC), metrics={"balloons": {"bursts": 50.0}}
    )
    return {"table": table, "attempts": attempts}


def test_completions_are_counted_per_iso_week_with_empty_weeks_filled(organization, history):
    overview = trends_overview(organization=organization)

    assert [(w["label"], w["start"], w["completions"], w["recent"]) for w in overview["weeks"]] == [
        ("2025-W06", "2025-02-03", 2, False),
        ("2025-W07", "2025-02-10", 0, True),  # the window starts on Wednesday 12 February
        ("2025-W08", "2025-02-17", 1, True),
        ("2025-W09", "2025-02-24", 0, True),
        ("2025-W10", "2025-03-03", 0, True),
        ("2025-W11", "2025-03-10", 1, True),
    ]
    assert overview["completed"] == 4
    assert overview["recent"]["completed"] == 2
    assert overview["recent"]["since"] == "2025-02-12T12:00:00+00:00"
    assert overview["simulated"] is False
    assert overview["norm_table"]["name"] == "Reference"


def test_the_weekly_trait_mean_carries_a_student_t_interval(organization, history):
    overview = trends_overview(organization=organization)

    attention = next(t for t in overview["traits"] if t["trait"] == "attention")
    weekly = attention["weekly"]
    # W06: z 1 and 3 -> mean 2, SD sqrt(2); t(0.975, 1) = 12.7062047, half-width
    # 12.7062047 * sqrt(2) / sqrt(2) = 12.7062047
    assert weekly[0]["n"] == 2
    assert weekly[0]["mean"] == pytest.approx(2.0)
    assert weekly[0]["low"] == pytest.approx(2.0 - 12.7062047, abs=1e-6)
    assert weekly[0]["high"] == pytest.approx(2.0 + 12.7062047, abs=1e-6)
    # an empty week, then a week of one: a mean without an interval
    assert weekly[1] == {"n": 0, "mean": None, "low": None, "high": None}
    assert weekly[2] == {"n": 1, "mean": -1.0, "low": None, "high": None}
    # a trait nobody was scored on: empty weeks, and no drift without a norm for it
    focus = next(t for t in overview["traits"] if t["trait"] == "focus")
    assert {w["n"] for w in focus["weekly"]} == {0}
    assert focus["drift"] is None
    assert [t["trait"] for t in overview["traits"]] == [t.name for t in load_trait_map().traits]


def test_trait_drift_is_the_psi_of_the_recent_raw_scores_against_the_norm_deciles(
    organization, history
):
    overview = trends_overview(organization=organization)

    drift = next(t for t in overview["traits"] if t["trait"] == "attention")["drift"]
    # recent raw scores -1 and 0.5 both fall in the first decile (<= 10):
    # PSI = (1 - 0.1) ln 10 + 9 x (0.0001 - 0.1) ln(0.001) = 2.0723266 + 6.2107628 = 8.2830894
    assert drift["n"] == 2
    assert drift["psi"] == pytest.approx(8.2830894, abs=1e-6)
    assert drift["status"] == "insufficient"  # 2 candidates: not read
    assert [b["upper"] for b in drift["bins"]] == [10.0, 20, 30, 40, 50, 60, 70, 80, 90, None]
    assert drift["bins"][0] == {"upper": 10.0, "expected": pytest.approx(0.1), "actual": 1.0}


def test_a_metric_per_week_is_its_median_and_quartiles(organization, history):
    metric = trends_metric(organization=organization, key="balloons.bursts")

    # W06: 4 and 6 -> quartiles (linear) 4.5, 5, 5.5; the older extractor version's 99 is ignored
    assert metric["weekly"] == [
        {"start": "2025-02-03", "n": 2, "q1": 4.5, "median": 5.0, "q3": 5.5},
        {"start": "2025-02-17", "n": 1, "q1": 10.0, "median": 10.0, "q3": 10.0},
        {"start": "2025-03-10", "n": 1, "q1": 12.0, "median": 12.0, "q3": 12.0},
    ]
    assert metric["n"] == 4
    assert (metric["game"], metric["name"], metric["unit"]) == ("balloons", "bursts", "balloons")
    # recent 10 (first decile, <= 10) and 12 (second):
    # PSI = 2 x (0.5 - 0.1) ln 5 + 8 x (0.0001 - 0.1) ln(0.001) = 1.2875503 + 5.5206781
    assert metric["drift"]["psi"] == pytest.approx(6.8082283, abs=1e-6)
    assert metric["drift"]["n"] == 2


def test_a_metric_the_norms_lack_has_no_drift(organization, history):
    metric = trends_metric(organization=organization, key="balloons.adjusted_pumps")

    assert metric["drift"] is None
    assert metric["weekly"] == []


def test_one_assessment_only(organization, assessment, history):
    later = Assessment.objects.create(organization=organization, name="Later", games=["balloons"])
    completed(later, datetime(2025, 3, 4, tzinfo=UTC))

    assert trends_overview(organization=organization)["completed"] == 5
    only = trends_overview(organization=organization, assessment=later)
    assert [(w["label"], w["completions"]) for w in only["weeks"]] == [
        ("2025-W10", 1),
        ("2025-W11", 0),
    ]


def test_a_simulated_candidate_marks_the_trends_simulated(organization, assessment, history):
    completed(assessment, datetime(2025, 3, 5, tzinfo=UTC), simulated=True)

    assert trends_overview(organization=organization)["simulated"] is True


def test_drift_is_read_from_30_candidates(organization, assessment):
    table = make_norm_table(traits={"attention": distribution()})
    # 30 recent candidates, 3 per decile (5, 15, ..., 95): shaped like the norm
    for index in range(30):
        attempt = completed(assessment, NOW - timedelta(days=1 + index % 20))
        trait(attempt, table, "attention", 5.0 + 10 * (index % 10))

    drift = next(
        t for t in trends_overview(organization=organization)["traits"] if t["trait"] == "attention"
    )["drift"]

    assert (drift["n"], drift["status"], drift["beyond_noise"]) == (30, "stable", False)
    assert drift["psi"] == pytest.approx(0.0, abs=1e-12)
    # the noise level of 30 candidates against a norm group of 100
    assert drift["noise_level"] == noise_level(30, [0.1] * 10, 100)


def test_no_completions_means_no_weeks(organization, assessment):
    overview = trends_overview(organization=organization)

    assert overview["weeks"] == []
    assert overview["completed"] == 0
    assert overview["norm_table"] is None
    assert all(t["drift"] is None for t in overview["traits"])


def test_the_next_read_after_a_completion_counts_it(
    organization, assessment, history, django_capture_on_commit_callbacks
):
    assert trends_overview(organization=organization)["completed"] == 4
    invitation = candidate_invite(assessment=assessment, email="new@example.org")
    attempt = attempt_start(attempt=invitation.attempt)

    # when the candidate's only game completes (the service bumps the organisation)
    with django_capture_on_commit_callbacks(execute=True):
        game_session_mark_completed(game_session_id=attempt.game_sessions.get().pk)

    # then the next read counts it, in this week
    overview = trends_overview(organization=organization)
    assert overview["completed"] == 5
    assert overview["weeks"][-1]["completions"] == 2


def test_the_overview_is_read_in_a_few_queries_then_from_the_cache(
    organization, history, django_assert_num_queries
):
    # weekly counts, the norm table, weekly trait sums, recent raw scores, "simulated?",
    # recent count: six queries however many candidates
    with django_assert_num_queries(6):
        trends_overview(organization=organization)
    with django_assert_num_queries(0):
        trends_overview(organization=organization)


def test_metric_values_take_each_sessions_newest_version(organization, history):
    attempts = completed_attempts(organization=organization)

    values = metric_values_by_attempt(attempts, ["balloons.bursts", "balloons.mean_pumps"])

    assert sorted(v["balloons.bursts"] for v in values.values()) == [4.0, 6.0, 10.0, 12.0]
    assert all("balloons.mean_pumps" not in v for v in values.values())


def test_one_default_metric_per_game_from_the_trait_map():
    assert default_metrics(["balloons", "digits", "tower"], load_trait_map()) == [
        "balloons.adjusted_pumps",
        "digits.forward_span",
        "tower.planning_time_ms",
    ]


def test_psi_of_no_recent_candidate_is_none(organization, assessment):
    table = make_norm_table(traits={"attention": distribution()})
    trait(completed(assessment, NOW - timedelta(days=60)), table, "attention", 1.0)

    drift = next(
        t for t in trends_overview(organization=organization)["traits"] if t["trait"] == "attention"
    )["drift"]

    assert (drift["n"], drift["psi"], drift["status"]) == (0, None, "insufficient")
    assert not math.isnan(drift["bins"][0]["expected"])
