"""The system status page and its JSON: staff only, platform figures, no organisation's data."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from pymetrics.accounts.models import Role, User
from pymetrics.accounts.services import user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.analytics.selectors import system
from pymetrics.common import opsstats, probes

URLS = [
    pytest.param("staff:system", id="page"),
    pytest.param("staff:system-data", id="json"),
]


@pytest.fixture(autouse=True)
def _platform(monkeypatch):
    """Workers and queues answer as told (unit tests have no worker); a clean cache.

    The probe runner is the real one, but each service answers at once: a loaded
    test machine must not make a probe slow (amber). The probes themselves are
    tested with the health checks.
    """
    for name in probes.CHECKS:
        monkeypatch.setitem(probes.CHECKS, name, lambda: None)
    cache.clear()
    opsstats.opsstats_clear()
    monkeypatch.setattr(
        system, "celery_workers", lambda: {"in_process": False, "answering": 1, "error": None}
    )
    monkeypatch.setattr(
        system,
        "broker_queues",
        lambda: {
            "in_process": False,
            "transport": "redis",
            "queues": [{"name": "celery", "waiting": 4}],
            "taken": 1,
            "error": None,
        },
    )
    yield
    cache.clear()
    opsstats.opsstats_clear()


@pytest.mark.parametrize("url_name", URLS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:login"))


def test_a_user_of_no_organisation_is_refused(client, db):
    loner = User.objects.create_user(email="lone@example.org", password="x" * 12)
    client.force_login(loner)

    page = client.get(reverse("staff:system"))
    assert page.status_code == 403
    assert page.templates[0].name == "staff/no_organization.html"

    data = client.get(reverse("staff:system-data"))
    assert data.status_code == 403
    assert data.json()["error"]["code"] == "no_organization"


@pytest.mark.parametrize("role", [choice for choice, _label in Role.choices])
def test_every_staff_member_may_see_it(client, organization, role):
    member = user_create(
        email=f"{role}@acme.example",
        password="correct horse battery",
        organization=organization,
        role=role,
    )
    login_verified(client, member)
    assert client.get(reverse("staff:system")).status_code == 200
    assert client.get(reverse("staff:system-data")).status_code == 200


def test_the_page_shows_every_row_the_alerts_and_three_charts(client, recruiter):
    client.force_login(recruiter)

    response = client.get(reverse("staff:system"))

    assert response.status_code == 200
    assert response.templates[0].name == "staff/system.html"
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    assert re.search(r'<a href="/staff/system/" aria-current="page">', html)
    keys = re.findall(r'<tr data-key="([^"]+)" data-level="([^"]+)"', html)
    assert keys == [
        ("probe:database", "ok"),
        ("probe:cache", "ok"),
        ("probe:channel_layer", "ok"),
        ("probe:broker", "ok"),
        ("workers", "ok"),
        ("queue:celery", "ok"),
        ("ingest_lag", "ok"),
        ("scoring_lag", "ok"),
        ("error_rate", "ok"),
        ("sockets", "info"),
        ("cache_hit_rate", "info"),
    ]
    assert "Everything is within its limits." in html
    assert 'data-role="all-clear">' in html  # shown, not hidden
    for chart_id in ("ingest-lag", "scoring-lag", "responses"):
        assert f'data-testid="chart-{chart_id}"' in html
    # the page's own files; no inline script but JSON data
    assert "staff/system.js" in html
    assert "staff/system.css" in html
    config = re.search(r'<script id="system-config" type="application/json">(.*?)</script>', html)
    assert config is not None
    assert json.loads(config.group(1)) == {"url": "/staff/system.json", "poll_s": 10}
    assert not re.search(r"<script>(?!\s*</script>)", html)


def test_a_broken_probe_shows_red_on_the_page_and_in_the_json(client, recruiter, monkeypatch):
    def broken() -> None:
        raise ConnectionError("the broker refused the connection")

    monkeypatch.setitem(probes.CHECKS, "broker", broken)
    client.force_login(recruiter)

    html = client.get(reverse("staff:system")).content.decode()
    row = re.search(r'<tr data-key="probe:broker"[^>]*>', html)
    assert row is not None
    assert 'data-level="red"' in row.group(0)
    assert 'class="status-row--red"' in row.group(0)
    assert "Task broker: the probe failed: ConnectionError: the broker refused" in html
    assert 'data-role="all-clear" hidden' in html

    data = client.get(reverse("staff:system-data")).json()
    assert data["level"] == "red"
    assert data["alerts"] == [
        {
            "key": "probe:broker",
            "level": "red",
            "level_text": "Failing",
            "text": "Task broker: the probe failed: ConnectionError: the broker refused "
            "the connection",
        }
    ]


def test_the_json_has_the_rows_and_chart_specs_with_tables(client, recruiter):
    opsstats.response_record(200)
    opsstats.response_record(503)
    opsstats.ingest_record(7.0)
    client.force_login(recruiter)

    response = client.get(reverse("staff:system-data"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {
        "generated_at",
        "level",
        "alerts",
        "rows",
        "series",
        "process",
        "charts",
    }
    assert [chart["id"] for chart in data["charts"]] == ["ingest-lag", "scoring-lag", "responses"]
    responses_chart = data["charts"][2]
    assert responses_chart["table"]["columns"] == [
        "Minute (UTC)",
        "Responses",
        "Server errors (5xx)",
        "5xx share",
    ]
    # this minute: 2 responses recorded above (the page's own answer is counted after it)
    ((minute, total, errors, share),) = responses_chart["table"]["rows"]
    assert (total, errors, share) == (2, 1, 0.5)
    assert re.fullmatch(r"\d\d:\d\d", minute)
    ingest_chart = data["charts"][0]
    # one batch of 7 ms, in (5, 10] ms: the median interpolates to 5 + 5 * 0.5 = 7.5,
    # the p95 to 5 + 5 * 0.95 = 9.75, shown to one decimal (half to even: 9.8)
    assert ingest_chart["table"]["rows"][0][1:] == [1, 7.5, 9.8]
    assert data["charts"][1]["table"]["rows"] == []  # no game scored in the last hour
    # the queue row as the broker reported it
    queue = next(row for row in data["rows"] if row["key"] == "queue:celery")
    assert queue["value"] == "4 waiting"
    assert queue["detail"] == "1 taken by workers (all queues)"


def test_it_shows_no_organisations_data(client, recruiter, organization, other_organization):
    from pymetrics.assessments.services import assessment_create, candidate_invite

    other = assessment_create(
        organization=other_organization, name="Secret Globex Battery", games=["balloons"]
    )
    candidate_invite(assessment=other, name="Gus Globex", email="gus@globex.example")
    client.force_login(recruiter)

    text = client.get(reverse("staff:system-data")).content.decode()

    for private in (
        "Acme Hiring",
        "Globex Research",
        "Secret Globex Battery",
        "Gus Globex",
        "gus@globex.example",
        "organization",
        "candidate_id",
        "assessment_id",
    ):
        assert private not in text
    # and the same figures, whichever organisation asks
    other_staff = user_create(
        email="gina@globex.example",
        password="another horse battery",
        organization=other_organization,
    )
    client.force_login(other_staff)
    again = client.get(reverse("staff:system-data")).json()
    mine = json.loads(text)
    assert [r["key"] for r in again["rows"]] == [r["key"] for r in mine["rows"]]
    assert [r["label"] for r in again["rows"]] == [r["label"] for r in mine["rows"]]
