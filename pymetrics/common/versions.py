"""Version counters of cached reads: bumped by the writes that change what they show.

Cached analytics (dashboards, norms, API reads) are stored under keys that embed
the current version of every *scope* they depend on (``org:7``, ``assessment:12``,
``candidate:3051``). A write that changes what a scope shows calls :func:`bump`
for it, explicitly, in the service that writes (no signals); the next read
computes a new key, so nothing stale is ever served after the write commits, and
old entries simply expire. Versions live in the default cache (Redis in
production, shared by every process; local memory in the embedded default) and
never expire; a lost counter (a Redis restart) starts again from 0, which is a
new key too, because a restart also lost the entries.

The bump happens after the write commits (``transaction.on_commit``): a reader that
computed from the old rows between the bump and the commit would otherwise cache
them under the new version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

#: Prefix of the version counters' cache keys.
VERSION_KEY_PREFIX = "version:"
#: Shared norm tables (no organisation): whatever shows trait scores depends on it.
NORMS_SCOPE = "norms"


def organization_scope(organization_id: int) -> str:
    return f"org:{organization_id}"


def organization_norms_scope(organization_id: int) -> str:
    """The organisation's own norm tables: what a candidate's or an assessment's
    scores are read against. Apart from ``org:<id>`` so that inviting or starting a
    candidate does not make every other candidate's cached detail stale."""
    return f"norms:org:{organization_id}"


def assessment_scope(assessment_id: int) -> str:
    return f"assessment:{assessment_id}"


def candidate_scope(candidate_id: int) -> str:
    return f"candidate:{candidate_id}"


def versions(scopes: Iterable[str]) -> str:
    """The current versions of ``scopes`` as one key part, e.g. ``"3.0.12"``."""
    names = list(scopes)
    found = cache.get_many([VERSION_KEY_PREFIX + name for name in names])
    return ".".join(str(found.get(VERSION_KEY_PREFIX + name, 0)) for name in names)


def _bump_now(scopes: tuple[str, ...]) -> None:
    for name in scopes:
        key = VERSION_KEY_PREFIX + name
        try:
            try:
                cache.incr(key)
            except ValueError:  # never bumped (or lost): start it
                if not cache.add(key, 1, timeout=None):
                    cache.incr(key)
        except Exception:  # a cache outage must not fail the write that was stored
            logger.warning("could not bump cache version %s", name, exc_info=True)


def bump(*scopes: str) -> None:
    """Invalidate every cached read of ``scopes`` once the current transaction commits."""
    if scopes:
        transaction.on_commit(lambda: _bump_now(scopes))
