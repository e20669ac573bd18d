"""``access_matrix``: print who may use each endpoint, as the Markdown table of docs/security.md.

The rules come from :mod:`pymetrics.accounts.access`; the paths from the URLconf
and the WebSocket routing, walked in their order. A route the matrix does not list
is printed as ``NOT IN THE MATRIX`` (the access-matrix test fails on it too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.urls import URLPattern, URLResolver, get_resolver

from pymetrics.accounts.access import (
    ADMIN_GROUP,
    ROUTES,
    SOCKETS,
    WEBSOCKET,
    Rule,
    route_key,
    who_label,
)
from pymetrics.accounts.models import Role


@dataclass(frozen=True)
class UrlRoute:
    """One named URL pattern: its full name, its path and its view."""

    name: str
    path: str
    callback: Callable[..., Any]


def url_routes() -> Iterator[UrlRoute]:
    """Every named route of the URLconf, include()d namespaces too, in order."""

    def walk(patterns: list[Any], namespace: str, prefix: str) -> Iterator[UrlRoute]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name or prefix + str(pattern.pattern)}"
                yield UrlRoute(name, prefix + str(pattern.pattern), pattern.callback)

    yield from walk(get_resolver().url_patterns, "", "/")


def _mark(rule: Rule, role: Role) -> str:
    if rule.roles:
        return "yes" if rule.allows(role) else "no"
    return "—"


def _row(route: str, path: str, method: str, rule: Rule | None) -> str:
    if rule is None:
        cells = ["?"] * len(Role) + ["NOT IN THE MATRIX"]
    else:
        cells = [_mark(rule, role) for role in Role] + [who_label(rule)]
    return "| " + " | ".join([f"`{route}`", f"`{path}`", method, *cells]) + " |"


def matrix_markdown() -> str:
    """The matrix as Markdown: the HTTP routes, the WebSocket routes, then the notes."""
    header = ["route", "path", "method", *[role.value for role in Role], "who"]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    notes: dict[str, list[str]] = {}  # note -> the requests it is about
    listed: set[str] = set()
    for url in url_routes():
        key = route_key(url.name)
        if key in listed:
            continue
        listed.add(key)
        path = "/admin/…" if key == ADMIN_GROUP else url.path
        methods = ROUTES.get(key)
        if methods is None:
            lines.append(_row(key, path, "?", None))
            continue
        for method, rule in methods.items():
            lines.append(_row(key, path, "any" if method == "*" else method, rule))
            if rule.note:
                shown = "any" if method == "*" else method
                notes.setdefault(rule.note, []).append(f"`{key}` {shown}")
    for key in ROUTES.keys() - listed:  # listed but gone from the URLconf
        lines.append(_row(key, "(no such route)", "?", None))
    for path, rule in SOCKETS.items():
        lines.append(_row("websocket", f"/{path}", WEBSOCKET, rule))
        if rule.note:
            notes.setdefault(rule.note, []).append(f"`/{path}` {WEBSOCKET}")
    lines.append("")
    lines.append(
        "yes/no: whether a member with that role in the object's organisation may make the "
        "request (another organisation's object answers 404 to every role; a role marked "
        "no gets 403). HEAD is answered wherever GET is."
    )
    lines.append("")
    lines.extend(f"- {', '.join(requests)}: {note}" for note, requests in notes.items())
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the permission matrix (who may use each endpoint) as a Markdown table."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(matrix_markdown(), ending="")
