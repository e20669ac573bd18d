"""The insights page through the Django test client: histogram, heatmap, notes and their links."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from pymetrics.analytics.tests.test_trends import (
    NOW,
    UNIFORM,
    _fixed_now,  # noqa: F401 - the fixed clock, autouse
    completed,
    make_norm_table,
)
from pymetrics.assessments.models import Assessment
from pymetrics.staff.tests.test_trends_page import chart_spec


@pytest.fixture
def staff_browser(client, recruiter):
    client.force_login(recruiter)
    return client


@pytest.fixture
def shifted(assessment):
    """12 recent candidates bursting 10..21 balloons against a norm of mean 10, SD 2."""
    make_norm_table(
        metrics={
            "balloons.bursts": {"n": 100, "mean": 10.0, "sd": 2.0, "percentiles": UNIFORM},
            "balloons.adjusted_pumps": {"n": 100, "mean": 30.0, "sd": 5.0, "percentiles": UNIFORM},
        }
    )
    for index in range(12):
        completed(
            assessment,
            NOW - timedelta(days=1 + index),
            metrics={
                "balloons": {
                    "bursts": 10.0 + index,
                    "adjusted_pumps": 25.0 + index,
                    "mean_pumps": 40.0 - index,
                }
            },
        )


def test_a_note_in_words_links_to_the_histogram_that_shows_it(staff_browser, shifted):
    response = staff_browser.get(reverse("staff:insights"))

    assert response.status_code == 200
    assert response.templates[0].name == "staff/insights.html"
    html = response.content.decode()
    notes = re.findall(r'<li data-testid="note" data-metric="([^"]+)">(.*?)</li>', html, re.S)
    assert [metric for metric, _ in notes] == ["balloons.bursts"]
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", notes[0][1])).strip()
    # bursts 10..21: mean 15.5 against 10 -> 55% and (15.5 - 10) / 2 = 2.75 SD higher
    assert text.startswith(
        "In the last 28 days, candidates' balloons.bursts was 55% higher than the norm group's: "
        "mean 15.50 against 10.00, 2.75 SD (n = 12 candidates)."
    )
    found = re.search(r'href="([^"]+)" data-testid="note-link"', notes[0][1])
    assert found is not None
    link = html_lib.unescape(found.group(1))
    assert link == f"{reverse('staff:insights')}?metric=balloons.bursts#chart-histogram"

    # following the link shows that metric's histogram
    followed = staff_browser.get(link.split("#")[0])
    histogram = chart_spec(followed.content.decode(), "histogram")
    assert histogram["title"] == "balloons.bursts: 12 completed candidates"
    # bins span the candidates (10..21) and the norm's 1st..99th percentiles (1..99):
    # 98 units is too wide for one bin per value; 12 values give 5 bins of 19.6
    assert histogram["labels"] == [
        "1.00\N{EN DASH}20.60",
        "20.60\N{EN DASH}40.20",
        "40.20\N{EN DASH}59.80",
        "59.80\N{EN DASH}79.40",
        "79.40\N{EN DASH}99.00",
    ]
    assert histogram["datasets"][0]["data"] == [11, 1, 0, 0, 0]
    # the norm's share: F(20.6) = .206 (its lowest 1% in the first bin), then .196 each
    # (the top 1% at the 99th percentile, in the last): 12 x .206, 12 x .196, ...
    assert histogram["datasets"][1]["data"] == pytest.approx([2.472, 2.352, 2.352, 2.352, 2.472])
    assert histogram["simulated"] is True


def test_the_heatmap_has_one_metric_per_game_by_default_and_k_by_k_cells(staff_browser, shifted):
    html = staff_browser.get(reverse("staff:insights")).content.decode()

    heatmap = chart_spec(html, "correlations")
    assert heatmap["type"] == "matrix"
    assert heatmap["options"]["scales"]["x"]["labels"] == ["balloons.adjusted_pumps"]
    assert len(heatmap["datasets"][0]["data"]) == 1


def test_chosen_heatmap_metrics_give_k_by_k_cells(staff_browser, shifted):
    keys = ["balloons.bursts", "balloons.adjusted_pumps", "balloons.mean_pumps"]

    html = staff_browser.get(reverse("staff:insights"), {"metrics": keys}).content.decode()

    heatmap = chart_spec(html, "correlations")
    cells = heatmap["datasets"][0]["data"]
    assert len(cells) == 9
    # bursts and adjusted pumps rise together (rho 1), mean pumps falls (rho -1)
    by_pair = {(cell["y"], cell["x"]): cell for cell in cells}
    assert by_pair[("balloons.bursts", "balloons.adjusted_pumps")]["v"] == pytest.approx(1.0)
    assert by_pair[("balloons.bursts", "balloons.mean_pumps")]["v"] == pytest.approx(-1.0)
    assert by_pair[("balloons.bursts", "balloons.mean_pumps")]["n"] == 12
    assert heatmap["table"]["columns"] == ["Metric", *keys]
    assert heatmap["datasets"][0]["backgroundColor"][1] == "rgba(0, 114, 178, 1.000)"
    assert heatmap["datasets"][0]["backgroundColor"][2] == "rgba(230, 159, 0, 1.000)"
    # every chosen metric stays ticked
    for key in keys:
        assert f'value="{key}" checked' in html


def test_more_than_20_heatmap_metrics_keep_the_first_20(staff_browser, organization):
    Assessment.objects.create(organization=organization, name="All", games=["balloons", "cards"])
    keys = [
        *(f"balloons.{m}" for m in ("adjusted_pumps", "mean_pumps", "bursts", "earnings_cents")),
        *(f"balloons.adjusted_pumps_block_{b}" for b in (1, 2, 3)),
        *(f"cards.net_score_block_{b}" for b in (1, 2, 3, 4, 5)),
        *("cards.net_score", "cards.learning_slope", "cards.net_earnings"),
        *(f"cards.deck_{d}_rate" for d in "abcd"),
    ]
    assert len(keys) == 19
    keys += ["balloons.bursts", "cards.net_score", "balloons.mean_pumps"]  # repeats count once

    response = staff_browser.get(reverse("staff:insights"), {"metrics": keys})

    heatmap = chart_spec(response.content.decode(), "correlations")
    assert len(heatmap["options"]["scales"]["x"]["labels"]) == 19
    assert "Only the first" not in response.content.decode()


def test_no_note_without_a_clear_difference(staff_browser, assessment):
    make_norm_table(
        metrics={"balloons.bursts": {"n": 100, "mean": 15.5, "sd": 4.0, "percentiles": UNIFORM}}
    )
    for index in range(12):
        completed(
            assessment, NOW - timedelta(days=1), metrics={"balloons": {"bursts": 10.0 + index}}
        )

    html = staff_browser.get(reverse("staff:insights")).content.decode()

    assert 'data-testid="no-notes"' in html
    assert 'data-testid="note"' not in html


def test_another_organisations_assessment_is_not_found(staff_browser, other_organization):
    theirs = Assessment.objects.create(
        organization=other_organization, name="Theirs", games=["balloons"]
    )

    response = staff_browser.get(reverse("staff:insights"), {"assessment": theirs.pk})

    assert response.status_code == 404
    assert response.templates[0].name == "staff/not_found.html"


def test_an_assessment_narrows_the_page(staff_browser, organization, shifted):
    other = Assessment.objects.create(organization=organization, name="Cards", games=["cards"])

    response = staff_browser.get(reverse("staff:insights"), {"assessment": other.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert chart_spec(html, "histogram")["title"] == "cards.learning_slope: 0 completed candidates"
    assert 'data-testid="note"' not in html


def test_the_page_needs_a_login(client, db):
    response = client.get(reverse("staff:insights"))

    assert response.status_code == 302
