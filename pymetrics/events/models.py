"""The event store: every key press, click and stimulus onset of a game session.

Append-only. ``(game_session, seq)`` is unique, which makes ingestion idempotent:
a batch sent twice is stored once.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from pymetrics.assessments.models import GameSession


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    # No separate index: the unique (game_session, seq) index serves lookups by
    # session. No database constraint either: PostgreSQL checks a foreign key row by
    # row, which cost ingestion a third of its database time; events are written
    # only under their session's row lock and deleted with it (ADR 0012).
    game_session = models.ForeignKey(
        GameSession,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    seq = models.PositiveIntegerField()
    #: ms since game start, from the browser's performance.now()
    t = models.FloatField()
    type = models.CharField(max_length=32)
    data = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # by the column, not the relation: "game_session" would join two tables on every read
        ordering = ("game_session_id", "seq")
        constraints = [
            models.UniqueConstraint(fields=("game_session", "seq"), name="unique_event_seq")
        ]

    def __str__(self) -> str:
        return f"{self.game_session_id}:{self.seq} {self.type}"
