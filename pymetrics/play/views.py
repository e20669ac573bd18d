"""Candidate pages: invite -> consent -> lobby -> game -> thank-you.

Every page is reached through the invite token in the URL; nothing here needs a
staff login, and nothing shows data of any other candidate.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_safe

from pymetrics.accounts.permissions import client_ip
from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.assessments.selectors import attempt_by_invite_token, attempt_is_expired
from pymetrics.assessments.services import (
    SETTING_SHORT_SCHEDULES,
    attempt_consent,
    game_session_record_client,
)
from pymetrics.common import ratelimit
from pymetrics.common.errors import DomainError
from pymetrics.games.registry import get_game
from pymetrics.play.client_config import session_client_config
from pymetrics.play.forms import ConsentForm
from pymetrics.play.services import StartedAttempt, play_start
from pymetrics.play.tokens import session_token_issue

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
        attempt = ratelimit.invite_lookup(
            client_ip(request), lambda: attempt_by_invite_token(invite_token=invite_token)
        )
    except ratelimit.RateLimited as error:
        return ratelimit.too_many_requests_page(request, error, template="play/unavailable.html")
    except DomainError:
        return _unavailable(
            request,
            gettext("Invitation not found"),
            gettext(
                "This invitation link is not valid. Please check that you copied the whole "
                "link from your e-mail, or contact the organisation that invited you."
            ),
            404,
        )
    if attempt.state == "withdrawn":
        return _unavailable(
            request,
            gettext("Invitation withdrawn"),
            gettext("This invitation is no longer active."),
            410,
        )
    if attempt_is_expired(attempt):
        return _unavailable(
            request,
            gettext("Invitation expired"),
            gettext(
                "This invitation has expired. Please contact the organisation that invited "
                "you for a new link."
            ),
            410,
        )
    return attempt


def play_start_or_show(attempt: Attempt) -> StartedAttempt:
    """Start or resume; a completed attempt is only shown, never started again.

    One invite link is one attempt: once every game is done, the link shows the
    finished games, and no new game session is made even when the assessment has
    gained a game since (a trial import can add one).
    """
    if attempt.state != AttemptState.COMPLETED:
        return play_start(attempt=attempt)
    return StartedAttempt(
        attempt=attempt,
        session_token=session_token_issue(attempt_id=attempt.pk),
        game_sessions=list(
            GameSession.objects.current().filter(attempt=attempt).order_by("position")
        ),
    )


def _short(attempt: Attempt) -> bool:
    return bool(attempt.assessment.settings.get(SETTING_SHORT_SCHEDULES))


def _games_overview(attempt: Attempt) -> list[dict[str, Any]]:
    games = []
    for key in attempt.assessment.games:
        game = get_game(key)
        games.append(
            {
                "key": key,
                "title": gettext(game.title),
                "description": gettext(game.description) if game.description else "",
                "estimated_minutes": game.minutes(short=_short(attempt)),
            }
        )
    return games


@require_safe
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


@require_http_methods(["GET", "HEAD", "POST"])
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


@require_safe
def lobby(request: HttpRequest, invite_token: str) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    if attempt.candidate.consent_at is None:
        return redirect("play:consent", invite_token=invite_token)
    started = play_start_or_show(attempt)
    games = []
    for game_session in started.game_sessions:
        game = get_game(game_session.game)
        games.append(
            {
                "key": game.key,
                "title": gettext(game.title),
                "description": gettext(game.description) if game.description else "",
                "estimated_minutes": game.minutes(short=_short(attempt)),
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


@require_safe
def game(request: HttpRequest, invite_token: str, game_session_id: int) -> HttpResponse:
    attempt = _load(request, invite_token)
    if isinstance(attempt, HttpResponse):
        return attempt
    if attempt.candidate.consent_at is None:
        return redirect("play:consent", invite_token=invite_token)
    started = play_start_or_show(attempt)
    game_session: GameSession | None = next(
        (gs for gs in started.game_sessions if gs.pk == game_session_id), None
    )
    if game_session is None:
        if GameSession.objects.filter(pk=game_session_id, attempt=attempt).exists():
            # an interrupted run, started again since (an old tab or bookmark)
            return redirect("play:lobby", invite_token=invite_token)
        return _unavailable(
            request,
            gettext("Game not found"),
            gettext("This game is not part of your invitation."),
            404,
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
            "game_title": gettext(definition.title),
            "game_key": definition.key,
            "plugin_script": f"games/{definition.key}/plugin.js",
            "plugin_stylesheet": f"games/{definition.key}/{definition.key}.css",
            "game_config": {
                **session_client_config(game_session, started.session_token),
                "lobby_url": reverse("play:lobby", args=[invite_token]),
                # left or reloaded midway: the page starts the game again (a new
                # session) after saving what this one still holds
                "interrupted": game_session.state == GameSessionState.IN_PROGRESS,
                "measured": gettext(definition.measured) if definition.measured else "",
                "accommodations": {
                    "extended_time": bool(attempt.accommodations.get("extended_time")),
                    "reduced_motion": bool(attempt.accommodations.get("reduced_motion")),
                    "colour_safe": bool(attempt.accommodations.get("colour_safe")),
                },
            },
        },
    )


@require_safe
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
