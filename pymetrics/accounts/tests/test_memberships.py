"""Membership services: who may add, re-role and remove members, and what is logged."""

from __future__ import annotations

import pytest

from pymetrics.accounts.models import ApiKey, AuditLog, Membership, Role, User
from pymetrics.accounts.services import (
    Actor,
    api_key_create,
    membership_add,
    membership_remove,
    membership_role_change,
    user_create,
)
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


@pytest.fixture
def owner(organization):
    return user_create(
        email="olga@acme.example",
        password="owner horse battery",
        organization=organization,
        role=Role.OWNER,
    )


@pytest.fixture
def admin(organization):
    return user_create(
        email="ada@acme.example", password=None, organization=organization, role=Role.ADMIN
    )


def _actor(user, organization):
    role = Membership.objects.get(user=user, organization=organization).role
    return Actor(user=user, organization=organization, role=role)


def _membership(user, organization):
    return Membership.objects.get(user=user, organization=organization)


def _permission_log():
    return [
        (entry.action, entry.details)
        for entry in AuditLog.objects.filter(object_type="membership").order_by("pk")
    ]


# --- adding --------------------------------------------------------------------------------------


def test_a_new_address_gets_a_user_without_a_password(owner, organization):
    added = membership_add(
        actor=_actor(owner, organization), email=" Nia@Acme.example ", role="analyst"
    )

    user = User.objects.get(email="nia@acme.example")
    assert (added.user_created, added.needs_password) == (True, True)
    assert not user.has_usable_password()
    assert (added.membership.user_id, added.membership.role) == (user.pk, "analyst")
    assert _permission_log() == [
        (
            "membership.added",
            {
                "kind": "permission_change",
                "member_user_id": user.pk,
                "new_role": "analyst",
                "user_created": True,
            },
        )
    ]
    assert "nia" not in str(AuditLog.objects.get(action="membership.added").details)


def test_an_existing_user_joins_with_their_password(owner, organization, other_organization):
    gina = user_create(
        email="gina@globex.example",
        password="globex horse battery",
        organization=other_organization,
    )

    added = membership_add(
        actor=_actor(owner, organization), email="GINA@globex.example", role="recruiter"
    )

    assert (added.user_created, added.needs_password) == (False, False)
    assert sorted(gina.memberships.values_list("organization__slug", flat=True)) == [
        "acme",
        "globex",
    ]


def test_adding_a_member_twice_is_a_conflict(owner, recruiter, organization):
    with pytest.raises(Conflict) as refused:
        membership_add(actor=_actor(owner, organization), email=recruiter.email, role="admin")

    assert refused.value.code == "already_member"
    assert _membership(recruiter, organization).role == "recruiter"


@pytest.mark.parametrize(
    ("email", "role", "field"),
    [("not-an-address", "analyst", "email"), ("nia@acme.example", "boss", "role")],
)
def test_a_bad_address_or_role_is_refused(owner, organization, email, role, field):
    with pytest.raises(ValidationFailed) as refused:
        membership_add(actor=_actor(owner, organization), email=email, role=role)

    assert list(refused.value.details) == [field]
    assert not User.objects.filter(email="nia@acme.example").exists()


def test_only_owners_make_owners_and_only_managers_add(admin, recruiter, organization):
    with pytest.raises(PermissionDenied) as by_admin:
        membership_add(actor=_actor(admin, organization), email="nia@acme.example", role="owner")
    with pytest.raises(PermissionDenied):
        membership_add(
            actor=_actor(recruiter, organization), email="nia@acme.example", role="recruiter"
        )

    assert by_admin.value.code == "owner_only"
    assert not User.objects.filter(email="nia@acme.example").exists()
    added = membership_add(
        actor=_actor(admin, organization), email="nia@acme.example", role="admin"
    )
    assert added.membership.role == "admin"


# --- changing roles ------------------------------------------------------------------------------


def test_an_owner_changes_a_role_and_it_is_logged_as_a_permission_change(
    owner, recruiter, organization
):
    membership = _membership(recruiter, organization)

    membership_role_change(
        actor=_actor(owner, organization), membership_id=membership.pk, role="analyst"
    )
    membership_role_change(
        actor=_actor(owner, organization), membership_id=membership.pk, role="analyst"
    )

    assert _membership(recruiter, organization).role == "analyst"
    # the second call changed nothing and is not logged
    assert _permission_log() == [
        (
            "membership.role_changed",
            {
                "kind": "permission_change",
                "member_user_id": recruiter.pk,
                "old_role": "recruiter",
                "new_role": "analyst",
            },
        )
    ]


def test_an_admin_leaves_owners_alone(owner, admin, recruiter, organization):
    ada = _actor(admin, organization)

    with pytest.raises(PermissionDenied):
        membership_role_change(
            actor=ada, membership_id=_membership(owner, organization).pk, role="admin"
        )
    with pytest.raises(PermissionDenied):
        membership_role_change(
            actor=ada, membership_id=_membership(recruiter, organization).pk, role="owner"
        )
    membership_role_change(
        actor=ada, membership_id=_membership(recruiter, organization).pk, role="admin"
    )

    assert _membership(owner, organization).role == "owner"
    assert _membership(recruiter, organization).role == "admin"


def test_the_last_owner_stays_an_owner(owner, organization):
    with pytest.raises(Conflict) as refused:
        membership_role_change(
            actor=_actor(owner, organization),
            membership_id=_membership(owner, organization).pk,
            role="admin",
        )

    assert refused.value.code == "last_owner"
    assert _membership(owner, organization).role == "owner"


def test_an_owner_hands_over_then_steps_down(owner, admin, organization):
    olga = _actor(owner, organization)
    membership_role_change(
        actor=olga, membership_id=_membership(admin, organization).pk, role="owner"
    )

    membership_role_change(
        actor=olga, membership_id=_membership(owner, organization).pk, role="admin"
    )

    assert (_membership(owner, organization).role, _membership(admin, organization).role) == (
        "admin",
        "owner",
    )


def test_lower_roles_are_refused_and_other_organisations_not_found(
    owner, recruiter, organization, other_organization
):
    gina = user_create(email="gina@globex.example", password=None, organization=other_organization)
    foreign = _membership(gina, other_organization)

    with pytest.raises(PermissionDenied):
        membership_role_change(
            actor=_actor(recruiter, organization),
            membership_id=_membership(owner, organization).pk,
            role="recruiter",
        )
    # another organisation's member is not found, for a lower role too
    for actor in (_actor(owner, organization), _actor(recruiter, organization)):
        with pytest.raises(NotFound):
            membership_role_change(actor=actor, membership_id=foreign.pk, role="admin")
        with pytest.raises(NotFound):
            membership_remove(actor=actor, membership_id=foreign.pk)

    assert Membership.objects.get(pk=foreign.pk).role == "recruiter"


# --- removing ------------------------------------------------------------------------------------


def test_removing_a_member_revokes_their_keys_here_only(
    owner, recruiter, organization, other_organization
):
    Membership.objects.create(user=recruiter, organization=other_organization, role="analyst")
    here = api_key_create(user=recruiter, organization=organization)
    there = api_key_create(user=recruiter, organization=other_organization)

    revoked = membership_remove(
        actor=_actor(owner, organization), membership_id=_membership(recruiter, organization).pk
    )

    assert revoked == 1
    assert not Membership.objects.filter(user=recruiter, organization=organization).exists()
    assert ApiKey.objects.get(pk=here.api_key.pk).revoked_at is not None
    assert ApiKey.objects.get(pk=there.api_key.pk).revoked_at is None
    assert User.objects.filter(pk=recruiter.pk).exists()
    assert _permission_log()[-1] == (
        "membership.removed",
        {
            "kind": "permission_change",
            "member_user_id": recruiter.pk,
            "old_role": "recruiter",
            "api_keys_revoked": 1,
        },
    )


def test_nobody_removes_themselves_and_admins_never_owners(owner, admin, organization):
    with pytest.raises(PermissionDenied) as self_removal:
        membership_remove(
            actor=_actor(admin, organization), membership_id=_membership(admin, organization).pk
        )
    with pytest.raises(PermissionDenied) as owner_removal:
        membership_remove(
            actor=_actor(admin, organization), membership_id=_membership(owner, organization).pk
        )

    assert (self_removal.value.code, owner_removal.value.code) == (
        "cannot_remove_self",
        "owner_only",
    )
    assert Membership.objects.filter(organization=organization).count() == 2


def test_an_owner_removes_another_owner_but_never_the_last(owner, organization):
    second = user_create(
        email="otto@acme.example", password=None, organization=organization, role=Role.OWNER
    )
    olga, otto = _actor(owner, organization), _actor(second, organization)

    membership_remove(actor=olga, membership_id=_membership(second, organization).pk)

    assert list(
        Membership.objects.filter(organization=organization).values_list("user__email", flat=True)
    ) == ["olga@acme.example"]
    # the removed owner acts no more; their stale actor cannot remove the last owner either
    with pytest.raises(Conflict):
        membership_remove(actor=otto, membership_id=_membership(owner, organization).pk)
