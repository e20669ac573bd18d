"""Finding a candidate by e-mail in Chromium, against the real server and PostgreSQL.

A recruiter goes from the assessments page to the search, types the address in
another case than it was invited with, and reaches the candidate's profile from
the match; the form and its answer pass axe; the address is never in a URL.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import ARTIFACTS, axe_violations, staff_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_recruiter_finds_a_candidate_by_email_and_opens_the_profile(services, browser):
    from pymetrics.accounts.models import AuditLog
    from pymetrics.accounts.services import organization_create, user_create
    from pymetrics.assessments.services import assessment_create, candidate_invite

    # given a candidate of this organisation and one of another with the same address
    organization = organization_create(name="Search Org", slug="search")
    email, password = "rae@example.org", "correct horse battery staple"
    user_create(email=email, password=password, organization=organization, role="recruiter")
    assessment = assessment_create(organization=organization, name="Searchable", games=["digits"])
    ours = candidate_invite(assessment=assessment, email="lee.park@example.org", name="Lee Park")
    other = organization_create(name="Elsewhere", slug="elsewhere")
    theirs = assessment_create(organization=other, name="Theirs", games=["digits"])
    candidate_invite(assessment=theirs, email="lee.park@example.org", name="Lee Elsewhere")

    # when the recruiter opens the search from the assessments page
    page = staff_page(browser, services, email=email, password=password)
    page.click("[data-testid=candidate-search-link]")
    page.wait_for_selector("[data-testid=candidate-search-form]")
    form_violations = axe_violations(page)

    # and looks the address up, typed in another case
    page.fill("[data-testid=search-email]", "  Lee.Park@EXAMPLE.org")
    page.click("[data-testid=search-submit]")
    page.wait_for_selector("[data-testid=search-results]")
    page.screenshot(path=str(ARTIFACTS / "candidate-search.png"), full_page=True)

    # then only this organisation's candidate is listed, and the page passes axe
    rows = page.locator("[data-testid=match-row]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-candidate") == str(ours.candidate.pk)
    assert "Lee Elsewhere" not in page.content()
    assert form_violations == []
    assert axe_violations(page) == []
    # the address went in the POST body, not the URL
    assert "lee" not in page.url.lower()
    # and the search is audit-logged with its count, never the address
    entry = AuditLog.objects.get(action="candidate.search")
    assert (entry.organization_id, entry.details) == (
        organization.pk,
        {"by": "email", "matches": 1},
    )

    # when the recruiter follows the match
    page.click("[data-testid=match-profile-link]")

    # then the candidate's profile opens
    page.wait_for_url(f"**/staff/candidates/{ours.candidate.pk}/")
    assert page.console_errors == []
