"""Exports and the candidate's PDF report are rate limited (page, API, PDF route)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import Role
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.common.ratelimit import Rate
from pymetrics.reports.models import ExportJob


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
def limits(settings):
    settings.PYMETRICS_RATE_LIMITS = {
        **settings.PYMETRICS_RATE_LIMITS,
        "exports_user": Rate(2, 3600),
        "exports_org": Rate(3, 3600),
        "report_pdf_token": Rate(2, 600),
        "report_pdf_ip": Rate(3, 600),
    }
    settings.PYMETRICS_RATE_LIMITS_ENABLED = True


def _analyst(organization, email):
    return user_create(email=email, password=None, organization=organization, role=Role.ANALYST)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_key_create(user=user, scopes=['export']).plaintext}"
    )
    return client


def _request(client: APIClient):
    return client.post(
        reverse("api:exports"), {"dataset": "metrics", "format": "csv"}, format="json"
    )


def test_the_api_refuses_exports_past_the_user_and_organisation_limits(limits, organization):
    ann, bob = (
        _api(_analyst(organization, "ann@acme.example")),
        _api(_analyst(organization, "bob@acme.example")),
    )

    statuses = [_request(ann).status_code for _ in range(3)]
    # ann used two of the organisation's three: bob gets one more, then none
    statuses += [_request(bob).status_code for _ in range(2)]

    assert statuses == [202, 202, 429, 202, 429]
    refused = _request(bob)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert ExportJob.objects.count() == 3


def test_the_exports_page_answers_a_429_page(limits, organization):
    browser = Client()
    browser.force_login(_analyst(organization, "ann@acme.example"))
    form = {"dataset": "metrics", "format": "csv"}

    answers = [browser.post(reverse("exports:list"), form) for _ in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 3600
    assert answers[2].templates[0].name == "reports/exports/problem.html"
    assert ExportJob.objects.count() == 2


def test_the_feedback_pdf_is_limited_per_invite_token(limits, invitation):
    url = reverse("candidate-report:pdf", args=[invitation.invite_token])

    answers = [Client(REMOTE_ADDR=f"192.0.2.{i}").get(url) for i in range(3)]

    assert answers[0].status_code == answers[1].status_code != 429
    assert answers[2].status_code == 429
    assert 1 <= int(answers[2]["Retry-After"]) <= 600
    assert answers[2].context["reason"] == "rate_limited"


def test_the_feedback_pdf_is_limited_per_address(limits, make_invitation):
    tokens = [make_invitation(external_id=f"c{i}").invite_token for i in range(4)]
    browser = Client(REMOTE_ADDR="192.0.2.99")

    statuses = [
        browser.get(reverse("candidate-report:pdf", args=[token])).status_code for token in tokens
    ]

    assert 429 not in statuses[:3]
    assert statuses[3] == 429
