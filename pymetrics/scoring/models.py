"""Stored results of scoring: the metrics of a game session, with the extractor version."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from pymetrics.assessments.models import GameSession


class MetricSet(models.Model):
    """The metrics one extractor version computed for one game session.

    ``values`` holds only metrics that could be computed: an absent metric is a
    missing key, never 0 or NaN (SCIENCE.md).
    """

    game_session = models.ForeignKey(
        GameSession, on_delete=models.CASCADE, related_name="metric_sets"
    )
    game = models.CharField(max_length=32)
    extractor_version = models.PositiveIntegerField()
    values = models.JSONField(default=dict)
    quality_flags = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # by the column, not the relation: "game_session" would join two tables on every read
        ordering = ("game_session_id", "-extractor_version")
        constraints = [
            models.UniqueConstraint(
                fields=("game_session", "extractor_version"), name="unique_metric_set_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.game} v{self.extractor_version} for session {self.game_session_id}"
