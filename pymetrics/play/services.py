"""What a candidate's actions set in motion: starting, playing and completing games."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from pymetrics.assessments.models import Attempt, GameSession, GameSessionState
from pymetrics.assessments.services import (
    attempt_start,
    game_session_mark_completed,
    game_session_restart,
)
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied
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
    sessions = list(GameSession.objects.current().filter(attempt=attempt).order_by("position"))
    return StartedAttempt(
        attempt=attempt,
        session_token=session_token_issue(attempt_id=attempt.pk),
        game_sessions=sessions,
    )


def _check_owner(*, game_session_id: int, attempt_id: int) -> str:
    """The session's state, if the token's attempt owns it; NotFound / PermissionDenied."""
    row = GameSession.objects.filter(pk=game_session_id).values_list("attempt_id", "state").first()
    if row is None:
        raise NotFound(f"game session {game_session_id} not found")
    if row[0] != attempt_id:
        raise PermissionDenied(
            "this session token does not belong to this game session", code="wrong_session"
        )
    return str(row[1])


def play_complete_game_session(*, game_session_id: int, attempt_id: int) -> GameSession:
    """Close a game session and queue its metric extraction once the close is committed."""
    state = _check_owner(game_session_id=game_session_id, attempt_id=attempt_id)
    if state == GameSessionState.SUPERSEDED:
        raise Conflict(
            "this game was interrupted and started again; complete the new one",
            code="session_superseded",
        )
    with transaction.atomic():
        before = GameSession.objects.values_list("state", flat=True).get(pk=game_session_id)
        game_session = game_session_mark_completed(game_session_id=game_session_id)
        if before in (GameSessionState.PENDING, GameSessionState.IN_PROGRESS):
            transaction.on_commit(lambda: _after_completion(game_session_id))
    return game_session


def play_restart_game_session(*, game_session_id: int, attempt_id: int) -> GameSession:
    """Start an interrupted game again (see assessments.services.game_session_restart)."""
    _check_owner(game_session_id=game_session_id, attempt_id=attempt_id)
    return game_session_restart(game_session_id=game_session_id)


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
