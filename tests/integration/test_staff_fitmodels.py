"""The job-fit pages in Chromium against the real server, Celery worker, PostgreSQL and Redis.

An owner defines a role on the page, names its 150 incumbents by external id,
trains a model (the worker trains it; the page follows the job's progress),
reads the version's cross-validation and bias audit (charts drawn with the
stored figures), activates it (the worker scores the 400 applicants), then trains
a second version and runs an A/B test of the two from the A/B page until version B
wins. An analyst scans a game's sessions from the review queue (the worker runs the
scan) and invalidates a machine's session. Every page passes axe and logs no
console error.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.integration.conftest import (
    ARTIFACTS,
    axe_violations,
    chart_points,
    staff_page,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

INCUMBENTS, APPLICANTS = 150, 400
EMAIL, PASSWORD = "olga@roles.example", "correct horse battery staple"


def _train_from_the_role_page(page: Any) -> str:
    """Click "Train a new version", follow the job to the end; the version page's URL."""
    page.click('[data-testid="train-button"]')
    page.wait_for_selector('[data-testid="training-job"]')
    page.wait_for_selector('[data-testid="training-job"][data-state="succeeded"]', timeout=180_000)
    link = page.locator('[data-role="version-link"]')
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href
    return href


def test_an_owner_defines_trains_audits_and_activates_a_role(services, browser):
    from django.db.models import Count

    from pymetrics.accounts.models import Role
    from pymetrics.accounts.services import organization_create, user_create
    from pymetrics.fitmodels.models import (
        ABTest,
        FitModelVersion,
        FitScore,
        JobProfile,
        ModelStatus,
    )
    from pymetrics.fitmodels.tests.world import build_role_world

    organization = organization_create(name="Roles Org", slug="roles")
    user_create(email=EMAIL, password=PASSWORD, organization=organization, role=Role.OWNER)
    world = build_role_world(
        organization, incumbents=INCUMBENTS, applicants=APPLICANTS, planted=False
    )
    page = staff_page(browser, services, email=EMAIL, password=PASSWORD)

    # the role, defined on the roles page
    page.goto(services.base_url + reverse("staff:fit-roles"))
    page.wait_for_selector('[data-testid="roles-empty"]')
    page.fill("#id_name", "Data analyst")
    page.check(f'input[name="assessments"][value="{world.applicants.pk}"]')
    page.select_option("#id_baseline_assessment", str(world.applicants.pk))
    page.click('[data-testid="role-submit"]')
    page.wait_for_selector('[data-testid="role-name"]')
    profile = JobProfile.objects.get(organization=organization)
    assert page.inner_text('[data-testid="role-name"]') == "Data analyst"
    assert page.url == services.base_url + reverse("staff:fit-role", args=[profile.pk])

    # its incumbents, named by external id
    page.fill("#id_candidates", "\n".join(str(c.external_id) for c in world.incumbent_candidates))
    page.click('[data-testid="incumbents-submit"]')
    page.wait_for_selector('[data-testid="incumbent-counts"]')
    assert page.inner_text('[data-testid="incumbent-counts"]').startswith(
        f"{INCUMBENTS} incumbents, {INCUMBENTS} of them successful."
    )

    # trained by the worker while the page follows the job
    version_url = _train_from_the_role_page(page)
    version = FitModelVersion.objects.get(job_profile=profile, version=1)
    assert version_url == reverse("staff:fit-model", args=[version.pk])
    page.goto(services.base_url + version_url)
    cv = version.cv_report
    assert chart_points(page, "fit-roc") == len(cv["roc"]["fpr"]) + 2  # and the diagonal
    assert chart_points(page, "fit-reliability") > 0
    assert page.inner_text('[data-testid="model-auc"]').startswith(f"{cv['auc']:.3f} (95% CI ")
    assert version.audit_passed is True
    assert "passes the 4/5ths rule" in page.inner_text('[data-testid="verdict"]')
    assert version.audit_report is not None
    groups = version.audit_report["attributes"]["group"]["groups"]
    audit_text = page.inner_text('[data-testid="audit-groups"]')
    assert f"{groups['B']['impact_ratio']:.3f}" in audit_text
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-model.png"), full_page=True)

    # activated: the worker scores every candidate of the role's assessment
    page.click('[data-testid="activate-form"] button')
    page.wait_for_selector('[data-testid="model-status"]')
    assert page.inner_text('[data-testid="model-status"]') == "Active"
    version.refresh_from_db()
    assert version.status == ModelStatus.ACTIVE
    wait_until(
        lambda: (
            FitScore.objects.filter(
                model_version=version, attempt__assessment=world.applicants
            ).count()
            == APPLICANTS
        ),
        timeout=60,
    )

    # the roles list names the active version and its AUC
    page.goto(services.base_url + reverse("staff:fit-roles"))
    row = page.locator(f'[data-testid="role-row"][data-role-id="{profile.pk}"]')
    assert row.locator('[data-cell="active"]').inner_text() == "Data analyst v1"
    assert row.locator('[data-cell="incumbents"]').inner_text() == str(INCUMBENTS)
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-roles.png"), full_page=True)

    # a second version, then both side by side in an A/B test started from its page
    page.goto(services.base_url + reverse("staff:fit-role", args=[profile.pk]))
    _train_from_the_role_page(page)
    second = FitModelVersion.objects.get(job_profile=profile, version=2)
    assert second.audit_passed is True
    page.goto(services.base_url + reverse("staff:fit-ab-tests"))
    page.fill("#id_name", "Logistic v1 against v2")
    page.select_option("#id_job_profile", str(profile.pk))
    page.select_option("#id_model_a", str(version.pk))
    page.select_option("#id_model_b", str(second.pk))
    page.click('[data-testid="ab-start-submit"]')
    page.wait_for_selector('[data-testid="ab-test-name"]')
    test = ABTest.objects.get(job_profile=profile)
    # the worker scores every applicant again, each by their arm's version
    wait_until(
        lambda: (
            FitScore.objects.filter(
                attempt__assessment=world.applicants, arm__in=["A", "B"]
            ).count()
            == APPLICANTS
        ),
        timeout=60,
    )
    page.reload()
    arms = dict(
        FitScore.objects.filter(attempt__assessment=world.applicants, arm__in=["A", "B"])
        .values_list("arm")
        .annotate(n=Count("pk"))
    )
    for arm in ("A", "B"):
        shown = page.locator(
            f'[data-testid="ab-balance-table"] tr[data-arm="{arm}"] [data-cell="n"]'
        )
        assert shown.inner_text() == str(arms[arm])
    assert page.locator('[data-testid="ab-pass-rates-verdict"]').is_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-ab-test.png"), full_page=True)

    # stopped with B the winner: v2 scores everyone, v1 is retired
    page.check('[data-testid="ab-stop-form"] input[name="winner"][value="B"]')
    page.click('[data-testid="ab-stop-submit"]')
    page.wait_for_selector('[data-testid="ab-test-result"]')
    test.refresh_from_db()
    assert test.winner_id == second.pk
    version.refresh_from_db()
    assert version.status == ModelStatus.RETIRED
    assert page.console_errors == []


def test_an_analyst_scans_a_game_and_invalidates_a_machine_s_session(services, browser):
    from pymetrics.accounts.models import AuditLog, Role
    from pymetrics.accounts.services import organization_create, user_create
    from pymetrics.assessments.models import GameSession
    from pymetrics.fitmodels.models import ReviewState, SessionReview
    from pymetrics.fitmodels.tests.world import build_scored_sessions

    organization = organization_create(name="Review Org", slug="review")
    analyst = user_create(
        email="ana@review.example", password=PASSWORD, organization=organization, role=Role.ANALYST
    )
    sessions = build_scored_sessions(organization, game="arrows", people=120, machines=6, seed=3)
    machines = {sessions[f"machine-{i}"].pk for i in range(6)}
    page = staff_page(browser, services, email="ana@review.example", password=PASSWORD)

    # the scan is queued from the page and run by the worker
    page.goto(services.base_url + reverse("staff:fit-reviews"))
    page.wait_for_selector('[data-testid="reviews-empty"]')
    page.select_option("#id_game", "arrows")
    page.click('[data-testid="scan-submit"]')
    page.wait_for_selector('[data-testid="state-tabs"]')
    assert "queued" in page.inner_text(".messages")
    wait_until(lambda: SessionReview.objects.filter(game_session__in=machines).count() == 6)
    entry = AuditLog.objects.get(action="anomaly.scan")
    assert entry.details["requested_by"] == analyst.pk

    # every machine waits for a reviewer, with the scan's reasons
    page.goto(services.base_url + reverse("staff:fit-reviews"))
    pending = SessionReview.objects.filter(state=ReviewState.PENDING).count()
    rows = page.locator('[data-testid="review-row"]')
    assert rows.count() == pending
    shown = {int(rows.nth(i).get_attribute("data-session-id") or 0) for i in range(pending)}
    assert machines <= shown
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-reviews.png"), full_page=True)

    # one machine's session invalidated, with a note
    machine = min(machines)
    row = page.locator(f'[data-testid="review-row"][data-session-id="{machine}"]')
    row.locator('[data-testid="decide-note"]').fill("Constant reaction times.")
    row.locator('[data-testid="invalidate"]').click()
    page.wait_for_selector('[data-testid="state-tabs"]')
    review = SessionReview.objects.get(game_session_id=machine)
    assert (review.state, review.note, review.reviewed_by_id) == (
        ReviewState.INVALIDATED,
        "Constant reaction times.",
        analyst.pk,
    )
    assert GameSession.objects.get(pk=machine).invalidated_at is not None
    assert page.locator(f'[data-testid="review-row"][data-session-id="{machine}"]').count() == 0
    assert page.console_errors == []


def test_an_owner_proposes_a_trait_map_and_reads_the_drift_alerts(services, browser):
    from pymetrics.accounts.models import Role
    from pymetrics.accounts.services import organization_create, user_create
    from pymetrics.analytics.selectors.drift_alerts import drift_alerts
    from pymetrics.fitmodels.models import TraitMapProposal
    from pymetrics.fitmodels.tests.world import store_metric_population, structured_metrics
    from pymetrics.psychometrics.norms import build_norms
    from pymetrics.psychometrics.trait_map import TraitMap
    from pymetrics.scoring.models import NormPopulation, NormTable
    from pymetrics.scoring.services import trait_map_version_get_or_create

    organization = organization_create(name="Maps Org", slug="maps")
    user_create(
        email="mo@maps.example", password=PASSWORD, organization=organization, role=Role.OWNER
    )
    # norms from one sample of a population with the map's structure; 400 candidates
    # from another, whose first metric is shifted by one SD (a drift to alert on)
    trait_map_row = trait_map_version_get_or_create(version=1)
    trait_map = TraitMap.from_dict(trait_map_row.definition)
    NormTable.objects.create(
        organization=organization,
        name="Simulated reference",
        version=1,
        population=NormPopulation.SIMULATED,
        is_simulated=True,
        trait_map=trait_map_row,
        n_attempts=2000,
        data=build_norms(structured_metrics(trait_map, 2000, seed=1), trait_map).to_dict(),
    )
    metrics = structured_metrics(trait_map, 400, seed=2)
    shifted = metrics.columns[0]
    metrics[shifted] += 1.0
    store_metric_population(organization, metrics)
    page = staff_page(browser, services, email="mo@maps.example", password=PASSWORD)

    # a proposal from the page: the factor analysis runs in the request
    page.goto(services.base_url + reverse("staff:fit-trait-maps"))
    page.wait_for_selector('[data-testid="proposals-empty"]')
    page.click('[data-testid="propose-submit"]')
    page.wait_for_selector('[data-testid="trait-table"]', timeout=60_000)
    proposal = TraitMapProposal.objects.get(organization=organization)
    traits = proposal.proposal["traits"]
    # a bar per trait, and the 0.85 and 0.95 lines of two points each
    assert chart_points(page, "trait-congruence") == len(traits) + 4
    for trait in traits:
        row = page.locator(f'[data-testid="trait-row"][data-trait="{trait["name"]}"]')
        assert row.locator('[data-cell="congruence"]').inner_text() == f"{trait['congruence']:.3f}"
    # the structure the data were drawn with is found again: every trait equal
    assert {trait["reading"] for trait in traits} == {"equal"}
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-trait-map.png"), full_page=True)

    # the drift page lists the shifted metric with the PSI the selector computes
    found = drift_alerts(organization=organization)
    assert [alert["metric"] for alert in found["alerts"]] == [shifted]
    page.goto(services.base_url + reverse("staff:fit-drift"))
    row = page.locator(f'[data-testid="drift-alert-row"][data-metric="{shifted}"]')
    assert row.locator('[data-cell="psi"]').inner_text() == f"{found['alerts'][0]['psi']:.3f}"
    assert row.locator('[data-cell="n"]').inner_text() == "400"
    assert chart_points(page, "drift-alerts") >= 1
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "staff-fit-drift.png"), full_page=True)
    assert page.console_errors == []
