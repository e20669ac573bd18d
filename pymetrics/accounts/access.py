"""Who may use each endpoint: the permission matrix, as data.

Every URL route (by its full name, ``namespace:name``) and every HTTP method its
view accepts maps to a :class:`Rule`: the public, the candidate (their invite token
or the signed session token of their attempt), the platform's operators (Django
admin, ``is_staff``) or a set of organisation roles. The WebSocket routes are
listed by path. The views enforce these rules; this module only states them, so
that ``manage.py access_matrix`` can print them for docs/security.md and the
access-matrix test can walk every route and hold each view to its row (a route
missing here fails that test).

HEAD is answered wherever GET is and OPTIONS by every API view; neither is listed.
For staff routes, another organisation's object answers 404 to every role; a role
not in the rule gets 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pymetrics.accounts.models import Role

PUBLIC = "public"
CANDIDATE = "candidate"
OPERATOR = "operator"

#: every member of the organisation
ALL_ROLES = frozenset(Role)
#: owners and admins: change models, roles, trait maps, privacy settings; erase, export
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
#: owners, admins and analysts: scan for anomalies, decide reviews, export raw events
REVIEWERS = frozenset({Role.OWNER, Role.ADMIN, Role.ANALYST})

#: the Django admin, all its routes (``admin:*``) and methods
ADMIN_GROUP = "admin:*"
#: the pseudo-method of the WebSocket routes
WEBSOCKET = "WS"

Who = str | frozenset[str]


@dataclass(frozen=True)
class Rule:
    """Who may make one request: PUBLIC, CANDIDATE, OPERATOR or a set of roles."""

    who: Who
    #: a condition the role columns cannot show, printed under the table
    note: str = ""

    @property
    def roles(self) -> frozenset[str]:
        return self.who if isinstance(self.who, frozenset) else frozenset()

    def allows(self, role: str) -> bool:
        """Whether a member with ``role`` (in the object's organisation) may do it."""
        return role in self.roles


@dataclass(frozen=True)
class Entry:
    route: str
    method: str
    rule: Rule


def _all(note: str = "") -> Rule:
    return Rule(ALL_ROLES, note)


def _managers(note: str = "") -> Rule:
    return Rule(MANAGERS, note)


def _reviewers(note: str = "") -> Rule:
    return Rule(REVIEWERS, note)


#: Requests that read candidates' personal data or results. Each one answered
#: writes an audit entry: the access-matrix test holds every row here to that.
AUDITED_READS = frozenset(
    {
        ("staff:assessment-dashboard", "GET"),
        ("staff:assessment-dashboard-data", "GET"),
        ("staff:candidate-profile", "GET"),
        ("staff:candidate-profile-data", "GET"),
        ("staff:candidate-search", "POST"),
        ("staff:audit-log", "GET"),
        ("reports:recruiter-pdf", "GET"),
        ("privacy:erase", "GET"),
        ("api:assessment-dashboard", "GET"),
        ("api:candidates", "GET"),
        ("api:candidate-detail", "GET"),
        ("api:candidate-consents", "GET"),
    }
)

_PUBLIC = Rule(PUBLIC)
_INVITE = Rule(CANDIDATE, "the candidate's invite token in the path")
_SESSION = Rule(CANDIDATE, "the candidate's session token (Bearer), for their own game session")
_EVENTS = "the events dataset: owners, admins and analysts only"
_OWN_ACCOUNT = "any signed-in staff user, for their own account"
_WELCOME = "the one-time link (uid and token) sent to a new member"

#: route name -> HTTP method -> rule, in the URLconf's order
ROUTES: dict[str, dict[str, Rule]] = {
    "home": {"GET": _PUBLIC},
    # staff pages
    "staff:login": {"GET": _PUBLIC, "POST": _PUBLIC, "PUT": _PUBLIC},
    "staff:logout": {"POST": _PUBLIC},
    # the second factor, for the signed-in user's own account
    "staff:two-factor-verify": {"GET": _all(_OWN_ACCOUNT), "POST": _all(_OWN_ACCOUNT)},
    "staff:account-security": {"GET": _all(_OWN_ACCOUNT)},
    "staff:two-factor-enrol": {"GET": _all(_OWN_ACCOUNT), "POST": _all(_OWN_ACCOUNT)},
    "staff:two-factor-remove": {"POST": _all(_OWN_ACCOUNT)},
    "staff:assessment-list": {"GET": _all()},
    "staff:assessment-create": {"GET": _all(), "POST": _all()},
    "staff:assessment-detail": {"GET": _all(), "POST": _all()},
    "staff:assessment-dashboard": {"GET": _all()},
    "staff:assessment-dashboard-data": {"GET": _all()},
    "staff:candidate-profile": {"GET": _all()},
    "staff:candidate-profile-data": {"GET": _all()},
    "staff:candidate-search": {"GET": _all(), "POST": _all()},
    "staff:compare": {"GET": _all()},
    "staff:audit-log": {"GET": _managers()},
    "staff:trends": {"GET": _all()},
    "staff:insights": {"GET": _all()},
    "staff:system": {"GET": _all()},
    "staff:system-data": {"GET": _all()},
    "staff:fit-roles": {"GET": _all(), "POST": _managers()},
    "staff:fit-role": {"GET": _all()},
    "staff:fit-role-incumbents": {"POST": _managers()},
    "staff:fit-role-train": {"POST": _managers()},
    "staff:fit-training-job-data": {"GET": _all()},
    "staff:fit-model": {"GET": _all()},
    "staff:fit-model-audit": {"POST": _managers()},
    "staff:fit-model-activate": {"POST": _managers()},
    "staff:fit-model-retire": {"POST": _managers()},
    "staff:fit-ab-tests": {"GET": _all(), "POST": _managers()},
    "staff:fit-ab-test": {"GET": _all()},
    "staff:fit-ab-test-stop": {"POST": _managers()},
    "staff:candidate-outcome": {"POST": _managers()},
    "staff:fit-reviews": {"GET": _all()},
    "staff:fit-reviews-scan": {"POST": _reviewers()},
    "staff:fit-review-decide": {"POST": _reviewers()},
    "staff:fit-trait-maps": {"GET": _all(), "POST": _managers()},
    "staff:fit-trait-map": {"GET": _all()},
    "staff:fit-trait-map-activate": {"POST": _managers()},
    "staff:fit-drift": {"GET": _all()},
    "staff:team": {"GET": _all()},
    "staff:team-add": {"POST": _managers("an admin may not make owners")},
    "staff:team-role": {"POST": _managers("an admin leaves owners' roles alone")},
    "staff:team-remove": {"POST": _managers("an admin may not remove an owner")},
    "staff:team-two-factor-reset": {
        "POST": _managers("an admin may not reset an owner's; nobody resets their own here")
    },
    "staff:welcome": {
        "GET": Rule(PUBLIC, _WELCOME),
        "POST": Rule(PUBLIC, _WELCOME),
        "PUT": Rule(PUBLIC, _WELCOME),
    },
    "staff:api-keys": {
        "GET": _all("owners and admins see every key of the organisation"),
        "POST": _all("a key never does more than its owner's role"),
    },
    "staff:api-key-created": {"GET": _all("the new key, shown once to whoever made it")},
    "staff:api-key-revoke": {
        "POST": _all("a member revokes their own keys; owners and admins any key")
    },
    "reports:recruiter-pdf": {"GET": _all()},
    "exports:list": {"GET": _all(), "POST": _all(_EVENTS)},
    "exports:job-data": {"GET": _all(_EVENTS)},
    "exports:download": {"GET": _all(_EVENTS + "; a signed link of the organisation")},
    "privacy:settings": {"GET": _all(), "POST": _managers()},
    "privacy:archive-request": {"POST": _managers()},
    "privacy:consent-withdraw": {"POST": _managers()},
    "privacy:erase": {"GET": _managers(), "POST": _managers()},
    "privacy:archive-data": {"GET": _managers()},
    "privacy:archive-download": {"GET": _managers("a signed link of the organisation")},
    # the candidate's pages
    "candidate-report:report": {"GET": _INVITE},
    "candidate-report:pdf": {"GET": _INVITE},
    "play:invite": {"GET": _INVITE},
    "play:consent": {"GET": _INVITE, "POST": _INVITE},
    "play:lobby": {"GET": _INVITE},
    "play:game": {"GET": Rule(CANDIDATE, "the invite token of the game session's attempt")},
    "play:thanks": {"GET": _INVITE},
    # staff API
    "api:assessments": {"GET": _all(), "POST": _all()},
    "api:assessment-detail": {"GET": _all()},
    "api:assessment-dashboard": {"GET": _all()},
    "api:assessment-candidates": {"POST": _all()},
    "api:candidates": {"GET": _all("a search by e-mail address")},
    "api:candidate-detail": {"GET": _all()},
    "api:candidate-groups": {"PUT": _managers()},
    "api:job-profiles": {"GET": _all(), "POST": _managers()},
    "api:job-profile-detail": {"GET": _all()},
    "api:job-profile-incumbents": {"POST": _managers()},
    "api:job-profile-train": {"POST": _managers()},
    "api:training-job-detail": {"GET": _all()},
    "api:fit-model-detail": {"GET": _all()},
    "api:fit-model-audit": {"POST": _managers()},
    "api:fit-model-activate": {"POST": _managers()},
    "api:fit-model-retire": {"POST": _managers()},
    "api:candidate-outcome": {"PUT": _managers()},
    "api:job-profile-ab-tests": {"POST": _managers()},
    "api:ab-test-detail": {"GET": _all()},
    "api:ab-test-stop": {"POST": _managers()},
    "api:trait-map-proposals": {"POST": _managers()},
    "api:trait-map-proposal-detail": {"GET": _all()},
    "api:trait-map-proposal-activate": {"POST": _managers()},
    "api:drift-alerts": {"GET": _all()},
    "api:session-reviews": {"GET": _all()},
    "api:session-review-decide": {"POST": _reviewers()},
    "api:anomaly-scans": {"POST": _reviewers()},
    # candidate API
    "api:play-start": {"POST": _INVITE},
    "api:play-events": {"POST": _SESSION},
    "api:play-complete": {"POST": _SESSION},
    "api:play-restart": {"POST": _SESSION},
    # staff API: exports and data rights
    "api:exports": {"GET": _all(_EVENTS), "POST": _all(_EVENTS)},
    "api:export-detail": {"GET": _all(_EVENTS)},
    "api:candidate-data-export": {"POST": _managers()},
    "api:data-export-detail": {"GET": _managers()},
    "api:candidate-erase": {"POST": _managers()},
    "api:candidate-consents": {"GET": _all()},
    "api:candidate-consents-withdraw": {"POST": _managers()},
    # the platform
    "api-schema": {"GET": _PUBLIC},
    "api-docs": {"GET": _PUBLIC},
    "healthz": {"GET": _PUBLIC},
    "readyz": {"GET": _PUBLIC},
    "metrics": {"GET": Rule(PUBLIC, "keep it off the public network (reverse proxy)")},
    ADMIN_GROUP: {"*": Rule(OPERATOR, "is_staff users; every model page and method")},
    "favicon": {"GET": _PUBLIC},
    "javascript-catalog": {"GET": _PUBLIC},
    # Django's own view: it takes any method, and sets the language on POST only
    "set_language": dict.fromkeys(("GET", "POST", "PUT", "PATCH", "DELETE"), _PUBLIC),
}

#: WebSocket route path (as in pymetrics/realtime/routing.py) -> rule
SOCKETS: dict[str, Rule] = {
    "ws/play/<int:game_session_id>/": Rule(
        CANDIDATE, "?token=<session token> of the game session's attempt; else 4401 or 4403"
    ),
    "ws/dashboard/<int:assessment_id>/": _all(
        "staff session or Token key; another organisation's assessment closes 4403"
    ),
    "ws/traits/<int:candidate_id>/": _all(
        "staff session or Token key; another organisation's candidate closes 4403"
    ),
}


def route_key(route: str) -> str:
    """The matrix key of a route: the admin's routes are one group."""
    return ADMIN_GROUP if route.startswith("admin:") else route


def rule_for(route: str, method: str) -> Rule | None:
    """The rule of a request, or None when the matrix does not list it."""
    methods = ROUTES.get(route_key(route))
    if methods is None:
        return None
    return methods.get(method.upper()) or methods.get("*")


def entries() -> Iterator[Entry]:
    """Every (route, method) with its rule, in the matrix's order."""
    for route, methods in ROUTES.items():
        for method, rule in methods.items():
            yield Entry(route, method, rule)


def who_label(rule: Rule) -> str:
    """The rule's audience in words: a role list, or public / candidate / operator."""
    if isinstance(rule.who, str):
        return rule.who
    if rule.who == ALL_ROLES:
        return "all roles"
    return ", ".join(role.value for role in Role if role in rule.who)
