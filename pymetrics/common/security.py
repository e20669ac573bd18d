"""HTTP security headers Django does not set: Content-Security-Policy, Permissions-Policy.

The policy is strict: scripts, styles, fonts and frames only from the platform's
own origin, no inline ``<script>``/``<style>``, no ``style=`` attributes, no
plugins, never framed, forms only posted back to the platform. Templates follow it
(scripts and styles are static files; configuration travels in ``json_script``
blocks, which are data, not scripts).

Two third-party pages need a narrow exception, each limited to exact hashes:

* the game pages: jsPsych's instructions plugin writes its navigation with
  ``style='...'`` attributes (four fixed declarations); ``style-src-attr`` allows
  those four values by hash (``'unsafe-hashes'``) and nothing else;
* the Django admin's change lists without actions add one fixed ``<style>`` block;
  ``style-src`` on ``/admin/`` allows that block by its hash, read from the
  installed Django's template so an upgrade cannot silently break it.

Swagger UI (``/api/docs/``) needs none: its split view serves the start-up script
as a file and the page's own stylesheet is static (``common/swagger_ui.html``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

#: The base policy, directive -> sources (connect-src gains the request's ws/wss origin).
BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    # jsPsych's stylesheet embeds its Open Sans fonts as data: URLs
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}

#: The style attributes jsPsych's instructions plugin writes (navigation, page number).
JSPSYCH_INSTRUCTIONS_STYLES = (
    "margin: 0 1em;",
    "padding: 10px 0px;",
    "margin-right: 5px;",
    "margin-left: 5px;",
)
#: The candidate game page, where jsPsych runs.
GAME_PAGE = re.compile(r"^/play/[^/]+/games/\d+/$")
ADMIN_PAGES = re.compile(r"^/admin/")


def csp_hash(text: str) -> str:
    """A CSP hash source (``'sha256-...'``) for an inline style or script text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@cache
def admin_inline_style_hashes() -> tuple[str, ...]:
    """Hashes of the ``<style>`` blocks in the installed admin's change list template."""
    import django.contrib.admin

    template = (
        Path(django.contrib.admin.__file__).parent / "templates" / "admin" / "change_list.html"
    )
    try:
        text = template.read_text(encoding="utf-8")
    except OSError:
        return ()
    return tuple(csp_hash(block) for block in re.findall(r"<style>(.*?)</style>", text, re.S))


def _socket_sources(request: HttpRequest) -> tuple[str, ...]:
    """``ws://host`` / ``wss://host`` of the page's own origin (CSP2 browsers need them)."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ()
    return (f"wss://{host}",) if request.is_secure() else (f"ws://{host}", f"wss://{host}")


def policy_for(request: HttpRequest) -> dict[str, tuple[str, ...]]:
    """The policy of one response: the base, its socket origins and any path's exception."""
    policy = dict(BASE_POLICY)
    policy["connect-src"] = (*policy["connect-src"], *_socket_sources(request))
    path = request.path
    if GAME_PAGE.match(path):
        policy["style-src-attr"] = (
            "'unsafe-hashes'",
            *(csp_hash(style) for style in JSPSYCH_INSTRUCTIONS_STYLES),
        )
    elif ADMIN_PAGES.match(path):
        policy["style-src"] = (*policy["style-src"], *admin_inline_style_hashes())
    return policy


def policy_header(policy: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy and Permissions-Policy to every response.

    A response that already carries a policy (a view with its own) keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_header(policy_for(request))
        permissions = getattr(settings, "PYMETRICS_PERMISSIONS_POLICY", "")
        if permissions and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions
        return response
