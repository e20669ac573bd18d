"""Project-wide error handlers (wired in config.urls)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_safe
from django.views.i18n import JavaScriptCatalog

from pymetrics.common.api import json_or_page


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(
        request, 400, "bad_request", gettext_noop("The request could not be understood.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(
        request, 403, "permission_denied", gettext_noop("You may not open this page.")
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_or_page(request, 404, "not_found", gettext_noop("Nothing is here."))


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return json_or_page(
        request,
        500,
        "server_error",
        gettext_noop("Something went wrong on our side; it has been logged."),
    )


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own; point them at the site's icon."""
    return HttpResponsePermanentRedirect(static("common/favicon.svg"))


class GameCatalog(JavaScriptCatalog):
    """Django's JavaScript catalogue, from the project's locale directories.

    The game pages' strings live in the games' plugins and the play app's scripts;
    ``makemessages -d djangojs`` collects them into ``LOCALE_PATHS``, which the stock
    view (built for apps' own locale directories) does not read.
    """

    def get_paths(self, packages: list[Any]) -> list[str]:
        return [str(path) for path in settings.LOCALE_PATHS]
