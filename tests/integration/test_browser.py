"""A recruiter invites a candidate, whose browser plays balloons through the real UI.

Headless Chromium (Debian's package, through Playwright) against the real ASGI
server, PostgreSQL, Redis and a Celery worker. The candidate's key presses follow
the balloons bot's plan, so the metrics the worker stores can be predicted exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from pymetrics.accounts.services import organization_create, user_create
from pymetrics.assessments.models import GameSession
from pymetrics.games.balloons.bot import Latent, planned_pumps
from pymetrics.games.registry import get_game
from pymetrics.scoring.models import MetricSet
from tests.integration.conftest import ARTIFACTS, Services, back_to_lobby, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_EMAIL = "rosa@recruiting.example"
STAFF_PASSWORD = "a long and careful passphrase"


def _expected_trials(plan: list[int], burst_points: list[int]) -> pd.DataFrame:
    """The trial table the plan produces: a balloon bursts on the pump reaching its point."""
    pumps = [min(p, b) for p, b in zip(plan, burst_points, strict=True)]
    burst = [int(p >= b) for p, b in zip(plan, burst_points, strict=True)]
    return pd.DataFrame(
        {"session": 1, "trial": range(1, len(plan) + 1), "pumps": pumps, "burst": burst}
    )


def test_recruiter_invites_and_candidate_plays_balloons_in_the_browser(
    services: Services, browser, capsys
) -> None:
    organization = organization_create(name="Recruiting Co", slug="recruiting")
    user_create(
        email=STAFF_EMAIL, password=STAFF_PASSWORD, organization=organization, role="recruiter"
    )
    base = services.base_url
    console_errors: list[str] = []

    # The recruiter logs in, creates an assessment and invites a candidate.
    staff = browser.new_page(viewport={"width": 1280, "height": 900})
    staff.goto(f"{base}/staff/login/")
    staff.fill("#id_username", STAFF_EMAIL)
    staff.fill("#id_password", STAFF_PASSWORD)
    staff.click("[data-testid=login-submit]")
    staff.click("[data-testid=new-assessment]")
    staff.fill("#id_name", "Analysts 2027")
    staff.check("input[name=games][value=balloons]")
    staff.click("[data-testid=assessment-submit]")
    assert staff.inner_text("[data-testid=assessment-name]") == "Analysts 2027"
    staff.fill("#id_name", "Casey Candidate")
    staff.fill("#id_email", "casey@example.org")
    staff.fill("#id_external_id", "ats-4711")
    staff.click("[data-testid=invite-submit]")
    invite_url = staff.input_value("[data-testid=invite-url]")
    assert invite_url.startswith(f"{base}/play/")

    # The candidate opens the link, consents and reaches the game.
    candidate = browser.new_page(viewport={"width": 1024, "height": 800})
    candidate.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    candidate.goto(invite_url)
    candidate.click("[data-testid=invite-continue]")
    candidate.check("#id_consent")
    candidate.click("[data-testid=consent-submit]")
    candidate.click("[data-testid=lobby-start]")
    for _ in range(3):  # three pages of instructions
        candidate.click("#jspsych-instructions-next")
    # Practice balloon: collect straight away, then go on.
    candidate.wait_for_selector("[data-testid=balloon-collect]:not([disabled])")
    candidate.keyboard.press("Enter")
    candidate.click("[data-testid=balloon-continue]")
    candidate.click("[data-testid=game-ready]")

    game_session = GameSession.objects.get(attempt__candidate__external_id="ats-4711")
    burst_points = game_session.config["burst_points"]
    latent = Latent(target_pumps=9.0, pump_sd=3.0, pump_interval_ms=200.0)
    plan = planned_pumps(latent, np.random.default_rng(11), len(burst_points))
    for balloon, planned in enumerate(plan, start=1):
        candidate.wait_for_function(
            "n => document.querySelector('[data-testid=balloon-counter]')?.textContent"
            " === `Balloon ${n} of 30` && !document.querySelector("
            "'[data-testid=balloon-collect]').disabled",
            arg=balloon,
        )
        for _ in range(min(planned, burst_points[balloon - 1])):
            candidate.keyboard.press("Space")
        if planned < burst_points[balloon - 1]:
            candidate.keyboard.press("Enter")
        if balloon == 5:
            candidate.screenshot(path=str(ARTIFACTS / "balloons-game.png"))

    # Back in the lobby when everything is saved; the candidate finishes.
    back_to_lobby(candidate, "balloons", timeout_ms=30_000)
    candidate.click("[data-testid=lobby-finish]", timeout=30_000)
    assert "Thank you" in candidate.inner_text("[data-testid=thanks]")
    assert console_errors == []

    # The worker scores the session; the metrics equal the plan's, computed by hand rules.
    wait_until(lambda: MetricSet.objects.filter(game_session=game_session).exists(), timeout=60)
    stored = MetricSet.objects.get(game_session=game_session)
    game = get_game("balloons")
    expected = game.extract(_expected_trials(plan, burst_points)).session_values(1)
    assert stored.values == pytest.approx(expected)
    assert stored.values["bursts"] == sum(p >= b for p, b in zip(plan, burst_points, strict=True))
    assert stored.quality_flags == []

    # The recruiter sees them on the assessment page ...
    staff.reload()
    row = staff.locator("[data-testid=candidate-row][data-participant=ats-4711]")
    assert "Casey Candidate" in row.inner_text()
    adjusted = row.locator("td[data-metric-index='0']").inner_text()
    assert float(adjusted) == pytest.approx(round(expected["adjusted_pumps"], 2))
    staff.screenshot(path=str(ARTIFACTS / "staff-assessment.png"), full_page=True)

    # ... and in the metrics export.
    call_command("export_metrics", "--org", "recruiting", "--game", "balloons")
    exported = capsys.readouterr().out.splitlines()
    assert exported[0] == "participant,game,metric,value"
    assert f"ats-4711,balloons,bursts,{int(expected['bursts'])}" in exported
    assert len(exported) == 1 + len(expected)
