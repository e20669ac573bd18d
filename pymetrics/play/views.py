"""Candidate pages: invite -> consent -> lobby -> game -> thank-you.

Every page is reached through the invite token in the URL; nothing here needs a
staff login, and nothing shows data of any other candidate.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from pymetrics.assessments.models import Attempt, GameSession, GameSessionState
from pymetrics.assessments.selectors import attempt_by_invite_token, attempt_is_expired
from pymetrics.assessments.services import attempt_consent, game_session_record_client
from pymetrics.common.errors import DomainError
from pymetrics.games.registry import get_game
from pymetrics.play.forms import ConsentForm
from pymetrics.play.services import play_start

_STATE_FOR_LOBBY = {
    GameSessionState.PENDING: "pending",
    GameSessionState.IN_PROGRESS: "in_progress",
}


def _unavailable(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(
        request, "play/unavailable.html", {"title": title, "message": message}, status=status
    )


def _load(request: HttpRequest, invite_token: str) -> Attempt | HttpResponse:
    try:
        attempt = attempt_by_invite_token(invite_token=invite_token)
    except DomainError:
        return _unavailable(
            request,
            "Invitation not found",
            "This invitation link is not valid. Please check that you copied the whole link "
            "from your e-mail, or contact the organisation that invited you.",
            404,
        )
    if attempt.state == "withdrawn":
        return _unavailable(
            request, "Invitation withdrawn", "This invitation is no longer active.", 410
        )
    if attempt_is_expired(attempt):
        return _unavailable(
            request,
            "Invitation expired",
            "This invitation has expired. Please contact the organisation that invited you "
            "for a new link.",
            410,
        )
    return attempt


def _games_overview(attempt: Attempt) -> list[dict[str, Any]]:
    games = []
    for key in attempt.assessment.games:
        game = get_game(key)
        games.append(
            {
                "key": key,
                "title": game.title,
                "description": game.description,
                "estimated_minutes": game.estimated_minutes,
            }
        )
    return games


def invite(request: HttpRequest, invite_token: str) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    games = _games_overview(attempt)
    return render(
        request,
        "play/invite.html",
        {
            "organization_name": attempt.assessment.organization.name,
            "assessment_name": attempt.assessment.name,
            "games": games,
            "total_minutes": round(sum(g["estimated_minutes"] for g in games)),
            "consent_url": reverse("play:consent", args=[invite_token]),
            # A candidate coming back from the link goes straight to their games.
            "returning": attempt.candidate.consent_at is not None,
            "lobby_url": reverse("play:lobby", args=[invite_token]),
        },
    )


def consent(request: HttpRequest, invite_token: str) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            attempt_consent(attempt=attempt, accommodations=form.accommodations())
            return redirect("play:lobby", invite_token=invite_token)
    else:
        initial = {f"accommodation_{k}": v for k, v in (attempt.accommodations or {}).items()}
        form = ConsentForm(initial=initial)
    return render(
        request,
        "play/consent.html",
        {
            "organization_name": attempt.assessment.organization.name,
            "assessment_name": attempt.assessment.name,
            "form": form,
        },
    )


def lobby(request: HttpRequest, invite_token: str) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    if attempt.candidate.consent_at is None:
        return redirect("play:consent", invite_token=invite_token)
    started = play_start(attempt=attempt)
    games = []
    for game_session in started.game_sessions:
        game = get_game(game_session.game)
        games.append(
            {
                "key": game.key,
                "title": game.title,
                "description": game.description,
                "estimated_minutes": game.estimated_minutes,
                "status": _STATE_FOR_LOBBY.get(game_session.state, "completed"),  # type: ignore[call-overload]
                "play_url": reverse("play:game", args=[invite_token, game_session.pk]),
            }
        )
    next_game = next((g for g in games if g["status"] != "completed"), None)
    return render(
        request,
        "play/lobby.html",
        {
            "organization_name": attempt.assessment.organization.name,
            "assessment_name": attempt.assessment.name,
            "games": games,
            "next_game": next_game,
            "all_done": next_game is None,
            "thanks_url": reverse("play:thanks", args=[invite_token]),
        },
    )


def game(request: HttpRequest, invite_token: str, game_session_id: int) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    if attempt.candidate.consent_at is None:
        return redirect("play:consent", invite_token=invite_token)
    started = play_start(attempt=attempt)
    game_session: GameSession | None = next(
        (gs for gs in started.game_sessions if gs.pk == game_session_id), None
    )
    if game_session is None:
        return _unavailable(
            request, "Game not found", "This game is not part of your invitation.", 404
        )
    if game_session.state not in _STATE_FOR_LOBBY:
        return redirect("play:lobby", invite_token=invite_token)
    game_session_record_client(
        game_session=game_session,
        client_info={
            "user_agent": request.headers.get("User-Agent", "")[:500],
            "accept_language": request.headers.get("Accept-Language", "")[:100],
        },
    )
    definition = get_game(game_session.game)
    return render(
        request,
        "play/game.html",
        {
            "game_title": definition.title,
            "game_key": definition.key,
            "plugin_script": f"games/{definition.key}/plugin.js",
            "plugin_stylesheet": f"games/{definition.key}/{definition.key}.css",
            "game_config": {
                "game": definition.key,
                "game_session_id": game_session.pk,
                "session_token": started.session_token,
                "events_url": reverse("api:play-events", args=[game_session.pk]),
                "complete_url": reverse("api:play-complete", args=[game_session.pk]),
                # EventStream socket (DESIGN.md 4.4); a path: the browser picks ws: or
                # wss: and the host from its own location.
                "socket_url": f"/ws/play/{game_session.pk}/?"
                + urlencode({"token": started.session_token}),
                "lobby_url": reverse("play:lobby", args=[invite_token]),
                "next_seq": game_session.acked_seq + 1,
                "config": game_session.config,
                "accommodations": {
                    "extended_time": bool(attempt.accommodations.get("extended_time")),
                    "reduced_motion": bool(attempt.accommodations.get("reduced_motion")),
                    "colour_safe": bool(attempt.accommodations.get("colour_safe")),
                },
            },
        },
    )


def thanks(request: HttpRequest, invite_token: str) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    return render(
        request,
        "play/thanks.html",
        {
            "organization_name": attempt.assessment.organization.name,
            "assessment_name": attempt.assessment.name,
        },
    )
