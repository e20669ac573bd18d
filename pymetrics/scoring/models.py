"""Stored results of scoring: the metrics of a game session, with the extractor version."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Assessment, Attempt, GameSession, GameSessionState


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


class TraitMapVersion(models.Model):
    """One version of the map from metrics to traits, as it was used.

    ``definition`` is the whole map (traits, poles, signed metrics, default
    reliabilities) as loaded from the repository's data file, so a stored trait
    score can always be traced to the exact map behind it, even after the file
    changes.
    """

    version = models.PositiveIntegerField(unique=True)
    definition = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-version",)

    def __str__(self) -> str:
        return f"trait map v{self.version}"


class NormPopulation(models.TextChoices):
    ASSESSMENT = "assessment", "An assessment's completed candidates"
    ORGANISATION = "organisation", "An organisation's completed candidates"
    SIMULATED = "simulated", "Simulated reference population (bots)"


class NormTable(models.Model):
    """Per-metric and per-trait distributions of a named population, versioned.

    ``organization`` is empty for a shared simulated reference population, which
    any organisation without norms of its own is scored against. ``data`` holds,
    per metric, n, mean, SD and percentiles 1..99, and the trait raw-score
    distributions; ``reliabilities`` the per-trait reliability used for intervals
    (split-half where this population allowed it, else the trait map's default).
    """

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="norm_tables"
    )
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="norm_tables"
    )
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    population = models.CharField(max_length=16, choices=NormPopulation.choices)
    is_simulated = models.BooleanField(default=False)
    trait_map = models.ForeignKey(TraitMapVersion, on_delete=models.PROTECT)
    n_attempts = models.PositiveIntegerField()
    data = models.JSONField()
    reliabilities = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name", "version"),
                condition=models.Q(organization__isnull=False),
                name="unique_norm_table_version",
            ),
            models.UniqueConstraint(
                fields=("name", "version"),
                condition=models.Q(organization__isnull=True),
                name="unique_shared_norm_table_version",
            ),
        ]

    def __str__(self) -> str:
        label = " (simulated)" if self.is_simulated else ""
        return f"{self.name} v{self.version}{label}"


class TraitScore(models.Model):
    """One trait of one attempt, standardised against one norm table and trait map.

    A trait with fewer than half its metrics present is stored unscored, with the
    reason, so the recruiter sees why it is missing rather than a made-up number.
    Every version behind the number is recorded: norm table, trait map, and the
    extractor version of each game whose metrics went in.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="trait_scores")
    trait = models.CharField(max_length=32)
    norm_table = models.ForeignKey(NormTable, on_delete=models.PROTECT, related_name="scores")
    trait_map = models.ForeignKey(TraitMapVersion, on_delete=models.PROTECT)
    scored = models.BooleanField()
    raw = models.FloatField(null=True)
    z = models.FloatField(null=True)
    percentile = models.FloatField(null=True)
    z_low = models.FloatField(null=True)
    z_high = models.FloatField(null=True)
    percentile_low = models.FloatField(null=True)
    percentile_high = models.FloatField(null=True)
    metrics_present = models.PositiveSmallIntegerField()
    metrics_total = models.PositiveSmallIntegerField()
    reliability = models.FloatField()
    reason = models.TextField(blank=True)
    quality_flags = models.JSONField(default=list, blank=True)
    extractor_versions = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("attempt_id", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("attempt", "trait", "norm_table", "trait_map"),
                name="unique_trait_score_version",
            )
        ]
        indexes = [models.Index(fields=("norm_table", "attempt"))]

    def __str__(self) -> str:
        return f"{self.trait} of attempt {self.attempt_id}"


class FailedScoringManager(models.Manager["FailedScoringJob"]):
    def get_queryset(self) -> models.QuerySet[FailedScoringJob]:
        return super().get_queryset().filter(state=GameSessionState.FAILED)


class FailedScoringJob(GameSession):
    """Game sessions whose extraction failed, with the error: the failed-jobs list.

    A proxy of :class:`GameSession` (no table of its own) so operators find every
    failure in one place and can retry it after a fix.
    """

    objects = FailedScoringManager()  # type: ignore[misc,assignment]

    class Meta:
        proxy = True
        verbose_name = "failed scoring job"
        ordering = ("-completed_at", "-pk")
