"""The candidate profile and the compare page in Chromium, on the real stack.

The demo is seeded through the real pipeline (the worker extracts and scores every
game). A staff member opens a candidate's profile: nine trait bars with the stored
z, each game's timeline drawn from its events, metric rows with their norm
percentiles. Then the compare page with two candidates and the assessment's
completed candidates. While the profile is open, a new norm table re-scores the
candidate on the worker and the bars change without a reload.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.template.defaultfilters import floatformat

from pymetrics.analytics.stats.profiles import intervals_overlap, metric_standing
from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.common.live import live_publish
from pymetrics.events.selectors import events_frame
from pymetrics.games.registry import get_game
from pymetrics.ops.management.commands.seed_demo import DEMO_NORMS
from pymetrics.scoring.models import MetricSet, TraitScore
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import norm_table_build
from pymetrics.scoring.tasks import reinfer_norm_table_traits
from tests.integration.conftest import (
    ARTIFACTS,
    Services,
    axe_violations,
    chart_points,
    seed_demo,
    staff_page,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

TRAITS = (
    "attention",
    "decision_making",
    "effort",
    "emotion",
    "fairness",
    "focus",
    "generosity",
    "learning",
    "risk_tolerance",
)


def _scored_z(attempt: Attempt, norm_table: Any) -> list[float | None]:
    scores = {
        s.trait: s.z for s in TraitScore.objects.filter(attempt=attempt, norm_table=norm_table)
    }
    return [scores.get(trait) for trait in TRAITS]


def _trials(game_key: str, attempt: Attempt) -> Any:
    game = get_game(game_key)
    session = GameSession.objects.current().get(attempt=attempt, game=game_key)
    events = events_frame(game_session_ids=[session.pk], types=game.trial_event_types)
    return game.events_to_trials(events)


def _bars(page: Any) -> list[float | None]:
    return list(
        page.evaluate("() => PmCharts.figure('profile-traits').pmChart.data.datasets[0].data")
    )


def _no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_profile_and_compare_pages_draw_the_stored_numbers_and_follow_new_scores_live(
    services: Services, browser: Any
) -> None:
    started_at = time.monotonic()
    demo = seed_demo(candidates=6, norm_players=30)
    # the seed's funnel leaves some candidates only invited or halfway: take those who
    # finished every game
    attempts = list(
        Attempt.objects.filter(assessment=demo.assessment, state=AttemptState.COMPLETED)
        .select_related("candidate")
        .order_by("candidate__external_id")
    )
    assert len(attempts) >= 2
    # every game is scored; the last inference saw all twelve games' metrics
    wait_until(
        lambda: all(
            TraitScore.objects.filter(attempt=a, scored=True).count() == len(TRAITS)
            and not GameSession.objects.filter(attempt=a, state=GameSessionState.COMPLETED).exists()
            for a in attempts
        ),
        timeout=120,
    )
    print(f"seeded and scored in {time.monotonic() - started_at:.1f} s")
    attempt = attempts[0]
    candidate = attempt.candidate
    norm_table = current_norm_table(organization_id=demo.organization.pk)
    assert norm_table is not None

    page = staff_page(browser, services, email=demo.email, password=demo.password)
    page.emulate_media(reduced_motion="reduce")

    # --- the profile -----------------------------------------------------------------
    page.goto(f"{services.base_url}/staff/candidates/{candidate.pk}/")
    assert chart_points(page, "profile-traits") == 27  # 9 bars, 9 intervals, 9 benchmark
    assert _bars(page) == pytest.approx(_scored_z(attempt, norm_table))
    labels = page.evaluate("() => PmCharts.figure('profile-traits').pmChart.data.labels")
    assert labels[-1] == "Risk tolerance"
    note = page.inner_text("[data-testid=norm-note]")
    assert f"{DEMO_NORMS} v{norm_table.version}" in note
    assert "simulated norms" in note

    # balloons: one bar per balloon; stop: the staircase over stop trials and go RTs
    balloons = _trials("balloons", attempt)
    assert chart_points(page, "timeline-balloons") == len(balloons) > 0
    stop = _trials("stop", attempt)
    stop_points = int((stop["stop"] == 1).sum()) + int(
        ((stop["stop"] == 0) & stop["rt_ms"].notna()).sum()
    )
    assert chart_points(page, "timeline-stop") == stop_points > 0
    for game in demo.assessment.games:
        assert chart_points(page, f"timeline-{game}") > 0, game

    # a metric row with its norm percentile
    values = MetricSet.objects.get(
        game_session__attempt=attempt, game_session__game="balloons"
    ).values
    standing = metric_standing(
        values["adjusted_pumps"], norm_table.data["metrics"]["balloons.adjusted_pumps"]
    )
    expected = {-1: "<1", 1: ">99"}.get(standing["beyond"]) or str(
        floatformat(standing["percentile"], 0)
    )
    row = "[data-metric='balloons.adjusted_pumps']"
    assert page.inner_text(f"{row} [data-role=percentile]").strip() == expected
    assert page.inner_text(f"{row} [data-role=value]").strip() == str(
        floatformat(values["adjusted_pumps"], -2)
    )
    assert "no job-fit model has scored this candidate" in page.inner_text("[data-testid=fit-note]")

    # live: both sockets open
    page.wait_for_selector("[data-testid=live-dot][data-live=on]", timeout=10_000)
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "staff-profile.png"), full_page=True)

    # a new reference norm table: the worker re-scores the candidate and announces it
    before = _bars(page)
    page.evaluate("() => { window.notReloaded = true; }")
    newer = norm_table_build(population="simulated", name=DEMO_NORMS, players=30, seed=77)
    reinfer_norm_table_traits.delay(newer.pk)
    wait_until(
        lambda: (
            TraitScore.objects.filter(attempt=attempt, norm_table=newer, scored=True).count()
            == len(TRAITS)
        ),
        timeout=60,
    )
    expected_after = _scored_z(attempt, newer)
    assert expected_after != pytest.approx(before)
    wait_until(lambda: _bars(page) == pytest.approx(expected_after), timeout=20)
    # the rest of the profile followed (fetched again): the benchmark is the new table
    wait_until(
        lambda: f"{DEMO_NORMS} v{newer.version}" in page.inner_text("[data-testid=norm-note]"),
        timeout=20,
    )
    assert page.evaluate("() => window.notReloaded") is True

    # a game of this attempt changing state makes the page fetch its profile again;
    # another attempt's does not
    page.evaluate(
        "() => { window.refreshes = 0;"
        " document.addEventListener('pm:profile-refreshed', () => { window.refreshes += 1; }); }"
    )
    group = f"dashboard.{demo.assessment.pk}"
    notice = {"type": "session.state", "assessment_id": demo.assessment.pk, "state": "completed"}
    live_publish(group, {**notice, "attempt_id": attempts[1].pk})
    live_publish(group, {**notice, "attempt_id": attempt.pk})
    wait_until(lambda: page.evaluate("() => window.refreshes") == 1, timeout=10)
    page.wait_for_timeout(600)  # a second refresh would have come by now
    assert page.evaluate("() => window.refreshes") == 1

    # --- compare: two candidates and the assessment's completed candidates --------------
    page.goto(f"{services.base_url}/staff/compare/")
    page.select_option(
        "select[name=c]", [str(attempts[0].candidate_id), str(attempts[1].candidate_id)]
    )
    page.check(f"input[name=g][value='assessment:{demo.assessment.pk}']")
    assert "3 of 10 chosen" in page.inner_text("[data-testid=compare-count]")
    page.click("[data-testid=compare-submit]")
    assert chart_points(page, "compare-radar") > 0
    radar = page.evaluate("() => PmCharts.figure('compare-radar').pmChart.data.datasets.length")
    assert radar == 3
    drawn = page.evaluate(
        "() => PmCharts.figure('compare-radar').pmChart.data.datasets.map(d => [d.label, d.data])"
    )
    for chosen in attempts[:2]:
        (data,) = [d for label, d in drawn if chosen.candidate.participant in label]
        assert data == pytest.approx(_scored_z(chosen, newer))
    assert chart_points(page, "compare-bars") > 0
    # the differences the page lists are exactly the candidates' non-overlapping intervals
    # (the group's interval of the mean is checked in the unit tests)
    pairs = 0
    scores = [
        {s.trait: s for s in TraitScore.objects.filter(attempt=a, norm_table=newer)}
        for a in attempts[:2]
    ]
    for trait in TRAITS:
        a, b = scores[0][trait], scores[1][trait]
        assert None not in (a.z_low, a.z_high, b.z_low, b.z_high)  # every trait is scored
        first = (float(a.z_low or 0), float(a.z_high or 0))
        second = (float(b.z_low or 0), float(b.z_high or 0))
        if not intervals_overlap(first, second):
            pairs += 1
    listed = page.query_selector_all("[data-testid=compare-differences] li")
    between_candidates = [
        item
        for item in listed
        if candidate.participant in item.inner_text()
        and attempts[1].candidate.participant in item.inner_text()
    ]
    assert len(between_candidates) == pairs
    if not listed:
        page.wait_for_selector("[data-testid=compare-no-differences]")
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "staff-compare.png"), full_page=True)

    assert page.console_errors == []
    print(f"whole test {time.monotonic() - started_at:.1f} s")
