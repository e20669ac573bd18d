"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Run several reads against one snapshot of the database.

    A page built from several queries (a candidate, their sessions, the metrics of
    each) can otherwise see a worker's commit land between two of them: metrics
    present while the session still says "completed". On PostgreSQL the block runs
    as one REPEATABLE READ, READ ONLY transaction; SQLite transactions are already
    serialisable. Inside an outer transaction the outer one's isolation applies.
    """
    if connection.in_atomic_block:
        yield  # the outer transaction already decides what these reads see
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
