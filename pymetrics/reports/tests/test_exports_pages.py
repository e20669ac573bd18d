"""The exports page: the form, the organisation's jobs with their progress, the JSON route."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from pymetrics.accounts.models import Role
from pymetrics.accounts.services import user_create
from pymetrics.reports.models import ExportJob
from pymetrics.reports.tests.test_exports_world import build_export_world

LIST = "/staff/exports/"


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }


@pytest.fixture
def world(organization, other_organization):
    return build_export_world(organization, other_organization)


def _browser(organization, role, email) -> Client:
    browser = Client()
    browser.force_login(
        user_create(email=email, password=None, organization=organization, role=role)
    )
    return browser


@pytest.fixture
def analyst_browser(organization):
    return _browser(organization, Role.ANALYST, "ann@acme.example")


@pytest.fixture
def recruiter_browser(recruiter):
    browser = Client()
    browser.force_login(recruiter)
    return browser


def _config(page: str) -> dict:
    found = re.search(r'id="exports-config"[^>]*>(.*?)</script>', page)
    assert found is not None
    return json.loads(found.group(1))


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-testid="export-row".*?</tr>', page, flags=re.S)


def test_the_route_is_where_the_navigation_expects_it():
    assert reverse("exports:list") == LIST


def test_an_empty_page_offers_the_form(analyst_browser, world):
    page = analyst_browser.get(LIST).content.decode()

    assert 'data-testid="exports-empty"' in page
    assert re.findall(
        r'<option value="(\w*)"', page.split('id="id_dataset"')[1].split("</select>")[0]
    ) == [
        "metrics",
        "traits",
        "fit_scores",
        "events",
    ]
    # only the organisation's assessments
    options = page.split('id="id_assessment"')[1].split("</select>")[0]
    assert "Graduates 2027" in options
    assert "Interns 2027" in options
    assert "Globex battery" not in options
    assert 'id="id_include_simulated" checked' in page
    config = _config(page)
    assert config == {"poll_ms": 1000, "jobs": []}


def test_a_recruiter_is_not_offered_raw_events(recruiter_browser, world):
    page = recruiter_browser.get(LIST).content.decode()

    datasets = page.split('id="id_dataset"')[1].split("</select>")[0]
    assert 'value="events"' not in datasets
    assert "Raw events are exported by owners, admins and analysts." in page


def test_the_form_requests_an_export_which_runs_and_shows_its_link(
    analyst_browser, world, django_capture_on_commit_callbacks
):
    # when the analyst asks for Graduates' traits as XLSX, real candidates only
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst_browser.post(
            LIST,
            {
                "dataset": "traits",
                "format": "xlsx",
                "assessment": world.graduates.pk,
                "attempt_state": "completed",
                "completed_from": "2026-03-01",
                "completed_to": "2026-03-31",
                "game": "",
            },
        )

    # then the page comes back with the job (run in-process here), ready to download
    assert response.status_code == 302
    assert response["Location"] == LIST
    job = ExportJob.objects.get()
    assert (job.state, job.rows, job.format) == ("succeeded", 2, "xlsx")  # the bot is left out
    assert job.scope["include_simulated"] is False
    page = analyst_browser.get(LIST).content.decode()
    assert f"Export {job.pk} requested: its progress is shown below." in page
    (row,) = _rows(page)
    assert f'data-job-id="{job.pk}" data-state="succeeded"' in row
    assert ">Traits<" in row
    assert ">Excel (XLSX)<" in row
    assert (
        "Graduates 2027 · completed attempts · completed 2026-03-01 to 2026-03-31 · "
        "real candidates only" in row
    )
    assert '<progress max="1" value="1.000000"' in row
    assert "2 rows" in row
    found = re.search(r'<a href="([^"]+)" data-role="download"', row)
    assert found is not None
    link = found.group(1)
    assert link.startswith("/staff/exports/download/")
    assert f"acme-traits-{job.pk}-" in row
    assert analyst_browser.get(link).status_code == 200


def test_service_refusals_show_on_the_form(analyst_browser, world):
    response = analyst_browser.post(
        LIST,
        {
            "dataset": "traits",
            "format": "csv",
            "game": "balloons",
            "include_simulated": "on",
        },
    )

    assert response.status_code == 400
    page = response.content.decode()
    errors = page.split('data-testid="game-errors"')[1].split("</div>")[0]
    assert "the game filter applies to metrics and events only" in errors
    assert ExportJob.objects.count() == 0


def test_a_recruiter_posting_raw_events_is_refused(recruiter_browser, world):
    response = recruiter_browser.post(LIST, {"dataset": "events", "format": "csv"})

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert ExportJob.objects.count() == 0


def test_unfinished_jobs_are_polled_and_the_json_route_answers_their_state(
    analyst_browser, world, organization, analyst_job
):
    page = analyst_browser.get(LIST).content.decode()

    config = _config(page)
    url = reverse("exports:job-data", args=[analyst_job.pk])
    assert config == {"poll_ms": 1000, "jobs": [{"id": analyst_job.pk, "url": url}]}
    ExportJob.objects.filter(pk=analyst_job.pk).update(
        state="running", progress=0.4567, rows=1234, total=3000
    )
    body = analyst_browser.get(url).json()
    assert {
        key: body[key]
        for key in (
            "state",
            "state_label",
            "progress",
            "progress_text",
            "rows",
            "rows_text",
            "total",
            "download_url",
            "finished",
        )
    } == {
        "state": "running",
        "state_label": "Running",
        "progress": 0.4567,
        "progress_text": "46%",
        "rows": 1234,
        "rows_text": "1,234 rows",
        "total": 3000,
        "download_url": None,
        "finished": False,
    }


@pytest.fixture
def analyst_job(organization):
    return ExportJob.objects.create(organization=organization, dataset="events", format="csv")


def test_the_json_route_hides_other_organisations_and_forbidden_jobs(
    recruiter_browser, analyst_job, other_organization
):
    foreign = ExportJob.objects.create(
        organization=other_organization, dataset="metrics", format="csv"
    )

    for job in (foreign, analyst_job):  # a recruiter does not see raw-event exports
        response = recruiter_browser.get(reverse("exports:job-data", args=[job.pk]))
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": f"export {job.pk} not found",
            "details": {},
        }
    assert "export-row" not in recruiter_browser.get(LIST).content.decode()


def test_the_page_needs_a_login_and_an_organisation(db):
    from pymetrics.accounts.models import User

    anonymous = Client().get(LIST)
    loner = Client()
    loner.force_login(User.objects.create_user("solo@example.org", None))

    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/staff/login/?next={LIST}")
    response = loner.get(LIST)
    assert response.status_code == 403
    assert "You are not a member of any organisation" in response.content.decode()
