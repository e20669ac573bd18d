"""The team page: members with roles and two-factor state; adding, re-roling, removing;
the welcome link where a new member sets their password."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from pymetrics.accounts.models import AuditLog, Membership, Role, User
from pymetrics.accounts.services import user_create
from pymetrics.accounts.tests.helpers import confirmed_totp_device, login_verified
from pymetrics.staff.pages.team import SESSION_WELCOME

URL = reverse("staff:team")


@pytest.fixture
def owner(organization):
    return user_create(
        email="olga@acme.example",
        password="owner horse battery",
        organization=organization,
        role=Role.OWNER,
        full_name="Olga Owner",
    )


@pytest.fixture
def owner_browser(owner):
    browser = Client()
    login_verified(browser, owner)
    return browser


def _membership(user, organization):
    return Membership.objects.get(user=user, organization=organization)


def _rows(html: str) -> list[tuple[str, str]]:
    """(membership id, role shown) per member row."""
    return re.findall(
        r'data-testid="team-member" data-membership-id="(\d+)">.*?'
        r'data-testid="member-role">([^<]+)<',
        html,
        flags=re.S,
    )


def test_every_member_sees_the_team_with_roles_and_two_factor(
    recruiter_browser, owner, admin, recruiter, organization, other_organization
):
    user_create(email="gina@globex.example", password=None, organization=other_organization)
    TOTPDevice.objects.filter(user=recruiter).delete()
    confirmed_totp_device(owner)

    response = recruiter_browser.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert _rows(html) == [
        (str(_membership(owner, organization).pk), "Owner"),
        (str(_membership(admin, organization).pk), "Admin"),
        (str(_membership(recruiter, organization).pk), "Recruiter"),
    ]
    two_factor = re.findall(r'data-testid="member-two-factor">.*?>(on|off)<', html)
    assert two_factor == ["on", "off", "off"]
    assert "gina@globex.example" not in html
    # a recruiter gets no forms
    assert 'data-testid="member-add-form"' not in html
    assert 'data-testid="member-role-form"' not in html
    assert 'aria-current="page">Team<' in html


def test_an_owner_adds_a_new_person_and_passes_on_a_one_time_link(owner_browser, organization):
    added = owner_browser.post(
        reverse("staff:team-add"), {"email": "Nia@Example.org", "role": "analyst"}
    )

    assert (added.status_code, added["Location"]) == (302, URL)
    nia = User.objects.get(email="nia@example.org")
    assert not nia.has_usable_password()
    assert _membership(nia, organization).role == "analyst"
    page = owner_browser.get(URL).content.decode()
    link = re.search(r'value="(http://testserver/staff/welcome/[^"]+)"', page)
    assert link is not None
    # shown once: gone from the session and from the next visit
    assert SESSION_WELCOME not in owner_browser.session
    assert link.group(1) not in owner_browser.get(URL).content.decode()
    entry = AuditLog.objects.get(action="membership.added")
    assert entry.details == {
        "kind": "permission_change",
        "member_user_id": nia.pk,
        "new_role": "analyst",
        "user_created": True,
    }

    # the new member sets a password through the link, once
    newcomer = Client()
    form = newcomer.get(link.group(1), follow=True)
    assert 'data-testid="welcome-form"' in form.content.decode()
    done = newcomer.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new horse 42", "new_password2": "a brand new horse 42"},
    )
    assert (done.status_code, done["Location"]) == (302, reverse("staff:login"))
    nia.refresh_from_db()
    assert nia.check_password("a brand new horse 42")
    used = Client().get(link.group(1), follow=True).content.decode()
    assert 'data-testid="welcome-invalid"' in used


def test_an_existing_user_is_added_without_a_link(owner_browser, organization, other_organization):
    gina = user_create(
        email="gina@globex.example", password="globex horse", organization=other_organization
    )

    response = owner_browser.post(
        reverse("staff:team-add"),
        {"email": "gina@globex.example", "role": "recruiter"},
        follow=True,
    )

    html = response.content.decode()
    assert "gina@globex.example was added; they log in with the password they already have." in html
    assert 'data-testid="welcome-link"' not in html
    assert _membership(gina, organization).role == "recruiter"


def test_adding_a_member_again_shows_the_error_on_the_form(owner_browser, recruiter):
    response = owner_browser.post(
        reverse("staff:team-add"), {"email": recruiter.email, "role": "admin"}
    )

    assert response.status_code == 400
    assert "This person is already a member of the organisation." in response.content.decode()


def test_an_admin_may_not_offer_the_owner_role(admin_browser, owner, organization):
    page = admin_browser.get(URL).content.decode()
    refused = admin_browser.post(
        reverse("staff:team-add"), {"email": "nia@example.org", "role": "owner"}
    )

    add_form = page[page.index('data-testid="member-add-form"') :]
    assert 'value="owner"' not in add_form
    assert refused.status_code == 400  # not a choice the form offers an admin
    assert not User.objects.filter(email="nia@example.org").exists()
    owner_row = page[page.index(f'data-membership-id="{_membership(owner, organization).pk}"') :]
    owner_row = owner_row[: owner_row.index("</tr>")]
    assert "<form" not in owner_row


def test_an_owner_changes_a_role(owner_browser, recruiter, organization):
    membership = _membership(recruiter, organization)

    response = owner_browser.post(
        reverse("staff:team-role", args=[membership.pk]), {"role": "admin"}, follow=True
    )

    assert f"{recruiter.email} is now Admin." in response.content.decode()
    assert _membership(recruiter, organization).role == "admin"
    entry = AuditLog.objects.get(action="membership.role_changed")
    assert (entry.details["old_role"], entry.details["new_role"]) == ("recruiter", "admin")


def test_the_last_owner_is_told_to_keep_one(owner_browser, owner, organization):
    response = owner_browser.post(
        reverse("staff:team-role", args=[_membership(owner, organization).pk]),
        {"role": "analyst"},
        follow=True,
    )

    assert "The organisation needs at least one owner." in response.content.decode()
    assert _membership(owner, organization).role == "owner"


def test_lower_roles_get_403_and_other_organisations_404(
    analyst_browser, other_browser, recruiter, organization
):
    membership = _membership(recruiter, organization)

    assert (
        analyst_browser.post(
            reverse("staff:team-role", args=[membership.pk]), {"role": "admin"}
        ).status_code
        == 403
    )
    assert (
        analyst_browser.post(reverse("staff:team-remove", args=[membership.pk])).status_code == 403
    )
    assert (
        analyst_browser.post(
            reverse("staff:team-add"), {"email": "x@example.org", "role": "analyst"}
        ).status_code
        == 403
    )
    assert (
        other_browser.post(
            reverse("staff:team-role", args=[membership.pk]), {"role": "admin"}
        ).status_code
        == 404
    )
    assert other_browser.post(reverse("staff:team-remove", args=[membership.pk])).status_code == 404
    assert _membership(recruiter, organization).role == "recruiter"
    assert not AuditLog.objects.filter(object_type="membership").exists()


def test_an_admin_removes_a_member_but_not_an_owner_nor_themselves(
    admin_browser, admin, owner, recruiter, organization
):
    removed = admin_browser.post(
        reverse("staff:team-remove", args=[_membership(recruiter, organization).pk]), follow=True
    )
    not_owner = admin_browser.post(
        reverse("staff:team-remove", args=[_membership(owner, organization).pk])
    )
    not_self = admin_browser.post(
        reverse("staff:team-remove", args=[_membership(admin, organization).pk])
    )

    assert "Member removed; 0 of their API keys revoked." in removed.content.decode()
    assert (not_owner.status_code, not_self.status_code) == (403, 403)
    assert "Only an owner may remove an owner." in not_owner.content.decode()
    assert "You cannot remove yourself from the organisation." in not_self.content.decode()
    assert sorted(
        Membership.objects.filter(organization=organization).values_list("role", flat=True)
    ) == ["admin", "owner"]


def test_an_owner_resets_a_member_s_two_factor(owner_browser, admin, organization):
    confirmed_totp_device(admin)
    page = owner_browser.get(URL).content.decode()
    assert 'data-testid="member-two-factor-reset-form"' in page

    response = owner_browser.post(
        reverse("staff:team-two-factor-reset", args=[_membership(admin, organization).pk]),
        follow=True,
    )

    assert (
        "Two-factor set-up of ada@acme.example cleared: they set it up again when they next log in."
        in response.content.decode()
    )
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert AuditLog.objects.filter(action="two_factor.reset").count() == 1


def test_an_admin_may_not_reset_an_owner_s_two_factor(admin_browser, owner, organization):
    confirmed_totp_device(owner)

    response = admin_browser.post(
        reverse("staff:team-two-factor-reset", args=[_membership(owner, organization).pk])
    )

    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=owner).exists()
