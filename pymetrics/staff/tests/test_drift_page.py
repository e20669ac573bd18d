"""The drift alerts page: what ``drift_alerts`` found, its chart, and each empty state.

The world is the one of ``analytics/tests/test_drift_alerts.py``: a norm table of two
arrows metrics (normal, mean 500, SD 50, 2000 people) and 80 candidates of the last
day whose reaction times are a whole SD slower than the norm. Its PSI (0.951) and
noise level (0.245) are the values that test checks by hand; the page must show
exactly what the selector computed.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pymetrics.analytics.selectors.drift_alerts import drift_alerts
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionState,
)
from pymetrics.psychometrics.norms import metric_distribution
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable
from pymetrics.scoring.services import trait_map_version_get_or_create

SHIFTED, STEADY = "arrows.rt_mean_ms", "arrows.accuracy"


def _world(organization, *, candidates=80, shift=50.0, simulated=0, days_ago=1) -> None:
    """Norms of two metrics, and ``candidates`` recent attempts (``shift`` on rt_mean_ms)."""
    rng = np.random.default_rng(5)
    norm = {}
    for key in (SHIFTED, STEADY):
        distribution = metric_distribution(rng.normal(500.0, 50.0, size=2000))
        assert distribution is not None
        norm[key] = distribution.to_dict()
    NormTable.objects.create(
        organization=organization,
        name="Norms",
        version=1,
        population=NormPopulation.ORGANISATION,
        trait_map=trait_map_version_get_or_create(version=1),
        n_attempts=2000,
        data={"metrics": norm, "traits": {}},
    )
    assessment = Assessment.objects.create(organization=organization, name="A", games=["arrows"])
    now = timezone.now()
    people = Candidate.objects.bulk_create(
        [
            Candidate(organization=organization, external_id=f"c{i}", is_simulated=i < simulated)
            for i in range(candidates)
        ]
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=now + timedelta(days=1),
                completed_at=now - timedelta(days=days_ago),
            )
            for candidate in people
        ]
    )
    sessions = GameSession.objects.bulk_create(
        [
            GameSession(
                attempt=attempt, game="arrows", position=1, seed=i, state=GameSessionState.SCORED
            )
            for i, attempt in enumerate(attempts)
        ]
    )
    values = []
    for _ in sessions:  # drawn in the same order as the selector's own test
        values.append(
            {
                "rt_mean_ms": float(rng.normal(500.0 + shift, 50.0)),
                "accuracy": float(rng.normal(500.0, 50.0)),
            }
        )
    MetricSet.objects.bulk_create(
        [
            MetricSet(game_session=session, game="arrows", extractor_version=1, values=value)
            for session, value in zip(sessions, values, strict=True)
        ]
    )


@pytest.fixture
def browser(recruiter):
    client = Client()
    client.force_login(recruiter)
    return client


def _text(fragment: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment))).strip()


def _testid(html: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, f"no element {testid}"
    return _text(found.group(2))


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-cell="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found is not None, f"no cell {name}"
    return _text(found.group(1))


def _alert_rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-testid="drift-alert-row".*?</tr>', html, re.S)


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def test_a_drifting_metric_is_listed_with_the_numbers_the_selector_computed(organization, browser):
    _world(organization)
    (alert,) = drift_alerts(organization=organization)["alerts"]

    response = browser.get(reverse("staff:fit-drift"))

    assert response.status_code == 200
    html = response.content.decode()
    (row,) = _alert_rows(html)
    assert f'data-metric="{SHIFTED}"' in row
    assert 'data-status="significant"' in row
    assert (_cell(row, "game"), _cell(row, "n")) == ("Arrows", "80")
    assert _cell(row, "description") == alert["description"] != ""
    # the selector's test checks these by hand: PSI 0.951, noise level 0.245
    assert (_cell(row, "psi"), _cell(row, "noise")) == ("0.951", "0.245")
    assert (round(alert["psi"], 3), round(alert["noise_level"], 3)) == (0.951, 0.245)
    # the Trends page's words for the reading, and its colours on the chart
    assert _cell(row, "reading") == "significant shift"
    assert _testid(html, "drift-checked") == "2"
    assert _testid(html, "drift-alert-count") == "1"
    assert _testid(html, "drift-window") == "the last 28 days (80 completed attempts)"
    assert _testid(html, "drift-norm-table") == "Norms v1"
    spec = _chart_spec(html, "drift-alerts")
    bars, noise, line = spec["datasets"]
    assert spec["labels"] == [SHIFTED]
    assert (bars["data"], noise["data"]) == ([alert["psi"]], [alert["noise_level"]])
    assert bars["backgroundColor"] == ["#D55E00"]
    # the alert line spans the plot (a hidden 0-1 axis), even under a single bar
    assert (line["xAxisID"], line["data"]) == (
        "reference",
        [{"x": 0, "y": 0.2}, {"x": 1, "y": 0.2}],
    )
    assert spec["simulated"] is False
    assert re.search(r'<a href="/staff/trends/#drift" data-testid="trends-link">', html)
    assert "not that candidates got better or worse" in _testid(html, "psi-explained")
    assert 'href="/staff/drift/" aria-current="page">Drift</a>' in html
    assert "<form" not in html.split('data-testid="fit-subnav"')[1]


def test_simulated_candidates_in_the_window_are_labelled(organization, browser):
    _world(organization, simulated=30)

    html = browser.get(reverse("staff:fit-drift")).content.decode()

    assert _testid(html, "drift-window") == (
        "the last 28 days (80 completed attempts, 30 of them bots with known parameters) simulated"
    )
    assert _chart_spec(html, "drift-alerts")["simulated"] is True


def test_no_alert_when_nothing_drifts(organization, browser):
    _world(organization, shift=0.0)

    html = browser.get(reverse("staff:fit-drift")).content.decode()

    assert _testid(html, "drift-no-alert") == (
        "No alert: none of the 2 metrics checked drifts beyond 0.2 and beyond sampling noise."
    )
    assert not _alert_rows(html)
    assert 'data-testid="chart-drift-alerts"' not in html


@pytest.mark.parametrize(
    ("candidates", "days_ago", "completed"),
    [(29, 1, "29"), (80, 40, "0")],
    ids=["too-few", "all-older-than-the-window"],
)
def test_nothing_is_checked_below_30_recent_candidates(
    organization, browser, candidates, days_ago, completed
):
    _world(organization, candidates=candidates, days_ago=days_ago)

    html = browser.get(reverse("staff:fit-drift")).content.decode()

    assert _testid(html, "drift-none-checked") == (
        "Nothing checked yet: no metric was read from 30 or more candidates who completed "
        f"in the last 28 days ({completed} completed)."
    )
    assert _testid(html, "drift-checked") == "0"


def test_without_a_norm_table_nothing_is_checked_and_other_organisations_see_only_theirs(
    organization, browser, other_browser
):
    _world(organization)

    html = other_browser.get(reverse("staff:fit-drift")).content.decode()

    assert _testid(html, "drift-no-norms") == (
        "No norm table applies to this organisation yet: drift is measured against one, so "
        "nothing was checked."
    )
    assert _testid(html, "drift-norm-table") == "none"
    assert not _alert_rows(html)
    assert SHIFTED not in html
    # while Acme's own page lists its alert
    assert len(_alert_rows(browser.get(reverse("staff:fit-drift")).content.decode())) == 1


def test_a_user_without_an_organisation_is_refused(db):
    from pymetrics.accounts.models import User

    loner = User.objects.create_user(email="lone@example.org", password="lonely horse battery")
    client = Client()
    client.force_login(loner)

    assert client.get(reverse("staff:fit-drift")).status_code == 403
