"""DRF authentication by ``Authorization: Token <key>`` (staff API keys)."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from pymetrics.accounts.services import api_key_authenticate


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, credential = header.partition(" ")
        if scheme != self.keyword:
            return None
        credential = credential.strip()
        if not credential:
            raise exceptions.AuthenticationFailed("the Token header holds no key")
        api_key = api_key_authenticate(plaintext=credential)
        if api_key is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
