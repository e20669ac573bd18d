"""Candidate-side API: start an attempt, stream events, complete a game (DESIGN.md 4.3).

No staff credentials here: ``start`` is reached through the invite token, the rest
with the session token it returns (``Authorization: Bearer <session_token>``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import client_ip
from pymetrics.assessments.selectors import attempt_by_invite_token
from pymetrics.common import ratelimit
from pymetrics.common.api import ErrorSerializer
from pymetrics.common.errors import PayloadTooLarge, ValidationFailed
from pymetrics.events.services import events_ingest
from pymetrics.play.authentication import PlaySession, SessionTokenAuthentication
from pymetrics.play.client_config import session_client_config
from pymetrics.play.services import (
    play_complete_game_session,
    play_restart_game_session,
)
from pymetrics.play.tokens import session_token_issue
from pymetrics.play.views import play_start_or_show

MAX_BODY_BYTES = 1024 * 1024


class HasPlaySession(BasePermission):
    message = "send 'Authorization: Bearer <session_token>' from the start endpoint"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, PlaySession):
            # DRF would answer a generic "credentials were not provided"; say what to send.
            raise exceptions.NotAuthenticated(self.message)
        return True


class StartGameSerializer(serializers.Serializer):
    game = serializers.CharField()
    game_session_id = serializers.IntegerField()
    status = serializers.CharField()


class StartOutputSerializer(serializers.Serializer):
    attempt_id = serializers.IntegerField()
    session_token = serializers.CharField()
    games = StartGameSerializer(many=True)


class EventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1)
    t = serializers.FloatField(min_value=0)
    type = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]  # the event's own "data" field


class EventsInputSerializer(serializers.Serializer):
    events = EventSerializer(many=True)


class AckSerializer(serializers.Serializer):
    acked_seq = serializers.IntegerField()
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class PlayStartApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="play_start",
        request=None,
        responses={
            200: StartOutputSerializer,
            404: OpenApiResponse(ErrorSerializer, description="unknown invite token"),
            410: OpenApiResponse(ErrorSerializer, description="invite expired or withdrawn"),
            429: OpenApiResponse(
                ErrorSerializer,
                description="too many requests from this address, or too many unknown "
                "invite tokens; Retry-After says when to try again",
            ),
        },
        summary="Start or resume an attempt from an invite token",
        description="Calling it again resumes: the same game sessions, a fresh session token. "
        "Calling it records the candidate's consent; a client must have shown the consent "
        "text first. A completed attempt answers its finished games and is not started again.",
    )
    def post(self, request: Request, invite_token: str) -> Response:
        try:
            attempt = ratelimit.invite_lookup(
                client_ip(request), lambda: attempt_by_invite_token(invite_token=invite_token)
            )
        except ratelimit.RateLimited as error:
            raise ratelimit.throttled(error) from None
        started = play_start_or_show(attempt)
        return Response(
            {
                "attempt_id": started.attempt.pk,
                "session_token": started.session_token,
                "games": [
                    {"game": gs.game, "game_session_id": gs.pk, "status": gs.state}
                    for gs in started.game_sessions
                ],
            }
        )


def _check_body_size(request: Request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"the request body is {length} bytes; at most {MAX_BODY_BYTES} are accepted",
            details={"max_bytes": MAX_BODY_BYTES},
        )


class GameSessionEventsApi(APIView):
    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [HasPlaySession]

    @extend_schema(
        operation_id="play_events",
        request=EventsInputSerializer,
        responses={
            200: AckSerializer,
            400: OpenApiResponse(
                ErrorSerializer,
                description="malformed body or an invalid event; details name the event "
                "(index, seq), the field and the reason, plus acked_seq/accepted/duplicates "
                "for the valid events before it, which are stored",
            ),
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="game session already complete"),
            413: OpenApiResponse(ErrorSerializer, description="request body over 1 MiB"),
            429: OpenApiResponse(
                ErrorSerializer,
                description="too many requests for this game session or from this address; "
                "Retry-After says when to try again",
            ),
        },
        summary="Store a batch of events (idempotent by seq)",
    )
    def post(self, request: Request, game_session_id: int) -> Response:
        try:
            ratelimit.enforce_all(
                ("events_session", game_session_id), ("events_ip", client_ip(request))
            )
        except ratelimit.RateLimited as error:
            raise ratelimit.throttled(error) from None
        _check_body_size(request)
        body = request.data
        if not isinstance(body, dict) or "events" not in body:
            raise ValidationFailed(
                "the body must be a JSON object with an 'events' list",
                code="malformed_batch",
                details={"field": "events"},
            )
        assert isinstance(request.auth, PlaySession)
        result = events_ingest(
            game_session_id=game_session_id,
            attempt_id=request.auth.attempt_id,
            events=body["events"],
        )
        return Response(result.as_dict())


class GameSessionCompleteApi(APIView):
    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [HasPlaySession]

    @extend_schema(
        operation_id="play_complete",
        request=None,
        responses={202: None, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="Finish a game; its metrics are extracted asynchronously",
    )
    def post(self, request: Request, game_session_id: int) -> Response:
        assert isinstance(request.auth, PlaySession)
        game_session = play_complete_game_session(
            game_session_id=game_session_id, attempt_id=request.auth.attempt_id
        )
        return Response(
            {"game_session_id": game_session.pk, "status": game_session.state},
            status=status.HTTP_202_ACCEPTED,
        )


class GameSessionRestartApi(APIView):
    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [HasPlaySession]

    @extend_schema(
        operation_id="play_restart",
        request=None,
        responses={
            201: OpenApiResponse(
                description="the new session: game, game_session_id, session_token, "
                "events_url, complete_url, restart_url, socket_url, next_seq, config"
            ),
            200: OpenApiResponse(description="the same session: nothing was played yet"),
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="the game is finished"),
        },
        summary="Start an interrupted game again (the interrupted run is kept, superseded)",
    )
    def post(self, request: Request, game_session_id: int) -> Response:
        assert isinstance(request.auth, PlaySession)
        game_session = play_restart_game_session(
            game_session_id=game_session_id, attempt_id=request.auth.attempt_id
        )
        token = session_token_issue(attempt_id=request.auth.attempt_id)
        return Response(
            session_client_config(game_session, token),
            status=status.HTTP_200_OK
            if game_session.pk == game_session_id
            else status.HTTP_201_CREATED,
        )
