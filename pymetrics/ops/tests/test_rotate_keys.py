"""``rotate_keys``: every encrypted column re-encrypted with the newest key, online and once."""

from __future__ import annotations

import base64
import threading
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Candidate
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.common.crypto import EMAIL_INDEX, EncryptedTextField, encrypted_fields
from pymetrics.fitmodels.models import CandidateGroups
from pymetrics.fitmodels.services import candidate_groups_record
from pymetrics.ops.key_rotation import _ModelRotator, encryption_keys_rotate

KEY_OLD = base64.urlsafe_b64encode(b"old-key:rotation-test-0123456789")
KEY_NEW = base64.urlsafe_b64encode(b"new-key:rotation-test-0123456789")
KEY_LOST = base64.urlsafe_b64encode(b"lost-key:rotation-test-012345678")
# (distinct in their first 16 bytes, Fernet's signing half, as random keys are)
PEOPLE = [
    ("cara@example.org", "Cara Candidate"),
    ("dan@example.org", "Dan Doe"),
    ("Erin@Example.org", "Erin Éclair"),
]


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def _raw_candidate(pk: int) -> tuple[str, str, str]:
    return (
        _raw("assessments_candidate", "email", pk),
        _raw("assessments_candidate", "name", pk),
        _raw("assessments_candidate", "email_index", pk),
    )


def _opens(key: bytes, token: str) -> str | None:
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def _rotate(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def under_old_key(settings, assessment):
    """Three candidates (one with reported groups) and an anonymous one, all under the old key;
    then the new key is put first, as the operator's deploy does."""
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_OLD,)
    pks = [
        candidate_invite(assessment=assessment, email=email, name=name).candidate.pk
        for email, name in PEOPLE
    ]
    candidate_groups_record(
        actor=None, candidate=Candidate.objects.get(pk=pks[0]), groups={"gender": "woman"}
    )
    anonymous = candidate_invite(assessment=assessment, external_id="anon-1").candidate.pk
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW, KEY_OLD)
    return pks, anonymous


def test_every_encrypted_field_of_every_model_is_found():
    found = {model._meta.label: names for model, names in encrypted_fields()}

    assert found["assessments.Candidate"] == ["email", "name"]
    assert found["fitmodels.CandidateGroups"] == ["groups"]
    for model, names in encrypted_fields():
        for name in names:
            assert isinstance(model._meta.get_field(name), EncryptedTextField)


def test_rotation_re_encrypts_every_value_with_the_new_key_and_keeps_it(under_old_key, settings):
    pks, anonymous = under_old_key
    groups_pk = CandidateGroups.objects.get().pk
    before = [_raw_candidate(pk) for pk in pks]
    assert all(_opens(KEY_OLD, email) for email, _, _ in before)

    out, err = _rotate()

    for pk, (email, name) in zip(pks, PEOPLE, strict=True):
        raw_email, raw_name, raw_index = _raw_candidate(pk)
        # the new key alone opens each value, the old key alone no longer does
        assert (_opens(KEY_NEW, raw_email), _opens(KEY_NEW, raw_name)) == (email, name)
        assert (_opens(KEY_OLD, raw_email), _opens(KEY_OLD, raw_name)) == (None, None)
        assert raw_index == EMAIL_INDEX.under_key(
            email, scope=Candidate.objects.get(pk=pk).organization_id, key=KEY_NEW
        )
    raw_groups = _raw("fitmodels_candidategroups", "groups", groups_pk)
    assert _opens(KEY_NEW, raw_groups) == '{"gender": "woman"}'
    assert _opens(KEY_OLD, raw_groups) is None
    # the anonymous candidate's empty values stay empty
    assert _raw_candidate(anonymous) == ("", "", "")
    # and with the old key removed the application reads every value
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW,)
    assert [(c.email, c.name) for c in Candidate.objects.filter(pk__in=pks).order_by("pk")] == (
        PEOPLE
    )
    assert CandidateGroups.objects.get().groups == '{"gender": "woman"}'
    assert out == (
        "Key rotation finished. Keys configured: 2.\n"
        "  assessments.Candidate (email, name): 4 rows, re-encrypted 3, indexes updated 3, "
        "changed meanwhile 0, left for the next run 0, undecryptable 0\n"
        "  fitmodels.CandidateGroups (groups): 1 rows, re-encrypted 1, indexes updated 0, "
        "changed meanwhile 0, left for the next run 0, undecryptable 0\n"
        "Total: 5 rows, re-encrypted 4, indexes updated 3.\n"
        "Every encrypted value is under the newest key: older keys may now be removed.\n"
    )
    assert err == (
        "assessments.Candidate: 4/4 rows checked, re-encrypted 3, indexes 3\n"
        "fitmodels.CandidateGroups: 1/1 rows checked, re-encrypted 1, indexes 0\n"
    )


def test_a_second_run_changes_nothing(under_old_key):
    pks, _ = under_old_key
    _rotate()
    after_first = [_raw_candidate(pk) for pk in pks]

    report = encryption_keys_rotate()

    assert [_raw_candidate(pk) for pk in pks] == after_first
    assert [(r.model, r.checked, r.reencrypted, r.reindexed) for r in report.models] == [
        ("assessments.Candidate", 4, 0, 0),
        ("fitmodels.CandidateGroups", 1, 0, 0),
    ]


def test_a_dry_run_counts_and_writes_nothing_but_its_audit_entry(under_old_key):
    pks, _ = under_old_key
    before = [_raw_candidate(pk) for pk in pks]

    out, _ = _rotate("--dry-run")

    assert [_raw_candidate(pk) for pk in pks] == before
    assert out.splitlines()[0] == "Dry run: nothing written. Keys configured: 2."
    assert out.splitlines()[-1] == "Total: 5 rows, would re-encrypt 4, indexes updated 3."
    entry = AuditLog.objects.get(action="encryption.keys_rotate")
    assert entry.details["dry_run"] is True


def test_rotation_goes_batch_by_batch_and_resumes_where_a_run_stopped(under_old_key):
    pks, _ = under_old_key
    # given a run interrupted after its first batch of two rows
    rotator = _ModelRotator(Candidate, ["email", "name"])
    for row in rotator.read(after=None, limit=2):
        rotator.apply(row, dry_run=False)
    assert rotator.report.reencrypted == 2

    seen = []
    report = encryption_keys_rotate(
        batch_size=2, progress=lambda r: seen.append((r.model, r.checked, r.reencrypted))
    )

    # then the next run does only what was left, two rows per transaction
    assert seen == [
        ("assessments.Candidate", 2, 0),
        ("assessments.Candidate", 4, 1),
        ("fitmodels.CandidateGroups", 1, 1),
    ]
    assert report.total("reencrypted") == 2
    assert all(_opens(KEY_NEW, _raw_candidate(pk)[0]) for pk in pks)


def test_the_rotation_is_audit_logged_as_the_platform_with_its_counts(under_old_key):
    _rotate()

    entry = AuditLog.objects.get(action="encryption.keys_rotate")
    assert (entry.actor_id, entry.organization_id, entry.object_type) == (
        None,
        None,
        "encryption_keys",
    )
    counts = {
        "changed_meanwhile": 0,
        "left_for_next_run": 0,
        "undecryptable": 0,
    }
    assert entry.details == {
        "dry_run": False,
        "keys": 2,
        "models": {
            "assessments.Candidate": {"rows": 4, "reencrypted": 3, "reindexed": 3, **counts},
            "fitmodels.CandidateGroups": {"rows": 1, "reencrypted": 1, "reindexed": 0, **counts},
        },
    }


def test_a_value_no_key_opens_fails_the_command_and_names_where_it_is(under_old_key, settings):
    pks, _ = under_old_key
    # given a value encrypted with a key that is no longer configured
    lost = Fernet(KEY_LOST).encrypt(b"lost@example.org").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE assessments_candidate SET email = %s WHERE id = %s", [lost, pks[1]])

    with pytest.raises(CommandError) as raised:
        _rotate()

    assert str(raised.value) == (
        "1 stored values can be decrypted by none of PYMETRICS_ENCRYPTION_KEYS (their rows "
        f"were left unchanged): assessments.Candidate.email id={pks[1]}. Add the key that "
        "encrypted them to PYMETRICS_ENCRYPTION_KEYS (after the newest) and run rotate_keys "
        "again; do not remove any key until this passes."
    )
    # the row is left as it was, every other one is rotated
    assert _raw_candidate(pks[1])[0] == lost
    assert _opens(KEY_OLD, _raw_candidate(pks[1])[1]) == "Dan Doe"
    assert _opens(KEY_NEW, _raw_candidate(pks[0])[0]) == "cara@example.org"
    assert _opens(KEY_NEW, _raw_candidate(pks[2])[0]) == "Erin@Example.org"
    assert "lost@example.org" not in str(raised.value)


def test_a_write_made_during_the_rotation_is_never_overwritten(under_old_key):
    pks, _ = under_old_key
    rotator = _ModelRotator(Candidate, ["email", "name"])
    row = rotator.read_one(pks[0])
    assert row is not None
    plan = rotator.plan(row)
    assert plan is not None
    assert set(plan.changes) == {"email", "name", "email_index"}

    # when the application changes the e-mail between the rotation's read and its write
    candidate = Candidate.objects.get(pk=pks[0])
    candidate.email = "cara.new@example.org"
    candidate.email_index = EMAIL_INDEX.current(
        "cara.new@example.org", scope=candidate.organization_id
    )
    candidate.save(update_fields=["email", "email_index"])

    # then the guarded update matches nothing and the new e-mail stays
    assert rotator.write(plan) is False
    assert Candidate.objects.get(pk=pks[0]).email == "cara.new@example.org"

    # and applying the stale read reads the row again and rotates what is still old
    rotator.apply(row, dry_run=False)
    raw_email, raw_name, raw_index = _raw_candidate(pks[0])
    assert _opens(KEY_NEW, raw_email) == "cara.new@example.org"
    assert _opens(KEY_NEW, raw_name) == "Cara Candidate"
    assert raw_index == EMAIL_INDEX.current("cara.new@example.org", scope=candidate.organization_id)
    assert (rotator.report.changed_meanwhile, rotator.report.reencrypted) == (1, 1)
    assert rotator.report.reindexed == 0  # the application wrote the new key's index


def test_a_row_deleted_during_the_rotation_is_skipped(under_old_key):
    pks, _ = under_old_key
    rotator = _ModelRotator(Candidate, ["email", "name"])
    row = rotator.read_one(pks[2])
    assert row is not None
    Candidate.objects.filter(pk=pks[2]).delete()

    rotator.apply(row, dry_run=False)

    assert (rotator.report.changed_meanwhile, rotator.report.reencrypted) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_an_email_changed_by_another_connection_mid_batch_survives_the_rotation(
    settings, organization, monkeypatch
):
    """The guard under PostgreSQL's own concurrency: a real second connection commits
    between the rotation's read and its update (the unit-level test above proves the
    guard on any database)."""
    if connection.vendor != "postgresql":
        # in-memory SQLite has one writer at a time: the write above proves the guard there
        pytest.skip("a second connection writing during the batch needs PostgreSQL")
    # given two candidates under the old key, then the new key put first
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_OLD,)
    assessment = assessment_create(organization=organization, name="Online", games=["balloons"])
    pks = [
        candidate_invite(assessment=assessment, email=email, name=name).candidate.pk
        for email, name in PEOPLE[:2]
    ]
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW, KEY_OLD)
    planned = _ModelRotator.plan

    def plan_then_let_the_application_write(self, row):
        plan = planned(self, row)
        if row["pk"] == pks[0] and not getattr(self, "raced", False):
            self.raced = True
            # the application, on its own connection, commits a new e-mail for the row
            # after the rotation read it and before it writes it
            worker = threading.Thread(target=_change_email, args=(pks[0], "cara@new.example"))
            worker.start()
            worker.join()
        return plan

    monkeypatch.setattr(_ModelRotator, "plan", plan_then_let_the_application_write)

    report = encryption_keys_rotate()

    candidate = report.models[0]
    assert (candidate.model, candidate.changed_meanwhile, candidate.reencrypted) == (
        "assessments.Candidate",
        1,
        2,
    )
    raw_email, raw_name, raw_index = _raw_candidate(pks[0])
    assert _opens(KEY_NEW, raw_email) == "cara@new.example"
    assert _opens(KEY_NEW, raw_name) == "Cara Candidate"
    assert raw_index == EMAIL_INDEX.under_key(
        "cara@new.example", scope=organization.pk, key=KEY_NEW
    )
    assert _opens(KEY_NEW, _raw_candidate(pks[1])[0]) == "dan@example.org"


def _change_email(pk: int, email: str) -> None:
    """A write by the application, in another thread (its own database connection)."""
    try:
        candidate = Candidate.objects.get(pk=pk)
        candidate.email = email
        candidate.email_index = EMAIL_INDEX.current(email, scope=candidate.organization_id)
        candidate.save(update_fields=["email", "email_index"])
    finally:
        connection.close()
