"""Staff pages of data rights: the settings page, the profile's panel, the erasure
confirmation, the export request and its JSON; roles and organisation scoping."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse

from pymetrics.accounts.models import AuditLog, Organization
from pymetrics.assessments.models import Candidate, ConsentRecord
from pymetrics.assessments.services import attempt_consent
from pymetrics.privacy.models import CandidateArchive, ErasureRecord
from pymetrics.privacy.tests.conftest import ERIN_NAME, browser_of, profile_url

SETTINGS = "/staff/privacy/settings/"


def test_an_owner_sets_retention_and_feedback_and_the_change_is_audited(owner, organization):
    browser = browser_of(owner)
    assert reverse("privacy:settings") == SETTINGS

    page = browser.get(SETTINGS).content.decode()
    response = browser.post(SETTINGS, {"retention_days": "30", "feedback_reports_enabled": "on"})

    assert 'data-testid="privacy-settings-submit"' in page
    assert response.status_code == 302
    assert response["Location"] == SETTINGS
    organization.refresh_from_db()
    assert (organization.retention_days, organization.feedback_reports_enabled) == (30, True)
    entry = AuditLog.objects.get(action="organization.privacy_settings.update")
    assert (entry.actor_id, entry.object_id) == (owner.pk, str(organization.pk))
    assert entry.details == {
        "retention_days": {"from": None, "to": 30},
        "feedback_reports_enabled": {"from": False, "to": True},
    }
    # emptied again: data is kept; only what changed is logged
    browser.post(SETTINGS, {"retention_days": "", "feedback_reports_enabled": "on"})
    organization.refresh_from_db()
    assert organization.retention_days is None
    entries = AuditLog.objects.filter(action="organization.privacy_settings.update")
    assert [e.details for e in entries.order_by("pk")][-1] == {
        "retention_days": {"from": 30, "to": None}
    }


def test_invalid_retention_is_refused_with_the_reason_shown(admin, organization) -> None:
    browser = browser_of(admin)

    zero = browser.post(SETTINGS, {"retention_days": "0"})
    words = browser.post(SETTINGS, {"retention_days": "a month"})

    assert zero.status_code == 400
    assert words.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in zero.content.decode()
    assert 'data-testid="retention-errors"' in words.content.decode()
    organization.refresh_from_db()
    assert organization.retention_days is None
    assert not AuditLog.objects.filter(action="organization.privacy_settings.update").exists()


def test_analysts_read_the_settings_but_cannot_change_them(analyst, organization) -> None:
    Organization.objects.filter(pk=organization.pk).update(retention_days=90)
    browser = browser_of(analyst)

    page = browser.get(SETTINGS).content.decode()
    refused = browser.post(SETTINGS, {"retention_days": "1"})

    assert 'data-testid="read-only"' in page
    assert re.search(r'name="retention_days" value="90"[^>]*disabled', page)
    assert 'data-testid="privacy-settings-submit"' not in page
    assert refused.status_code == 403
    organization.refresh_from_db()
    assert organization.retention_days == 90


def test_the_profile_panel_shows_consent_to_everyone_and_actions_to_managers(
    organization, make_invitation, owner, recruiter, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="panel")
    attempt_consent(attempt=invitation.attempt, accommodations={})
    Organization.objects.filter(pk=organization.pk).update(retention_days=30)
    url = profile_url(invitation.candidate.pk)

    as_owner = browser_of(owner).get(url).content.decode()
    as_recruiter = browser_of(recruiter).get(url).content.decode()

    for page in (as_owner, as_recruiter):
        assert 'data-testid="privacy-panel"' in page
        assert page.count('data-testid="consent-row"') == 2
        assert "Taking part in the assessment" in page
        assert "Processing the results for the hiring decision" in page
        assert 'data-testid="retention-note"' in page
    for action in ("archive-request", "erase-link", "consent-withdraw"):
        assert f'data-testid="{action}"' in as_owner
        assert f'data-testid="{action}"' not in as_recruiter
    # the latest activity is the consent, given after the invitation
    consent_at = Candidate.objects.get(pk=invitation.candidate.pk).consent_at
    assert consent_at is not None
    erase_after = (consent_at + timedelta(days=30)).date().isoformat()
    assert f"erased on or after {erase_after} unless" in as_owner


def test_an_export_requested_on_the_profile_is_followed_there(
    organization, make_invitation, admin, analyst, other_owner, django_capture_on_commit_callbacks
) -> None:
    invitation = make_invitation(external_id="exported")
    browser = browser_of(admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(reverse("privacy:archive-request", args=[invitation.candidate.pk]))

    assert response.status_code == 302
    assert response["Location"] == profile_url(invitation.candidate.pk) + "#privacy"
    archive = CandidateArchive.objects.get(candidate=invitation.candidate)
    page = browser.get(response["Location"]).content.decode()
    assert 'data-state="ready"' in page
    assert 'data-testid="archive-download"' in page
    assert 'id="privacy-archive-config"' in page
    data_url = reverse("privacy:archive-data", args=[archive.pk])
    data = browser.get(data_url).json()
    assert (data["state"], data["progress"], data["finished"]) == ("ready", 1.0, True)
    assert data["download_url"].startswith("/staff/privacy/data-exports/download/")
    assert browser_of(analyst).get(data_url).status_code == 403
    assert browser_of(other_owner).get(data_url).status_code == 404
    assert (
        browser_of(analyst)
        .post(reverse("privacy:archive-request", args=[invitation.candidate.pk]))
        .status_code
        == 403
    )


def test_erasure_asks_for_confirmation_then_names_the_reference(
    history, django_capture_on_commit_callbacks
) -> None:
    browser = browser_of(history.admin)
    url = reverse("privacy:erase", args=[history.erin.pk])

    confirm = browser.get(url).content.decode()
    unconfirmed = browser.post(url, {"reason": "candidate_request"})
    with django_capture_on_commit_callbacks(execute=True):
        erased = browser.post(url, {"reason": "candidate_request", "confirm": "on"})

    assert "ext-erin" in confirm
    assert ERIN_NAME in confirm
    assert "their 1 attempt, 2 game sessions with 11 events" in confirm
    assert unconfirmed.status_code == 400
    assert 'data-testid="confirm-errors"' in unconfirmed.content.decode()
    assert erased.status_code == 302
    assert erased["Location"] == reverse("staff:assessment-list")
    record = ErasureRecord.objects.get()
    home = browser.get(erased["Location"]).content.decode()
    assert f"Erasure reference: {record.reference}" in home
    assert not Candidate.objects.filter(pk=history.erin.pk).exists()
    settings_page = browser.get(SETTINGS).content.decode()
    assert record.reference in settings_page
    assert "Ada Admin" in settings_page
    # the confirmation page named the candidate: it was an audited read
    assert (
        AuditLog.objects.filter(action="candidate.read", details={"view": "erase-confirm"}).count()
        == 2
    )


def test_only_managers_of_the_organisation_reach_erasure(
    make_invitation, analyst, other_owner
) -> None:
    invitation = make_invitation(external_id="protected")
    url = reverse("privacy:erase", args=[invitation.candidate.pk])

    assert browser_of(analyst).get(url).status_code == 403
    assert (
        browser_of(analyst).post(url, {"reason": "organisation", "confirm": "on"}).status_code
        == 403
    )
    assert browser_of(other_owner).get(url).status_code == 404
    assert (
        browser_of(other_owner).post(url, {"reason": "organisation", "confirm": "on"}).status_code
        == 404
    )
    assert Candidate.objects.filter(pk=invitation.candidate.pk).exists()


def test_a_withdrawal_recorded_on_the_profile(make_invitation, owner) -> None:
    invitation = make_invitation(external_id="withdrawing")
    attempt_consent(attempt=invitation.attempt, accommodations={})
    browser = browser_of(owner)

    response = browser.post(reverse("privacy:consent-withdraw", args=[invitation.candidate.pk]))

    assert response.status_code == 302
    assert ConsentRecord.objects.filter(withdrawn_at__isnull=False).count() == 2
    entry = AuditLog.objects.get(action="candidate.consent.withdraw")
    assert entry.details == {"records": 2}
    page = browser.get(response["Location"]).content.decode()
    assert 'data-testid="consent-withdraw"' not in page  # nothing left in force
