"""One error shape for the whole API: ``{"error": {"code", "message", "details"}}``.

DRF's own exceptions, Django's 404/PermissionDenied and the platform's DomainErrors
all come out in that shape, with a fitting status and never a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from pymetrics.common.errors import DomainError


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return str(detail)


def _first_message(details: Any) -> str | None:
    if isinstance(details, dict):
        for key, value in details.items():
            inner = _first_message(value)
            if inner:
                return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(details, list):
        for value in details:
            inner = _first_message(value)
            if inner:
                return inner
    if isinstance(details, str):
        return details
    return None


_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
    exceptions.ValidationError: "invalid",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: let Django log it and answer 500
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        message = _first_message(details) or "the request is not valid"
    else:
        details = {}
        message = str(exc.detail)
    response = Response(error_body(code, message, details), status=exc.status_code)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        # The view's own scheme (Bearer on candidate endpoints, Token on staff ones).
        response["WWW-Authenticate"] = getattr(exc, "auth_header", None) or "Token"
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        response["Retry-After"] = str(int(wait))
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def json_or_page(request: HttpRequest, status_code: int, code: str, message: str) -> Any:
    """Django error handlers: JSON for API clients, a plain page for people.

    ``message`` is English (``gettext_noop``-marked by the callers): API clients get
    it as it is, people get it translated.
    """
    if _wants_json(request):
        return JsonResponse(error_body(code, message), status=status_code)
    from django.shortcuts import render
    from django.utils.translation import gettext

    return render(
        request,
        "common/error.html",
        {"status": status_code, "message": gettext(message)},
        status=status_code,
    )


class ErrorSerializer(serializers.Serializer):
    class Inner(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField()

    error = Inner()


class JsonContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for the requests nearly every client sends.

    The API speaks JSON only. A request that asks for JSON or anything (or says
    nothing) gets the first renderer without parsing its Accept header, which cost
    a tenth of a cached read; any other Accept goes through DRF's rules (406 when
    nothing fits).
    """

    PLAIN = frozenset(("", "*/*", "application/json"))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        accept = request.META.get("HTTP_ACCEPT", "")
        if (
            accept in self.PLAIN
            and format_suffix is None
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            and renderers
            and renderers[0].media_type == "application/json"
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
