"""The trends page through the Django test client: charts, drift table, scoping."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.urls import reverse

from pymetrics.accounts.models import User
from pymetrics.analytics.tests.test_trends import (
    _fixed_now,  # noqa: F401 - the fixed clock, autouse
    history,  # noqa: F401 - the hand-made completions
)
from pymetrics.assessments.models import Assessment


@pytest.fixture
def staff_browser(client, recruiter):
    client.force_login(recruiter)
    return client


def chart_spec(html: str, chart_id: str) -> dict[str, Any]:
    found = re.search(
        rf'<script id="chart-{re.escape(chart_id)}-data" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def drift_rows(html: str) -> dict[str, dict[str, str]]:
    rows = {}
    for match in re.finditer(
        r'<tr[^>]*data-testid="drift-row" data-measure="([^"]+)" data-status="([^"]+)">(.*?)</tr>',
        html,
        re.S,
    ):
        cells = dict(re.findall(r'data-role="(\w+)">(.*?)</td>', match.group(3), re.S))
        rows[match.group(1)] = {"status": match.group(2), **cells}
    return rows


def test_the_trends_page_draws_the_weeks_and_the_drift(staff_browser, history):  # noqa: F811
    response = staff_browser.get(reverse("staff:trends"))

    assert response.status_code == 200
    assert response.templates[0].name == "staff/trends.html"
    html = response.content.decode()
    completions = chart_spec(html, "weekly-completions")
    assert completions["labels"] == [
        "2025-W06",
        "2025-W07",
        "2025-W08",
        "2025-W09",
        "2025-W10",
        "2025-W11",
    ]
    assert completions["datasets"][0]["data"] == [2, 0, 1, 0, 0, 1]
    assert completions["table"]["rows"][0] == ["2025-W06", "2025-02-03", 2]
    # trait means: a line and its two band edges per trait, diamonds on the window's weeks
    traits = chart_spec(html, "trait-means")
    assert len(traits["datasets"]) == 3 * 9
    attention = traits["datasets"][0]
    assert attention["pmTrait"] == "attention"
    assert attention["data"] == [2.0, None, -1.0, None, None, 0.5]
    assert attention["pointStyle"] == ["circle"] + ["rectRot"] * 5
    assert attention["label"].startswith("Attention (PSI 8.28: not read: fewer than 30")
    assert traits["datasets"][2]["fill"] == "-1"
    assert traits["datasets"][2]["pmBand"] is True
    # the default metric of balloons is the one the trait map uses: adjusted pumps
    assert chart_spec(html, "metric-weekly")["title"] == "balloons.adjusted_pumps per week"
    # the drift table: every trait and the metric, with n, PSI and its reading
    rows = drift_rows(html)
    assert list(rows)[:2] == ["attention", "decision_making"]
    assert rows["attention"] == {
        "status": "insufficient",
        "n": "2",
        "psi": "8.283",
        "reading": "not read: fewer than 30 candidates",
        "noise": "—",  # not read: no noise level either
    }
    assert rows["decision_making"]["reading"] == "no norm for it"
    assert rows["balloons.adjusted_pumps"]["reading"] == "no norm for it"
    drift = chart_spec(html, "drift")
    assert drift["labels"][0] == "Attention"
    assert [d["data"][0] for d in drift["datasets"]] == [pytest.approx(8.2830894), 0.1, 0.25]
    assert drift["simulated"] is True  # the norm table is simulated


def test_a_chosen_metric_is_followed(staff_browser, history):  # noqa: F811
    response = staff_browser.get(reverse("staff:trends"), {"metric": "balloons.bursts"})

    html = response.content.decode()
    metric = chart_spec(html, "metric-weekly")
    assert metric["datasets"][2]["data"] == [5.0, None, 10.0, None, None, 12.0]
    assert metric["datasets"][0]["data"][0] == 4.5
    assert metric["datasets"][1]["data"][0] == 5.5
    assert drift_rows(html)["balloons.bursts"]["psi"] == "6.808"
    assert 'value="balloons.bursts" selected' in html


def test_an_unknown_metric_falls_back_to_the_default(staff_browser, history):  # noqa: F811
    response = staff_browser.get(reverse("staff:trends"), {"metric": "balloons.nonsense"})

    assert response.status_code == 200
    assert chart_spec(response.content.decode(), "metric-weekly")["title"] == (
        "balloons.adjusted_pumps per week"
    )


def test_one_assessment_is_shown_on_its_own(staff_browser, organization, history):  # noqa: F811
    other = Assessment.objects.create(organization=organization, name="Other", games=["balloons"])

    response = staff_browser.get(reverse("staff:trends"), {"assessment": other.pk})

    assert response.status_code == 200
    assert chart_spec(response.content.decode(), "weekly-completions")["labels"] == []
    assert "No completed candidates yet" in response.content.decode()


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_an_unknown_assessment_is_not_found(staff_browser, value):
    response = staff_browser.get(reverse("staff:trends"), {"assessment": value})

    assert response.status_code == 404
    assert response.templates[0].name == "staff/not_found.html"


def test_another_organisations_assessment_is_not_found(staff_browser, other_organization):
    theirs = Assessment.objects.create(
        organization=other_organization, name="Theirs", games=["balloons"]
    )

    response = staff_browser.get(reverse("staff:trends"), {"assessment": theirs.pk})

    assert response.status_code == 404
    assert b"Theirs" not in response.content


def test_without_an_organisation_the_page_is_forbidden(client, db):
    user = User.objects.create_user(email="lone@example.org", password="x")
    client.force_login(user)

    response = client.get(reverse("staff:trends"))

    assert response.status_code == 403


def test_the_page_needs_a_login(client, db):
    response = client.get(reverse("staff:trends"))

    assert response.status_code == 302
    assert reverse("staff:login") in response["Location"]


def test_the_page_loads_its_own_script_and_no_inline_script(staff_browser, history):  # noqa: F811
    html = staff_browser.get(reverse("staff:trends")).content.decode()

    assert "staff/trends.js" in html
    assert "staff/trends.css" in html
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert scripts
    assert all('type="application/json"' in attributes for attributes in scripts)
    assert 'aria-current="page"' in html
    assert ">Trends</a>" in html
