"""Candidate session tokens: signed, expiring, bound to one attempt.

They are stateless (HMAC-signed with the secret key), so "start" can be called
again to resume from another tab without invalidating the first, and checking a
token on the hot event path costs no database query.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from pymetrics.common.errors import NotAuthenticated

_SALT = "pymetrics.play.session-token"


def session_token_issue(*, attempt_id: int) -> str:
    return signing.dumps({"attempt": attempt_id}, salt=_SALT, compress=False)


def session_token_attempt_id(token: str) -> int:
    """The attempt id a token was issued for, or NotAuthenticated."""
    try:
        payload = signing.loads(
            token, salt=_SALT, max_age=settings.PYMETRICS_PLAY_SESSION_MAX_AGE_S
        )
    except signing.SignatureExpired:
        raise NotAuthenticated(
            "the session token has expired; reopen your invitation link", code="token_expired"
        ) from None
    except signing.BadSignature:
        raise NotAuthenticated("the session token is not valid", code="invalid_token") from None
    attempt_id = payload.get("attempt") if isinstance(payload, dict) else None
    if not isinstance(attempt_id, int):
        raise NotAuthenticated("the session token is not valid", code="invalid_token")
    return attempt_id
