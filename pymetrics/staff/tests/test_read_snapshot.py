"""read_snapshot: several reads see the database as of one moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from pymetrics.accounts.models import Organization
from pymetrics.common.db import read_snapshot


def _rename_in_another_connection(pk: int, name: str) -> None:
    def rename() -> None:
        try:
            Organization.objects.filter(pk=pk).update(name=name)
        finally:
            connection.close()

    writer = threading.Thread(target=rename)
    writer.start()
    writer.join(10)


@pytest.mark.django_db(transaction=True)
def test_a_commit_between_two_reads_is_not_seen_inside_the_snapshot(organization):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; snapshots are PostgreSQL's")
    with read_snapshot():
        first = Organization.objects.get(pk=organization.pk).name
        _rename_in_another_connection(organization.pk, "Acme Renamed")
        second = Organization.objects.get(pk=organization.pk).name
    after = Organization.objects.get(pk=organization.pk).name

    assert (first, second, after) == ("Acme Hiring", "Acme Hiring", "Acme Renamed")


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_is_read_only(organization):
    if connection.vendor != "postgresql":
        pytest.skip("READ ONLY transactions are PostgreSQL's")
    from django.db import InternalError

    with pytest.raises(InternalError, match="read-only transaction"), read_snapshot():
        Organization.objects.filter(pk=organization.pk).update(name="Nope")
