"""The anomaly review queue: scan a game's sessions, and reviewers' verdicts.

A scan fits the detector of :mod:`pymetrics.fitmodels.science.anomalies` on the
organisation's scored sessions of one game (their newest metrics; sessions already
invalidated are left out of the reference) and puts every suspicious session not
yet decided in the queue, with its reasons. A reviewer accepts a session (the
candidate's own play) or invalidates it: its attempt then leaves norm tables, model
training data and bias audits (its scores stay, marked). Every verdict is in the
audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db import transaction
from django.utils import timezone

from pymetrics.accounts.models import Organization, Role
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.common.errors import Conflict, PermissionDenied, ValidationFailed
from pymetrics.common.versions import bump, candidate_scope
from pymetrics.fitmodels.models import ReviewState, SessionReview
from pymetrics.games.registry import UnknownGameError, get_game
from pymetrics.scoring.models import MetricSet

#: A scan needs at least this many scored sessions of the game to learn what is usual.
MIN_REFERENCE_SESSIONS = 50
REVIEWERS = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})


@dataclass(frozen=True)
class ScanSummary:
    game: str
    sessions: int
    suspicious: int
    queued: int
    detector_fingerprint: str


def _game_metrics(
    organization_id: int, game: str
) -> tuple[pd.DataFrame, dict[int, list[str]], set[int]]:
    """Newest metrics per scored session of the game, their flags, and invalidated ids."""
    rows = (
        MetricSet.objects.filter(
            game=game,
            game_session__attempt__candidate__organization_id=organization_id,
            game_session__state=GameSessionState.SCORED,
        )
        .order_by("game_session_id", "-extractor_version")
        .values_list("game_session_id", "values", "quality_flags", "game_session__invalidated_at")
    )
    values: dict[int, dict[str, float]] = {}
    flags: dict[int, list[str]] = {}
    invalidated: set[int] = set()
    for session_id, metrics, quality_flags, invalidated_at in rows.iterator(chunk_size=5000):
        if session_id in values:
            continue  # an older extractor version
        values[session_id] = metrics
        flags[session_id] = [
            flag["code"] if isinstance(flag, dict) else str(flag) for flag in quality_flags
        ]
        if invalidated_at is not None:
            invalidated.add(session_id)
    frame = pd.DataFrame.from_dict(values, orient="index", dtype="float64")
    return frame, flags, invalidated


def anomaly_scan(
    *, organization: Organization, game: str, seed: int = 0, requested_by_id: int | None = None
) -> ScanSummary:
    """Scan one game's sessions of the organisation; queue the suspicious ones.

    ``requested_by_id`` is the staff user who asked for the scan (the audit log names
    them); None for the platform's own scans (the command).
    """
    # scikit-learn on first use: web processes that never scan do not carry it
    from pymetrics.fitmodels.science.anomalies import fit_anomaly_detector

    try:
        metric_names = [metric.name for metric in get_game(game).metrics]
    except UnknownGameError as error:
        raise ValidationFailed(str(error)) from None
    frame, flags, invalidated = _game_metrics(organization.pk, game)
    reference = frame.drop(index=list(invalidated), errors="ignore")
    if len(reference) < MIN_REFERENCE_SESSIONS:
        raise ValidationFailed(
            f"{game}: {len(reference)} scored sessions; a scan needs at least "
            f"{MIN_REFERENCE_SESSIONS} to learn what is usual",
            code="too_few_sessions",
        )
    columns = [name for name in metric_names if name in frame.columns]
    detector = fit_anomaly_detector(
        game=game, metrics=reference.reindex(columns=columns), seed=seed
    )
    decided = set(
        SessionReview.objects.filter(game_session_id__in=list(frame.index))
        .exclude(state=ReviewState.PENDING)
        .values_list("game_session_id", flat=True)
    )
    candidates = frame.drop(index=list(invalidated | decided), errors="ignore")
    assessments = detector.assess(
        candidates.reindex(columns=columns), {s: flags.get(s, []) for s in candidates.index}
    )
    suspicious = [a for a in assessments if a.suspicious]
    with transaction.atomic():
        for item in suspicious:
            SessionReview.objects.update_or_create(
                game_session_id=int(str(item.session)),
                defaults={
                    "game": game,
                    "anomaly_score": float(item.anomaly_score),
                    "reasons": list(item.reasons),
                    "assessment": item.to_dict(),
                    "detector_fingerprint": detector.fingerprint,
                    "state": ReviewState.PENDING,
                },
            )
        audit_log_record(
            actor=None,
            organization=organization,
            action="anomaly.scan",
            object_type="game",
            object_id=game,
            details={
                "sessions": len(frame),
                "suspicious": len(suspicious),
                "detector": detector.fingerprint,
                "requested_by": requested_by_id,
            },
        )
    return ScanSummary(
        game=game,
        sessions=len(frame),
        suspicious=len(suspicious),
        queued=len(suspicious),
        detector_fingerprint=detector.fingerprint,
    )


def session_review_decide(
    *, actor: Actor, review: SessionReview, decision: str, note: str = ""
) -> SessionReview:
    """Accept a suspicious session, or invalidate it (its attempt leaves norms and training)."""
    if actor.role not in REVIEWERS:
        raise PermissionDenied("only owners, admins and analysts review sessions")
    if decision not in ("accept", "invalidate"):
        raise ValidationFailed("decision must be 'accept' or 'invalidate'")
    if review.state != ReviewState.PENDING:
        raise Conflict(f"session {review.game_session_id} was already reviewed ({review.state})")
    now = timezone.now()
    state = ReviewState.ACCEPTED if decision == "accept" else ReviewState.INVALIDATED
    with transaction.atomic():
        SessionReview.objects.filter(pk=review.pk).update(
            state=state, note=note, reviewed_by=actor.user, reviewed_at=now
        )
        if state == ReviewState.INVALIDATED:
            GameSession.objects.filter(pk=review.game_session_id).update(invalidated_at=now)
            candidate_id = (
                GameSession.objects.filter(pk=review.game_session_id)
                .values_list("attempt__candidate_id", flat=True)
                .get()
            )
            bump(candidate_scope(candidate_id))
        audit_log_record(
            actor=actor,
            action=f"session_review.{decision}",
            object_type="gamesession",
            object_id=review.game_session_id,
            # the note itself stays on the review (erased with it): the audit log is
            # append-only, so it never holds text people typed
            details={"noted": True} if note else {},
        )
    review.refresh_from_db()
    return review
