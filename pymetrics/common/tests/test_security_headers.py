"""HTTP security headers: the Content-Security-Policy and its few exact exceptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from pymetrics.common.security import (
    JSPSYCH_INSTRUCTIONS_STYLES,
    admin_inline_style_hashes,
    csp_hash,
    policy_for,
)

ROOT = Path(__file__).resolve().parents[3]


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";"))
    return {part[0]: part[1:] for part in parts if part}


@pytest.mark.django_db
def test_every_page_gets_the_strict_policy_and_the_other_headers():
    response = Client().get("/staff/login/")

    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"]) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", "ws://testserver", "wss://testserver"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    assert response["Permissions-Policy"] == settings.PYMETRICS_PERMISSIONS_POLICY
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_over_https_sockets_may_only_use_wss():
    request = RequestFactory().get("/staff/", secure=True)

    assert policy_for(request)["connect-src"] == ("'self'", "wss://testserver")


def test_an_unknown_host_gets_no_socket_origin():
    request = RequestFactory().get("/staff/", HTTP_HOST="evil.example")

    assert policy_for(request)["connect-src"] == ("'self'",)


def test_the_game_page_allows_exactly_jspsychs_instruction_styles():
    game = policy_for(RequestFactory().get("/play/abc/games/12/"))
    lobby = policy_for(RequestFactory().get("/play/abc/lobby/"))

    assert game["style-src-attr"] == (
        "'unsafe-hashes'",
        "'sha256-4qlPniniu/OUi16PwHsQbnWL7HQ8Op1RqI5HbbVkYTo='",
        csp_hash("padding: 10px 0px;"),
        csp_hash("margin-right: 5px;"),
        csp_hash("margin-left: 5px;"),
    )
    assert game["style-src"] == ("'self'",)
    assert "style-src-attr" not in lobby


def test_the_installed_jspsych_writes_no_other_style_attribute():
    """An upgrade that adds one would break the game page's look: it must be listed."""
    dist = ROOT / "node_modules" / "@jspsych" / "plugin-instructions" / "dist"
    script = (dist / "index.browser.min.js").read_text(encoding="utf-8")

    found = set(re.findall(r"style='([^']*)'", script)) | set(
        re.findall(r'style=\\?"([^"\\]*)\\?"', script)
    )

    assert found == set(JSPSYCH_INSTRUCTIONS_STYLES)


def test_the_admin_allows_only_its_change_lists_style_block():
    admin = policy_for(RequestFactory().get("/admin/accounts/user/"))

    assert admin_inline_style_hashes() == (
        csp_hash("\n      #changelist table thead th:first-child {width: inherit}\n    "),
    )
    assert admin["style-src"] == ("'self'", *admin_inline_style_hashes())
    assert admin["script-src"] == ("'self'",)


def test_csp_hash_is_the_base64_sha256_source():
    assert csp_hash("margin: 0 1em;") == "'sha256-4qlPniniu/OUi16PwHsQbnWL7HQ8Op1RqI5HbbVkYTo='"


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_script_or_style():
    page = Client().get("/api/docs/")
    script = Client().get("/api/docs/?script=")

    html = page.content.decode()
    assert page.status_code == 200
    assert "<style" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert 'src="/api/docs/?script="' in html
    assert "/static/common/swagger-ui-page.css" in html
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_no_template_has_inline_scripts_styles_or_handlers():
    offenders = []
    for template in sorted((ROOT / "pymetrics").glob("*/templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        if (
            re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
            or re.search(r"<style\b", text)
            or re.search(r"\sstyle\s*=", text)
            or re.search(r"\son[a-z]+\s*=", text)
        ):
            offenders.append(str(template.relative_to(ROOT)))

    assert offenders == []
