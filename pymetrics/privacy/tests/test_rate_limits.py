"""Candidate data archives are rate limited per user and per organisation (page and API)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pymetrics.common.ratelimit import Rate
from pymetrics.privacy.models import CandidateArchive
from pymetrics.privacy.tests.conftest import api_client_of, browser_of


@pytest.fixture
def limits(settings):
    settings.PYMETRICS_RATE_LIMITS = {
        **settings.PYMETRICS_RATE_LIMITS,
        "archives_user": Rate(2, 3600),
        "archives_org": Rate(3, 3600),
    }
    settings.PYMETRICS_RATE_LIMITS_ENABLED = True


def test_the_api_refuses_a_user_past_the_limit_with_429(limits, make_invitation, admin):
    candidates = [make_invitation(external_id=f"c{i}").candidate for i in range(3)]
    client = api_client_of(admin)

    answers = [client.post(reverse("api:candidate-data-export", args=[c.pk])) for c in candidates]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(answers[2]["Retry-After"]) <= 3600
    assert CandidateArchive.objects.count() == 2


def test_the_organisation_s_allowance_is_shared(limits, make_invitation, admin, owner):
    candidates = [make_invitation(external_id=f"c{i}").candidate for i in range(4)]
    admins, owners = api_client_of(admin), api_client_of(owner)

    statuses = [
        admins.post(reverse("api:candidate-data-export", args=[candidates[0].pk])).status_code,
        admins.post(reverse("api:candidate-data-export", args=[candidates[1].pk])).status_code,
        owners.post(reverse("api:candidate-data-export", args=[candidates[2].pk])).status_code,
        owners.post(reverse("api:candidate-data-export", args=[candidates[3].pk])).status_code,
    ]

    assert statuses == [202, 202, 202, 429]


def test_a_recruiter_s_refused_request_uses_no_allowance(limits, make_invitation, recruiter):
    candidate = make_invitation(external_id="c0").candidate
    client = api_client_of(recruiter)

    statuses = [
        client.post(reverse("api:candidate-data-export", args=[candidate.pk])).status_code
        for _ in range(3)
    ]

    assert statuses == [403, 403, 403]


def test_the_page_answers_a_429_page(limits, make_invitation, admin):
    candidates = [make_invitation(external_id=f"c{i}").candidate for i in range(3)]
    browser = browser_of(admin)

    answers = [browser.post(reverse("privacy:archive-request", args=[c.pk])) for c in candidates]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 3600
    assert "Too many requests" in answers[2].content.decode()
