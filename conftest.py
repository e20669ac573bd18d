"""Fixtures shared by every test: organisations, staff users, API clients, candidates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from pymetrics.accounts.models import Organization, User
from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.assessments.models import Assessment
from pymetrics.assessments.services import Invitation, assessment_create, candidate_invite


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
    issued = api_key_create(user=recruiter, organization=organization)
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
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(user=user).plaintext}")
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
