"""DRF authentication for candidate endpoints: ``Authorization: Bearer <session_token>``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from pymetrics.common.errors import NotAuthenticated
from pymetrics.play.tokens import session_token_attempt_id


@dataclass(frozen=True)
class PlaySession:
    """The authenticated candidate side: the attempt the token was issued for."""

    attempt_id: int
    is_authenticated: bool = True


class SessionTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme != self.keyword or not token.strip():
            return None
        try:
            attempt_id = session_token_attempt_id(token.strip())
        except NotAuthenticated as error:
            raise exceptions.AuthenticationFailed(error.message) from None
        play_session = PlaySession(attempt_id=attempt_id)
        return play_session, play_session

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
