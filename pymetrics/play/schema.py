"""OpenAPI description of candidate session-token authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "pymetrics.play.authentication.SessionTokenAuthentication"
    name = "SessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The session_token returned by POST /api/v1/play/{invite_token}/start/.",
        }
