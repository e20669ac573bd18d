"""What a game page's script needs to play one game session (rendered or returned by the API)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from pymetrics.assessments.models import GameSession


def session_client_config(game_session: GameSession, session_token: str) -> dict[str, Any]:
    """The session's endpoints, token, schedule and where its events resume."""
    return {
        "game": game_session.game,
        "game_session_id": game_session.pk,
        "session_token": session_token,
        "events_url": reverse("api:play-events", args=[game_session.pk]),
        "complete_url": reverse("api:play-complete", args=[game_session.pk]),
        "restart_url": reverse("api:play-restart", args=[game_session.pk]),
        # EventStream socket (DESIGN.md 4.4); a path: the browser picks ws: or wss:
        # and the host from its own location.
        "socket_url": f"/ws/play/{game_session.pk}/?" + urlencode({"token": session_token}),
        "next_seq": game_session.acked_seq + 1,
        "config": game_session.config,
    }
