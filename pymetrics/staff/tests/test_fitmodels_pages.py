"""The job-fit staff pages: roles, a role's incumbents and training, a model version.

Roles are built with ``build_role_world`` (120 incumbents, 300 applicants who
reported a group A or B) and trained in-process (``queue=False`` +
``training_job_run``). Seed 1 without the planted trait gives a model whose audit
passes (impact ratio of B 1.0); the planted world (seed 7) gives one that fails
unless the debiasing loop removes the planted trait. Every number the pages show is
checked against what the version stored.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from pymetrics.accounts.models import AuditLog, Role
from pymetrics.accounts.services import Actor
from pymetrics.assessments.models import Candidate
from pymetrics.fitmodels.models import (
    CandidateGroups,
    FitModelVersion,
    FitScore,
    Incumbent,
    JobProfile,
    ModelStatus,
    TrainingJob,
)
from pymetrics.fitmodels.services import (
    fit_model_activate,
    fit_scores_compute,
    incumbents_add,
    job_profile_create,
    training_job_request,
    training_job_run,
)
from pymetrics.fitmodels.tests.world import PLANTED_TRAIT, build_role_world

INCUMBENTS, APPLICANTS = 120, 300
#: build_role_world seeds: a fair world whose model passes, and the planted bias.
FAIR_SEED, PLANTED_SEED = 1, 7


@pytest.fixture
def actor(organization, admin):
    return Actor(user=admin, organization=organization, role=Role.ADMIN)


def _role(organization, actor, *, planted, seed, incumbents=True):
    world = build_role_world(
        organization, incumbents=INCUMBENTS, applicants=APPLICANTS, planted=planted, seed=seed
    )
    profile = job_profile_create(
        actor=actor,
        name="Analyst",
        description="Reads the numbers",
        assessments=[world.applicants],
        baseline_assessment=world.applicants,
    )
    if incumbents:
        incumbents_add(
            actor=actor,
            job_profile=profile,
            candidates=world.incumbent_candidates,
            successful=True,
        )
    return profile, world


def _train(actor, profile, *, debias=True):
    job = training_job_request(
        actor=actor, job_profile=profile, debias_if_needed=debias, queue=False
    )
    version = training_job_run(training_job_id=job.pk)
    assert version is not None
    return version


@pytest.fixture
def fair_role(organization, actor):
    """A role whose first version passes its audit (audited, not active yet)."""
    profile, world = _role(organization, actor, planted=False, seed=FAIR_SEED)
    version = _train(actor, profile)
    assert (version.status, version.audit_passed) == (ModelStatus.AUDITED, True)
    return profile, world, version


@pytest.fixture
def biased_role(organization, actor):
    """v1 leans on the planted trait and fails its audit; v2 was debiased and passes."""
    profile, world = _role(organization, actor, planted=True, seed=PLANTED_SEED)
    failing = _train(actor, profile, debias=False)
    debiased = _train(actor, profile, debias=True)
    assert (failing.status, failing.audit_passed) == (ModelStatus.DRAFT, False)
    assert (debiased.status, debiased.audit_passed) == (ModelStatus.AUDITED, True)
    return profile, world, failing, debiased


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def _auc_text(report: dict) -> str:
    ci = report["auc_ci"]
    return f"{report['auc']:.3f} (95% CI {ci['low']:.3f} to {ci['high']:.3f})"


def _rows(html: str, testid: str) -> list[str]:
    """The <tr> elements of the table with that data-testid."""
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', html, re.S)
    assert table is not None, f"no table {testid}"
    return re.findall(r"<tr\b.*?</tr>", table.group(0), re.S)


def _group_rows(html: str) -> dict[str, str]:
    """The audit's group rows by group label (the first attribute's table)."""
    rows = {}
    for row in _rows(html, "audit-groups"):
        label = re.search(r'data-group="([^"]+)"', row)
        if label is not None:
            rows[label.group(1)] = row
    return rows


def _cell(row: str, name: str) -> str:
    found = re.search(rf'data-cell="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found is not None, f"no cell {name}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


# --- the roles list ------------------------------------------------------------------------


def test_the_roles_list_shows_incumbents_the_active_model_and_the_latest_status(
    fair_role, actor, recruiter_browser
):
    profile, _, version = fair_role
    fit_model_activate(actor=actor, model_version=version)

    response = recruiter_browser.get(reverse("staff:fit-roles"))

    assert response.status_code == 200
    html = response.content.decode()
    (row,) = [r for r in _rows(html, "roles-table") if 'data-testid="role-row"' in r]
    assert f'data-role-id="{profile.pk}"' in row
    assert (_cell(row, "incumbents"), _cell(row, "successful")) == ("120", "120")
    assert _cell(row, "active") == "Analyst v1"
    assert _cell(row, "active-auc") == _auc_text(version.cv_report)
    assert _cell(row, "latest") == "v1 Active"
    # a recruiter reads, but is not offered the form
    assert 'data-testid="role-form"' not in html
    assert 'data-testid="read-only"' in html
    assert 'href="/staff/roles/" aria-current="page">Job-fit models</a>' in html


def test_an_admin_defines_a_role_and_the_services_refusals_show_on_the_form(
    organization, other_organization, admin_browser, recruiter_browser, assessment
):
    from pymetrics.assessments.services import assessment_create

    theirs = assessment_create(organization=other_organization, name="Globex", games=["cards"])
    url = reverse("staff:fit-roles")
    fields = {
        "name": "Data analyst",
        "description": "Numbers",
        "assessments": [assessment.pk],
        "baseline_assessment": assessment.pk,
        "features": "traits",
        "algorithm": "gradient_boosting",
        "threshold": "62.5",
    }

    created = admin_browser.post(url, fields)
    duplicate = admin_browser.post(url, fields)
    out_of_range = admin_browser.post(url, {**fields, "name": "Other", "threshold": "150"})
    foreign = admin_browser.post(url, {**fields, "name": "Other", "assessments": [theirs.pk]})
    refused = recruiter_browser.post(url, {**fields, "name": "Recruiter's"})

    profile = JobProfile.objects.get(organization=organization, name="Data analyst")
    assert created.status_code == 302
    assert created["Location"] == reverse("staff:fit-role", args=[profile.pk])
    assert (profile.algorithm, profile.threshold, profile.baseline_assessment_id) == (
        "gradient_boosting",
        62.5,
        assessment.pk,
    )
    assert list(profile.assessments.values_list("pk", flat=True)) == [assessment.pk]
    # the services' messages, on the form
    assert duplicate.status_code == 400
    assert "a job profile named &#x27;Data analyst&#x27; exists already" in (
        duplicate.content.decode()
    )
    assert out_of_range.status_code == 400
    assert "the pass threshold is a fit score between 0 and 100" in out_of_range.content.decode()
    # another organisation's assessment is not a choice
    assert foreign.status_code == 400
    assert f"Select a valid choice. {theirs.pk} is not one of the available choices." in (
        foreign.content.decode()
    )
    assert refused.status_code == 403
    assert JobProfile.objects.filter(organization=organization).count() == 1


# --- a role --------------------------------------------------------------------------------


def test_the_role_page_lists_incumbents_and_versions_and_logs_who_saw_them(
    fair_role, admin_browser, admin
):
    profile, world, version = fair_role

    response = admin_browser.get(reverse("staff:fit-role", args=[profile.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "120 incumbents, 120 of them successful." in html
    assert len([r for r in _rows(html, "incumbents-table") if "incumbent-row" in r]) == 120
    (row,) = [r for r in _rows(html, "versions-table") if 'data-testid="version-row"' in r]
    assert f'href="/staff/models/{version.pk}/"' in row
    assert _cell(row, "status") == "Audited"
    assert _cell(row, "auc") == _auc_text(version.cv_report)
    assert _cell(row, "verdict") == "passes the 4/5ths rule"
    assert _cell(row, "created-by") == "Ada Admin"
    # the page names the incumbents: the read is logged with them
    entry = AuditLog.objects.get(action="job_profile.read")
    assert (entry.actor, entry.object_id) == (admin, str(profile.pk))
    assert sorted(entry.details["candidates"]) == sorted(c.pk for c in world.incumbent_candidates)


def test_incumbents_are_added_by_external_id_or_id_and_unknown_names_are_refused(
    organization, other_organization, actor, admin_browser, recruiter_browser
):
    profile, world = _role(organization, actor, planted=False, seed=FAIR_SEED, incumbents=False)
    first, second = world.incumbent_candidates[:2]
    stranger = Candidate.objects.create(organization=other_organization, external_id="outsider")
    url = reverse("staff:fit-role-incumbents", args=[profile.pk])

    unknown = admin_browser.post(
        url, {"candidates": f"staff-0000, nobody {stranger.pk}", "successful": "1"}
    )
    forbidden = recruiter_browser.post(url, {"candidates": "staff-0000", "successful": "1"})
    added = admin_browser.post(
        url, {"candidates": f"{first.external_id}\n{second.pk}", "successful": "0"}
    )

    assert unknown.status_code == 400
    assert (
        f"No candidate of your organisation has these external ids or ids: nobody, {stranger.pk}."
        in unknown.content.decode()
    )
    assert forbidden.status_code == 403
    assert added.status_code == 302
    assert sorted(
        Incumbent.objects.filter(job_profile=profile).values_list("candidate_id", "successful")
    ) == sorted([(first.pk, False), (second.pk, False)])


def test_training_from_the_page_and_following_the_job_as_json(
    fair_role, actor, admin_browser, recruiter_browser, other_browser
):
    profile, _, _ = fair_role

    refused = recruiter_browser.post(reverse("staff:fit-role-train", args=[profile.pk]))
    requested = admin_browser.post(reverse("staff:fit-role-train", args=[profile.pk]))

    assert refused.status_code == 403
    assert requested.status_code == 302
    job = TrainingJob.objects.filter(job_profile=profile).latest("pk")
    assert TrainingJob.objects.filter(job_profile=profile).count() == 2  # the fixture's + this
    assert (job.state, job.requested_by_id) == ("queued", actor.user.pk)
    page = admin_browser.get(reverse("staff:fit-role", args=[profile.pk])).content.decode()
    assert f'data-job-id="{job.pk}" data-state="queued"' in page
    assert 'id="fit-training-config"' in page
    json_url = reverse("staff:fit-training-job-data", args=[job.pk])
    queued = admin_browser.get(json_url).json()
    assert (queued["state"], queued["progress"], queued["model_version_id"]) == (
        "queued",
        0.0,
        None,
    )

    # when a worker has trained it
    version = training_job_run(training_job_id=job.pk)
    assert version is not None

    done = admin_browser.get(json_url).json()
    assert (done["state"], done["progress"], done["finished"]) == ("succeeded", 1.0, True)
    assert done["model_version_id"] == version.pk
    assert done["model_version_url"] == f"/staff/models/{version.pk}/"
    assert done["message"] == "version 2 trained"
    assert other_browser.get(json_url).status_code == 404


def test_a_failed_training_job_shows_its_reason(organization, actor, admin_browser):
    profile, _ = _role(organization, actor, planted=False, seed=FAIR_SEED, incumbents=False)
    job = training_job_request(actor=actor, job_profile=profile, queue=False)

    # when the worker finds nobody to learn from
    assert training_job_run(training_job_id=job.pk) is None

    reason = "the role has no successful incumbents with scores to learn from"
    answer = admin_browser.get(reverse("staff:fit-training-job-data", args=[job.pk])).json()
    assert (answer["state"], answer["error"], answer["finished"]) == ("failed", reason, True)
    page = admin_browser.get(reverse("staff:fit-role", args=[profile.pk])).content.decode()
    assert f'<p class="errors" role="alert" data-role="error">{reason}</p>' in page
    assert "0 incumbents, 0 of them successful." in page


# --- a model version -----------------------------------------------------------------------


def test_the_model_page_draws_the_stored_cross_validation_and_audit(fair_role, admin_browser):
    _, _, version = fair_role
    cv, audit = version.cv_report, version.audit_report

    response = admin_browser.get(reverse("staff:fit-model", args=[version.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<dd data-testid="model-auc">{_auc_text(cv)}</dd>' in html
    assert f'<dd data-testid="brier">{cv["brier_score"]:.3f}</dd>' in html
    roc = _chart_spec(html, "fit-roc")
    assert [p["x"] for p in roc["datasets"][0]["data"]] == cv["roc"]["fpr"]
    assert [p["y"] for p in roc["datasets"][0]["data"]] == cv["roc"]["tpr"]
    assert roc["table"]["rows"][0] == ["nobody passes", 0.0, 0.0]
    reliability = _chart_spec(html, "fit-reliability")
    assert reliability["datasets"][0]["data"] == [
        {"x": b["mean_predicted"], "y": b["observed_frequency"]} for b in cv["reliability"]["bins"]
    ]
    assert reliability["datasets"][1]["data"] == [{"x": 0, "y": 0}, {"x": 1, "y": 1}]
    features = _chart_spec(html, "fit-features")
    effects = version.feature_weights["feature_effects"]
    assert features["datasets"][0]["data"] == [e["coefficient"] for e in effects]
    assert features["labels"][0] == "Attention"
    # the audit: one attribute, both groups ruled on, the impact ratios as stored
    group = audit["attributes"]["group"]
    assert [
        (label, _cell(row, "impact-ratio"), _cell(row, "rule"))
        for label, row in _group_rows(html).items()
    ] == [(label, f"{g['impact_ratio']:.3f}", "passes") for label, g in group["groups"].items()]
    impact = _chart_spec(html, "fit-audit-0")
    assert impact["datasets"][0]["data"] == [g["impact_ratio"] for g in group["groups"].values()]
    assert impact["datasets"][1]["data"] == [0.8, 0.8]
    tests = _rows(html, "audit-tests")
    assert any(
        _cell(r, "min-impact-ratio") == f"{group['min_impact_ratio']:.3f}"
        for r in tests
        if "min-impact-ratio" in r
    )
    (bayes,) = [r for r in tests if "bayes-factor" in r]
    assert _cell(bayes, "bayes-factor") == f"{group['bayes_factor']:.2f}"
    assert (
        _cell(bayes, "bayes-reading")
        == {
            "difference": "evidence of a difference between groups (BF10 above 3)",
            "no difference": "evidence of no difference between groups (BF10 below 1/3)",
            "inconclusive": "inconclusive (BF10 between 1/3 and 3)",
        }[group["bayes_factor_evidence"]]
    )
    assert 'data-testid="debias-none"' in html
    assert "Trained on simulated candidates" not in html
    assert AuditLog.objects.filter(action="fit_model.read", object_id=str(version.pk)).exists()


def test_a_debiased_version_shows_every_step_of_the_loop(biased_role, admin_browser):
    _, _, _, debiased = biased_role
    steps = debiased.debias_history
    lowest = [s["audit"]["attributes"]["group"]["min_impact_ratio"] for s in steps]

    html = admin_browser.get(reverse("staff:fit-model", args=[debiased.pk])).content.decode()

    # the planted trait goes first; in this small world the loop then needs attention too
    removed = [s["changed_feature"] for s in steps[1:]]
    assert removed[0] == f"trait:{PLANTED_TRAIT}"
    assert [s["action"] for s in steps] == ["trained"] + ["removed"] * len(removed)
    names = {None: "—", "trait:fairness": "Fairness", "trait:attention": "Attention"}
    rows = [r for r in _rows(html, "debias-table") if 'data-testid="debias-row"' in r]
    assert [
        (_cell(r, "feature"), _cell(r, "lowest-impact-ratio"), _cell(r, "passed")) for r in rows
    ] == [
        (names[s["changed_feature"]], f"{ratio:.3f}", "yes" if s["audit_passed"] else "no")
        for s, ratio in zip(steps, lowest, strict=True)
    ]
    assert [_cell(r, "auc") for r in rows] == [_auc_text(s) for s in steps]
    assert (steps[0]["audit_passed"], steps[-1]["audit_passed"]) == (False, True)
    chart = _chart_spec(html, "fit-debiasing")
    assert chart["datasets"][0]["data"] == [s["auc"] for s in steps]
    assert chart["datasets"][1]["data"] == lowest
    assert chart["labels"] == [
        f"{s['step']}: {'trained' if s['step'] == 0 else 'feature removed'}" for s in steps
    ]
    assert "Removed by debiasing: " + ", ".join(names[f] for f in removed) + "." in html
    # a version no better than chance says so, however fair
    reaches_chance = debiased.cv_report["auc_ci"]["low"] <= 0.5
    assert ('data-testid="chance-auc"' in html) is reaches_chance


def test_activating_a_failing_version_is_refused_on_the_page_and_it_stays_draft(
    biased_role, admin_browser
):
    _, _, failing, _ = biased_role
    group = failing.audit_report["attributes"]["group"]

    response = admin_browser.post(reverse("staff:fit-model-activate", args=[failing.pk]))

    assert response.status_code == 409
    html = response.content.decode()
    refusal = re.search(r'data-testid="refusal">(.*?)</div>', html, re.S)
    assert refusal is not None
    assert "Analyst v1 cannot be activated: its bias audit failed the 4/5ths rule" in (
        refusal.group(1)
    )
    failing.refresh_from_db()
    assert failing.status == ModelStatus.DRAFT
    rows = _group_rows(html)
    assert _cell(rows["B"], "impact-ratio") == f"{group['groups']['B']['impact_ratio']:.3f}"
    assert _cell(rows["B"], "rule") == "fails"
    assert 'data-role="verdict">fails the 4/5ths rule' in html


def test_audit_now_reports_a_small_group_without_ruling_on_it(fair_role, admin_browser):
    _, world, version = fair_role
    # given ten applicants who now report a third group, C: under 30, so not ruled on
    for record in CandidateGroups.objects.filter(
        candidate__in=world.applicant_candidates[:10]
    ).order_by("pk"):
        record.groups = json.dumps({"group": "C"})
        record.save()

    audited = admin_browser.post(reverse("staff:fit-model-audit", args=[version.pk]))

    assert audited.status_code == 302
    version.refresh_from_db()
    groups = version.audit_report["attributes"]["group"]["groups"]
    assert (groups["C"]["n"], groups["C"]["ruled_on"]) == (10, False)
    html = admin_browser.get(reverse("staff:fit-model", args=[version.pk])).content.decode()
    rows = _group_rows(html)
    assert _cell(rows["C"], "rule") == "reported, not ruled on"
    assert _cell(rows["C"], "impact-ratio") == f"{groups['C']['impact_ratio']:.3f}"
    impact = _chart_spec(html, "fit-audit-0")
    assert impact["labels"] == list(groups)
    assert impact["datasets"][0]["backgroundColor"][impact["labels"].index("C")] == "#9aa5b1"
    assert AuditLog.objects.filter(
        action="fit_model.audit", object_type="fitmodelversion", object_id=str(version.pk)
    ).exists()


def test_a_recruiter_reads_a_model_but_may_not_change_it(fair_role, recruiter_browser):
    _, _, version = fair_role

    page = recruiter_browser.get(reverse("staff:fit-model", args=[version.pk]))
    answers = [
        recruiter_browser.post(reverse(route, args=[version.pk])).status_code
        for route in ("staff:fit-model-activate", "staff:fit-model-audit", "staff:fit-model-retire")
    ]

    assert page.status_code == 200
    assert 'data-testid="activate-form"' not in page.content.decode()
    assert answers == [403, 403, 403]
    version.refresh_from_db()
    assert version.status == ModelStatus.AUDITED


def test_an_admin_activates_audits_again_and_retires_a_passing_version(fair_role, admin_browser):
    _, _, version = fair_role

    def act(route):
        response = admin_browser.post(reverse(route, args=[version.pk]))
        version.refresh_from_db()
        return response.status_code, version.status

    assert act("staff:fit-model-activate") == (302, ModelStatus.ACTIVE)
    assert act("staff:fit-model-audit") == (302, ModelStatus.ACTIVE)
    assert act("staff:fit-model-retire") == (302, ModelStatus.RETIRED)
    assert list(
        AuditLog.objects.filter(object_type="fitmodelversion", object_id=str(version.pk))
        .exclude(action__in=["fit_model.read", "fit_model.train"])
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["fit_model.activate", "fit_model.audit", "fit_model.retire"]


def test_a_model_trained_on_simulated_candidates_says_so(organization, actor, admin_browser):
    profile, world = _role(organization, actor, planted=False, seed=FAIR_SEED)
    Candidate.objects.filter(pk__in=[c.pk for c in world.incumbent_candidates[:10]]).update(
        is_simulated=True
    )
    version = _train(actor, profile)

    html = admin_browser.get(reverse("staff:fit-model", args=[version.pk])).content.decode()

    assert version.cv_report["simulated_rows"] == 10
    assert "<strong>Trained on simulated candidates</strong>: 10 of the rows" in html
    assert _chart_spec(html, "fit-roc")["simulated"] is True


@pytest.mark.parametrize(
    "route", ["staff:fit-role", "staff:fit-model", "staff:fit-model-activate"], ids=str
)
def test_another_organisations_ids_answer_not_found(fair_role, other_browser, route):
    profile, _, version = fair_role
    target = profile.pk if route == "staff:fit-role" else version.pk
    url = reverse(route, args=[target])

    response = other_browser.post(url) if route.endswith("activate") else other_browser.get(url)

    assert response.status_code == 404
    assert "There is nothing with that id in your organisation." in response.content.decode()
    assert FitModelVersion.objects.get(pk=version.pk).status == ModelStatus.AUDITED


# --- the candidate profile -------------------------------------------------------------------


def test_the_candidate_profile_lists_the_fit_to_each_role(fair_role, actor, admin_browser):
    _, world, version = fair_role
    fit_model_activate(actor=actor, model_version=version)
    fit_scores_compute(model_version=version)
    scores = {
        s.attempt.candidate_id: s
        for s in FitScore.objects.filter(model_version=version).select_related("attempt")
    }
    passing = next(c for c in world.applicant_candidates if scores[c.pk].passed)
    failing = next(c for c in world.applicant_candidates if not scores[c.pk].passed)

    rows = {}
    for candidate in (passing, failing):
        html = admin_browser.get(
            reverse("staff:candidate-profile", args=[candidate.pk])
        ).content.decode()
        (rows[candidate.pk],) = [r for r in _rows(html, "fit-table") if "fit-row" in r]

    for candidate, verdict in (
        (passing, "passes (50 or more)"),
        (failing, "does not pass (under 50)"),
    ):
        row = rows[candidate.pk]
        assert _cell(row, "score") == f"{scores[candidate.pk].score:.0f}"
        assert _cell(row, "passed") == verdict
        assert _cell(row, "model") == "Analyst v1"
