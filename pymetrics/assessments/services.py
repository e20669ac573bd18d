"""Writes for assessments, candidates, attempts and game sessions.

Each function is one transaction; callers pass an :class:`Actor` for anything a
staff member does, so organisation scoping and the audit trail are never skipped.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from pymetrics.accounts.models import Organization
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    ConsentChannel,
    ConsentPurpose,
    ConsentRecord,
    GameSession,
    GameSessionSource,
    GameSessionState,
)
from pymetrics.common.crypto import EMAIL_INDEX
from pymetrics.common.errors import Conflict, Gone, ValidationFailed
from pymetrics.common.versions import (
    assessment_scope,
    bump,
    candidate_scope,
    organization_scope,
)
from pymetrics.games.registry import UnknownGameError, get_game

ACCOMMODATION_KEYS = ("extended_time", "reduced_motion", "colour_safe")
_FINISHED_SESSION_STATES = (
    GameSessionState.COMPLETED,
    GameSessionState.SCORED,
    GameSessionState.FAILED,
    GameSessionState.SUPERSEDED,
)


def attempts_invalidate_cached_reads(attempt_ids: Iterable[int]) -> None:
    """Invalidate the cached reads of these attempts' candidates, assessments, organisations."""
    rows = Attempt.objects.filter(pk__in=list(attempt_ids)).values_list(
        "candidate_id", "assessment_id", "assessment__organization_id"
    )
    scopes: set[str] = set()
    for candidate_id, assessment_id, organization_id in rows:
        scopes |= {
            candidate_scope(candidate_id),
            assessment_scope(assessment_id),
            organization_scope(organization_id),
        }
    bump(*sorted(scopes))


def game_sessions_invalidate_cached_reads(game_session_ids: Iterable[int]) -> None:
    attempts_invalidate_cached_reads(
        GameSession.objects.filter(pk__in=list(game_session_ids)).values_list(
            "attempt_id", flat=True
        )
    )


def hash_invite_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: Assessment setting: play every game's short schedule (demos, end-to-end tests).
SETTING_SHORT_SCHEDULES = "short_schedules"
_SETTINGS = {SETTING_SHORT_SCHEDULES: bool}


def _validate_settings(settings_: Any) -> dict[str, Any]:
    if settings_ is None:
        return {}
    if not isinstance(settings_, dict):
        raise ValidationFailed(
            "settings must be an object", details={"settings": ["must be an object"]}
        )
    for key, value in settings_.items():
        expected = _SETTINGS.get(key)
        if expected is None:
            raise ValidationFailed(
                f"unknown setting {key!r}; known: {', '.join(sorted(_SETTINGS))}",
                details={"settings": [f"unknown setting {key!r}"]},
            )
        if not isinstance(value, expected):
            raise ValidationFailed(
                f"setting {key!r} must be a {expected.__name__}",
                details={"settings": [f"{key} must be a {expected.__name__}"]},
            )
    return dict(settings_)


def _validate_games(games: Any) -> list[str]:
    if not isinstance(games, list) or not games:
        raise ValidationFailed(
            "an assessment needs at least one game", details={"games": ["must be a non-empty list"]}
        )
    keys: list[str] = []
    for key in games:
        if not isinstance(key, str):
            raise ValidationFailed("game keys are strings", details={"games": [repr(key)]})
        try:
            get_game(key)
        except UnknownGameError as error:
            raise ValidationFailed(
                str(error), details={"games": [f"unknown game {key!r}"]}
            ) from None
        if key in keys:
            raise ValidationFailed(
                f"game {key!r} is listed twice", details={"games": [f"duplicate {key!r}"]}
            )
        keys.append(key)
    return keys


def assessment_create(
    *,
    organization: Organization,
    name: str,
    games: list[str],
    settings_: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> Assessment:
    name = name.strip()
    if not name:
        raise ValidationFailed("an assessment needs a name", details={"name": ["is required"]})
    keys = _validate_games(games)
    settings_ = _validate_settings(settings_)
    try:
        with transaction.atomic():
            assessment = Assessment.objects.create(
                organization=organization,
                name=name,
                games=keys,
                settings=settings_,
                created_by=actor.user if actor else None,
            )
            audit_log_record(
                actor=actor,
                organization=organization,
                action="assessment.create",
                object_type="assessment",
                object_id=assessment.pk,
                details={"name": name, "games": keys},
            )
            bump(organization_scope(organization.pk))
    except IntegrityError:
        raise Conflict(
            f"an assessment named {name!r} already exists", details={"name": ["already exists"]}
        ) from None
    return assessment


def assessment_get_or_create(
    *, organization: Organization, name: str, games: list[str]
) -> Assessment:
    """The organisation's assessment called ``name``; made with ``games`` if missing.

    An existing assessment gains any of ``games`` it lacks (used by trial imports).
    """
    assessment = Assessment.objects.filter(organization=organization, name=name).first()
    if assessment is None:
        return assessment_create(organization=organization, name=name, games=games)
    missing = [key for key in games if key not in assessment.games]
    if missing:
        assessment.games = [*assessment.games, *missing]
        assessment.save(update_fields=["games"])
        bump(organization_scope(organization.pk), assessment_scope(assessment.pk))
    return assessment


def candidate_email_index(*, email: str, organization_id: int) -> str:
    """The value of ``Candidate.email_index`` for ``email`` (under the newest key).

    Written with the e-mail, always: a candidate whose index is missing or stale is
    not found by e-mail (until ``rotate_keys`` recomputes it).
    """
    return EMAIL_INDEX.current(email, scope=organization_id)


def _email_already_invited(*, assessment: Assessment, email: str) -> bool:
    """Whether a candidate with this e-mail (normalised) has an attempt on ``assessment``."""
    # imported here: the selectors module imports this one (hash_invite_token)
    from pymetrics.assessments.selectors import candidate_find_by_email

    matches = candidate_find_by_email(organization=assessment.organization, email=email)
    return Attempt.objects.filter(
        assessment=assessment, candidate_id__in=[candidate.pk for candidate in matches]
    ).exists()


@dataclass(frozen=True)
class Invitation:
    candidate: Candidate
    attempt: Attempt
    #: the plaintext invite token: only ever in the invite link
    invite_token: str


def candidate_invite(
    *,
    assessment: Assessment,
    email: str = "",
    name: str = "",
    external_id: str | None = None,
    actor: Actor | None = None,
    is_simulated: bool = False,
) -> Invitation:
    """Create (or reuse, by external id) a candidate and invite them to ``assessment``.

    The external id, where given, says who the person is: the same id is the same
    candidate (invited twice to one assessment: Conflict). Without one, each
    invitation makes a new candidate, unless the e-mail (compared normalised, by its
    blind index) was already invited to this assessment: that is a Conflict too,
    the person having a link already. The assessment's row is locked while this is
    checked, so two simultaneous invitations of one e-mail cannot both pass.
    """
    external_id = (external_id or "").strip() or None
    email = email.strip()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        candidate = None
        if external_id is not None:
            candidate = (
                Candidate.objects.select_for_update()
                .filter(organization_id=assessment.organization_id, external_id=external_id)
                .first()
            )
        elif email:
            Assessment.objects.select_for_update().values_list("pk", flat=True).get(
                pk=assessment.pk
            )
            if _email_already_invited(assessment=assessment, email=email):
                raise Conflict(
                    f"this e-mail address is already invited to {assessment.name!r}",
                    details={"email": ["already invited to this assessment"]},
                )
        if candidate is None:
            candidate = Candidate.objects.create(
                organization_id=assessment.organization_id,
                external_id=external_id,
                email=email,
                email_index=candidate_email_index(
                    email=email, organization_id=assessment.organization_id
                ),
                name=name.strip(),
                is_simulated=is_simulated,
            )
        elif Attempt.objects.filter(candidate=candidate, assessment=assessment).exists():
            raise Conflict(
                f"candidate {external_id!r} is already invited to {assessment.name!r}",
                details={"external_id": ["already invited to this assessment"]},
            )
        attempt = Attempt.objects.create(
            candidate=candidate,
            assessment=assessment,
            invite_token_hash=hash_invite_token(token),
            invite_expires_at=timezone.now() + timedelta(days=settings.PYMETRICS_INVITE_TTL_DAYS),
        )
        audit_log_record(
            actor=actor,
            organization=assessment.organization,
            action="candidate.invite",
            object_type="candidate",
            object_id=candidate.pk,
            details={"assessment": assessment.pk, "attempt": attempt.pk},
        )
        bump(
            organization_scope(assessment.organization_id),
            assessment_scope(assessment.pk),
            candidate_scope(candidate.pk),
        )
    return Invitation(candidate=candidate, attempt=attempt, invite_token=token)


def _check_playable(attempt: Attempt) -> None:
    if attempt.state == AttemptState.WITHDRAWN:
        raise Gone("this invitation was withdrawn", code="invite_withdrawn")
    if attempt.state == AttemptState.EXPIRED or (
        attempt.state == AttemptState.INVITED
        and attempt.invite_expires_at is not None
        and attempt.invite_expires_at < timezone.now()
    ):
        raise Gone("this invitation has expired", code="invite_expired")


# --- consent -------------------------------------------------------------------------------

#: The consent page's template: its text is what the invite pages' candidates agree to.
CONSENT_TEMPLATE = "play/consent.html"
#: The consent text's version label: raise it when the page's wording changes what is
#: agreed to. The SHA-256 stored beside it changes with any edit or translation anyway.
CONSENT_TEXT_VERSION = "1"
#: What API clients' consent records carry: they show their own text, unseen here.
API_CONSENT_TEXT_VERSION = "api-client"


@dataclass(frozen=True)
class ConsentText:
    """The text a candidate agreed to: version label, SHA-256 (empty: not known), language."""

    version: str
    sha256: str
    language: str
    channel: str


def _current_language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


@lru_cache(maxsize=16)
def _consent_page_sha256(language: str) -> str:
    """SHA-256 of the consent page's visible text in ``language``.

    The page is rendered with placeholders for the organisation's and the
    assessment's names, so that one hash stands for one wording in one language
    whichever organisation shows it; only the page's main part counts (not the
    header or the language switch).
    """
    with translation.override(language):
        page = render_to_string(
            CONSENT_TEMPLATE,
            # placeholders; the token only keeps the form's tag quiet (tags are dropped)
            {
                "organization_name": "{organization}",
                "assessment_name": "{assessment}",
                "csrf_token": "-",  # a placeholder, not a secret  # nosec B105
            },
        )
    main = re.search(r"<main\b.*?>(.*)</main>", page, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", main.group(1) if main else page)
    text = " ".join(html.unescape(text).split())
    return hashlib.sha256(text.encode()).hexdigest()


def consent_page_text(language: str | None = None) -> ConsentText:
    """The consent page's text as shown now in ``language`` (the active one by default)."""
    language = language or _current_language()
    return ConsentText(
        version=CONSENT_TEXT_VERSION,
        sha256=_consent_page_sha256(language),
        language=language,
        channel=ConsentChannel.INVITE_PAGES,
    )


def api_client_consent_text(language: str | None = None) -> ConsentText:
    """Consent given on an API client's own screen: the server never saw the text."""
    return ConsentText(
        version=API_CONSENT_TEXT_VERSION,
        sha256="",
        language=language or _current_language(),
        channel=ConsentChannel.API,
    )


def _consent_records_create(*, attempt: Attempt, text: ConsentText, at: datetime) -> None:
    """One record per purpose; consent to a text already recorded adds nothing."""
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                candidate_id=attempt.candidate_id,
                attempt=attempt,
                purpose=purpose,
                channel=text.channel,
                text_version=text.version,
                text_sha256=text.sha256,
                language=text.language[:16],
                given_at=at,
            )
            for purpose in ConsentPurpose.values
        ],
        ignore_conflicts=True,
    )


def attempt_consent(
    *,
    attempt: Attempt,
    accommodations: dict[str, bool],
    consent_text: ConsentText | None = None,
) -> Attempt:
    """Record the candidate's consent (one record per purpose) and chosen accommodations.

    ``consent_text`` is the text the candidate was shown: the consent page's, in the
    active language, unless the caller says otherwise. ``Candidate.consent_at`` keeps
    the first consent's time.
    """
    _check_playable(attempt)
    text = consent_text or consent_page_text()
    with transaction.atomic():
        now = timezone.now()
        Candidate.objects.filter(pk=attempt.candidate_id, consent_at__isnull=True).update(
            consent_at=now
        )
        _consent_records_create(attempt=attempt, text=text, at=now)
        attempt.accommodations = {key: bool(accommodations.get(key)) for key in ACCOMMODATION_KEYS}
        attempt.save(update_fields=["accommodations"])
        bump(candidate_scope(attempt.candidate_id))
    return attempt


def consent_withdraw(*, candidate: Candidate, at: datetime | None = None) -> int:
    """Mark the candidate's consent records withdrawn and stop their unfinished attempts.

    Invitations not yet completed become withdrawn (their links answer "withdrawn");
    completed attempts and their data stay until the candidate is erased. Returns
    how many records were withdrawn (0 when nothing was still in force).
    """
    at = at or timezone.now()
    with transaction.atomic():
        withdrawn = ConsentRecord.objects.filter(
            candidate=candidate, withdrawn_at__isnull=True
        ).update(withdrawn_at=at)
        open_attempts = list(
            Attempt.objects.filter(
                candidate=candidate, state__in=(AttemptState.INVITED, AttemptState.STARTED)
            ).values_list("pk", flat=True)
        )
        Attempt.objects.filter(pk__in=open_attempts).update(state=AttemptState.WITHDRAWN)
        attempts_invalidate_cached_reads(open_attempts)
        bump(candidate_scope(candidate.pk))
    return withdrawn


def _new_seed() -> int:
    return secrets.randbits(31)


def _session_config(key: str, seed: int, assessment: Assessment) -> dict[str, Any]:
    """A game's seeded schedule; the short one when the assessment asks for it."""
    game = get_game(key)
    if assessment.settings.get(SETTING_SHORT_SCHEDULES):
        return game.make_config(seed, short=True)
    return game.make_config(seed)


def attempt_start(
    *,
    attempt: Attempt,
    source: str = GameSessionSource.BROWSER,
    seed_rng: np.random.Generator | None = None,
    consent_text: ConsentText | None = None,
) -> Attempt:
    """Start or resume an attempt: its game sessions exist, each with its seeded schedule.

    Calling it again returns the same sessions (resume); consent is recorded if the
    candidate had not consented through the invite pages (API clients show consent
    themselves before calling start): ``consent_text``, by default a record saying an
    API client showed its own text. New sessions' seeds are random, or drawn from
    ``seed_rng`` so that a seeded simulation plays the same schedules every run.
    """
    _check_playable(attempt)
    with transaction.atomic():
        locked = Attempt.objects.select_for_update().select_related("assessment").get(pk=attempt.pk)
        existing = {gs.game for gs in locked.game_sessions.all()}
        new_sessions = []
        for position, key in enumerate(locked.assessment.games, start=1):
            if key in existing:
                continue
            seed = _new_seed() if seed_rng is None else int(seed_rng.integers(0, 2**31))
            new_sessions.append(
                GameSession(
                    attempt=locked,
                    game=key,
                    position=position,
                    seed=seed,
                    config=_session_config(key, seed, locked.assessment),
                    source=source,
                )
            )
        GameSession.objects.bulk_create(new_sessions)
        if locked.state == AttemptState.INVITED:
            locked.state = AttemptState.STARTED
            locked.started_at = timezone.now()
            locked.save(update_fields=["state", "started_at"])
        now = timezone.now()
        if Candidate.objects.filter(pk=locked.candidate_id, consent_at__isnull=True).update(
            consent_at=now
        ):
            _consent_records_create(
                attempt=locked, text=consent_text or api_client_consent_text(), at=now
            )
        bump(
            organization_scope(locked.assessment.organization_id),
            assessment_scope(locked.assessment_id),
            candidate_scope(locked.candidate_id),
        )
    return locked


def game_session_mark_completed(*, game_session_id: int) -> GameSession:
    """Close a game session for new events; completes the attempt after its last game.

    Idempotent: completing a finished session changes nothing.
    """
    with transaction.atomic():
        game_session = GameSession.objects.select_for_update().get(pk=game_session_id)
        if game_session.state in _FINISHED_SESSION_STATES:
            return game_session
        now = timezone.now()
        game_session.state = GameSessionState.COMPLETED
        game_session.completed_at = now
        game_session.started_at = game_session.started_at or now
        game_session.save(update_fields=["state", "completed_at", "started_at"])
        unfinished = (
            GameSession.objects.filter(attempt_id=game_session.attempt_id)
            .exclude(state__in=_FINISHED_SESSION_STATES)
            .exists()
        )
        if not unfinished:
            Attempt.objects.filter(
                pk=game_session.attempt_id, state__in=(AttemptState.INVITED, AttemptState.STARTED)
            ).update(state=AttemptState.COMPLETED, completed_at=now)
        attempts_invalidate_cached_reads([game_session.attempt_id])
    return game_session


def game_session_restart(*, game_session_id: int) -> GameSession:
    """Start an interrupted game again: a new session at its place, the old one superseded.

    A game whose page was left or reloaded midway cannot resume (a jsPsych
    timeline does not survive a page), and mixing two runs' events would corrupt
    its metrics. The interrupted session keeps its events, marked superseded and
    never scored; the new one gets a new seed, so the candidate does not replay a
    schedule they have partly seen. A session with no events yet is returned as it
    is; a finished one cannot be restarted.
    """
    with transaction.atomic():
        game_session = (
            GameSession.objects.select_for_update()
            .select_related("attempt__assessment")
            .get(pk=game_session_id)
        )
        if game_session.state == GameSessionState.PENDING:
            return game_session
        if game_session.state != GameSessionState.IN_PROGRESS:
            raise Conflict(
                "this game is finished and cannot be started again",
                code="session_closed",
                details={"state": game_session.state},
            )
        game_session.state = GameSessionState.SUPERSEDED
        game_session.completed_at = timezone.now()
        game_session.save(update_fields=["state", "completed_at"])
        attempts_invalidate_cached_reads([game_session.attempt_id])
        seed = _new_seed()
        return GameSession.objects.create(
            attempt=game_session.attempt,
            game=game_session.game,
            position=game_session.position,
            seed=seed,
            config=_session_config(game_session.game, seed, game_session.attempt.assessment),
            source=game_session.source,
        )


def game_session_mark_scored(*, game_session_ids: list[int]) -> None:
    GameSession.objects.filter(pk__in=game_session_ids).update(
        state=GameSessionState.SCORED, scoring_error=""
    )
    game_sessions_invalidate_cached_reads(game_session_ids)


def game_session_mark_failed(*, game_session_id: int, error: str) -> None:
    GameSession.objects.filter(pk=game_session_id).update(
        state=GameSessionState.FAILED, scoring_error=error[:2000]
    )
    game_sessions_invalidate_cached_reads([game_session_id])


def attempts_expire_stale(*, now: datetime | None = None) -> int:
    """Mark invitations nobody started before they expired; returns how many.

    Expiry is also checked whenever a link is used, so this only keeps states (and
    the staff pages' counts) honest; running it twice changes nothing more.
    """
    with transaction.atomic():
        stale = Attempt.objects.select_for_update().filter(
            state=AttemptState.INVITED, invite_expires_at__lt=now or timezone.now()
        )
        expired = list(stale.values_list("pk", flat=True))
        Attempt.objects.filter(pk__in=expired).update(state=AttemptState.EXPIRED)
        attempts_invalidate_cached_reads(expired)
    return len(expired)


def game_session_record_client(*, game_session: GameSession, client_info: dict[str, Any]) -> None:
    """Remember the browser a game is played in (first load only), for quality review."""
    if game_session.client_info:
        return
    GameSession.objects.filter(pk=game_session.pk, client_info={}).update(client_info=client_info)
    game_session.client_info = client_info
