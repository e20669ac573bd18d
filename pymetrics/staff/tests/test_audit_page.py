"""The audit log page: owners and admins read their organisation's entries, and only those."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pymetrics.accounts.audit_chain import audit_log_seal
from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import Actor, audit_log_record

URL = reverse("staff:audit-log")


def _entry_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="audit-entry" data-entry-id="(\d+)"', html)]


@pytest.fixture
def history(organization, other_organization, admin, recruiter):
    """Three entries of this organisation (one by the platform) and one of another."""
    acting = Actor(user=recruiter, organization=organization, role=Role.RECRUITER)
    read = audit_log_record(
        actor=acting, action="candidate.read", object_type="candidate", object_id=41
    )
    export = audit_log_record(
        actor=acting, action="metrics.export", object_type="assessment", object_id=7
    )
    system = audit_log_record(
        actor=None,
        organization=organization,
        action="candidate.erase",
        object_type="candidate",
        object_id=40,
        details={"reason": "retention"},
    )
    foreign = audit_log_record(
        actor=None,
        organization=other_organization,
        action="candidate.read",
        object_type="candidate",
        object_id=99,
    )
    return {"read": read, "export": export, "system": system, "foreign": foreign}


def test_an_admin_reads_the_organisation_s_entries_newest_first(admin_browser, admin, history):
    audit_log_seal()

    response = admin_browser.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    ids = _entry_ids(html)
    # the three of this organisation, newest first (the page's own read is logged after it)
    assert ids == [history["system"].pk, history["export"].pk, history["read"].pk]
    assert history["foreign"].pk not in ids
    assert "3 entries" in html
    row = html[html.index(f'data-entry-id="{history["system"].pk}"') :]
    assert re.search(r'data-cell="who">the platform<', row)
    assert "reason: retention" in row
    assert re.search(r'data-cell="chain">sealed, place \d+<', row)
    profile = reverse("staff:candidate-profile", args=[40])
    assert f'<a href="{profile}">candidate 40</a>' in row
    # reading the audit log is audited
    entry = AuditLog.objects.get(action="audit_log.read")
    assert (entry.actor_id, entry.object_type, entry.details) == (
        admin.pk,
        "organization",
        {"page": 1, "filtered": False},
    )


def test_the_list_narrows_by_action_person_and_object(admin_browser, history, recruiter):
    by_action = admin_browser.get(URL, {"action": "metrics.export"}).content.decode()
    assert _entry_ids(by_action) == [history["export"].pk]

    by_person = admin_browser.get(URL, {"actor": recruiter.pk}).content.decode()
    assert _entry_ids(by_person) == [history["export"].pk, history["read"].pk]

    by_object = admin_browser.get(
        URL, {"object_type": "candidate", "object_id": "41"}
    ).content.decode()
    assert _entry_ids(by_object) == [history["read"].pk]
    assert AuditLog.objects.filter(action="audit_log.read").latest("pk").details == {
        "page": 1,
        "filtered": True,
    }


def test_an_id_without_its_kind_is_refused_with_a_reason(admin_browser, history):
    html = admin_browser.get(URL, {"object_id": "41"}).content.decode()

    assert "Choose the kind of object the id is of." in html
    assert _entry_ids(html) == []


@pytest.mark.parametrize("browser", ["recruiter_browser", "analyst_browser"])
def test_recruiters_and_analysts_may_not_read_it(request, history, browser):
    response = request.getfixturevalue(browser).get(URL)

    assert response.status_code == 403
    assert "Only owners and admins read the audit log." in response.content.decode()
    assert not AuditLog.objects.filter(action="audit_log.read").exists()


def test_another_organisation_s_owner_sees_only_their_own(other_browser, history):
    html = other_browser.get(URL).content.decode()

    assert _entry_ids(html) == [history["foreign"].pk]
