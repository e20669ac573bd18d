"""Both reports on the real stack: server, Celery worker, PostgreSQL, Redis, Chromium.

An organisation that offers feedback reports builds norms of its own (a simulated
reference population) and invites a bot, who plays three games through the play
API; the worker extracts the metrics and infers the traits. Then:

* the candidate, in Chromium, finds the link on the thank-you page, reads the
  report (axe finds nothing serious, the stored positions are the ones shown) and
  downloads its PDF;
* a recruiter, logged in, downloads the recruiter report from the profile page: the
  PDF holds every trait and the stored numbers, and the generation is audit-logged.

A screenshot of the HTML report is saved to the artifacts folder.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from django.template.defaultfilters import floatformat
from pypdf import PdfReader

from pymetrics.accounts.models import AuditLog
from pymetrics.accounts.services import organization_create, user_create
from pymetrics.assessments.models import Attempt, AttemptState, GameSession, GameSessionState
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.games.registry import get_game
from pymetrics.scoring.labels import TRAIT_LABELS
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.selectors import current_norm_table
from pymetrics.scoring.services import norm_table_build
from tests.integration.conftest import ARTIFACTS, Services, axe_violations, staff_page, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

#: Risk tolerance (both its metrics), effort (one of two) and generosity (two of three).
GAMES = ["balloons", "easy_or_hard", "money_exchange_1"]
SCORED = ("effort", "generosity", "risk_tolerance")


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _play(services: Services, invite_token: str) -> list[int]:
    """A bot plays every game of the invitation through the HTTP play API."""
    rng = np.random.default_rng(11)
    ids = []
    with httpx.Client(base_url=services.base_url, timeout=30) as http:
        start = http.post(f"/api/v1/play/{invite_token}/start/").json()
        auth = {"Authorization": f"Bearer {start['session_token']}"}
        for entry in start["games"]:
            game_session = GameSession.objects.get(pk=entry["game_session_id"])
            game = get_game(game_session.game)
            events = game.play(game.sample_latent(rng), rng, game_session.config)
            url = f"/api/v1/play/game-sessions/{game_session.pk}/events/"
            for first in range(0, len(events), 500):
                batch = http.post(url, json={"events": events[first : first + 500]}, headers=auth)
                assert batch.status_code == 200, batch.text
            done = http.post(
                f"/api/v1/play/game-sessions/{game_session.pk}/complete/", headers=auth
            )
            assert done.status_code == 202, done.text
            ids.append(game_session.pk)
    return ids


def _download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_the_candidate_reads_their_report_and_a_recruiter_downloads_theirs(
    services: Services, browser: Any
) -> None:
    started_at = time.monotonic()
    suffix = secrets.token_hex(4)
    organization = organization_create(name="Report Org", slug=f"report-{suffix}")
    organization.feedback_reports_enabled = True
    organization.save(update_fields=["feedback_reports_enabled"])
    email, password = f"rhea-{suffix}@example.org", "correct horse battery staple"
    user_create(email=email, password=password, organization=organization, role="recruiter")
    table = norm_table_build(
        population="simulated", name="Report norms", organization=organization, players=40, seed=3
    )
    assessment = assessment_create(organization=organization, name="Report battery", games=GAMES)
    invitation = candidate_invite(
        assessment=assessment,
        name="Robin Bot",
        email=f"robin-{suffix}@example.org",
        external_id=f"bot-{suffix}",
        is_simulated=True,
    )
    session_ids = _play(services, invitation.invite_token)

    # the worker scores every game and stores the nine traits of the finished attempt
    def settled() -> bool:
        states = set(GameSession.objects.filter(pk__in=session_ids).values_list("state", flat=True))
        stored = TraitScore.objects.filter(attempt=invitation.attempt, norm_table=table)
        return states == {GameSessionState.SCORED} and stored.count() == len(TRAIT_LABELS)

    wait_until(settled, timeout=60)
    attempt = Attempt.objects.get(pk=invitation.attempt.pk)
    assert attempt.state == AttemptState.COMPLETED
    assert current_norm_table(organization_id=organization.pk) == table
    scores = {s.trait: s for s in TraitScore.objects.filter(attempt=attempt, norm_table=table)}
    assert sorted(t for t, s in scores.items() if s.scored) == list(SCORED)
    print(f"played and scored in {time.monotonic() - started_at:.1f} s")

    # --- the candidate, from the thank-you page ------------------------------------------
    page = browser.new_page(viewport={"width": 1024, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{services.base_url}/play/{invitation.invite_token}/thanks/")
    page.click("[data-testid=feedback-report-link]")
    page.wait_for_selector("[data-testid=feedback-report]")
    assert page.inner_text("h1") == "Your feedback report"
    assert "simulated candidate" in page.inner_text("[data-testid=simulated-notice]")
    for trait, score in scores.items():
        section = page.locator(f"[data-testid=trait-{trait}]")
        assert section.get_attribute("data-scored") == ("1" if score.scored else "0")
        if score.scored:
            numbers = section.locator("[data-testid=trait-numbers]").inner_text()
            assert numbers.startswith(f"Position {floatformat(score.percentile, 0)} on a scale")
            assert numbers.endswith(
                f"most likely between {floatformat(score.percentile_low, 0)} and "
                f"{floatformat(score.percentile_high, 0)}."
            )
            assert section.locator("circle[data-role=dot]").count() == 1
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "feedback-report.png"), full_page=True)
    candidate_pdf = _pdf_text(_download(page, "[data-testid=feedback-pdf-link]"))
    risk = scores["risk_tolerance"]
    assert (
        f"Position {floatformat(risk.percentile, 0)} on a scale from 0 (cautious)" in candidate_pdf
    )
    assert errors == []

    # --- the recruiter, from the candidate's profile -------------------------------------
    staff = staff_page(browser, services, email=email, password=password)
    staff.goto(f"{services.base_url}/staff/candidates/{invitation.candidate.pk}/")
    recruiter_pdf = _pdf_text(_download(staff, "[data-testid=recruiter-report-link]"))
    for label in TRAIT_LABELS.values():
        assert str(label) in recruiter_pdf
    for trait in SCORED:
        score = scores[trait]
        assert (
            f"{floatformat(score.z, 2)} {floatformat(score.z_low, 2)} \N{EN DASH} "
            f"{floatformat(score.z_high, 2)} {floatformat(score.percentile, 1)}"
        ) in recruiter_pdf
    assert f"Benchmark: norm table Report norms v{table.version}" in recruiter_pdf
    assert f"Participant bot-{suffix}" in recruiter_pdf
    (entry,) = AuditLog.objects.filter(action="report.recruiter.read")
    assert (entry.object_type, entry.object_id) == ("candidate", str(invitation.candidate.pk))
    assert staff.console_errors == []
    print(f"whole journey in {time.monotonic() - started_at:.1f} s")
