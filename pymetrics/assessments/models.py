"""Assessments, the candidates invited to them, their attempts and game sessions."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from pymetrics.accounts.models import Organization, User
from pymetrics.common.crypto import EMAIL_INDEX, BlindIndexedField, EncryptedTextField


class Assessment(models.Model):
    """An ordered battery of games an organisation invites candidates to play."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="assessments"
    )
    name = models.CharField(max_length=200)
    #: ordered list of game keys from the catalogue
    games = models.JSONField(default=list)
    settings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("organization", "name"), name="unique_assessment_name")
        ]

    def __str__(self) -> str:
        return self.name


class Candidate(models.Model):
    """A person invited to assessments; name and e-mail are encrypted at rest.

    The e-mail is found through ``email_index``, its keyed blind index
    (:data:`~pymetrics.common.crypto.EMAIL_INDEX`, scoped by the organisation):
    whatever writes ``email`` writes the index with it
    (:func:`~pymetrics.assessments.services.candidate_email_index`).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="candidates"
    )
    #: the organisation's own id for the person (ATS id, participant code)
    # NULL, not "", for "none": the unique constraint must not treat two blanks as equal
    external_id = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    email = EncryptedTextField(blank=True, default="")
    #: HMAC of the normalised e-mail ("" when there is none): equality lookups only
    email_index = models.CharField(max_length=64, blank=True, default="", db_index=True)
    name = EncryptedTextField(blank=True, default="")
    #: a simulated candidate (bot): shown as simulated wherever it appears
    is_simulated = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "external_id"),
                condition=models.Q(external_id__isnull=False),
                name="unique_candidate_external_id",
            )
        ]

    #: recomputed with the e-mail whenever it is re-encrypted (``rotate_keys``)
    blind_indexed_fields = (
        BlindIndexedField(
            field="email",
            index_field="email_index",
            index=EMAIL_INDEX,
            scope_field="organization_id",
        ),
    )

    def __str__(self) -> str:
        return self.external_id or f"candidate {self.pk}"

    @property
    def participant(self) -> str:
        """The id used in exports: the external id where there is one."""
        return self.external_id or str(self.pk)


class AttemptState(models.TextChoices):
    INVITED = "invited", "Invited"
    STARTED = "started", "Started"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Attempt(models.Model):
    """One candidate taking one assessment, from invite to the last game."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="attempts")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attempts")
    state = models.CharField(
        max_length=16, choices=AttemptState.choices, default=AttemptState.INVITED, db_index=True
    )
    #: SHA-256 of the invite token; the token itself is only in the invite link
    invite_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    invite_expires_at = models.DateTimeField(null=True, blank=True)
    accommodations = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("candidate", "assessment"), name="unique_attempt")
        ]

    def __str__(self) -> str:
        return f"{self.candidate} / {self.assessment}"


class GameSessionState(models.TextChoices):
    PENDING = "pending", "Not started"
    IN_PROGRESS = "in_progress", "Playing"
    COMPLETED = "completed", "Completed, scoring"
    SCORED = "scored", "Scored"
    FAILED = "failed", "Scoring failed"
    #: interrupted midway and started again as a new session: its events are kept,
    #: never scored (the restarted game is the one that counts)
    SUPERSEDED = "superseded", "Interrupted, restarted"


class GameSessionSource(models.TextChoices):
    BROWSER = "browser", "Browser"
    IMPORT = "import", "Imported trial data"
    SIMULATED = "simulated", "Simulated"


class GameSessionQuerySet(models.QuerySet["GameSession"]):
    def current(self) -> GameSessionQuerySet:
        """Without the sessions a restart superseded: one per game of an attempt."""
        return self.exclude(state=GameSessionState.SUPERSEDED)


class GameSession(models.Model):
    """One game played within an attempt; owns its events and its metrics.

    A game interrupted midway (its page left or reloaded) starts again as a new
    session at the same position; the interrupted one stays, superseded.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="game_sessions")
    game = models.CharField(max_length=32)
    position = models.PositiveSmallIntegerField()
    state = models.CharField(
        max_length=16,
        choices=GameSessionState.choices,
        default=GameSessionState.PENDING,
        db_index=True,
    )
    source = models.CharField(
        max_length=16, choices=GameSessionSource.choices, default=GameSessionSource.BROWSER
    )
    seed = models.BigIntegerField()
    #: the game's seeded schedule (e.g. balloon burst points), fixed at creation
    config = models.JSONField(default=dict)
    client_info = models.JSONField(default=dict, blank=True)
    #: highest seq up to which every event is stored (0 = none)
    acked_seq = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    scoring_error = models.TextField(blank=True)
    #: a reviewer judged it not the candidate's own play (anomaly review): its attempt
    #: leaves norm tables, model training data and bias audits; its scores stay, marked
    invalidated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = GameSessionQuerySet.as_manager()

    class Meta:
        # by the column, not the relation: "attempt" would join and sort by Attempt.Meta.ordering
        ordering = ("attempt_id", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("attempt", "position"),
                condition=~models.Q(state="superseded"),
                name="unique_current_game_position",
            )
        ]
        # the system status reads the last hour's completions (scoring lag)
        indexes = [models.Index(fields=["completed_at"], name="gamesession_completed_at")]

    def __str__(self) -> str:
        return f"{self.game} #{self.pk}"


class ConsentPurpose(models.TextChoices):
    """What a candidate agrees to; each is recorded, and can be withdrawn, on its own."""

    PARTICIPATION = "participation", "Taking part in the assessment"
    RESULTS = "results", "Processing the results for the hiring decision"


class ConsentChannel(models.TextChoices):
    INVITE_PAGES = "invite_pages", "The invitation's consent page"
    API = "api", "An API client's own consent screen"


class ConsentRecord(models.Model):
    """A candidate's consent to one purpose, for one attempt, to one version of the text.

    ``text_version`` and ``text_sha256`` name the text the candidate was shown (the
    hash changes with any change of its wording or translation); an API client shows
    its own text, which the server does not see: its records say so
    (``channel="api"``, no hash). ``withdrawn_at`` is set when the candidate withdraws
    through the organisation; the record itself stays as proof of both.
    """

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="consent_records"
    )
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="consent_records")
    purpose = models.CharField(max_length=32, choices=ConsentPurpose.choices)
    channel = models.CharField(max_length=16, choices=ConsentChannel.choices)
    text_version = models.CharField(max_length=32)
    text_sha256 = models.CharField(max_length=64, blank=True)
    #: the language the text was shown in (a language code, e.g. "en")
    language = models.CharField(max_length=16)
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("candidate_id", "given_at", "pk")
        constraints = [
            # consenting again to the same text (the page sent twice) records nothing new
            models.UniqueConstraint(
                fields=("attempt", "purpose", "text_version", "text_sha256"),
                name="unique_consent_to_a_text",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} consent of candidate {self.candidate_id}"
