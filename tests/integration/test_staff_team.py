"""The team and API keys pages in Chromium against the real server: axe finds nothing
serious, a new member sets their password through the link their owner passed on,
and a key made on the page works against the API within its scopes, shown once."""

from __future__ import annotations

import secrets

import httpx
import pytest
from django.urls import reverse

from tests.integration.conftest import axe_violations, staff_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_adds_a_member_and_makes_an_api_key(services, browser) -> None:
    from pymetrics.accounts.models import ApiKey, Role, User
    from pymetrics.accounts.services import organization_create, user_create

    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Team {suffix}", slug=f"team-{suffix}")
    email, password = f"olga-{suffix}@example.org", "correct horse battery staple"
    user_create(email=email, password=password, organization=organization, role=Role.OWNER)
    page = staff_page(browser, services, email=email, password=password)
    found = {}

    # the team page, then a new member: the one-time link to pass on
    page.goto(services.base_url + reverse("staff:team"))
    page.wait_for_selector("[data-testid=member-add-form]")
    found["team"] = axe_violations(page)
    newcomer = f"nia-{suffix}@example.org"
    page.fill("#id_email", newcomer)
    page.select_option("#id_role", "analyst")
    page.click("[data-testid=member-add-submit]")
    link = page.wait_for_selector("[data-testid=welcome-link]").get_attribute("value")
    found["team with a welcome link"] = axe_violations(page)
    assert link is not None
    assert link.startswith(services.base_url + "/staff/welcome/")

    # an API key that may read only: shown once, works for reads, not for writes
    page.goto(services.base_url + reverse("staff:api-keys"))
    found["api keys"] = axe_violations(page)
    page.fill("#id_name", "Reporting")
    page.click("[data-testid=api-key-submit]")
    key = page.wait_for_selector("[data-testid=new-api-key]").get_attribute("value")
    found["new api key"] = axe_violations(page)
    assert key is not None
    headers = {"Authorization": f"Token {key}"}
    read = httpx.get(f"{services.base_url}/api/v1/assessments/", headers=headers, timeout=30)
    write = httpx.post(
        f"{services.base_url}/api/v1/assessments/",
        headers=headers,
        json={"name": "Nope", "games": ["balloons"]},
        timeout=30,
    )
    assert (read.status_code, read.json()) == (200, [])
    assert (write.status_code, write.json()["error"]["code"]) == (403, "missing_scope")
    assert ApiKey.objects.get(user__email=email).scopes == ["read"]
    page.reload()
    assert page.locator("[data-testid=new-api-key]").count() == 0

    # the new member opens the link and chooses a password
    welcome = browser.new_page()
    welcome.goto(link)
    welcome.wait_for_selector("[data-testid=welcome-form]")
    found["welcome"] = axe_violations(welcome)
    welcome.fill("#id_new_password1", "a brand new horse 42")
    welcome.fill("#id_new_password2", "a brand new horse 42")
    welcome.click("[data-testid=welcome-submit]")
    welcome.wait_for_selector("[data-testid=login-submit]")
    assert User.objects.get(email=newcomer).check_password("a brand new horse 42")

    assert {where: items for where, items in found.items() if items} == {}
    assert page.console_errors == []
