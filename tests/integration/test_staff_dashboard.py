"""The organisation's home and an assessment's live dashboard in Chromium, on the real stack.

The demo organisation is seeded through the real pipeline (ingestion, the Celery
worker, the norms). The home and the dashboard must draw the numbers the database
holds, pass axe, fit a tablet without horizontal scrolling, and the dashboard must
follow a new candidate played while it is open: the socket's notices make it fetch
its charts again and redraw them, without a reload.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.scoring.labels import trait_label
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

TABLET = {"width": 820, "height": 1180}
LAPTOP = {"width": 1366, "height": 900}


def _funnel(assessment: Any) -> list[int]:
    """invited, started, completed as the dashboard defines them, from the database."""
    attempts = Attempt.objects.filter(assessment=assessment)
    return [
        attempts.count(),
        attempts.filter(
            Q(started_at__isnull=False)
            | Q(state__in=(AttemptState.STARTED, AttemptState.COMPLETED))
        ).count(),
        attempts.filter(state=AttemptState.COMPLETED).count(),
    ]


def _completed_in_the_last_30_days(assessment: Any) -> int:
    first = timezone.localdate() - timedelta(days=29)
    return Attempt.objects.filter(
        assessment=assessment,
        state=AttemptState.COMPLETED,
        completed_at__gte=timezone.make_aware(datetime.combine(first, dt_time.min)),
    ).count()


def _drawn(page: Any, chart_id: str) -> list[Any]:
    return list(page.evaluate("id => PmCharts.figure(id).pmChart.data.datasets[0].data", chart_id))


def _no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def test_home_and_dashboard_show_the_seeded_numbers_and_follow_a_new_candidate_live(
    services: Services, browser: Any
) -> None:
    demo = seed_demo(candidates=10, norm_players=40)
    assessment = demo.assessment
    # the worker scores every finished game of the seed before the numbers are compared
    wait_until(
        lambda: (
            not GameSession.objects.filter(
                attempt__assessment=assessment, state=GameSessionState.COMPLETED
            ).exists()
        ),
        timeout=60,
    )
    invited, started, completed = _funnel(assessment)
    assert completed > 0

    page = staff_page(browser, services, email=demo.email, password=demo.password)

    # the home: the demo assessment's counts, its sparkline and the activity chart
    page.goto(f"{services.base_url}/staff/")
    row = page.wait_for_selector(f"[data-testid=assessment-row][data-assessment='{assessment.pk}']")
    assert row is not None
    assert row.query_selector("[data-cell=invited]").inner_text() == str(invited)
    assert row.query_selector("[data-cell=completed]").inner_text() == str(completed)
    recent = _completed_in_the_last_30_days(assessment)
    assert int(row.query_selector("[data-testid=sparkline]").get_attribute("data-total")) == recent
    assert chart_points(page, "activity") == 30
    assert sum(_drawn(page, "activity")) == recent
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-home.png"), full_page=True)
    page.set_viewport_size(TABLET)
    wait_until(lambda: _no_horizontal_scroll(page), timeout=5)
    page.set_viewport_size(LAPTOP)

    # the dashboard: every chart drawn with the database's numbers, the socket live
    page.click(
        f"[data-testid=assessment-row][data-assessment='{assessment.pk}'] "
        "[data-testid=assessment-dashboard-link]"
    )
    assert chart_points(page, "funnel") == 3
    assert _drawn(page, "funnel") == [invited, started, completed]
    games = len(assessment.games)
    assert chart_points(page, "dropoff") == 2 * games
    assert sum(_drawn(page, "completion_time")) == completed
    assert chart_points(page, "trait_means") > 0
    assert chart_points(page, "trait_distribution") > 0
    scored = page.evaluate(
        "() => PmCharts.figure('trait_distribution').pmChart.data.datasets[0].data.length"
    )
    assert scored == 10  # ten percentile bins of a trait completed candidates have
    page.wait_for_selector("[data-testid=live-dot][data-live=on]", timeout=15_000)
    assert page.inner_text("[data-count=completed]") == str(completed)
    # another trait from the list redraws the distribution chart
    options = page.eval_on_selector_all("#trait-select option", "els => els.map(e => e.value)")
    page.select_option("#trait-select", options[-1])
    wait_until(
        lambda: page.evaluate("() => PmCharts.figure('trait_distribution').spec.title").startswith(
            trait_label(options[-1])
        )
    )
    shown = page.inner_text("[data-testid=chart-trait_distribution] .pm-chart__title")
    assert shown.startswith(f"{trait_label(options[-1])}:")
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-dashboard.png"), full_page=True)

    # a new candidate plays while the page is open: it redraws, no reload
    page.evaluate(
        """() => {
            window.stillThisPage = true;
            window.highestRate = 0;
            const cell = document.querySelector('[data-live-rate]');
            new MutationObserver(() => {
                window.highestRate = Math.max(window.highestRate, Number(cell.textContent));
            }).observe(cell, {childList: true, characterData: true, subtree: true});
        }"""
    )
    from pymetrics.ops.simulation import simulate_candidates

    attempts_before = list(assessment.attempts.values_list("pk", flat=True))
    simulate_candidates(organization=demo.organization, assessment=assessment, count=1, seed=77)
    wait_until(lambda: _drawn(page, "funnel")[2] == completed + 1, timeout=30)
    assert page.inner_text("[data-count=invited]") == str(invited + 1)
    assert _drawn(page, "funnel") == [invited + 1, started + 1, completed + 1]
    assert page.inner_text("[data-count=completed]") == str(completed + 1)
    summary = page.inner_text("[data-testid=chart-funnel] .pm-chart__summary")
    assert summary.startswith(f"{invited + 1} invited, {started + 1} started")
    assert page.evaluate("() => window.stillThisPage") is True
    # its events were counted live while it played
    wait_until(lambda: page.evaluate("() => window.highestRate") > 0, timeout=10)

    page.set_viewport_size(TABLET)
    wait_until(lambda: _no_horizontal_scroll(page), timeout=5)
    assert page.console_errors == []

    # the worker's last stage for the new candidate (traits) is done before the
    # database is emptied for the next test
    from pymetrics.scoring.models import TraitScore

    wait_until(
        lambda: (
            TraitScore.objects.filter(attempt__assessment=assessment)
            .exclude(attempt__in=attempts_before)
            .exists()
        ),
        timeout=60,
    )
