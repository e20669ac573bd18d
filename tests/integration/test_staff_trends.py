"""Trends and behavioural insights in Chromium, on the real stack, with a seeded history.

The demo is seeded over the past four weeks (so that enough candidates finished
within the notes' 28-day window), through ingestion, extraction and the norms.
The trends page must draw the completions of the seeded weeks with the counts the
database holds and a drift table with PSI values; the insights page a histogram
of the right n, a k x k heatmap, and a note whose link leads to its histogram.
Both pass axe and fit the laptop without horizontal scrolling.
"""

from __future__ import annotations

import io
import re
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from pymetrics.analytics.stats.drift import iso_week_label
from pymetrics.assessments.models import Attempt, AttemptState
from pymetrics.common.versions import bump, organization_scope
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable
from pymetrics.scoring.selectors import current_norm_table
from tests.integration.conftest import (
    ARTIFACTS,
    Services,
    axe_violations,
    chart_points,
    seed_demo,
    staff_page,
)

pytestmark = pytest.mark.django_db(transaction=True)

CANDIDATES = 16
WEEKS = 4


def _no_horizontal_scroll(page: Any) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def _drawn(page: Any, chart_id: str) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """id => {
                const chart = PmCharts.figure(id).pmChart;
                return {labels: chart.data.labels,
                        data: chart.data.datasets.map(d => d.data),
                        elements: chart.getDatasetMeta(0).data.length};
            }""",
            chart_id,
        )
    )


def _metric_values(assessment: Any, game: str, name: str) -> list[float]:
    """Completed attempts' values of one metric, from the database."""
    rows = MetricSet.objects.filter(
        game=game,
        game_session__attempt__assessment=assessment,
        game_session__attempt__state=AttemptState.COMPLETED,
    ).values_list("values", flat=True)
    return [values[name] for values in rows if name in values]


def _shifted_norms(organization: Any, assessment: Any) -> tuple[str, int]:
    """The organisation's own norm table: the shared one with balloon bursts 3 SDs lower.

    Its candidates then burst clearly more balloons than this norm group: a note.
    Returns the metric and the number of its recent candidates.
    """
    shared = current_norm_table(organization_id=organization.pk)
    assert shared is not None
    data = dict(shared.data)
    metrics = dict(data["metrics"])
    bursts = dict(metrics["balloons.bursts"])
    shift = 3 * bursts["sd"]
    bursts["mean"] -= shift
    bursts["percentiles"] = [value - shift for value in bursts["percentiles"]]
    metrics["balloons.bursts"] = bursts
    data["metrics"] = metrics
    NormTable.objects.create(
        organization=organization,
        name="Shifted reference (test)",
        version=1,
        population=NormPopulation.SIMULATED,
        is_simulated=True,
        trait_map=shared.trait_map,
        n_attempts=shared.n_attempts,
        data=data,
        reliabilities=shared.reliabilities,
    )
    bump(organization_scope(organization.pk))
    since = timezone.now() - timedelta(days=28)
    recent = MetricSet.objects.filter(
        game="balloons",
        game_session__attempt__assessment=assessment,
        game_session__attempt__state=AttemptState.COMPLETED,
        game_session__attempt__completed_at__gte=since,
    ).count()
    return "balloons.bursts", recent


def test_trends_and_insights_draw_the_seeded_history(services: Services, browser: Any) -> None:
    started_at = time.monotonic()
    call_command(
        "seed_demo",
        *("--candidates", str(CANDIDATES), "--norm-players", "40", "--weeks", str(WEEKS)),
        stdout=io.StringIO(),
    )
    demo = seed_demo(candidates=CANDIDATES, norm_players=40)  # adds nothing; the login
    print(f"seeded in {time.monotonic() - started_at:.1f} s")
    assessment = demo.assessment
    completions = Counter(
        iso_week_label(timezone.localtime(moment).date())
        for moment in Attempt.objects.filter(
            assessment=assessment, state=AttemptState.COMPLETED
        ).values_list("completed_at", flat=True)
    )
    assert sum(completions.values()) >= 10
    page = staff_page(browser, services, email=demo.email, password=demo.password)

    # trends: the seeded weeks with their counts, trait means, the metric, the drift table
    page.goto(f"{services.base_url}/staff/trends/")
    assert chart_points(page, "weekly-completions") > 0
    weekly = _drawn(page, "weekly-completions")
    drawn = dict(zip(weekly["labels"], weekly["data"][0], strict=True))
    assert {week: count for week, count in drawn.items() if count} == dict(completions)
    assert weekly["elements"] == len(weekly["labels"]) >= WEEKS
    assert chart_points(page, "trait-means") > 0
    assert chart_points(page, "metric-weekly") > 0
    assert chart_points(page, "drift") > 0
    rows = page.locator("[data-testid=drift-row]")
    assert rows.count() == 9 + 1  # every trait and the chosen metric
    attention = page.locator("[data-testid=drift-row][data-measure=attention]")
    psi = attention.locator("[data-role=psi]").inner_text()
    assert re.fullmatch(r"\d+\.\d{3}", psi), psi
    n = int(attention.locator("[data-role=n]").inner_text())
    assert (
        n
        == Attempt.objects.filter(
            assessment=assessment,
            state=AttemptState.COMPLETED,
            completed_at__gte=timezone.now() - timedelta(days=28),
        ).count()
    )
    assert "fewer than 30" in attention.locator("[data-role=reading]").inner_text()
    # the legend toggles a trait with its band
    hidden = page.evaluate(
        """() => {
            const chart = PmCharts.figure('trait-means').pmChart;
            const item = chart.legend.legendItems[0];
            chart.options.plugins.legend.onClick(null, item, chart.legend);
            return chart.data.datasets.filter((d, i) => d.pmTrait === 'attention')
                .map((d, i) => chart.isDatasetVisible(chart.data.datasets.indexOf(d)));
        }"""
    )
    assert hidden == [False, False, False]
    assert (
        len(page.evaluate("() => PmCharts.figure('trait-means').pmChart.legend.legendItems")) == 9
    )
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "staff-trends.png"), full_page=True)

    # insights: the histogram of the default metric has the right n
    page.goto(f"{services.base_url}/staff/insights/")
    assert chart_points(page, "histogram") > 0
    histogram = _drawn(page, "histogram")
    pumps = _metric_values(assessment, "balloons", "adjusted_pumps")
    assert sum(histogram["data"][0]) == len(pumps) >= 10
    assert f"balloons.adjusted_pumps: {len(pumps)} completed candidates" in page.inner_text(
        "[data-testid=chart-histogram] .pm-chart__title"
    )
    # the heatmap: one metric per game, k x k cells drawn
    heatmap = _drawn(page, "correlations")
    k = len(page.evaluate("() => PmCharts.figure('correlations').pmChart.options.scales.x.labels"))
    assert k == 12
    assert len(heatmap["data"][0]) == heatmap["elements"] == k * k
    # each cell is sized to a k-th of the chart area (not the plugin's default 20 pixels)
    page.wait_for_function(
        """k => {
            const chart = PmCharts.figure('correlations').pmChart;
            const cell = chart.getDatasetMeta(0).data[0];
            return Math.abs(cell.width - (chart.chartArea.width / k - 1)) < 0.5;
        }""",
        arg=k,
    )
    assert axe_violations(page) == []
    assert _no_horizontal_scroll(page)

    # a note: against norms whose bursts are 3 SDs lower, the recent candidates burst more
    metric, recent = _shifted_norms(demo.organization, assessment)
    page.goto(f"{services.base_url}/staff/insights/")
    note = page.locator(f"[data-testid=note][data-metric='{metric}']")
    assert note.count() == 1
    text = note.inner_text()
    assert "higher than the norm group's" in text
    assert f"(n = {recent} candidates)" in text
    page.screenshot(path=str(ARTIFACTS / "staff-insights.png"), full_page=True)
    note.locator("[data-testid=note-link]").click()
    page.wait_for_url(re.compile(r".*metric=balloons\.bursts#chart-histogram$"))
    assert chart_points(page, "histogram") > 0
    assert page.inner_text("[data-testid=chart-histogram] .pm-chart__title").startswith(
        "balloons.bursts:"
    )
    assert page.evaluate("() => document.querySelector('#chart-histogram').matches(':target')")
    assert len(_drawn(page, "histogram")["data"]) == 2  # the candidates and the norm overlay
    assert axe_violations(page) == []
    assert page.console_errors == []
    print(f"done in {time.monotonic() - started_at:.1f} s")
