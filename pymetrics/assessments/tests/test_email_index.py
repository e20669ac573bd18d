"""Candidates' e-mail index: written on invitation, found by e-mail, filled by the migration."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from pymetrics.assessments.models import Attempt, Candidate
from pymetrics.assessments.selectors import candidate_find_by_email
from pymetrics.assessments.services import (
    assessment_create,
    candidate_email_index,
    candidate_invite,
)
from pymetrics.common.crypto import EMAIL_INDEX
from pymetrics.common.errors import Conflict

KEY_OLD = base64.urlsafe_b64encode(b"key-a:blind-index-test-012345678")
KEY_NEW = base64.urlsafe_b64encode(b"key-b:blind-index-test-012345678")


@pytest.fixture
def old_key_only(settings):
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_OLD,)
    return settings


def test_an_invitation_stores_the_email_index_under_the_newest_key(old_key_only, assessment):
    invitation = candidate_invite(assessment=assessment, email=" Cara@Example.org", name="Cara")

    stored = Candidate.objects.get(pk=invitation.candidate.pk)
    assert stored.email == "Cara@Example.org"
    assert stored.email_index == EMAIL_INDEX.under_key(
        "cara@example.org", scope=assessment.organization_id, key=KEY_OLD
    )
    assert stored.email_index == candidate_email_index(
        email="CARA@example.org", organization_id=assessment.organization_id
    )


def test_a_candidate_without_email_has_an_empty_index(assessment):
    invitation = candidate_invite(assessment=assessment, external_id="anon-1")

    assert Candidate.objects.get(pk=invitation.candidate.pk).email_index == ""
    assert candidate_find_by_email(organization=assessment.organization, email="") == []


def test_candidates_are_found_by_email_however_it_is_typed(assessment, organization):
    cara = candidate_invite(assessment=assessment, email="cara@example.org", external_id="c-1")
    candidate_invite(assessment=assessment, email="dan@example.org", external_id="d-1")
    second = assessment_create(organization=organization, name="Round two", games=["balloons"])
    again = candidate_invite(assessment=second, email="CARA@example.org", external_id="c-2")

    found = candidate_find_by_email(organization=organization, email=" Cara@EXAMPLE.org ")

    # newest first
    assert [candidate.pk for candidate in found] == [again.candidate.pk, cara.candidate.pk]
    assert candidate_find_by_email(organization=organization, email="nobody@example.org") == []


def test_another_organisation_s_candidate_is_never_found(
    assessment, organization, other_organization
):
    theirs = assessment_create(organization=other_organization, name="G", games=["balloons"])
    candidate_invite(assessment=theirs, email="cara@example.org")

    assert candidate_find_by_email(organization=organization, email="cara@example.org") == []
    assert (
        len(candidate_find_by_email(organization=other_organization, email="cara@example.org")) == 1
    )


def test_a_candidate_indexed_under_the_old_key_is_found_mid_rotation(settings, assessment):
    # given a candidate invited while the old key was the only one
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_OLD,)
    invitation = candidate_invite(assessment=assessment, email="cara@example.org")
    old_index = Candidate.objects.get(pk=invitation.candidate.pk).email_index

    # when a new key is put first, before the rows are rotated
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW, KEY_OLD)
    found = candidate_find_by_email(organization=assessment.organization, email="Cara@example.org")

    # then the row, still indexed under the old key, is found
    assert old_index == EMAIL_INDEX.under_key(
        "cara@example.org", scope=assessment.organization_id, key=KEY_OLD
    )
    assert [candidate.pk for candidate in found] == [invitation.candidate.pk]
    # and without the old key it is not (its index and ciphertext are the old key's)
    settings.PYMETRICS_ENCRYPTION_KEYS = (KEY_NEW,)
    assert (
        candidate_find_by_email(organization=assessment.organization, email="cara@example.org")
        == []
    )


def test_a_stale_index_never_answers_for_another_address(assessment):
    # given a row whose index says one address and whose e-mail is another
    cara = candidate_invite(assessment=assessment, email="cara@example.org")
    dan = candidate_invite(assessment=assessment, email="dan@example.org")
    Candidate.objects.filter(pk=dan.candidate.pk).update(email_index=cara.candidate.email_index)

    found = candidate_find_by_email(organization=assessment.organization, email="cara@example.org")

    assert [candidate.pk for candidate in found] == [cara.candidate.pk]


# --- invitations by e-mail -------------------------------------------------------------------


def test_inviting_an_email_already_invited_to_the_assessment_is_a_conflict(assessment):
    candidate_invite(assessment=assessment, email="cara@example.org", name="Cara")

    with pytest.raises(Conflict) as raised:
        candidate_invite(assessment=assessment, email=" CARA@example.org", name="Cara again")

    assert raised.value.message == "this e-mail address is already invited to 'Graduates 2027'"
    assert raised.value.details == {"email": ["already invited to this assessment"]}
    assert Candidate.objects.count() == 1
    assert Attempt.objects.count() == 1


def test_the_same_email_may_be_invited_to_another_assessment(assessment, organization):
    first = candidate_invite(assessment=assessment, email="cara@example.org")
    second_assessment = assessment_create(
        organization=organization, name="Second round", games=["balloons"]
    )

    second = candidate_invite(assessment=second_assessment, email="cara@example.org")

    assert second.candidate.pk != first.candidate.pk
    assert Attempt.objects.filter(assessment=second_assessment).count() == 1


def test_distinct_external_ids_sharing_an_email_are_distinct_people(assessment):
    # the organisation's own ids say who is who (a shared family mailbox, say)
    first = candidate_invite(assessment=assessment, email="home@example.org", external_id="p-1")
    second = candidate_invite(assessment=assessment, email="home@example.org", external_id="p-2")

    assert first.candidate.pk != second.candidate.pk
    assert Attempt.objects.filter(assessment=assessment).count() == 2


def test_the_same_email_in_another_organisation_is_not_a_conflict(assessment, other_organization):
    candidate_invite(assessment=assessment, email="cara@example.org")
    theirs = assessment_create(organization=other_organization, name="G", games=["balloons"])

    invitation = candidate_invite(assessment=theirs, email="cara@example.org")

    assert invitation.candidate.organization == other_organization


# --- the migration's data step and erasure ---------------------------------------------------


def test_the_migration_fills_the_index_of_existing_rows_in_batches(monkeypatch, assessment):
    from importlib import import_module

    migration = import_module("pymetrics.assessments.migrations.0006_candidate_email_index")
    emails = [f"person{n}@example.org" for n in range(5)]
    pks = [candidate_invite(assessment=assessment, email=email).candidate.pk for email in emails]
    anonymous = candidate_invite(assessment=assessment, external_id="anon").candidate.pk
    Candidate.objects.update(email_index="")
    queries: list[str] = []
    monkeypatch.setattr(migration, "BATCH", 2)

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        migration.fill_email_index(apps, SimpleNamespace(connection=connection))

    stored = dict(Candidate.objects.values_list("pk", "email_index"))
    assert [stored[pk] for pk in pks] == [
        EMAIL_INDEX.current(email, scope=assessment.organization_id) for email in emails
    ]
    assert stored[anonymous] == ""
    # three batches of reads (2 + 2 + 1 rows) and the empty read that ends them
    assert sum(sql.lstrip().upper().startswith("SELECT") for sql in queries) == 4
