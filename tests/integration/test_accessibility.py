"""WCAG 2.1 AA on the candidate's pages: axe-core finds nothing serious or critical.

axe-core (from npm, served to the page by the test, not fetched) runs its WCAG 2.0
and 2.1 A/AA rules on the invite, consent, lobby and thank-you pages and on the
first instructions page of every game in the catalogue, in headless Chromium.
Findings of minor or moderate impact are reported in the failure message of the
others but do not fail the test.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.games.registry import game_keys
from tests.integration.conftest import Services, axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_candidate_pages_and_every_game_s_instructions_pass_axe(
    services: Services, browser
) -> None:
    from pymetrics.accounts.services import organization_create
    from pymetrics.assessments.services import assessment_create, candidate_invite

    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Org {suffix}", slug=f"org-{suffix}")
    assessment = assessment_create(
        organization=organization, name="Every game", games=list(game_keys())
    )
    invitation = candidate_invite(
        assessment=assessment, name="Robin Bot", email=f"robin-{suffix}@example.org"
    )
    page = browser.new_page(viewport={"width": 1024, "height": 800})
    found: dict[str, list[dict[str, Any]]] = {}

    page.goto(f"{services.base_url}/play/{invitation.invite_token}/")
    found["invite"] = axe_violations(page)
    page.click("[data-testid=invite-continue]")
    found["consent"] = axe_violations(page)
    page.check("#id_consent")
    page.click("[data-testid=consent-submit]")
    page.wait_for_selector("[data-testid=lobby-start]")
    found["lobby"] = axe_violations(page)
    sessions = GameSession.objects.current().filter(attempt=invitation.attempt).order_by("position")
    for game_session in sessions:
        page.goto(f"{services.base_url}/play/{invitation.invite_token}/games/{game_session.pk}/")
        page.wait_for_selector("#jspsych-instructions-next")
        found[f"{game_session.game} instructions"] = axe_violations(page)
    page.goto(f"{services.base_url}/play/{invitation.invite_token}/thanks/")
    found["thank-you"] = axe_violations(page)

    assert {where: items for where, items in found.items() if items} == {}
