"""The permission matrix (pymetrics/accounts/access.py) against the code, route by route.

Every URL route and WebSocket route must be in the matrix with exactly the methods
its view accepts, so that an endpoint added later cannot be forgotten; then every
(route, method) is called by each role of one organisation with its own objects
(allowed roles pass, the others get 403), with another organisation's objects
(404 for every role, nothing written, nothing audited) and anonymously (401 from
the API, the log-in page from the staff pages). Candidate routes refuse a wrong
token and another candidate's game session; staff sockets refuse another
organisation's objects with close code 4403.

Each request runs in a savepoint that is rolled back, so one world serves a test.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from config.tests.access_world import (
    OrganizationWorld,
    build_organization,
    route_kwargs,
)
from pymetrics.accounts.access import (
    ADMIN_GROUP,
    AUDITED_READS,
    CANDIDATE,
    PUBLIC,
    ROUTES,
    SOCKETS,
    Rule,
    route_key,
)
from pymetrics.accounts.management.commands.access_matrix import UrlRoute, url_routes
from pymetrics.accounts.models import Role
from pymetrics.realtime.routing import websocket_urlpatterns

PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DOCS = Path(settings.BASE_DIR) / "docs" / "security.md"
START, END = "<!-- access-matrix:start -->", "<!-- access-matrix:end -->"
#: writes a request may make without changing anything of the organisation's data
BOOKKEEPING_TABLES = ("django_session", "accounts_apikey", "axes_", "otp_totp_totpdevice")

# Request bodies valid enough to get past validation to the permission check
# (a refused role must see 403, not 400); heavy work is queued on commit, which
# never comes inside a rolled-back savepoint.
BODIES: dict[tuple[str, str], Callable[[OrganizationWorld], dict[str, Any]]] = {
    ("api:assessments", "POST"): lambda w: {"name": "New battery", "games": ["balloons"]},
    # (a GET's "body" is its query string)
    ("api:candidates", "GET"): lambda w: {"email": f"cara@{w.organization.slug}.example"},
    ("api:assessment-candidates", "POST"): lambda w: {"email": "eve@x.example", "name": "Eve"},
    ("api:candidate-groups", "PUT"): lambda w: {"groups": {"gender": "female"}},
    ("api:job-profiles", "POST"): lambda w: {"name": "New role"},
    ("api:job-profile-incumbents", "POST"): lambda w: {"candidate_ids": [], "successful": True},
    ("api:job-profile-train", "POST"): lambda w: {},
    ("api:candidate-outcome", "PUT"): lambda w: {"hired": True},
    ("api:job-profile-ab-tests", "POST"): lambda w: {
        "model_a_id": w.kwargs["model_version_id"],
        "model_b_id": w.kwargs["model_version_id"],
    },
    ("api:ab-test-stop", "POST"): lambda w: {"winner": None},
    ("api:trait-map-proposals", "POST"): lambda w: {},
    ("api:session-review-decide", "POST"): lambda w: {"decision": "accept"},
    ("api:anomaly-scans", "POST"): lambda w: {"game": "balloons"},
    ("api:exports", "POST"): lambda w: {"dataset": "metrics", "format": "csv"},
    ("api:play-events", "POST"): lambda w: {
        "events": [{"seq": 1, "t": 0, "type": "balloon_start", "data": {"balloon": 1}}]
    },
    ("api:candidate-erase", "POST"): lambda w: {"reason": "organisation"},
    ("staff:assessment-create", "POST"): lambda w: {"name": "New battery", "games": ["balloons"]},
    ("staff:assessment-detail", "POST"): lambda w: {
        "email": "eve@x.example",
        "name": "Eve",
        "external_id": "",
    },
    ("staff:fit-roles", "POST"): lambda w: {"name": "New role"},
    ("staff:candidate-outcome", "POST"): lambda w: {"hired": "yes"},
    ("staff:fit-reviews-scan", "POST"): lambda w: {"game": "balloons"},
    ("staff:fit-review-decide", "POST"): lambda w: {"decision": "accept"},
    ("exports:list", "POST"): lambda w: {"dataset": "metrics", "format": "csv"},
    ("privacy:erase", "POST"): lambda w: {"reason": "organisation"},
    ("staff:team-add", "POST"): lambda w: {"email": "newcomer@x.example", "role": "recruiter"},
    ("staff:team-role", "POST"): lambda w: {"role": "analyst"},
    ("staff:api-keys", "POST"): lambda w: {"name": "CI", "scopes": ["read"]},
    ("staff:candidate-search", "POST"): lambda w: {"email": "cara@acme.example"},
}


def _is_api(route: str) -> bool:
    return route.startswith("api:")


def _declared_methods(callback: Callable[..., Any]) -> set[str] | None:
    """The methods a view says it accepts (class handlers or method decorators).

    None when it says nothing: the view then decides for itself (probed).
    """
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return {
            method.upper()
            for method in view_class.http_method_names
            if method not in ("head", "options") and hasattr(view_class, method)
        }
    function: Any = callback
    while function is not None:
        try:
            nonlocals = inspect.getclosurevars(function).nonlocals
        except TypeError:
            nonlocals = {}
        if "request_method_list" in nonlocals:  # django.views.decorators.http
            return {m for m in nonlocals["request_method_list"] if m not in ("HEAD", "OPTIONS")}
        function = getattr(function, "__wrapped__", None)
    return None


@contextmanager
def _rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _send(
    client: Client, route: str, method: str, url: str, body: dict[str, Any] | None
) -> HttpResponseBase:
    if method == "GET":
        return client.get(url, body)
    if _is_api(route):
        return client.generic(method, url, json.dumps(body or {}), content_type="application/json")
    if method == "POST":
        return client.post(url, body or {})
    return client.generic(method, url, "")


def _call(
    client: Client, world: OrganizationWorld, route: str, method: str, kwargs: dict[str, Any]
) -> HttpResponseBase:
    maker = BODIES.get((route, method))
    return _send(
        client, route, method, reverse(route, kwargs=kwargs), maker(world) if maker else None
    )


def _client_for(rule: Rule, world: OrganizationWorld) -> Client:
    """Who can reach the view at all: the owner for staff routes, anyone otherwise."""
    if rule.roles:
        return world.members[Role.OWNER].browser
    return Client(raise_request_exception=False)


def _accepted_methods(url: UrlRoute, world: OrganizationWorld) -> set[str]:
    declared = _declared_methods(url.callback)
    if declared is not None:
        return declared
    key = route_key(url.name)
    rule = next(iter(ROUTES.get(key, {}).values()), Rule(PUBLIC))
    kwargs = route_kwargs(world, url.name, _kwarg_names(url))
    client = _client_for(rule, world)
    accepted = set()
    for method in PROBED_METHODS:
        with _rolled_back():
            if _call(client, world, url.name, method, kwargs).status_code != 405:
                accepted.add(method)
    return accepted


@pytest.mark.django_db
def test_every_route_and_method_is_in_the_matrix() -> None:
    world = build_organization("acme")
    problems: list[str] = []
    seen: set[str] = set()
    for url in url_routes():
        key = route_key(url.name)
        if key == ADMIN_GROUP:
            seen.add(key)
            continue
        if key not in ROUTES:
            problems.append(f"{url.name} ({url.path}) is not in the matrix")
            continue
        seen.add(key)
        accepted = _accepted_methods(url, world)
        listed = set(ROUTES[key]) - {"*"}
        if accepted - listed:
            problems.append(f"{key} accepts {sorted(accepted - listed)}, not in the matrix")
        if listed - accepted:
            problems.append(f"{key}: the matrix lists {sorted(listed - accepted)}, not accepted")
    problems.extend(
        f"{key} is in the matrix but not a route" for key in sorted(ROUTES.keys() - seen)
    )
    sockets = {str(pattern.pattern) for pattern in websocket_urlpatterns}
    problems.extend(
        f"socket {path} is not in the matrix" for path in sorted(sockets - set(SOCKETS))
    )
    problems.extend(f"socket {path} is not routed" for path in sorted(set(SOCKETS) - sockets))

    assert not problems, "\n".join(problems)


def _writes(queries: CaptureQueriesContext) -> list[str]:
    """Statements that changed the organisation's data (not sessions or key bookkeeping)."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"].lstrip()
        verb = sql.split(" ", 1)[0].upper()
        if verb not in ("INSERT", "UPDATE", "DELETE"):
            continue
        if any(f'"{table}' in sql or f" {table}" in sql for table in BOOKKEEPING_TABLES):
            continue
        found.append(sql[:120])
    return found


def _audited(queries: CaptureQueriesContext, response: HttpResponseBase) -> bool:
    """An answered read of candidate data that inserted an audit entry."""
    inserted = any(
        query["sql"].lstrip().upper().startswith('INSERT INTO "ACCOUNTS_AUDITLOG"')
        for query in queries.captured_queries
    )
    return 200 <= response.status_code < 300 and inserted


def _passes(response: HttpResponseBase) -> bool:
    """Past authentication, authorisation and the object lookup (any outcome but those)."""
    return response.status_code not in (401, 403, 404) and response.status_code < 500


def _role_routes() -> Iterator[tuple[UrlRoute, str, Rule]]:
    for url in url_routes():
        methods = ROUTES.get(route_key(url.name), {})
        for method, rule in methods.items():
            if rule.roles and method != "*":
                yield url, method, rule


def _kwarg_names(url: UrlRoute) -> list[str]:
    return [part.split(">")[0].split(":")[-1] for part in url.path.split("<")[1:]]


def _refused_anonymously(route: str, response: HttpResponseBase) -> bool:
    if _is_api(route):
        return response.status_code == 401 and response["Content-Type"].startswith(
            "application/json"
        )
    login = resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].startswith(login)


@pytest.mark.django_db
def test_each_role_gets_what_the_matrix_says_and_nothing_of_another_organisation() -> None:
    ours, theirs = build_organization("acme"), build_organization("globex")
    failures: list[str] = []

    def check(label: str, response: HttpResponseBase, ok: bool, expected: str) -> None:
        if not ok:
            failures.append(f"{label}: {response.status_code}, expected {expected}")

    for url, method, rule in _role_routes():
        names = _kwarg_names(url)
        for role in Role:
            member = ours.members[role]
            own = route_kwargs(ours, url.name, names, member)
            foreign = route_kwargs(theirs, url.name, names, theirs.members[role])
            clients = [("session", member.browser)]
            if _is_api(url.name):
                clients.append(("key", member.api))
            for how, client in clients:
                label = f"{method} {url.name} as {role.value} ({how})"
                with _rolled_back(), CaptureQueriesContext(connection) as reads:
                    response = _call(client, ours, url.name, method, own)
                if rule.allows(role):
                    check(label, response, _passes(response), "allowed")
                    if (url.name, method) in AUDITED_READS and not _audited(reads, response):
                        failures.append(f"{label}: {response.status_code} without an audit entry")
                else:
                    check(label, response, response.status_code == 403, "403")
                if not names:
                    continue
                with _rolled_back(), CaptureQueriesContext(connection) as queries:
                    response = _call(client, ours, url.name, method, foreign)
                    written = _writes(queries)
                check(
                    f"{label}, another organisation's ids",
                    response,
                    response.status_code == 404,
                    "404",
                )
                if written:
                    failures.append(f"{label}, another organisation's ids wrote: {written}")
        with _rolled_back():
            response = _call(
                Client(raise_request_exception=False),
                ours,
                url.name,
                method,
                route_kwargs(ours, url.name, names),
            )
        check(
            f"{method} {url.name} anonymously",
            response,
            _refused_anonymously(url.name, response),
            "401 JSON" if _is_api(url.name) else "the log-in page",
        )

    assert not failures, f"{len(failures)} requests disagree with the matrix:\n" + "\n".join(
        failures
    )


# --- the candidate's routes ------------------------------------------------------------

#: routes whose candidate is the Bearer session token of the game session's attempt
SESSION_TOKEN_ROUTES = {"api:play-events", "api:play-complete", "api:play-restart"}
WRONG_TOKEN = "not-a-real-token"
#: a game session's data (the page may record its own visitor's consent, never this)
SESSION_TABLES = '"events_'


def _candidate_routes() -> Iterator[tuple[UrlRoute, str]]:
    for url in url_routes():
        for method, rule in ROUTES.get(route_key(url.name), {}).items():
            if rule.who == CANDIDATE:
                yield url, method


@pytest.mark.django_db
def test_candidate_routes_refuse_a_wrong_token_and_another_candidates_session() -> None:
    ours = build_organization("acme")
    from pymetrics.conftest import start_play

    someone_else = start_play(ours.other_invitation)
    failures: list[str] = []

    def bearer(token: str | None) -> Client:
        client = Client(raise_request_exception=False)
        if token is not None:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    def expect(label: str, response: HttpResponseBase, status: int, code: str = "") -> None:
        got = response.status_code
        body_code = ""
        if code and response["Content-Type"].startswith("application/json"):
            body_code = json.loads(response.content)["error"]["code"]  # type: ignore[attr-defined]
        if got != status or body_code != code:
            failures.append(f"{label}: {got} {body_code}, expected {status} {code}".rstrip())

    for url, method in _candidate_routes():
        names = _kwarg_names(url)
        kwargs = {name: ours.kwargs[name] for name in names}
        session_route = url.name in SESSION_TOKEN_ROUTES
        mine = bearer(ours.play.session_token) if session_route else bearer(None)
        label = f"{method} {url.name}"
        with _rolled_back():
            response = _call(mine, ours, url.name, method, kwargs)
        if not _passes(response):
            failures.append(f"{label} with the right token: {response.status_code}")
        if session_route:
            for token in (None, WRONG_TOKEN):
                with _rolled_back():
                    response = _call(bearer(token), ours, url.name, method, kwargs)
                expect(f"{label} with session token {token!r}", response, 401, "not_authenticated")
        if "invite_token" in kwargs:
            with _rolled_back():
                response = _call(
                    mine, ours, url.name, method, {**kwargs, "invite_token": WRONG_TOKEN}
                )
            expect(
                f"{label} with a wrong invite token",
                response,
                404,
                "invite_not_found" if _is_api(url.name) else "",
            )
        if "game_session_id" in kwargs:
            theirs = {**kwargs, "game_session_id": someone_else.game_session_id}
            with _rolled_back(), CaptureQueriesContext(connection) as queries:
                response = _call(mine, ours, url.name, method, theirs)
                touched = [sql for sql in _writes(queries) if SESSION_TABLES in sql]
            if _is_api(url.name):
                expect(f"{label} of another candidate's session", response, 403, "wrong_session")
            else:  # the page only knows the invitation's own sessions
                expect(f"{label} of another candidate's session", response, 404)
            if touched:
                failures.append(f"{label} of another candidate's session wrote: {touched}")

    assert not failures, "\n".join(failures)


# --- sockets ---------------------------------------------------------------------------


async def _socket_answer(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[str, Any]:
    """("close", code) when the socket is refused, else ("open", its first message)."""
    application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    try:
        if not connected:
            return "close", None
        while True:
            message = await communicator.receive_output(timeout=3)
            if message["type"] == "websocket.close":
                return "close", int(message["code"])
            kind = json.loads(message["text"])["type"]
            if kind != "error":  # a refusal explains itself, then closes
                return "open", kind
    finally:
        await communicator.disconnect()


def _key_header(token: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Token {token}".encode())]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_sockets_follow_the_matrix(settings: Any) -> None:
    settings.PYMETRICS_LIVE_REDIS_URL = None
    ours = await sync_to_async(build_organization)("acme")
    theirs = await sync_to_async(build_organization)("globex")
    someone_else = await sync_to_async(
        lambda: __import__("pymetrics.conftest", fromlist=["start_play"]).start_play(
            ours.other_invitation
        )
    )()
    failures: list[str] = []

    def expect(label: str, answer: tuple[str, Any], wanted: tuple[str, Any]) -> None:
        if answer != wanted:
            failures.append(f"{label}: {answer}, expected {wanted}")

    staff_sockets = {
        "ws/dashboard/<int:assessment_id>/": ("assessment_id", "hello"),
        "ws/traits/<int:candidate_id>/": ("candidate_id", "traits"),
    }
    for pattern, (kwarg, greeting) in staff_sockets.items():
        rule = SOCKETS[pattern]
        own = pattern.replace(f"<int:{kwarg}>", str(ours.kwargs[kwarg]))
        foreign = pattern.replace(f"<int:{kwarg}>", str(theirs.kwargs[kwarg]))
        for role in Role:
            header = _key_header(ours.members[role].api_token)
            wanted = ("open", greeting) if rule.allows(role) else ("close", 4403)
            expect(f"{pattern} as {role.value}", await _socket_answer(f"/{own}", header), wanted)
            expect(
                f"{pattern} of another organisation as {role.value}",
                await _socket_answer(f"/{foreign}", header),
                ("close", 4403),
            )
        expect(f"{pattern} anonymously", await _socket_answer(f"/{own}", []), ("close", 4401))

    play = "ws/play/<int:game_session_id>/"
    assert SOCKETS[play].who == CANDIDATE
    token = ours.play.session_token
    mine = play.replace("<int:game_session_id>", str(ours.play.game_session_id))
    other = play.replace("<int:game_session_id>", str(someone_else.game_session_id))
    answer = await _socket_answer(f"/{mine}?token={token}", [])
    if answer[0] != "open":
        failures.append(f"{play} with the candidate's token: {answer}")
    expect(f"{play} without a token", await _socket_answer(f"/{mine}", []), ("close", 4401))
    expect(
        f"{play} with a wrong token",
        await _socket_answer(f"/{mine}?token={WRONG_TOKEN}", []),
        ("close", 4401),
    )
    expect(
        f"{play} of another candidate's session",
        await _socket_answer(f"/{other}?token={token}", []),
        ("close", 4403),
    )

    assert not failures, "\n".join(failures)


# --- the docs --------------------------------------------------------------------------


def test_the_docs_show_the_matrix_the_command_prints() -> None:
    printed = StringIO()
    call_command("access_matrix", stdout=printed)
    text = DOCS.read_text(encoding="utf-8")
    documented = text.split(START, 1)[1].split(END, 1)[0].strip("\n")

    assert documented == printed.getvalue().strip("\n"), (
        "docs/security.md's access matrix is out of date: run "
        "`python manage.py access_matrix` and paste its output between "
        f"{START} and {END}"
    )
