"""API keys' scopes: what a new key gets, revocation, ``create_api_key --scope``.

(How the staff API enforces the scopes: ``pymetrics/staff/tests/test_api_scopes.py``.)
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from pymetrics.accounts.models import ApiKey, AuditLog, Role
from pymetrics.accounts.services import (
    Actor,
    api_key_create,
    api_key_revoke,
    api_key_revoke_by,
    user_create,
)
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

# --- creating keys -----------------------------------------------------------------------------


def test_a_new_key_may_only_read_unless_told_otherwise(recruiter):
    issued = api_key_create(user=recruiter)

    assert ApiKey.objects.get(pk=issued.api_key.pk).scopes == ["read"]


def test_scopes_are_kept_once_each_in_their_canonical_order(recruiter):
    issued = api_key_create(user=recruiter, scopes=["export", "READ", "export"])

    assert ApiKey.objects.get(pk=issued.api_key.pk).scopes == ["read", "export"]


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        pytest.param(["read", "admin"], "unknown API scope: admin (known: read, write, export)"),
        pytest.param([], "an API key needs at least one scope"),
    ],
)
def test_unknown_or_no_scopes_are_refused(recruiter, scopes, message):
    with pytest.raises(ValidationFailed) as refused:
        api_key_create(user=recruiter, scopes=scopes)

    assert (refused.value.code, refused.value.message) == ("invalid_scope", message)
    assert ApiKey.objects.count() == 0


def test_creation_is_audit_logged_without_the_secret_or_the_name(recruiter, organization):
    actor = Actor(user=recruiter, organization=organization, role=Role.RECRUITER)

    issued = api_key_create(
        user=recruiter, name="ATS sync for Rita", scopes=["read", "write"], actor=actor
    )

    entry = AuditLog.objects.get(action="api_key.created")
    assert (entry.actor_id, entry.organization_id, entry.object_type, entry.object_id) == (
        recruiter.pk,
        organization.pk,
        "api_key",
        str(issued.api_key.pk),
    )
    assert entry.details == {
        "key_user_id": recruiter.pk,
        "prefix": issued.api_key.prefix,
        "scopes": ["read", "write"],
    }
    secret = issued.plaintext.split("_", 2)[2]
    assert secret not in str(entry.details)
    assert "Rita" not in str(entry.details)


# --- revoking -----------------------------------------------------------------------------------


def test_revoking_works_once_and_is_audit_logged(recruiter, organization, assessment):
    issued = api_key_create(user=recruiter)
    actor = Actor(user=recruiter, organization=organization, role=Role.RECRUITER)

    first = api_key_revoke(api_key=issued.api_key, actor=actor)
    second = api_key_revoke(api_key=issued.api_key, actor=actor)

    assert (first, second) == (True, False)
    entries = AuditLog.objects.filter(action="api_key.revoked")
    assert [(e.actor_id, e.object_id, e.details) for e in entries] == [
        (
            recruiter.pk,
            str(issued.api_key.pk),
            {"key_user_id": recruiter.pk, "prefix": issued.api_key.prefix},
        )
    ]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.plaintext}")
    assert client.get("/api/v1/assessments/").status_code == 401


def test_members_revoke_their_own_keys_and_managers_anyone_s(
    recruiter, organization, other_organization
):
    admin = user_create(
        email="ada@acme.example", password=None, organization=organization, role=Role.ADMIN
    )
    stranger = user_create(
        email="gina@globex.example", password=None, organization=other_organization
    )
    rita = Actor(user=recruiter, organization=organization, role=Role.RECRUITER)
    ada = Actor(user=admin, organization=organization, role=Role.ADMIN)
    ritas, adas = api_key_create(user=recruiter), api_key_create(user=admin)
    foreign = api_key_create(user=stranger)

    with pytest.raises(PermissionDenied):
        api_key_revoke_by(actor=rita, api_key_id=adas.api_key.pk)
    with pytest.raises(NotFound):
        api_key_revoke_by(actor=ada, api_key_id=foreign.api_key.pk)
    api_key_revoke_by(actor=rita, api_key_id=ritas.api_key.pk)
    with pytest.raises(Conflict):
        api_key_revoke_by(actor=ada, api_key_id=ritas.api_key.pk)
    api_key_revoke_by(actor=ada, api_key_id=adas.api_key.pk)

    live = dict(ApiKey.objects.values_list("pk", "revoked_at"))
    assert live[ritas.api_key.pk] is not None
    assert live[adas.api_key.pk] is not None
    assert live[foreign.api_key.pk] is None


# --- manage.py create_api_key --scope -----------------------------------------------------------


def test_the_command_gives_the_scopes_asked_for(recruiter, capsys):
    call_command(
        "create_api_key", "--user", recruiter.email, "--scope", "export", "--scope", "read"
    )
    call_command("create_api_key", "--user", recruiter.email, "--name", "default")

    keys = ApiKey.objects.order_by("pk")
    assert [key.scopes for key in keys] == [["read", "export"], ["read"]]
    assert len(capsys.readouterr().out.split()) == 2


def test_the_command_refuses_an_unknown_scope(recruiter):
    with pytest.raises(CommandError) as refused:
        call_command("create_api_key", "--user", recruiter.email, "--scope", "admin")

    assert "invalid choice: 'admin'" in str(refused.value)
    assert ApiKey.objects.count() == 0
