"""Candidates' data rights on the real stack.

Retention on schedule: a real Celery beat sends ``privacy.enforce_retention`` to the
real worker, which erases the candidate past the organisation's period, only them.
Beat runs as a subprocess with the services' environment and the job's interval
shortened to 2 seconds (``PYMETRICS_RETENTION_INTERVAL_S``), its schedule file in a
temporary folder; it is stopped (SIGTERM) before the test ends.

Then an admin in Chromium: the privacy settings, a candidate's data export built by
the worker and followed by the profile's script until its link downloads the zip,
and the erasure behind its confirmation page (pages checked with axe-core).
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from pymetrics.accounts.models import AuditLog, Organization, Role
from pymetrics.accounts.services import organization_create, user_create
from pymetrics.assessments.models import Attempt, Candidate, ConsentRecord, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_consent,
    attempt_start,
    candidate_invite,
)
from pymetrics.events.models import Event
from pymetrics.privacy.models import ErasureRecord
from tests.integration.conftest import (
    ARTIFACTS,
    ROOT,
    Services,
    axe_violations,
    staff_page,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL_S = 2


@dataclass
class Beat:
    process: subprocess.Popen[bytes]
    log: Path

    def sent(self) -> int:
        """How many times beat has sent the retention task so far."""
        return self.log.read_text().count("Sending due task enforce-retention")


@pytest.fixture
def beat(services: Services, tmp_path: Path) -> Iterator[Beat]:
    log = ARTIFACTS / "beat-retention.log"
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
            "--pidfile=",
        ],
        cwd=ROOT,
        env={**services.env, "PYMETRICS_RETENTION_INTERVAL_S": str(INTERVAL_S)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    running = Beat(process=process, log=log)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _candidate_last_active(organization: Organization, label: str, days_ago: int) -> Candidate:
    """A candidate who consented, started and sent events ``days_ago`` days ago."""
    assessment = assessment_create(organization=organization, name=label, games=["balloons"])
    invitation = candidate_invite(
        assessment=assessment, name=f"{label} person", email=f"{label}@example.org"
    )
    attempt_consent(attempt=invitation.attempt, accommodations={})
    attempt_start(attempt=invitation.attempt)
    when = timezone.now() - timedelta(days=days_ago)
    session = GameSession.objects.get(attempt=invitation.attempt)
    Event.objects.bulk_create(
        Event(
            game_session=session,
            seq=seq,
            t=100.0 * seq,
            type="pump",
            data={"balloon": 1, "pumps": seq},
            received_at=when,
        )
        for seq in range(1, 4)
    )
    candidate = invitation.candidate
    Candidate.objects.filter(pk=candidate.pk).update(created_at=when, consent_at=when)
    Attempt.objects.filter(pk=invitation.attempt.pk).update(
        created_at=when, started_at=when, invite_expires_at=when + timedelta(days=30)
    )
    GameSession.objects.filter(pk=session.pk).update(created_at=when, started_at=when)
    ConsentRecord.objects.filter(candidate=candidate).update(given_at=when)
    return candidate


def test_beat_erases_the_candidate_past_retention_on_schedule_and_only_them(
    services: Services, beat: Beat
) -> None:
    # given an organisation keeping data 30 days, one candidate last active 40 days
    # ago and one 5 days ago
    organization = organization_create(name="Retention Org", slug="retention-org")
    Organization.objects.filter(pk=organization.pk).update(retention_days=30)
    old = _candidate_last_active(organization, "old", days_ago=40)
    recent = _candidate_last_active(organization, "recent", days_ago=5)

    # when beat sends the job every 2 seconds to the worker
    wait_until(lambda: not Candidate.objects.filter(pk=old.pk).exists(), timeout=60)

    # then the old candidate is erased by the platform, with everything about them
    record = ErasureRecord.objects.get(organization=organization)
    assert (record.reason, record.erased_by_id) == ("retention", None)
    assert record.rows_removed == {
        "assessments.Attempt": 1,
        "assessments.Candidate": 1,
        "assessments.ConsentRecord": 2,
        "assessments.GameSession": 1,
        "events.Event": 3,
    }
    assert not Event.objects.filter(game_session__attempt__candidate_id=old.pk).exists()
    entry = AuditLog.objects.get(action="candidate.erase")
    assert (entry.object_id, entry.actor_id, entry.details["reference"]) == (
        str(old.pk),
        None,
        record.reference,
    )
    # and the later runs go on: a candidate found past the period later is erased by
    # one of them, while the recent one stays and nobody is erased twice
    late = _candidate_last_active(organization, "late", days_ago=40)
    wait_until(lambda: not Candidate.objects.filter(pk=late.pk).exists(), timeout=60)
    assert Candidate.objects.filter(pk=recent.pk).exists()
    assert Event.objects.filter(game_session__attempt__candidate_id=recent.pk).count() == 3
    assert ErasureRecord.objects.filter(organization=organization).count() == 2
    assert AuditLog.objects.filter(action="candidate.erase").count() == 2

    # beat stops cleanly
    beat.process.send_signal(signal.SIGTERM)
    assert beat.process.wait(timeout=15) == 0
    assert beat.sent() >= 2  # one run erased the first, a later one the second


def test_an_admin_exports_then_erases_a_candidate_in_the_browser(
    services: Services, browser: Any
) -> None:
    # given an admin and a candidate who played recently
    organization = organization_create(name="Privacy Org", slug="privacy-org")
    password = "privacy horse battery staple"
    user_create(
        email="ada@privacy.example",
        password=password,
        organization=organization,
        role=Role.ADMIN,
        full_name="Ada Admin",
    )
    candidate = _candidate_last_active(organization, "browsed", days_ago=1)
    page = staff_page(browser, services, email="ada@privacy.example", password=password)

    # the settings: a retention period saved, the page accessible
    page.goto(f"{services.base_url}/staff/privacy/settings/")
    assert axe_violations(page) == []
    page.fill("#id_retention_days", "30")
    page.click("[data-testid=privacy-settings-submit]")
    page.wait_for_selector("text=Privacy settings saved.")
    assert Organization.objects.get(pk=organization.pk).retention_days == 30

    # the export: requested on the profile, built by the worker, followed by the script
    page.goto(f"{services.base_url}/staff/candidates/{candidate.pk}/")
    panel = page.wait_for_selector("[data-testid=privacy-panel]")
    assert panel is not None
    assert len(page.query_selector_all("[data-testid=consent-row]")) == 2
    page.click("[data-testid=archive-request]")
    page.wait_for_selector("[data-testid=archive-download]", state="visible", timeout=30_000)
    with page.expect_download() as download_info:
        page.click("[data-testid=archive-download]")
    zipped = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert zipped.namelist()[0] == "README.txt"
    assert len(zipped.read("events.jsonl").decode().splitlines()) == 3
    assert AuditLog.objects.filter(action="candidate.data_export.download").count() == 1

    # the erasure: confirmed on its own page, then the home names the reference
    page.click("[data-testid=erase-link]")
    page.wait_for_selector("[data-testid=erase-confirm]")
    assert axe_violations(page) == []
    page.check("input[name=reason][value=candidate_request]")
    page.check("#id_confirm")
    page.click("[data-testid=erase-submit]")
    wait_until(lambda: ErasureRecord.objects.filter(organization=organization).exists())
    record = ErasureRecord.objects.get(organization=organization)
    page.wait_for_selector(f"text=Erasure reference: {record.reference}")
    assert not Candidate.objects.filter(pk=candidate.pk).exists()
    assert record.files_removed == 1
    assert page.console_errors == []
