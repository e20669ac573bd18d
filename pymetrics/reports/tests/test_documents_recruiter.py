"""The recruiter report: its PDF holds the stored numbers and their versions; access and audit.

Numbers are the hand-worked ones of :mod:`pymetrics.reports.tests.test_documents_world`.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pypdfium2
import pytest
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from pymetrics.accounts.models import AuditLog, Role, User
from pymetrics.accounts.services import user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.reports.documents.recruiter import chart_axis, chart_x, percentile_text
from pymetrics.reports.documents.selectors import recruiter_report_read
from pymetrics.reports.tests.test_documents_world import (
    PIPELINE_RISK,
    active_fit,
    pipeline_candidate,
    seeded_candidate,
)
from pymetrics.scoring.models import MetricSet, TraitScore

#: Between an interval's two ends.
TO = "\N{EN DASH}"
TRAIT_LABELS = (
    "Attention",
    "Decision making",
    "Effort",
    "Emotion",
    "Fairness",
    "Focus",
    "Generosity",
    "Learning",
    "Risk tolerance",
)


@pytest.fixture
def piped(scored_play, django_capture_on_commit_callbacks):
    return pipeline_candidate(scored_play, django_capture_on_commit_callbacks)


@pytest.fixture
def staff(client, recruiter):
    client.force_login(recruiter)
    return client


def _url(candidate_id: int) -> str:
    return reverse("reports:recruiter-pdf", args=[candidate_id])


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


# --- geometry and numbers ----------------------------------------------------------------


def test_the_trait_chart_maps_the_axis_onto_8_to_232():
    # an axis from -3 to 3 over 224 units after an 8-unit margin
    assert [chart_x(z, 3.0) for z in (-3.0, 0.0, 1.5, 3.0, 5.0)] == [
        8.0,
        120.0,
        176.0,
        232.0,
        232.0,
    ]
    assert [tick["z"] for tick in chart_axis(4.0)] == [-4, -3, -2, -1, 0, 1, 2, 3, 4]


def test_percentiles_print_to_a_tenth_and_beyond_the_table_as_such():
    assert [percentile_text(12.5), percentile_text(0.0), percentile_text(None)] == [
        "12.5",
        "0.0",
        "—",
    ]
    assert [percentile_text(1.0, -1), percentile_text(99.0, 1)] == ["<1", ">99"]


# --- the PDF -----------------------------------------------------------------------------


def test_the_pdf_holds_every_trait_with_the_stored_numbers_and_their_benchmark(staff, piped):
    response = staff.get(_url(piped.candidate.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="recruiter-report-candidate-{piped.candidate.pk}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    reader, text = _pdf_text(response.content)
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (595.28, 841.89), abs=0.01
        )
    for label in TRAIT_LABELS:
        assert label in text
    # risk tolerance as stored, to the report's precision (hand-worked: see the world)
    risk = TraitScore.objects.get(attempt=piped.attempt, trait="risk_tolerance")
    assert (risk.z, risk.z_low, risk.z_high) == pytest.approx(
        (PIPELINE_RISK["z"], PIPELINE_RISK["z_low"], PIPELINE_RISK["z_high"]), abs=0.001
    )
    stored = [
        floatformat(value, digits)
        for value, digits in (
            (risk.z, 2),
            (risk.z_low, 2),
            (risk.z_high, 2),
            (risk.percentile, 1),
            (risk.percentile_low, 1),
            (risk.percentile_high, 1),
        )
    ]
    assert stored == ["-1.00", "-1.90", "-0.10", "20.0", "0.0", "60.0"]
    assert (
        f"Risk tolerance cautious ← → risk-seeking -1.00 -1.90 {TO} -0.10 20.0 0.0 {TO} 60.0"
        in text
    )
    # the unscored ones say why, in the stored words
    assert (
        "Not scored: 0 of 2 metrics present (needs at least 1): missing digits.forward_span" in text
    )
    # the benchmark: name, version, population, simulated
    assert (
        "Benchmark: norm table Hand norms v1, simulated reference population (bots), 5 people; "
        "trait map v1." in text
    )
    assert "simulated norms" in text
    # the candidate as the profile page names them
    assert "Participant cand-001" in text
    assert "Name Cara Candidate" in text
    assert "Assessment Graduates 2027" in text
    assert f"Attempt #{piped.attempt.pk}, Completed" in text


def test_the_pdf_lists_each_game_s_metrics_flags_and_the_versions_behind_them(staff, piped):
    _, text = _pdf_text(staff.get(_url(piped.candidate.pk)).content)

    # 1.5 adjusted pumps among 1..5: z = -1.5 / sqrt(2.5) = -0.95, the 12.5th percentile;
    # block 1 (1.5) lies below the 1st percentile of 2..6
    assert "adjusted_pumps 1.50 -0.95 12.5" in text
    assert "bursts 1 0.24 62.5" in text
    assert "adjusted_pumps_block_1 1.50 -1.58 <1" in text
    assert "adjusted_pumps_block_2 — — —" in text
    assert "Balloons Scored · Browser · extractor v1" in text
    assert "No quality flags." in text
    assert "No job-fit model has scored this candidate." in text
    # versions: the table, the map, each trait score's extractors, each session's extractor
    session = GameSession.objects.get(attempt=piped.attempt)
    assert "Norm table Hand norms v1 (id " in text
    assert "Trait map v1" in text
    assert "Risk tolerance v1 Balloons v1 0.70 1/2" in text
    assert f"Balloons {session.pk} v1" in text
    assert "Report made " in text
    assert "Software Django Pymetrics" in text
    assert "Page 1 of 2" in text
    assert "Page 2 of 2" in text


def test_the_pdf_s_first_page_renders_to_an_a4_image_that_is_not_blank(staff, piped):
    content = staff.get(_url(piped.candidate.pk)).content

    document = pypdfium2.PdfDocument(content)
    image = document[0].render(scale=1).to_pil().convert("L")
    document.close()

    # one pixel per point, the page's 595.28 x 841.89 points rounded up
    assert image.size == (596, 842)
    dark = np.asarray(image) < 160  # ink: text (grey included), lines, fills
    assert 0.01 < float(dark.mean()) < 0.2
    assert dark[:45].any()  # the running header
    assert dark[-60:].any()  # the footer with the page number


def test_fit_flags_invalidation_and_simulation_are_all_said(staff, organization):
    reported = seeded_candidate(organization, is_simulated=True)
    active_fit(reported, score=72.25, simulated=True)
    balloons = GameSession.objects.get(attempt=reported.attempt, game="balloons")
    MetricSet.objects.create(
        game_session=balloons,
        game="balloons",
        extractor_version=2,
        values={"adjusted_pumps": 7.25},
        quality_flags=["focus_lost"],
    )
    GameSession.objects.filter(pk=balloons.pk).update(invalidated_at=timezone.now())

    _, text = _pdf_text(staff.get(_url(reported.candidate.pk)).content)

    assert "Simulated candidate: a bot with known latent parameters" in text
    assert "Participant seed-001 simulated" in text
    # fit: 72.25 to a tenth, the threshold, the model, trained on bots
    assert "Analyst 72.3 60 passes Analyst v2 simulated: trained on simulated candidates" in text
    assert "Analyst Analyst v2 2 " in text  # the versions table: model, version, id
    # the flag with its reason, the reviewer's invalidation
    assert (
        "focus_lost The game window was hidden or out of focus for more than 10% of the game"
        in text
    )
    assert "Invalidated by a reviewer on " in text
    assert "Balloons Scored · Browser · extractor v2" in text
    # seeded scores against a real norm table
    assert (
        "Benchmark: norm table Acme candidates 2026 v3, the organisation's completed "
        "candidates, 250 people; trait map v1." in text
    )
    assert (
        f"Risk tolerance cautious ← → risk-seeking 0.93 0.03 {TO} 1.83 82.5 61.0 {TO} 95.0" in text
    )


def test_the_report_reads_the_profile_and_the_stored_versions(piped, organization):
    read = recruiter_report_read(organization=organization, candidate_id=piped.candidate.pk)

    assert read.candidate == piped.candidate
    assert read.profile["attempt"]["id"] == piped.attempt.pk
    versions = read.trait_versions["risk_tolerance"]
    assert (versions.trait_map, versions.norm_table_id, versions.extractors) == (
        1,
        piped.norm_table.pk,
        {"balloons": 1},
    )
    assert read.invalidated == {}


# --- access, isolation, audit ------------------------------------------------------------


def test_every_generation_is_audit_logged_without_personal_data(staff, piped, recruiter):
    staff.get(_url(piped.candidate.pk))
    staff.get(_url(piped.candidate.pk))

    entries = AuditLog.objects.filter(action="report.recruiter.read").order_by("pk")
    assert [(e.actor, e.object_type, e.object_id) for e in entries] == [
        (recruiter, "candidate", str(piped.candidate.pk))
    ] * 2
    assert entries[0].details == {
        "format": "pdf",
        "attempt": piped.attempt.pk,
        "norm_table": piped.norm_table.pk,
    }
    assert "Cara" not in str(entries[0].details)


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.ANALYST, Role.RECRUITER])
def test_every_role_reads_the_report(client, organization, piped, role):
    user = user_create(
        email=f"{role}@acme.example",
        password="any horse battery",
        organization=organization,
        role=role,
    )
    login_verified(client, user)

    assert client.get(_url(piped.candidate.pk)).status_code == 200


def test_another_organisation_s_candidate_is_a_404_like_an_unknown_one(staff, other_organization):
    foreign = assessment_create(organization=other_organization, name="Theirs", games=["cards"])
    stranger = candidate_invite(assessment=foreign, name="Gina Secret", external_id="g-1").candidate

    theirs = staff.get(_url(stranger.pk))
    unknown = staff.get(_url(stranger.pk + 1000))

    assert theirs.status_code == unknown.status_code == 404
    assert theirs.templates[0].name == "staff/not_found.html"
    assert "Gina Secret" not in theirs.content.decode()
    assert not AuditLog.objects.filter(action="report.recruiter.read").exists()


def test_anonymous_visitors_are_sent_to_log_in_and_outsiders_refused(client, piped):
    anonymous = client.get(_url(piped.candidate.pk))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("staff:login"))

    client.force_login(User.objects.create_user(email="nobody@example.org", password="x-123456789"))
    outsider = client.get(_url(piped.candidate.pk))
    assert outsider.status_code == 403
    assert outsider.templates[0].name == "staff/no_organization.html"


def test_the_report_only_answers_reads(staff, piped):
    assert staff.post(_url(piped.candidate.pk)).status_code == 405


def test_the_profile_page_links_the_report(staff, piped):
    page = staff.get(reverse("staff:candidate-profile", args=[piped.candidate.pk]))

    assert page.status_code == 200
    assert (
        f'<a class="button" href="{_url(piped.candidate.pk)}" data-testid="recruiter-report-link">'
        "Recruiter report (PDF)</a>" in page.content.decode()
    )
