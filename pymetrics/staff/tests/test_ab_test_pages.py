"""The A/B test staff pages: the list and its start form, a test's comparison, stopping it.

Worlds are built by hand in bulk, without training: two versions whose audit passed
(their artefacts are never loaded, since the re-scoring a start or a stop asks for
runs after commit, which a test never reaches), and fit scores stored in each arm
with chosen group sizes and passes, so every figure the page shows can be worked
out by hand: arm A holds 35 "f" (20 pass), 35 "m" (28 pass) and 5 "x" (3 pass),
arm B 30 "f" and 30 "m" (24 pass each).
"""

from __future__ import annotations

import html as html_module
import json
import math
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Attempt, AttemptState, Candidate
from pymetrics.assessments.services import assessment_create
from pymetrics.fitmodels.models import (
    ABTest,
    CandidateGroups,
    CandidateOutcome,
    FitModelVersion,
    FitScore,
    JobProfile,
    ModelStatus,
)
from pymetrics.fitmodels.selectors import ab_test_report

#: arm -> group -> (people, passes): the hand-made world of every comparison below.
ARMS = {
    "A": {"f": (35, 20), "m": (35, 28), "x": (5, 3)},
    "B": {"f": (30, 24), "m": (30, 24)},
}


# --- worlds ----------------------------------------------------------------------------------


def _version(profile, number, *, status=ModelStatus.AUDITED, auc_low=0.62):
    return FitModelVersion.objects.create(
        job_profile=profile,
        version=number,
        algorithm="logistic_regression",
        status=status,
        feature_names=["trait:attention"],
        artefact=b"",
        fingerprint="0" * 64,
        n_successful=120,
        n_baseline=300,
        threshold=50.0,
        cv_report={"auc": 0.7, "auc_ci": {"low": auc_low, "high": 0.78}},
        feature_weights={},
        audit_passed=True,
    )


def _role(organization, name="Analyst"):
    assessment = assessment_create(
        organization=organization, name=f"{name} applicants", games=["balloons"]
    )
    profile = JobProfile.objects.create(organization=organization, name=name)
    profile.assessments.add(assessment)
    return profile, assessment


def _test(profile, model_a, model_b, *, name="Blue vs green", ended=False, winner=None):
    started = timezone.now() - timedelta(days=3)
    return ABTest.objects.create(
        job_profile=profile,
        name=name,
        key=f"ab-{name}",
        model_a=model_a,
        model_b=model_b,
        share_b=0.5,
        started_at=started,
        ended_at=started + timedelta(days=1) if ended else None,
        winner=winner,
    )


def _score_arms(test, assessment, arms, *, simulated_b=0, outcomes=False):
    """Candidates scored in each arm as ``arms`` says; the first ``simulated_b`` of B are bots."""
    people = []
    for arm, groups in arms.items():
        for group, (n, passes) in groups.items():
            for i in range(n):
                people.append((arm, group, i, i < passes))
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                organization=assessment.organization,
                external_id=f"{test.key}-{arm}-{group}-{i}",
                is_simulated=arm == "B" and group == "f" and i < simulated_b,
            )
            for arm, group, i, _ in people
        ]
    )
    now = timezone.now()
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=assessment,
                state=AttemptState.COMPLETED,
                completed_at=now,
            )
            for candidate in candidates
        ]
    )
    versions = {"A": test.model_a, "B": test.model_b}
    FitScore.objects.bulk_create(
        [
            FitScore(
                attempt=attempt,
                model_version=versions[arm],
                score=float(60 + i % 30) if passed else float(20 + i % 25),
                passed=passed,
                arm=arm,
            )
            for attempt, (arm, _, i, passed) in zip(attempts, people, strict=True)
        ]
    )
    CandidateGroups.objects.bulk_create(
        [
            CandidateGroups(candidate=candidate, groups=json.dumps({"gender": group}))
            for candidate, (_, group, _, _) in zip(candidates, people, strict=True)
        ]
    )
    if outcomes:
        CandidateOutcome.objects.bulk_create(
            [
                CandidateOutcome(
                    candidate=candidate,
                    hired=i % 3 == 0,
                    performance=(60 + i % 30 if passed else 20 + i % 25) / 10 + i % 4,
                )
                for candidate, (_, _, i, passed) in zip(candidates, people, strict=True)
            ]
        )
    return candidates


@pytest.fixture
def role(organization):
    """A role with two audited, valid versions: v1 active, v2 audited."""
    profile, assessment = _role(organization)
    first = _version(profile, 1, status=ModelStatus.ACTIVE)
    second = _version(profile, 2)
    return profile, assessment, first, second


@pytest.fixture
def scored_test(role):
    """A running test of v1 (A) against v2 (B) with the hand-made arms scored."""
    profile, assessment, first, second = role
    FitModelVersion.objects.filter(pk=second.pk).update(status=ModelStatus.ACTIVE)
    test = _test(profile, first, second)
    _score_arms(test, assessment, ARMS, simulated_b=3)
    return test


# --- reading the pages --------------------------------------------------------------------------


def _strip(fragment: str) -> str:
    text = html_module.unescape(re.sub(r"<[^>]+>", "", fragment))
    return re.sub(r"\s+", " ", text).strip()


def _element(html: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, f"no element {testid}"
    return found.group(2)


def _text(html: str, testid: str) -> str:
    return _strip(_element(html, testid))


def _cells(fragment: str) -> dict[str, str]:
    return {
        name: _strip(content)
        for _, name, content in re.findall(
            r'<(td|span|dd)[^>]*data-cell="([^"]+)"[^>]*>(.*?)</\1>', fragment, re.S
        )
    }


def _rows(html: str, testid: str, key: str) -> dict[str, dict[str, str]]:
    """A table's rows by their ``data-<key>``, each row's cells by ``data-cell``."""
    table = _element(html, testid)
    return {
        name: _cells(row)
        for name, row in re.findall(rf'<tr[^>]*\sdata-{key}="([^"]+)"[^>]*>(.*?)</tr>', table, re.S)
    }


def _chart_spec(html: str, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="chart-{chart_id}-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert found is not None, f"no chart {chart_id}"
    return json.loads(found.group(1))


def _two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


# --- the list and the start form ---------------------------------------------------------------


def test_the_list_shows_running_and_ended_tests_with_their_versions(
    organization, other_organization, role, admin_browser
):
    profile, _, first, second = role
    third = _version(profile, 3, status=ModelStatus.RETIRED)
    ended = _test(profile, first, third, name="Spring trial", ended=True, winner=first)
    running = _test(profile, first, second, name="Blue vs green")
    theirs, _ = _role(other_organization, "Globex role")
    _test(theirs, _version(theirs, 1), _version(theirs, 2), name="Globex secret test")

    response = admin_browser.get(reverse("staff:fit-ab-tests"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">A/B tests</a>' in html
    assert "Globex secret test" not in html
    running_rows = _rows(html, "ab-tests-running-table", "ab-test-id")
    assert list(running_rows) == [str(running.pk)]
    assert running_rows[str(running.pk)] == {
        "role": "Analyst",
        "model-a": "Analyst v1 Active",
        "model-b": "Analyst v2 Audited",
        "share-b": "50%",
        "started": running.started_at.strftime("%Y-%m-%d %H:%M"),
        "ended": "running",
        "winner": "—",
    }
    ended_row = _rows(html, "ab-tests-ended-table", "ab-test-id")[str(ended.pk)]
    assert ended_row["model-b"] == "Analyst v3 Retired"
    assert ended_row["ended"] == ended.ended_at.strftime("%Y-%m-%d %H:%M")
    assert ended_row["winner"] == "arm A, Analyst v1"
    assert reverse("staff:fit-model", args=[first.pk]) in html
    assert reverse("staff:fit-ab-test", args=[running.pk]) in html
    # the start form offers the versions whose audit passed, grouped by role
    assert 'data-testid="ab-start-form"' in html
    assert f'<option value="{third.pk}">Analyst v3 (Retired)</option>' in html
    assert '<optgroup label="Analyst">' in html
    assert 'name="share_b" value="0.5"' in html


def test_the_form_says_when_no_role_has_two_versions_to_compare(organization, admin_browser):
    profile, _ = _role(organization)
    _version(profile, 1, status=ModelStatus.ACTIVE)
    FitModelVersion.objects.filter(pk=_version(profile, 2).pk).update(audit_passed=False)

    html = admin_browser.get(reverse("staff:fit-ab-tests")).content.decode()

    assert _text(html, "ab-no-versions") == (
        "No role has two versions whose bias audit passed yet: train and audit its models first."
    )
    assert "Analyst v2 (" not in html  # its audit failed: not offered
    assert "Analyst v1 (Active)" in html


def test_a_recruiter_reads_the_list_without_the_form_and_may_not_start(role, recruiter_browser):
    profile, _, first, second = role

    page = recruiter_browser.get(reverse("staff:fit-ab-tests")).content.decode()
    refused = recruiter_browser.post(
        reverse("staff:fit-ab-tests"),
        {"job_profile": profile.pk, "model_a": first.pk, "model_b": second.pk, "share_b": "0.5"},
    )

    assert 'data-testid="ab-start-form"' not in page
    assert '<form method="post" action="/staff/ab-tests/"' not in page
    assert 'data-testid="read-only"' in page
    assert _text(page, "ab-tests-running-empty") == "No A/B test is running."
    assert refused.status_code == 403
    assert not ABTest.objects.exists()


def test_an_admin_starts_a_test_and_lands_on_its_page(role, admin_browser, admin):
    profile, _, first, second = role

    response = admin_browser.post(
        reverse("staff:fit-ab-tests"),
        {
            "name": "Challenger",
            "job_profile": profile.pk,
            "model_a": first.pk,
            "model_b": second.pk,
            "share_b": "0.3",
        },
        follow=True,
    )

    test = ABTest.objects.get()
    assert response.redirect_chain == [(reverse("staff:fit-ab-test", args=[test.pk]), 302)]
    assert (test.name, test.model_a, test.model_b, test.share_b) == (
        "Challenger",
        first,
        second,
        0.3,
    )
    assert set(FitModelVersion.objects.values_list("status", flat=True)) == {ModelStatus.ACTIVE}
    started = AuditLog.objects.get(action="ab_test.start")
    assert (started.actor, started.object_id) == (admin, str(test.pk))
    html = response.content.decode()
    assert "A/B test “Challenger” started" in html
    # nobody scored yet: the split has no test and the comparison waits for both arms
    assert _text(html, "ab-balance-verdict") == "No candidate has been scored in this test yet."
    assert _text(html, "ab-nothing").startswith(
        "Nothing to compare yet No candidate has been scored in either arm yet."
    )


@pytest.mark.parametrize(
    ("case", "field", "message", "status"),
    [
        ("same version", "model_b", "an A/B test compares two different versions", 400),
        ("other role", "model_a", "Other v1 is not a version of Analyst", 400),
        (
            "chance",
            "model_b",
            "Analyst v3 cannot be tested on candidates: its cross-validated AUC (0.700, 95% CI "
            "from 0.45) is no better than chance",
            409,
        ),
        ("running", "job_profile", "Analyst has an A/B test running: stop it first", 409),
        ("share", "share_b", "share_b is the share of candidates in arm B, between 0 and 1", 400),
        ("infinite share", "share_b", "Enter a number.", 400),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value[:3] else None,
)
def test_the_services_refusals_show_on_the_start_form(
    organization, role, admin_browser, case, field, message, status
):
    profile, _, first, second = role
    post = {
        "name": "Kept name",
        "job_profile": profile.pk,
        "model_a": first.pk,
        "model_b": second.pk,
        "share_b": "0.5",
    }
    if case == "same version":
        post["model_b"] = first.pk
    elif case == "other role":
        other, _ = _role(organization, "Other")
        post["model_a"] = _version(other, 1).pk
    elif case == "chance":
        post["model_b"] = _version(profile, 3, auc_low=0.45).pk
    elif case == "running":
        _test(profile, first, second, name="Already on")
    elif case == "share":
        post["share_b"] = "1.5"
    else:
        post["share_b"] = "inf"
    tests_before = ABTest.objects.count()

    response = admin_browser.post(reverse("staff:fit-ab-tests"), post)

    assert response.status_code == status
    html = response.content.decode()
    assert _text(html, f"{field}-errors") == message
    assert ABTest.objects.count() == tests_before
    # what was typed is still there
    assert 'value="Kept name"' in html
    assert FitModelVersion.objects.get(pk=second.pk).status == ModelStatus.AUDITED


# --- a test's page -------------------------------------------------------------------------------


def test_the_page_shows_the_split_and_every_comparison_with_its_test(
    scored_test, admin_browser, admin
):
    response = admin_browser.get(reverse("staff:fit-ab-test", args=[scored_test.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    report: dict[str, Any] = ab_test_report(test=scored_test)
    comparison = report["comparison"]
    # the split: 75 in A, 60 in B against 67.5 each; chi-square (7.5² + 7.5²) / 67.5 on 1 df
    chi2 = 2 * 7.5**2 / 67.5
    assert report["assignment"]["p"] == pytest.approx(_two_sided_p(math.sqrt(chi2)))
    assert _rows(html, "ab-balance-table", "arm") == {
        "A": {"n": "75", "share": "55.6%", "expected-share": "50.0%", "expected-n": "67.5"},
        "B": {"n": "60", "share": "44.4%", "expected-share": "50.0%", "expected-n": "67.5"},
    }
    assert _cells(_element(html, "ab-balance-test")) == {
        "balance-chi2": f"{chi2:.2f}",
        "balance-p": "0.197",
    }
    assert _text(html, "ab-balance-verdict") == (
        "The split is as designed: 60 of 135 candidates (44.4%) are in arm B against 50.0% "
        "designed, within what chance gives (chi-square goodness of fit, p = 0.197)."
    )
    # simulated: three bots in arm B
    assert _text(html, "ab-simulated").startswith(
        "simulated 3 of the 135 candidates scored in this test are simulated (arm A: 0, arm B: 3)"
    )
    # pass rates: 51 of 75 against 48 of 60, pooled z-test
    pooled = 99 / 135
    z = (48 / 60 - 51 / 75) / math.sqrt(pooled * (1 - pooled) * (1 / 75 + 1 / 60))
    assert comparison["pass_rates"]["z"] == pytest.approx(z)
    assert _rows(html, "ab-pass-rates-table", "arm") == {
        "A": {"n": "75", "passes": "51", "pass-rate": "68.0%"},
        "B": {"n": "60", "passes": "48", "pass-rate": "80.0%"},
    }
    assert _cells(_element(html, "ab-pass-rates-test")) == {"z": "1.57", "p": "0.117"}
    assert _text(html, "ab-pass-rates-verdict") == comparison["pass_rates"]["verdict"]
    assert _text(html, "ab-pass-rates-verdict") == (
        "No detectable difference in pass rates (p = 0.12)."
    )
    # adverse impact: in A "f" passes 20/35 against "m" 28/35 (0.714, fails the 4/5ths
    # rule), "x" is 5 people (0.6 / 0.8 = 0.75, not ruled on); in B both pass 24/30
    groups = _rows(html, "ab-impact-groups", "group")
    assert groups["f"] == {
        "a-n": "35",
        "a-pass-rate": "57.1%",
        "a-impact-ratio": "0.714",
        "b-n": "30",
        "b-pass-rate": "80.0%",
        "b-impact-ratio": "1.000",
    }
    assert groups["x"]["a-impact-ratio"] == "0.750 (not ruled on)"
    assert (groups["x"]["b-n"], groups["x"]["b-impact-ratio"]) == ("0", "—")
    rules = _strip(_element(html, "ab-impact-rules"))
    assert "Arm A: fails the 4/5ths rule (lowest impact ratio 0.714, “f”)" in rules
    assert "Arm B: meets the 4/5ths rule (lowest impact ratio 1.000, “f”)" in rules
    # the log impact ratio test, by hand: var = (1 - p_f) / passes_f + (1 - p_r) / passes_r
    var_a = (1 - 20 / 35) / 20 + (1 - 28 / 35) / 28
    var_b = 2 * (1 - 24 / 30) / 24
    ratio_p = _two_sided_p(-math.log(20 / 28) / math.sqrt(var_a + var_b))
    impact = comparison["adverse_impact"][0]
    assert impact["p"] == pytest.approx(ratio_p)
    tests = _cells(_element(html, "ab-impact-tests"))
    assert (tests["impact-ratio-a"], tests["impact-ratio-b"]) == ("0.714", "1.000")
    assert tests["impact-p"] == f"{ratio_p:.3f}"
    assert tests["focal-p"] == f"{impact['focal_pass_rate_p']:.3f}"
    assert _text(html, "ab-impact-verdict") == impact["verdict"]
    chart = _chart_spec(html, "ab-impact-0")
    assert chart["labels"] == ["f", "m", "x"]
    assert chart["datasets"][0]["data"] == pytest.approx([20 / 28, 1.0, 0.75])
    assert chart["datasets"][0]["backgroundColor"] == ["#0072B2", "#0072B2", "#9aa5b1"]
    assert chart["datasets"][1]["data"][:2] == [1.0, 1.0]
    assert chart["datasets"][1]["data"][2] is None
    assert chart["datasets"][2]["data"] == [0.8, 0.8, 0.8]
    assert chart["simulated"] is True
    # fit scores: each arm's summary, both tests and the shared bins
    distributions = comparison["score_distributions"]
    scores = _rows(html, "ab-scores-table", "arm")
    assert scores["A"]["median"] == f"{distributions['arm_a']['median']:.1f}"
    assert scores["B"]["n"] == "60"
    tests = _cells(_element(html, "ab-scores-tests"))
    assert tests["mann-whitney-p"] == f"{distributions['mann_whitney_p']:.3f}"
    assert tests["ks-p"] == f"{distributions['ks_p']:.3f}"
    assert _text(html, "ab-scores-verdict") == distributions["verdict"]
    histogram = _chart_spec(html, "ab-scores")
    assert histogram["labels"][0] == "0\N{EN DASH}10"
    assert [row[1] for row in histogram["table"]["rows"]] == distributions["arm_a"]["histogram"]
    assert histogram["datasets"][1]["data"] == pytest.approx(
        [count / 60 for count in distributions["arm_b"]["histogram"]]
    )
    # no outcome recorded: said in words, no numbers
    assert _text(html, "ab-validity-none").startswith(
        "No outcome has been recorded for this test's candidates yet"
    )
    assert _text(html, "ab-summary-text") == comparison["summary"]
    # the read is logged, and an admin may stop it
    read = AuditLog.objects.get(action="ab_test.read")
    assert (read.actor, read.object_id) == (admin, str(scored_test.pk))
    assert 'data-testid="ab-stop-form"' in html


def test_recorded_outcomes_show_predictive_validity_per_arm(role, admin_browser):
    profile, assessment, first, second = role
    test = _test(profile, first, second)
    _score_arms(test, assessment, ARMS, outcomes=True)

    html = admin_browser.get(reverse("staff:fit-ab-test", args=[test.pk])).content.decode()

    report: dict[str, Any] = ab_test_report(test=test)
    comparison = report["comparison"]
    hiring, performance = comparison["hiring"], comparison["performance"]
    # every third candidate of each group hired: 12 + 12 + 2 of 75 in A, 10 + 10 of 60 in B
    rows = _rows(html, "ab-hiring-table", "arm")
    assert (rows["A"]["hired"], rows["A"]["not-hired"]) == ("26", "49")
    assert (rows["B"]["hired"], rows["B"]["not-hired"]) == ("20", "40")
    assert rows["A"]["auc"] == f"{hiring['auc_a']:.3f} (SE {hiring['se_a']:.3f})"
    assert _cells(_element(html, "ab-hiring-test")) == {"p": f"{hiring['p']:.3f}"}
    assert _text(html, "ab-hiring-verdict") == hiring["verdict"]
    rated = _rows(html, "ab-performance-table", "arm")
    assert rated["B"] == {"n": "60", "r": f"{performance['r_b']:.3f}"}
    assert _cells(_element(html, "ab-performance-test")) == {"p": f"{performance['p']:.3f}"}
    assert _text(html, "ab-performance-verdict") == performance["verdict"]
    assert 'data-testid="ab-validity-none"' not in html
    assert 'data-testid="ab-simulated"' not in html


def test_an_empty_arm_says_there_is_nothing_to_compare_yet(role, admin_browser):
    profile, assessment, first, second = role
    test = _test(profile, first, second)
    _score_arms(test, assessment, {"A": {"f": (4, 2)}})

    html = admin_browser.get(reverse("staff:fit-ab-test", args=[test.pk])).content.decode()

    assert _text(html, "ab-nothing") == (
        "Nothing to compare yet No candidate has been scored in arm B yet. The comparison "
        "appears once each arm has at least one scored candidate."
    )
    # four in A, none in B against an even split: p = erfc(sqrt(4 / 2)) (chi-square 4, 1 df)
    assert _cells(_element(html, "ab-balance-test")) == {
        "balance-chi2": "4.00",
        "balance-p": f"{_two_sided_p(2.0):.3f}",
    }
    assert _text(html, "ab-balance-verdict").startswith("The split is not as designed")
    assert 'data-testid="ab-pass-rates"' not in html


@pytest.mark.parametrize(
    ("winner", "result", "statuses"),
    [
        (
            "A",
            "The test has ended. Winner: arm A, Analyst v1",
            {1: ModelStatus.ACTIVE, 2: ModelStatus.RETIRED},
        ),
        (
            "B",
            "The test has ended. Winner: arm B, Analyst v2",
            {1: ModelStatus.RETIRED, 2: ModelStatus.ACTIVE},
        ),
        (
            "",
            "The test has ended without a winner: both versions stayed active",
            {1: ModelStatus.ACTIVE, 2: ModelStatus.ACTIVE},
        ),
    ],
    ids=["winner-A", "winner-B", "no-winner"],
)
def test_an_admin_stops_the_test_and_the_page_shows_the_result(
    scored_test, admin_browser, admin, winner, result, statuses
):
    response = admin_browser.post(
        reverse("staff:fit-ab-test-stop", args=[scored_test.pk]), {"winner": winner}, follow=True
    )

    assert response.redirect_chain == [(reverse("staff:fit-ab-test", args=[scored_test.pk]), 302)]
    scored_test.refresh_from_db()
    assert scored_test.ended_at is not None
    assert dict(FitModelVersion.objects.values_list("version", "status")) == statuses
    html = response.content.decode()
    assert _text(html, "ab-test-result").startswith(result)
    assert 'data-testid="ab-stop-form"' not in html
    assert _text(html, "ab-test-state") == "ended"
    stopped = AuditLog.objects.get(action="ab_test.stop")
    assert (stopped.actor, stopped.details) == (admin, {"winner": winner or None})


def test_stopping_an_ended_test_again_is_refused_on_its_page(role, admin_browser):
    profile, _, first, second = role
    test = _test(profile, first, second, ended=True)

    response = admin_browser.post(
        reverse("staff:fit-ab-test-stop", args=[test.pk]), {"winner": "B"}
    )

    assert response.status_code == 409
    assert _text(response.content.decode(), "refusal") == (
        "Refused Blue vs green has already ended"
    )
    test.refresh_from_db()
    assert test.winner is None
    assert FitModelVersion.objects.get(pk=first.pk).status == ModelStatus.ACTIVE


def test_an_unknown_winner_is_refused_on_the_form(scored_test, admin_browser):
    response = admin_browser.post(
        reverse("staff:fit-ab-test-stop", args=[scored_test.pk]), {"winner": "C"}
    )

    assert response.status_code == 400
    assert _text(response.content.decode(), "winner-errors") == (
        "Select a valid choice. C is not one of the available choices."
    )
    scored_test.refresh_from_db()
    assert scored_test.ended_at is None


def test_a_recruiter_reads_a_test_but_may_not_stop_it(scored_test, recruiter_browser):
    page = recruiter_browser.get(reverse("staff:fit-ab-test", args=[scored_test.pk]))
    refused = recruiter_browser.post(
        reverse("staff:fit-ab-test-stop", args=[scored_test.pk]), {"winner": "A"}
    )

    html = page.content.decode()
    assert page.status_code == 200
    assert "<form" not in _element(html, "ab-stop")
    assert _text(html, "read-only").startswith("Only an owner or an admin")
    assert refused.status_code == 403
    scored_test.refresh_from_db()
    assert scored_test.ended_at is None
    assert not AuditLog.objects.filter(action="ab_test.stop").exists()


@pytest.mark.parametrize(
    ("route", "method"),
    [("staff:fit-ab-test", "get"), ("staff:fit-ab-test-stop", "post")],
    ids=["detail", "stop"],
)
def test_another_organisations_test_answers_not_found_like_an_unknown_one(
    other_organization, admin_browser, route, method
):
    theirs, _ = _role(other_organization, "Globex role")
    test = _test(theirs, _version(theirs, 1), _version(theirs, 2), name="Globex secret test")

    answers = [
        getattr(admin_browser, method)(reverse(route, args=[ab_test_id]), {"winner": "A"})
        for ab_test_id in (test.pk, test.pk + 1000)
    ]

    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].templates[0].name == "staff/not_found.html"
    assert "Globex secret test" not in answers[0].content.decode()
    test.refresh_from_db()
    assert test.ended_at is None
    assert not AuditLog.objects.filter(action__startswith="ab_test.").exists()
