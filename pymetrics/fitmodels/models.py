"""Stored state of the job-fit layer: roles, their incumbents, model versions, fit scores.

A *job profile* names a role: its incumbents (chosen from the organisation's
candidates, or imported with their trait scores) labelled successful or not, and a
baseline population to contrast them with. Training makes a *fit model version*
(draft); its bias audit on the organisation's debiasing set makes it *audited* when
the 4/5ths rule holds for every attribute; an admin *activates* it (the previous
active version of the role is *retired*), and every candidate of the role's
assessments is scored again. Every fit score records the version that produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from pymetrics.accounts.models import Organization
from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.common.crypto import EncryptedTextField
from pymetrics.scoring.models import TraitMapVersion


class Algorithm(models.TextChoices):
    LOGISTIC_REGRESSION = "logistic_regression", "Logistic regression"
    GRADIENT_BOOSTING = "gradient_boosting", "Gradient boosting"


class FeatureSet(models.TextChoices):
    TRAITS = "traits", "The nine traits"
    TRAITS_AND_METRICS = "traits_and_metrics", "The nine traits and every metric"


class JobProfile(models.Model):
    """A role whose successful incumbents a model learns to recognise."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="job_profiles"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    #: candidates of these assessments get a fit score from the role's active model
    assessments = models.ManyToManyField(Assessment, blank=True, related_name="job_profiles")
    #: label 0: the completed candidates of this assessment (e.g. all applicants)
    baseline_assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    features = models.CharField(max_length=24, choices=FeatureSet.choices, default="traits")
    algorithm = models.CharField(
        max_length=24, choices=Algorithm.choices, default=Algorithm.LOGISTIC_REGRESSION
    )
    #: fit score (0-100) at or above which a candidate passes; the audit's threshold
    threshold = models.FloatField(default=50.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name", "pk")
        constraints = [
            models.UniqueConstraint(fields=("organization", "name"), name="unique_job_profile_name")
        ]

    def __str__(self) -> str:
        return self.name


class Incumbent(models.Model):
    """Someone in the role: one of the organisation's candidates, or imported with scores.

    ``features`` holds imported scores (``{"trait:attention": z, ...}``); a linked
    candidate's features are read from their latest trait scores at training time.
    """

    job_profile = models.ForeignKey(JobProfile, on_delete=models.CASCADE, related_name="incumbents")
    candidate = models.ForeignKey(
        Candidate, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    #: the organisation's id for an imported incumbent (no candidate)
    external_id = models.CharField(max_length=200, blank=True)
    successful = models.BooleanField()
    features = models.JSONField(default=dict, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("job_profile_id", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=("job_profile", "candidate"),
                condition=models.Q(candidate__isnull=False),
                name="unique_incumbent_candidate",
            ),
            models.UniqueConstraint(
                fields=("job_profile", "external_id"),
                condition=models.Q(candidate__isnull=True),
                name="unique_incumbent_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(candidate__isnull=False) | ~models.Q(external_id=""),
                name="incumbent_candidate_or_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"candidate {self.candidate_id}"


class CandidateGroups(models.Model):
    """A candidate's self-reported groups (gender, ethnicity, age 40+, ...), for audits only.

    Encrypted at rest like names and e-mails: ``groups`` is a JSON object of
    attribute -> group, never shown beside a candidate's scores, read only to audit
    models for adverse impact (SCIENCE.md 4).
    """

    candidate = models.OneToOneField(
        Candidate, on_delete=models.CASCADE, related_name="reported_groups"
    )
    groups = EncryptedTextField()
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"groups of candidate {self.candidate_id}"


class ModelStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AUDITED = "audited", "Audited"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class FitModelVersion(models.Model):
    """One trained model of a role, with everything needed to reproduce and judge it."""

    job_profile = models.ForeignKey(JobProfile, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    algorithm = models.CharField(max_length=24, choices=Algorithm.choices)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.DRAFT, db_index=True
    )
    feature_names = models.JSONField()
    #: the fitted pipeline, in skops' format (never pickle)
    artefact = models.BinaryField()
    #: sha256 of the training data (features, in order, and labels)
    fingerprint = models.CharField(max_length=64)
    n_successful = models.PositiveIntegerField()
    n_baseline = models.PositiveIntegerField()
    threshold = models.FloatField()
    #: cross-validation: AUC with its CI, ROC and reliability curves, Brier score
    cv_report = models.JSONField()
    feature_weights = models.JSONField()
    #: the debiasing loop's steps that led to this version (empty when none ran)
    debias_history = models.JSONField(default=list, blank=True)
    audit_report = models.JSONField(null=True, blank=True)
    audit_passed = models.BooleanField(null=True)
    audited_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("job_profile_id", "-version")
        constraints = [
            models.UniqueConstraint(
                fields=("job_profile", "version"), name="unique_fit_model_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_profile.name} v{self.version}"

    @property
    def label(self) -> str:
        """How a fit score names its model: ``"<role> v<version>"``."""
        return f"{self.job_profile.name} v{self.version}"


class TrainingState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class TrainingJob(models.Model):
    """One request to train a role's model: its progress, for the page that waits on it."""

    job_profile = models.ForeignKey(
        JobProfile, on_delete=models.CASCADE, related_name="training_jobs"
    )
    state = models.CharField(
        max_length=16, choices=TrainingState.choices, default=TrainingState.QUEUED
    )
    #: 0..1, with what the trainer is doing now
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    algorithm = models.CharField(max_length=24, choices=Algorithm.choices)
    debias = models.BooleanField(default=True)
    seed = models.IntegerField(default=0)
    model_version = models.ForeignKey(
        FitModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"training {self.pk} of {self.job_profile_id}: {self.state}"


class FitScore(models.Model):
    """One attempt's fit to one role, by one model version: calibrated probability x 100."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="fit_scores")
    model_version = models.ForeignKey(
        FitModelVersion, on_delete=models.PROTECT, related_name="scores"
    )
    score = models.FloatField()
    passed = models.BooleanField()
    #: the A/B test arm ("A" or "B") the attempt was scored in; empty outside a test
    arm = models.CharField(max_length=1, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("attempt_id", "-computed_at")
        constraints = [
            models.UniqueConstraint(
                fields=("attempt", "model_version"), name="unique_fit_score_version"
            )
        ]

    def __str__(self) -> str:
        return f"fit {self.score:.0f} of attempt {self.attempt_id}"


class ReviewState(models.TextChoices):
    PENDING = "pending", "Waiting for a reviewer"
    ACCEPTED = "accepted", "Accepted as the candidate's own play"
    INVALIDATED = "invalidated", "Invalidated"


class SessionReview(models.Model):
    """A game session the anomaly scan found suspicious, waiting for (or given) a verdict.

    ``reasons`` are the scan's plain-language reasons (rule flags, the isolation
    forest's score and the metrics behind it, values beyond the reference
    population); ``assessment`` the whole scan result for that session.
    """

    game_session = models.OneToOneField(
        GameSession, on_delete=models.CASCADE, related_name="review"
    )
    game = models.CharField(max_length=32)
    anomaly_score = models.FloatField()
    reasons = models.JSONField(default=list)
    assessment = models.JSONField(default=dict)
    detector_fingerprint = models.CharField(max_length=64)
    state = models.CharField(
        max_length=16, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True
    )
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("state", "-anomaly_score", "pk")

    def __str__(self) -> str:
        return f"review of session {self.game_session_id}: {self.state}"


class ABTest(models.Model):
    """Two active versions of a role scoring its candidates side by side.

    Each candidate is assigned an arm by a hash of the test's ``key`` and their id
    (:func:`pymetrics.fitmodels.science.abtests.assign_arm`): stable across
    processes and re-scoring, and about ``share_b`` of candidates in arm B.
    """

    job_profile = models.ForeignKey(JobProfile, on_delete=models.CASCADE, related_name="ab_tests")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=64, unique=True)
    model_a = models.ForeignKey(FitModelVersion, on_delete=models.PROTECT, related_name="+")
    model_b = models.ForeignKey(FitModelVersion, on_delete=models.PROTECT, related_name="+")
    share_b = models.FloatField(default=0.5)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey(
        FitModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-started_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("job_profile",),
                condition=models.Q(ended_at__isnull=True),
                name="one_running_ab_test_per_role",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CandidateOutcome(models.Model):
    """What became of a candidate: hired or not, and a later performance rating.

    Recorded by the organisation; the A/B report uses it for predictive validity.
    """

    candidate = models.OneToOneField(Candidate, on_delete=models.CASCADE, related_name="outcome")
    hired = models.BooleanField(null=True)
    performance = models.FloatField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"outcome of candidate {self.candidate_id}"


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVATED = "activated", "Activated"
    DISCARDED = "discarded", "Discarded"


class TraitMapProposal(models.Model):
    """A trait map proposed by factor analysis of an organisation's metric z-scores.

    ``proposal`` is the whole analysis (loadings, per-trait Tucker congruence with
    the map it was compared to, metrics added and removed); ``definition`` the map
    itself, ready to be stored as a new trait map version when an admin activates it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="trait_map_proposals"
    )
    based_on = models.ForeignKey(TraitMapVersion, on_delete=models.PROTECT, related_name="+")
    proposal = models.JSONField()
    definition = models.JSONField()
    n_people = models.PositiveIntegerField()
    simulated_people = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=ProposalState.choices, default=ProposalState.PROPOSED
    )
    activated_version = models.ForeignKey(
        TraitMapVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"trait map proposal {self.pk} ({self.state})"
