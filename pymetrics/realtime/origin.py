"""The Origin check of every socket handshake.

A page on another site must not open a socket with the viewer's cookies (cross-site
WebSocket hijacking): browsers always send ``Origin`` on a WebSocket handshake, and
it must name one of ``ALLOWED_HOSTS``. A handshake without ``Origin`` comes from a
program, not a browser page; it cannot carry anyone's cookies by accident, and
authenticates with a token (candidate) or an API key header (staff), so it passes
the Origin check and meets the authentication checks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return bool(self.validate_origin(parsed_origin))


def browser_origin_validator(application: Any) -> BrowserOriginValidator:
    """Check browsers' Origin against ALLOWED_HOSTS (localhost too in debug with none set)."""
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)
