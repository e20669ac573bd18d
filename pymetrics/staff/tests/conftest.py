"""Staff members of each role, and browsers logged in as them, for the staff page tests.

(The organisations and the recruiter come from the root ``conftest.py``.)
"""

from __future__ import annotations

import pytest
from django.test import Client

from pymetrics.accounts.models import Organization, Role, User
from pymetrics.accounts.services import user_create
from pymetrics.accounts.tests.helpers import login_verified


def _browser(user: User) -> Client:
    """Logged in with a verified two-factor session (owners and admins need one)."""
    browser = Client()
    login_verified(browser, user)
    return browser


@pytest.fixture
def admin(organization: Organization) -> User:
    return user_create(
        email="ada@acme.example",
        password="admin horse battery",
        organization=organization,
        role=Role.ADMIN,
        full_name="Ada Admin",
    )


@pytest.fixture
def analyst(organization: Organization) -> User:
    return user_create(
        email="ann@acme.example",
        password="analyst horse battery",
        organization=organization,
        role=Role.ANALYST,
    )


@pytest.fixture
def admin_browser(admin: User) -> Client:
    return _browser(admin)


@pytest.fixture
def analyst_browser(analyst: User) -> Client:
    return _browser(analyst)


@pytest.fixture
def recruiter_browser(recruiter: User) -> Client:
    return _browser(recruiter)


@pytest.fixture
def other_browser(other_organization: Organization) -> Client:
    """The owner of another organisation: everything of this one is not found for them."""
    return _browser(
        user_create(
            email="gina@globex.example",
            password="another horse battery",
            organization=other_organization,
            role=Role.OWNER,
        )
    )
