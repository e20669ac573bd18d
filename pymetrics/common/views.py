"""Project-wide error handlers (wired in config.urls)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static

from pymetrics.common.api import json_or_page


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(request, 403, "permission_denied", "You may not open this page.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(request, 404, "not_found", "Nothing is here.")


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return json_or_page(
        request, 500, "server_error", "Something went wrong on our side; it has been logged."
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own; point them at the site's icon."""
    return HttpResponsePermanentRedirect(static("common/favicon.svg"))
