"""The Content-Security-Policy holds in a real browser: no page is refused anything.

Headless Chromium loads the candidate pages (invite, consent, lobby, a game with
jsPsych's instructions, thank-you), the staff pages with their charts and live
socket (home, dashboard, a candidate's profile), the API docs (Swagger UI) and the
admin's log-in page, and collects every CSP violation the pages report, both as
``securitypolicyviolation`` events and as console messages.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from pymetrics.assessments.models import Attempt, AttemptState, GameSession
from tests.integration.conftest import ARTIFACTS, Services, seed_demo, staff_page

pytestmark = pytest.mark.django_db(transaction=True)

#: Runs before any page script (through the DevTools protocol, so the policy does not
#: refuse it) and keeps every violation the page reports.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(
    event.violatedDirective + ' ' + (event.blockedURI || 'inline') + ' ' +
    (event.sourceFile || '') + ':' + event.lineNumber
  );
});
"""


def _watch(page: Any, seen: list[str]) -> None:
    page.add_init_script(COLLECT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            seen.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )


def _violations(page: Any, where: str, seen: list[str]) -> list[str]:
    found = [f"{where}: {v}" for v in page.evaluate("() => window.__cspViolations || []")]
    found += [f"{where}: {text}" for text in seen]
    seen.clear()
    return found


def test_candidate_staff_api_docs_and_admin_pages_run_under_the_policy(
    services: Services, browser: Any
) -> None:
    from pymetrics.accounts.services import organization_create
    from pymetrics.assessments.services import assessment_create, candidate_invite

    violations: list[str] = []
    console: list[str] = []

    # --- the candidate's pages, up to a game's instructions (jsPsych) ---
    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Org {suffix}", slug=f"org-{suffix}")
    assessment = assessment_create(organization=organization, name="CSP check", games=["balloons"])
    invitation = candidate_invite(
        assessment=assessment, name="Robin Bot", email=f"robin-{suffix}@example.org"
    )
    candidate = browser.new_page(viewport={"width": 1024, "height": 800})
    _watch(candidate, console)
    base = f"{services.base_url}/play/{invitation.invite_token}"

    response = candidate.goto(f"{base}/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    violations += _violations(candidate, "invite", console)
    candidate.click("[data-testid=invite-continue]")
    violations += _violations(candidate, "consent", console)
    candidate.check("#id_consent")
    candidate.click("[data-testid=consent-submit]")
    candidate.wait_for_selector("[data-testid=lobby-start]")
    violations += _violations(candidate, "lobby", console)
    game_session = GameSession.objects.current().get(attempt=invitation.attempt)
    candidate.goto(f"{base}/games/{game_session.pk}/")
    # the instructions' navigation and page number carry jsPsych's style attributes
    candidate.wait_for_selector("#jspsych-instructions-next")
    candidate.wait_for_selector(".jspsych-instructions-pagenum")
    # time for the event socket to open (a refused ws: URL is a connect-src violation)
    candidate.wait_for_timeout(1500)
    violations += _violations(candidate, "game", console)
    candidate.goto(f"{base}/thanks/")
    violations += _violations(candidate, "thank-you", console)

    # --- the staff pages: charts (chart.js, zoom, matrix) and the live socket ---
    demo = seed_demo(candidates=4, norm_players=20)
    staff = staff_page(browser, services, email=demo.email, password=demo.password)
    _watch(staff, console)
    staff.goto(f"{services.base_url}/staff/")
    staff.wait_for_selector("[data-testid=sparkline]")
    violations += _violations(staff, "staff home", console)
    staff.goto(f"{services.base_url}/staff/assessments/{demo.assessment.pk}/dashboard/")
    staff.wait_for_selector("canvas")
    violations += _violations(staff, "dashboard", console)
    completed = (
        Attempt.objects.filter(assessment=demo.assessment, state=AttemptState.COMPLETED)
        .order_by("pk")
        .first()
    )
    assert completed is not None
    staff.goto(f"{services.base_url}/staff/candidates/{completed.candidate_id}/")
    staff.wait_for_selector("canvas")
    violations += _violations(staff, "candidate profile", console)

    # --- Swagger UI and the admin ---
    docs = browser.new_page()
    _watch(docs, console)
    docs.goto(f"{services.base_url}/api/docs/")
    docs.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    docs.wait_for_selector(".opblock", timeout=30_000)
    violations += _violations(docs, "api docs", console)
    docs.goto(f"{services.base_url}/admin/login/")
    docs.wait_for_selector("#login-form")
    violations += _violations(docs, "admin log-in", console)

    found = sorted(set(violations))
    (ARTIFACTS / "csp-violations.txt").write_text("\n".join(found) + "\n", encoding="utf-8")
    assert found == []
