"""Fixtures shared by every test: organisations, staff users, API clients, candidates."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from pymetrics.accounts.models import Organization, User
from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.assessments.models import Assessment
from pymetrics.assessments.services import Invitation, assessment_create, candidate_invite


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    """Every test starts and ends with an empty cache.

    Cached reads are invalidated by version bumps after commit; a test that never
    commits (SQLite rolls back and reuses ids) could otherwise read what an earlier
    test cached for the same id. With Redis, ``clear`` empties only this run's own
    database.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request: pytest.FixtureRequest) -> Any:
    """Unit tests run Celery tasks in-process, even when a broker is configured.

    Only the integration tier talks to a real worker (through its own server
    process), so a unit test never leaves messages on a shared broker.
    """
    from config.celery import app

    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def admin_client(client: Any, admin_user: User) -> Any:
    """pytest-django's operator client, past the second factor operators must pass."""
    from pymetrics.accounts.tests.helpers import login_verified

    login_verified(client, admin_user)
    return client


@pytest.fixture
def organization(db: None) -> Organization:
    return organization_create(name="Acme Hiring", slug="acme")


@pytest.fixture
def other_organization(db: None) -> Organization:
    return organization_create(name="Globex Research", slug="globex")


@pytest.fixture
def recruiter(organization: Organization) -> User:
    return user_create(
        email="rita@acme.example", password="correct horse battery", organization=organization
    )


@pytest.fixture
def staff_client(recruiter: User, organization: Organization) -> APIClient:
    """An API client authenticated with an API key of ``recruiter`` in ``organization``."""
    client = APIClient()
    issued = api_key_create(
        user=recruiter, organization=organization, scopes=["read", "write", "export"]
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.plaintext}")
    return client


@pytest.fixture
def other_staff_client(other_organization: Organization) -> APIClient:
    user = user_create(
        email="gina@globex.example",
        password="another horse battery",
        organization=other_organization,
    )
    client = APIClient()
    key = api_key_create(user=user, scopes=["read", "write", "export"]).plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def assessment(organization: Organization) -> Assessment:
    return assessment_create(organization=organization, name="Graduates 2027", games=["balloons"])


@pytest.fixture
def make_invitation(assessment: Assessment) -> Callable[..., Invitation]:
    def make(**overrides: Any) -> Invitation:
        values: dict[str, Any] = {"email": "cara@example.org", "name": "Cara Candidate"}
        values.update(overrides)
        return candidate_invite(assessment=assessment, **values)

    return make


@pytest.fixture
def invitation(make_invitation: Callable[..., Invitation]) -> Invitation:
    return make_invitation(external_id="cand-001")


class LiveListener:
    """Staff-socket stand-ins: the live notices of chosen groups, as a socket gets them.

    A real hub in an event loop on its own thread, in-process delivery (as in the
    embedded default): ``live_publish`` from the test's thread reaches it the way
    it reaches a socket server's members.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._members: list[tuple[str, Any]] = []

    def listen(self, group: str) -> list[dict[str, Any]]:
        """Join ``group``; the returned list fills with its notices (call flush first)."""
        from pymetrics.common.live import live_join

        notices: list[dict[str, Any]] = []

        class Member:
            async def live_notice(self, text: str) -> None:
                notices.append(json.loads(text))

        member = Member()
        asyncio.run_coroutine_threadsafe(live_join(group, member), self.loop).result(5)
        self._members.append((group, member))
        return notices

    def flush(self) -> None:
        """Wait until what was published so far has been delivered."""
        for _ in range(3):  # the hand-over callback, then the delivery task
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(5)

    def close(self) -> None:
        from pymetrics.common.live import live_leave

        for group, member in self._members:
            asyncio.run_coroutine_threadsafe(live_leave(group, member), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture
def live(settings: Any) -> Iterator[LiveListener]:
    settings.PYMETRICS_LIVE_REDIS_URL = None
    listener = LiveListener()
    yield listener
    listener.close()
