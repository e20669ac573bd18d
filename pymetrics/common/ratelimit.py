"""Request rate limits: fixed-window counters in Django's cache.

One small limiter for every route that an abusive client could make expensive or
use to guess secrets (invite links, event ingestion, exports, PDF rendering). A
limit is named (``invite_ip``, ``events_session`` ...) and configured in
``settings.PYMETRICS_RATE_LIMITS`` as ``Rate`` values; the environment variable
``PYMETRICS_RATE_LIMITS`` overrides any of them (config.env).

Counting: the key of a (limit, identity, window) is incremented with the cache's
``incr``, which is one atomic ``INCRBY`` on Redis (django-redis) and a locked
update in the in-process cache of the embedded default, so concurrent requests on
any number of server processes sharing Redis are all counted. A window is
``period_s`` long and aligned to the epoch; its key expires with it. Identities
(IP addresses, invite tokens, ids) are hashed into the key, so no secret or
personal value is written to the cache.

The limiter fails open: when the cache cannot be reached, the request goes
through (and a warning is logged) rather than the platform refusing every
candidate because Redis is down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext, ngettext
from rest_framework import exceptions

from pymetrics.common.errors import NotFound

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Rate:
    """At most ``limit`` hits per ``period_s`` seconds."""

    limit: int
    period_s: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"30/m"``, ``"10/h"``, ``"20/10m"`` (20 per 10 minutes), ``"5/s"``, ``"100/d"``."""
        match = _RATE.match(text)
        if match is None:
            raise ValueError(
                f"expected <count>/<period> such as 30/m, 10/h or 20/10m; got {text!r}"
            )
        count, multiple, unit = match.groups()
        period = (int(multiple) if multiple else 1) * _UNITS[unit]
        if int(count) < 1 or period < 1:
            raise ValueError(f"a rate needs a count and a period of at least 1; got {text!r}")
        return cls(limit=int(count), period_s=period)

    def __str__(self) -> str:
        for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.period_s % seconds == 0:
                multiple = self.period_s // seconds
                return f"{self.limit}/{multiple if multiple > 1 else ''}{unit}"
        return f"{self.limit}/{self.period_s}s"


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one hit: allowed or not, and when to try again."""

    allowed: bool
    count: int
    limit: int
    retry_after_s: int


class RateLimited(Exception):
    """A limit is exhausted; ``retry_after_s`` is when its window ends."""

    def __init__(self, name: str, retry_after_s: int) -> None:
        super().__init__(f"rate limit {name!r} exceeded; retry in {retry_after_s} s")
        self.name = name
        self.retry_after_s = retry_after_s


def enabled() -> bool:
    return bool(getattr(settings, "PYMETRICS_RATE_LIMITS_ENABLED", True))


def rate_for(name: str) -> Rate:
    """The configured rate of limit ``name`` (KeyError for a name nobody configured)."""
    value = settings.PYMETRICS_RATE_LIMITS[name]
    return value if isinstance(value, Rate) else Rate.parse(str(value))


def _key(name: str, identity: str, window: int) -> str:
    digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"ratelimit:{name}:{digest}:{window}"


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """(window index, seconds until it ends, at least 1)."""
    index = int(now // rate.period_s)
    ends = (index + 1) * rate.period_s
    return index, max(1, math.ceil(ends - now))


def hit(
    name: str, identity: object, *, cost: int = 1, clock: Callable[[], float] = time.time
) -> Decision:
    """Count ``cost`` hits of ``identity`` against limit ``name``; the decision after it.

    An empty identity (no client address known) is not counted.
    """
    rate = rate_for(name)
    index, retry_after = _window(rate, clock())
    if not enabled() or identity is None or identity == "":
        return Decision(True, 0, rate.limit, retry_after)
    key = _key(name, str(identity), index)
    try:
        # add() is a no-op on an existing key; the expiry outlives the window a little
        cache.add(key, 0, timeout=rate.period_s + 5)
        try:
            count = int(cache.incr(key, cost))
        except ValueError:  # expired between add and incr: start the window again
            cache.set(key, cost, timeout=rate.period_s + 5)
            count = cost
    except Exception:
        logger.warning("rate limit %s not counted: the cache is unavailable", name, exc_info=True)
        return Decision(True, 0, rate.limit, retry_after)
    return Decision(count <= rate.limit, count, rate.limit, retry_after)


def peek(name: str, identity: object, *, clock: Callable[[], float] = time.time) -> Decision:
    """The state of ``identity``'s counter without counting (is it already over?)."""
    rate = rate_for(name)
    index, retry_after = _window(rate, clock())
    if not enabled() or identity is None or identity == "":
        return Decision(True, 0, rate.limit, retry_after)
    try:
        count = int(cache.get(_key(name, str(identity), index)) or 0)
    except Exception:
        logger.warning("rate limit %s not read: the cache is unavailable", name, exc_info=True)
        return Decision(True, 0, rate.limit, retry_after)
    return Decision(count < rate.limit, count, rate.limit, retry_after)


def enforce(name: str, identity: object, *, cost: int = 1) -> None:
    """Count a hit; raise RateLimited when it went over the limit."""
    decision = hit(name, identity, cost=cost)
    if not decision.allowed:
        raise RateLimited(name, decision.retry_after_s)


def enforce_all(*limits: tuple[str, object]) -> None:
    """Count a hit on each ``(name, identity)`` in order; raise at the first one over.

    The limits after a refusal are not counted: a request refused by a user's own
    limit does not use up the organisation's allowance (nor a game session's the
    address's), while the refusing counter keeps counting, so a client that keeps
    sending stays refused.
    """
    for name, identity in limits:
        decision = hit(name, identity)
        if not decision.allowed:
            raise RateLimited(name, decision.retry_after_s)


def enforce_member(kind: str, *, user: object, organization_id: object) -> None:
    """Count a staff request of ``kind`` (``exports``, ``archives``) per user and organisation.

    The limits are ``<kind>_user`` and ``<kind>_org``: one person cannot use up a
    whole organisation's allowance alone, and many people (or API keys) together
    cannot exceed the organisation's.
    """
    enforce_all((f"{kind}_user", getattr(user, "pk", None)), (f"{kind}_org", organization_id))


def ensure_not_over(name: str, identity: object) -> None:
    """Raise RateLimited when ``identity`` already used up limit ``name`` (counts nothing)."""
    decision = peek(name, identity)
    if not decision.allowed:
        raise RateLimited(name, decision.retry_after_s)


T = TypeVar("T")


def invite_lookup(
    identity: object,
    lookup: Callable[[], T],
    *,
    limit: str = "invite_ip",
    miss_limit: str = "invite_miss_ip",
) -> T:
    """Look up a secret link (an invite token) under the guessing limits.

    Every lookup counts against ``limit``; a client that already had ``miss_limit``
    unknown tokens in the window is refused before looking, and each NotFound
    counts against ``miss_limit`` (and is raised as it came).
    """
    enforce(limit, identity)
    ensure_not_over(miss_limit, identity)
    try:
        return lookup()
    except NotFound:
        hit(miss_limit, identity)
        raise


# --- answers -----------------------------------------------------------------------------

MESSAGE = "too many requests; try again in {seconds} seconds"


class Throttled(exceptions.Throttled):
    """DRF's 429 with our message; the API's error handler adds ``Retry-After``."""

    wait: int

    def __init__(self, wait_s: int) -> None:
        # no wait given to DRF: it would append a sentence of its own to the message
        super().__init__(detail=MESSAGE.format(seconds=wait_s))
        self.wait = wait_s


def throttled(error: RateLimited) -> Throttled:
    """The DRF exception for an API view to raise: 429, the error body, ``Retry-After``."""
    return Throttled(error.retry_after_s)


def too_many_requests_page(
    request: HttpRequest,
    error: RateLimited,
    *,
    template: str = "common/rate_limited.html",
    context: dict[str, object] | None = None,
) -> HttpResponse:
    """The page people see: what happened and when to try again, status 429."""
    minutes = max(1, math.ceil(error.retry_after_s / 60))
    response = render(
        request,
        template,
        {
            "title": gettext("Too many requests"),
            "message": ngettext(
                "There were too many requests from your connection in a short time. "
                "Please wait about %(minutes)s minute and try again.",
                "There were too many requests from your connection in a short time. "
                "Please wait about %(minutes)s minutes and try again.",
                minutes,
            )
            % {"minutes": minutes},
            **(context or {}),
        },
        status=429,
    )
    response["Retry-After"] = str(error.retry_after_s)
    return response
