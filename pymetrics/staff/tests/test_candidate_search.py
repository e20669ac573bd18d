"""Finding candidates by e-mail: ``GET /api/v1/candidates/?email=`` and the staff page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.services import assessment_create, candidate_invite

API = "/api/v1/candidates/"


def _audit() -> list[tuple[str, str, dict]]:
    return list(AuditLog.objects.order_by("pk").values_list("action", "object_id", "details"))


def _search_entries() -> list[tuple[str, str, dict]]:
    return [entry for entry in _audit() if entry[0] in ("candidate.search", "candidate.read")]


def test_the_route_is_api_candidates():
    assert reverse("api:candidates") == API
    assert reverse("staff:candidate-search") == "/staff/candidates/search/"


def test_a_member_finds_the_organisation_s_candidate_by_email(staff_client, invitation):
    response = staff_client.get(API, {"email": "  CARA@Example.org "})

    assert response.status_code == 200
    candidate = invitation.candidate
    assert response.json() == [
        {
            "id": candidate.pk,
            "external_id": "cand-001",
            "name": "Cara Candidate",
            "email": "cara@example.org",
            "is_simulated": False,
            "created_at": candidate.created_at.isoformat().replace("+00:00", "Z"),
        }
    ]


def test_a_search_is_audited_with_its_matches_and_never_the_address(staff_client, invitation):
    staff_client.get(API, {"email": "cara@example.org"})

    assert _search_entries() == [
        ("candidate.search", "", {"by": "email", "matches": 1}),
        ("candidate.read", str(invitation.candidate.pk), {"via": "email_search"}),
    ]
    assert all("cara" not in repr(details).lower() for _, _, details in _audit())


def test_every_match_is_listed_newest_first(staff_client, organization, assessment, invitation):
    second = assessment_create(organization=organization, name="Round two", games=["balloons"])
    again = candidate_invite(assessment=second, email="Cara@example.org", name="Cara C.")
    candidate_invite(assessment=assessment, email="dan@example.org", name="Dan")

    response = staff_client.get(API, {"email": "cara@example.org"})

    assert [match["id"] for match in response.json()] == [
        again.candidate.pk,
        invitation.candidate.pk,
    ]
    assert _search_entries()[0] == ("candidate.search", "", {"by": "email", "matches": 2})


def test_another_organisation_never_finds_the_candidate(other_staff_client, invitation):
    response = other_staff_client.get(API, {"email": "cara@example.org"})

    assert response.status_code == 200
    assert response.json() == []
    assert _search_entries() == [("candidate.search", "", {"by": "email", "matches": 0})]
    entry = AuditLog.objects.get(action="candidate.search")
    assert entry.organization_id != invitation.candidate.organization_id


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "email: This field is required."),
        ({"email": ""}, "email: This field may not be blank."),
        ({"email": "a" * 321}, "email: Ensure this field has no more than 320 characters."),
    ],
    ids=["missing", "blank", "too-long"],
)
def test_a_search_needs_an_address(staff_client, query, message):
    response = staff_client.get(API, query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["message"] == message
    assert _search_entries() == []


def test_a_search_needs_a_staff_key(invitation):
    response = APIClient().get(API, {"email": "cara@example.org"})

    assert response.status_code == 401
    assert _search_entries() == []


# --- the staff page ------------------------------------------------------------------------


def test_the_page_shows_the_form_and_the_home_page_links_to_it(recruiter_browser):
    page = recruiter_browser.get(reverse("staff:candidate-search"))
    home = recruiter_browser.get(reverse("staff:assessment-list"))

    assert page.status_code == 200
    assert 'data-testid="candidate-search-form"' in page.content.decode()
    assert page.context["matches"] is None
    assert f'href="{reverse("staff:candidate-search")}"' in home.content.decode()
    assert _search_entries() == []


def test_the_page_lists_the_matches_with_links_to_their_profiles(analyst_browser, invitation):
    response = analyst_browser.post(
        reverse("staff:candidate-search"), {"email": "Cara@Example.org"}
    )

    html = response.content.decode()
    profile = reverse("staff:candidate-profile", args=[invitation.candidate.pk])
    assert response.status_code == 200
    assert [c.pk for c in response.context["matches"]] == [invitation.candidate.pk]
    assert re.findall(r'data-testid="match-row" data-candidate="(\d+)"', html) == [
        str(invitation.candidate.pk)
    ]
    assert f'<a href="{profile}" data-testid="match-profile-link">Cara Candidate</a>' in html
    assert "1 candidate found" in html
    assert _search_entries() == [
        ("candidate.search", "", {"by": "email", "matches": 1}),
        ("candidate.read", str(invitation.candidate.pk), {"via": "email_search"}),
    ]


def test_the_page_never_finds_another_organisation_s_candidate(other_browser, invitation):
    response = other_browser.post(reverse("staff:candidate-search"), {"email": "cara@example.org"})

    assert response.status_code == 200
    assert response.context["matches"] == []
    assert 'data-testid="no-match"' in response.content.decode()
    assert "Cara Candidate" not in response.content.decode()
    assert _search_entries() == [("candidate.search", "", {"by": "email", "matches": 0})]


def test_an_empty_search_shows_the_error_and_logs_nothing(recruiter_browser):
    response = recruiter_browser.post(reverse("staff:candidate-search"), {"email": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["This field is required."]}
    assert response.context["matches"] is None
    assert _search_entries() == []


def test_the_page_needs_a_login(client, db):
    response = client.post(reverse("staff:candidate-search"), {"email": "cara@example.org"})

    assert response.status_code == 302
    assert _search_entries() == []
