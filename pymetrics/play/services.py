"""What a candidate's actions set in motion: starting, playing and completing games."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from pymetrics.assessments.models import Attempt, GameSession, GameSessionState
from pymetrics.assessments.services import attempt_start, game_session_mark_completed
from pymetrics.common.errors import NotFound, PermissionDenied
from pymetrics.common.live import live_publish
from pymetrics.play.tokens import session_token_issue
from pymetrics.scoring.tasks import extract_game_session_metrics


@dataclass(frozen=True)
class StartedAttempt:
    attempt: Attempt
    session_token: str
    game_sessions: list[GameSession]


def play_start(*, attempt: Attempt) -> StartedAttempt:
    """Start (or resume) an attempt and issue the token its game sessions accept."""
    attempt = attempt_start(attempt=attempt)
    sessions = list(GameSession.objects.filter(attempt=attempt).order_by("position"))
    return StartedAttempt(
        attempt=attempt,
        session_token=session_token_issue(attempt_id=attempt.pk),
        game_sessions=sessions,
    )


def play_complete_game_session(*, game_session_id: int, attempt_id: int) -> GameSession:
    """Close a game session and queue its metric extraction once the close is committed."""
    owner = (
        GameSession.objects.filter(pk=game_session_id).values_list("attempt_id", flat=True).first()
    )
    if owner is None:
        raise NotFound(f"game session {game_session_id} not found")
    if owner != attempt_id:
        raise PermissionDenied(
            "this session token does not belong to this game session", code="wrong_session"
        )
    with transaction.atomic():
        before = GameSession.objects.values_list("state", flat=True).get(pk=game_session_id)
        game_session = game_session_mark_completed(game_session_id=game_session_id)
        if before in (GameSessionState.PENDING, GameSessionState.IN_PROGRESS):
            transaction.on_commit(lambda: _after_completion(game_session_id))
    return game_session


def _after_completion(game_session_id: int) -> None:
    # dashboards hear "completed" before the scores that follow it
    game_session_announce_state(game_session_id)
    extract_game_session_metrics.delay(game_session_id)


def game_session_announce_state(game_session_id: int) -> None:
    """Tell the assessment's live dashboards that a game session changed state.

    One message per change (a game starts or ends a few times per candidate); a
    notice that cannot be sent costs the live update only (see common.live).
    """
    row = (
        GameSession.objects.filter(pk=game_session_id)
        .values_list("attempt_id", "attempt__assessment_id", "game", "state")
        .first()
    )
    if row is None:
        return
    attempt_id, assessment_id, game, state = row
    live_publish(
        f"dashboard.{assessment_id}",
        {
            "type": "session.state",
            "assessment_id": assessment_id,
            "attempt_id": attempt_id,
            "game_session_id": game_session_id,
            "game": game,
            "state": state,
        },
    )
