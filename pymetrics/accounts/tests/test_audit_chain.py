"""The audit log is append-only and hash-chained; verify_audit_log finds any edit or deletion."""

from __future__ import annotations

import hashlib
import io
import itertools
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from pymetrics.accounts.audit_chain import (
    ChainHead,
    audit_log_seal,
    audit_log_verify,
    canonical_entry,
)
from pymetrics.accounts.models import AuditLog, AuditLogIsAppendOnly, Role
from pymetrics.accounts.services import (
    Actor,
    audit_log_record,
    organization_create,
    user_create,
)
from pymetrics.accounts.tasks import seal_audit_log
from pymetrics.accounts.tests.helpers import login_verified


@pytest.fixture
def actor(db) -> Actor:
    organization = organization_create(name="Acme", slug="acme")
    user = user_create(
        email="olga@acme.example", password=None, organization=organization, role=Role.OWNER
    )
    return Actor(user=user, organization=organization, role=Role.OWNER, ip_address="203.0.113.7")


def _write(actor: Actor, n: int) -> list[AuditLog]:
    return [
        audit_log_record(actor=actor, action="candidate.read", object_type="candidate", object_id=i)
        for i in range(1, n + 1)
    ]


def _raw(sql: str, params: list[Any]) -> None:
    """What someone with write access to the database could do, past every guard."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditlog DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE accounts_auditlog ENABLE TRIGGER USER")


def test_the_hash_covers_the_entry_in_a_canonical_form_computed_by_hand(actor):
    entry = {
        "id": 7,
        "organization_id": 3,
        "actor_id": 5,
        "api_key_id": None,
        "action": "candidate.read",
        "object_type": "candidate",
        "object_id": "42",
        "at": datetime(2026, 11, 29, 9, 30, 0, 123456, tzinfo=UTC),
        "ip_address": "203.0.113.7",
        "details": {"b": [1, 2.5], "a": "é"},
    }
    expected = (
        '{"action":"candidate.read","actor_id":5,"api_key_id":null,'
        '"at":"2026-11-29T09:30:00.123456+00:00","details":{"a":"\\u00e9","b":[1,2.5]},'
        '"id":7,"ip_address":"203.0.113.7","object_id":"42","object_type":"candidate",'
        '"organization_id":3,"seq":12}'
    )
    assert canonical_entry(entry, chain_seq=12) == expected.encode()


def test_sealing_chains_every_entry_to_the_one_before(actor, caplog):
    entries = _write(actor, 5)
    assert AuditLog.objects.filter(chain_seq__isnull=True).count() == 5

    with caplog.at_level(logging.INFO, logger="pymetrics.audit"):
        result = audit_log_seal(batch=2)  # three batches: 2 + 2 + 1

    rows = list(AuditLog.objects.order_by("chain_seq"))
    assert [row.chain_seq for row in rows] == [1, 2, 3, 4, 5]
    assert [row.pk for row in rows] == [entry.pk for entry in entries]
    assert rows[0].prev_hash == ""
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    # each hash is SHA-256 over the previous hash, a newline and the canonical entry
    first: dict[str, Any] = dict(AuditLog.objects.filter(pk=rows[0].pk).values().get())
    assert (
        rows[0].entry_hash
        == hashlib.sha256(b"\n" + canonical_entry(first, chain_seq=1)).hexdigest()
    )
    assert result.sealed == 5
    assert result.head == ChainHead(5, rows[-1].entry_hash)
    # the head is logged: the anchor kept outside the database
    assert f"head 5:{rows[-1].entry_hash}" in caplog.text


def test_sealing_again_continues_the_chain_and_is_idempotent(actor):
    _write(actor, 2)
    audit_log_seal()
    head = audit_log_seal()
    assert head.sealed == 0

    later = _write(actor, 1)[0]
    assert seal_audit_log.delay().get() == {"sealed": 1, "head": f"3:{_hash_of(later.pk)}"}
    later.refresh_from_db()
    assert later.chain_seq == 3
    assert later.prev_hash == AuditLog.objects.get(chain_seq=2).entry_hash


def _hash_of(pk: int) -> str:
    return AuditLog.objects.get(pk=pk).entry_hash


def test_an_intact_log_verifies(actor):
    _write(actor, 4)
    audit_log_seal()

    result = audit_log_verify(anchors=(ChainHead(4, _hash_of_place(4)),))

    assert result.ok
    assert (result.checked, result.unsealed, result.problems) == (4, 0, [])
    assert result.head == ChainHead(4, _hash_of_place(4))


def _hash_of_place(seq: int) -> str:
    return AuditLog.objects.get(chain_seq=seq).entry_hash


def test_an_edited_entry_is_found(actor):
    entries = _write(actor, 3)
    audit_log_seal()

    _raw("UPDATE accounts_auditlog SET object_id = %s WHERE id = %s", ["999", entries[1].pk])

    result = audit_log_verify()
    assert result.problems == [f"entry {entries[1].pk} (place 2) was changed after it was sealed"]


def test_an_edit_with_the_hashes_recomputed_breaks_the_link_to_the_next_entry(actor):
    entries = _write(actor, 3)
    audit_log_seal()
    # the forger rewrites entry 2 and its own hash, but not entry 3's link to it
    row: dict[str, Any] = dict(AuditLog.objects.filter(pk=entries[1].pk).values().get())
    row["action"] = "candidate.list"
    from pymetrics.accounts.audit_chain import entry_hash

    forged = entry_hash(row["prev_hash"], row, chain_seq=2)
    _raw(
        "UPDATE accounts_auditlog SET action = %s, entry_hash = %s WHERE id = %s",
        ["candidate.list", forged, entries[1].pk],
    )

    result = audit_log_verify()
    assert result.problems == [
        f"entry {entries[2].pk} (place 3) does not follow the entry before it: "
        "the chain was cut or an entry before it was changed"
    ]


def test_a_deleted_entry_leaves_a_gap(actor):
    entries = _write(actor, 5)
    audit_log_seal()

    _raw("DELETE FROM accounts_auditlog WHERE id IN (%s, %s)", [entries[1].pk, entries[2].pk])

    result = audit_log_verify()
    assert result.problems == [
        f"places 2 to 3 of the chain missing before entry {entries[3].pk}: deleted"
    ]
    assert result.checked == 3


def test_a_chain_cut_short_or_rewritten_is_found_by_its_anchor(actor):
    entries = _write(actor, 4)
    head = audit_log_seal().head
    assert head is not None

    # the last two entries deleted: the chain itself is still consistent
    _raw("DELETE FROM accounts_auditlog WHERE id IN (%s, %s)", [entries[2].pk, entries[3].pk])
    assert audit_log_verify().ok

    # but the anchor logged at sealing time names a place the chain no longer holds
    result = audit_log_verify(anchors=(head,))
    assert result.problems == ["the anchored place 4 is missing: the chain was cut short"]

    # a whole chain forged afresh holds other hashes at the anchored places
    _raw("UPDATE accounts_auditlog SET chain_seq = NULL, entry_hash = '', prev_hash = ''", [])
    _write(actor, 2)
    audit_log_seal()
    forged = audit_log_verify(anchors=(head,))
    assert forged.problems == [
        "place 4 no longer holds the anchored entry: the chain was rewritten"
    ]


def test_entries_left_unsealed_too_long_are_a_problem(actor):
    entry = _write(actor, 1)[0]
    assert audit_log_verify().ok  # just written: the sealer's next run will take it

    later = audit_log_verify(stale_after=timedelta(0))

    assert later.unsealed == 1
    assert later.problems == [
        f"1 entry is not sealed, the oldest written at {entry.at:%Y-%m-%d %H:%M:%S} UTC: "
        "is the sealer (celery beat) running?"
    ]


def test_the_application_refuses_to_delete_or_change_entries(actor):
    entry = _write(actor, 1)[0]

    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        AuditLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be deleted"):
        AuditLog.objects.get(pk=entry.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        AuditLog.objects.filter(pk=entry.pk).update(details={"x": 1})
    stored = AuditLog.objects.get(pk=entry.pk)
    stored.action = "nothing.happened"
    with pytest.raises(AuditLogIsAppendOnly, match="cannot be changed"):
        stored.save()
    assert AuditLog.objects.get(pk=entry.pk).action == "candidate.read"


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_itself_refuses_deletes_and_edits_but_lets_the_sealer_seal(actor):
    entry = _write(actor, 1)[0]

    for statement in (
        "DELETE FROM accounts_auditlog WHERE id = %s",
        "UPDATE accounts_auditlog SET details = '{}'::jsonb WHERE id = %s",
        "UPDATE accounts_auditlog SET chain_seq = 1, action = 'x' WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="the audit log is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [entry.pk])

    audit_log_seal()  # sealing once is allowed...
    with (  # ...sealing twice is not
        pytest.raises(DatabaseError, match="cannot be changed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE accounts_auditlog SET entry_hash = 'x' WHERE id = %s", [entry.pk])
    assert audit_log_verify().ok


def test_the_command_reports_an_intact_log_and_fails_on_a_tampered_one(actor):
    entries = _write(actor, 3)
    out = io.StringIO()

    call_command("verify_audit_log", stdout=out)  # seals first

    head = ChainHead(3, _hash_of_place(3))
    assert out.getvalue().splitlines() == [
        "sealed 3 new entries first",
        "checked 3 entries",
        f"head {head}",
        "the audit log is intact",
    ]
    _raw("DELETE FROM accounts_auditlog WHERE id = %s", [entries[0].pk])
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"tampered with: 1 problem$"):
        call_command(
            "verify_audit_log", f"--anchor={head}", "--no-seal", stdout=io.StringIO(), stderr=err
        )
    assert err.getvalue().splitlines() == [
        f"place 1 of the chain missing before entry {entries[1].pk}: deleted",
    ]


def test_the_command_refuses_a_malformed_anchor(db):
    with pytest.raises(CommandError, match="an anchor is PLACE:SHA256"):
        call_command("verify_audit_log", "--anchor=12:abc", stdout=io.StringIO())


def test_operators_read_entries_of_deleted_users_in_the_admin(actor, client):
    entry = _write(actor, 1)[0]
    assert actor.user is not None
    gone_id = actor.user.pk
    actor.user.delete()  # the entry keeps the id: no constraint, nothing rewritten
    operator = user_create(
        email="root@platform.example",
        password=None,
        organization=actor.organization,
        role=Role.RECRUITER,
        is_staff=True,
        is_superuser=True,
    )
    login_verified(client, operator)

    listing = client.get("/admin/accounts/auditlog/")
    detail = client.get(f"/admin/accounts/auditlog/{entry.pk}/change/")

    assert (listing.status_code, detail.status_code) == (200, 200)
    assert AuditLog.objects.get(pk=entry.pk).actor_id == gone_id
    assert "candidate.read" in listing.content.decode()
    assert f'<div class="readonly">{gone_id}</div>' in detail.content.decode()
