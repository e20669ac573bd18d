"""Staff pages of A/B tests of two model versions of a role, and recording candidates' outcomes.

``staff:fit-ab-tests`` lists the organisation's tests, running and ended, and (owners
and admins) starts one: a role, two of its versions whose bias audit passed, and the
share of candidates in arm B; the service's refusals (a version of another role, an
audit not passed, a model no better than chance, a test already running) are shown
on the form. ``staff:fit-ab-test`` shows one test: how candidates were split between
the arms against the design (chi-square goodness of fit), then the comparison of
:func:`pymetrics.fitmodels.science.abtests.compare_arms`: pass rates, adverse impact
per attribute, fit-score distributions and, where outcomes are recorded, predictive
validity, each with its test, p-value and the science module's verdict.
``staff:fit-ab-test-stop`` ends a test, with a winner or none.

``staff:candidate-outcome`` records what became of a candidate (hired or not, a
performance rating) from the form on their profile page, which
:func:`outcome_panel` prepares. Recording is for owners and admins: they are the
roles :func:`pymetrics.fitmodels.services.candidate_outcome_record` accepts. Hires
are often recorded by recruiters in practice, but an outcome feeds the validity
figures that decide between models, which only owners and admins change; the form is
not shown to the others, and a POST of theirs is refused with 403.

Everything is read within the viewer's organisation: another organisation's test or
candidate answers the not-found page (404), exactly like an unknown id. A test's page
summarises the groups its candidates reported, so every read of it is audit-logged
(``ab_test.read``, as the API does); starting, stopping and recording outcomes are
logged by the services.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Candidate
from pymetrics.assessments.selectors import candidate_get
from pymetrics.common.errors import DomainError, PermissionDenied
from pymetrics.fitmodels.models import ABTest, CandidateOutcome, FitModelVersion
from pymetrics.fitmodels.science.abtests import DEFAULT_ALPHA, MIN_GROUP_SIZE, SCORE_BIN_EDGES
from pymetrics.fitmodels.selectors import (
    ab_test_get,
    ab_test_list,
    ab_test_report,
    fit_model_version_get,
    job_profile_get,
    job_profile_list,
)
from pymetrics.fitmodels.services import ab_test_start, ab_test_stop, candidate_outcome_record
from pymetrics.staff.charts import chart, colour
from pymetrics.staff.pages.fitmodels import (
    FOUR_FIFTHS,
    MANAGER_ROLES,
    UNRULED_COLOUR,
    forbidden_page,
    is_manager,
    no_organization_page,
    not_found_page,
    number_text,
    organization_object,
    p_value_text,
    percent_text,
    status_label,
)

#: Who records candidates' outcomes: the roles ``candidate_outcome_record`` accepts.
OUTCOME_RECORDERS = MANAGER_ROLES
#: The arms' colours on the charts (grey bars of either arm are groups not ruled on).
ARM_COLOURS = {"A": colour(0), "B": colour(1)}
#: What a versions choice does not need of a version: the artefact, the long reports.
_VERSION_CHOICE_DEFER = ("artefact", "debias_history", "feature_weights", "audit_report")
HIRED_CHOICES = (
    ("yes", gettext_lazy("Hired")),
    ("no", gettext_lazy("Not hired")),
    ("unknown", gettext_lazy("Not known yet")),
)
_HIRED_VALUES: dict[str, bool | None] = {"yes": True, "no": False, "unknown": None}


# --- words and numbers -------------------------------------------------------------------


def p_phrase(p: float | None) -> str:
    """A p-value inside a sentence: "p < 0.001", "p = 0.042"."""
    if p is None:
        return "p = —"
    return "p < 0.001" if p < 0.001 else f"p = {number_text(p, 3)}"


def _version_link(version: FitModelVersion, role_name: str) -> dict[str, Any]:
    return {
        "id": version.pk,
        "label": f"{role_name} v{version.version}",
        "url": reverse("staff:fit-model", args=[version.pk]),
        "status": version.status,
        "status_label": status_label(version.status),
    }


def _winner_arm(test: ABTest) -> str | None:
    if test.winner_id is None:
        return None
    return "A" if test.winner_id == test.model_a_id else "B"


def ab_test_row(test: ABTest) -> dict[str, Any]:
    """One test as the list shows it (and the detail page's head)."""
    role_name = test.job_profile.name
    arm = _winner_arm(test)
    return {
        "id": test.pk,
        "name": test.name,
        "url": reverse("staff:fit-ab-test", args=[test.pk]),
        "role": {
            "id": test.job_profile_id,
            "name": role_name,
            "url": reverse("staff:fit-role", args=[test.job_profile_id]),
        },
        "model_a": _version_link(test.model_a, role_name),
        "model_b": _version_link(test.model_b, role_name),
        "share_b": percent_text(test.share_b, -1),
        "started_at": test.started_at,
        "ended_at": test.ended_at,
        "running": test.ended_at is None,
        "winner_arm": arm,
        "winner": (
            None
            if arm is None
            else _("arm %(arm)s, %(label)s")
            % {
                "arm": arm,
                "label": f"{role_name} v{(test.model_a if arm == 'A' else test.model_b).version}",
            }
        ),
    }


# --- the start form ---------------------------------------------------------------------------


class ABTestStartForm(forms.Form):
    """A new test; what the service accepts is what the choices offer, its refusals show here."""

    name = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy(
            "Optional: left empty, the test is named after its versions (“Analyst v1 vs "
            "Analyst v2”)."
        ),
    )
    job_profile = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Role"))
    model_a = forms.TypedChoiceField(
        coerce=int,
        label=gettext_lazy("Version A"),
        help_text=gettext_lazy("Usually the role's current model."),
    )
    model_b = forms.TypedChoiceField(
        coerce=int,
        label=gettext_lazy("Version B"),
        help_text=gettext_lazy("The challenger."),
    )
    share_b = forms.FloatField(
        initial=0.5,
        label=gettext_lazy("Share of candidates in arm B"),
        help_text=gettext_lazy(
            "Between 0 and 1 (0.5 splits evenly). Each candidate is put in an arm by a hash "
            "of the test and their id, so a candidate who comes back meets the same model."
        ),
        widget=forms.NumberInput(attrs={"step": "any"}),
    )

    def __init__(self, *args: Any, organization_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = job_profile_list(organization_id=organization_id)
        self.fields["job_profile"].choices = [("", "—"), *((r.pk, r.name) for r in roles)]  # type: ignore[attr-defined]
        versions = self.version_choices(organization_id)
        self.fields["model_a"].choices = versions  # type: ignore[attr-defined]
        self.fields["model_b"].choices = versions  # type: ignore[attr-defined]
        #: whether some role has two versions to compare (else the page says so)
        self.has_versions = any(len(options) >= 2 for _, options in versions[1:])

    @staticmethod
    def version_choices(organization_id: int) -> list[Any]:
        """The organisation's versions whose bias audit passed, grouped by role.

        ``ab_test_start`` takes any version of the role whose audit passed (it activates
        both); it also refuses a model no better than chance, which shows as its refusal.
        """
        versions = (
            FitModelVersion.objects.filter(
                job_profile__organization_id=organization_id, audit_passed=True
            )
            .defer(*_VERSION_CHOICE_DEFER)
            .select_related("job_profile")
            .order_by("job_profile__name", "job_profile_id", "-version")
        )
        groups: dict[str, list[tuple[int, str]]] = {}
        for version in versions:
            groups.setdefault(version.job_profile.name, []).append(
                (
                    version.pk,
                    _("%(label)s (%(status)s)")
                    % {"label": version.label, "status": status_label(version.status)},
                )
            )
        return [("", "—"), *groups.items()]


def start_refusal_field(error: DomainError) -> str | None:
    """The start form's field a refusal of ``ab_test_start`` is about (None: the form's)."""
    field = (error.details or {}).get("field") if isinstance(error.details, dict) else None
    return field if field in ABTestStartForm.base_fields else None


# --- the comparison in words, tables and charts -------------------------------------------


def balance_view(assignment: dict[str, Any], alpha: float = DEFAULT_ALPHA) -> dict[str, Any]:
    """The split between the arms against ``share_b``, with the goodness-of-fit sentence."""
    n_a, n_b, share_b = assignment["n_a"], assignment["n_b"], assignment["share_b"]
    total = n_a + n_b
    p = assignment.get("p")
    values = {
        "n_b": n_b,
        "n": total,
        "share": percent_text(n_b / total) if total else "—",
        "expected": percent_text(share_b),
        "p": p_phrase(p),
    }
    if total == 0 or p is None:
        sentence = _("No candidate has been scored in this test yet.")
        as_designed = None
    elif p < alpha:
        sentence = (
            _(
                "The split is not as designed: %(n_b)s of %(n)s candidates (%(share)s) are in "
                "arm B against %(expected)s designed, more than chance would explain "
                "(chi-square goodness of fit, %(p)s). Check how candidates reach the arms."
            )
            % values
        )
        as_designed = False
    else:
        sentence = (
            _(
                "The split is as designed: %(n_b)s of %(n)s candidates (%(share)s) are in arm "
                "B against %(expected)s designed, within what chance gives (chi-square "
                "goodness of fit, %(p)s)."
            )
            % values
        )
        as_designed = True
    return {
        "rows": [
            {
                "arm": arm,
                "n": n,
                "share": percent_text(n / total) if total else "—",
                "expected_share": percent_text(expected),
                "expected_n": number_text(total * expected, 1),
            }
            for arm, n, expected in (("A", n_a, 1 - share_b), ("B", n_b, share_b))
        ],
        "n": total,
        "chi2": number_text(assignment.get("chi2"), 2),
        "p": p_value_text(p),
        "as_designed": as_designed,
        "sentence": sentence,
    }


def pass_rates_view(pass_rates: dict[str, Any]) -> dict[str, Any]:
    return {
        "rows": [
            {
                "arm": arm,
                "n": pass_rates[f"n_{key}"],
                "passes": pass_rates[f"passes_{key}"],
                "pass_rate": percent_text(pass_rates[f"pass_rate_{key}"]),
            }
            for arm, key in (("A", "a"), ("B", "b"))
        ],
        "z": number_text(pass_rates["z"], 2),
        "p": p_value_text(pass_rates["p"]),
        "significant": pass_rates["significant"],
        "verdict": pass_rates["verdict"],
    }


def _ruled_text(in_a: dict[str, Any] | None, in_b: dict[str, Any] | None) -> str:
    ruled_a = bool(in_a and in_a["ruled_on"])
    ruled_b = bool(in_b and in_b["ruled_on"])
    if ruled_a and ruled_b:
        return _("in both arms")
    if ruled_a:
        return _("in arm A only")
    if ruled_b:
        return _("in arm B only")
    return _("not ruled on (under %(min)s people)") % {"min": MIN_GROUP_SIZE}


def _rule_text(impact: dict[str, Any]) -> str:
    if impact["four_fifths_pass"] is None:
        return _("not ruled on (%(reason)s)") % {"reason": impact["reason"]}
    return _("meets the 4/5ths rule") if impact["four_fifths_pass"] else _("fails the 4/5ths rule")


def impact_chart(chart_id: str, comparison: dict[str, Any], simulated: bool) -> dict[str, Any]:
    """One attribute's impact ratios per group in both arms, with the 4/5ths line."""
    attribute = comparison["attribute"]
    by_arm = {
        arm: {group["group"]: group for group in comparison[f"arm_{arm.lower()}"]["groups"]}
        for arm in ("A", "B")
    }
    labels = sorted(set(by_arm["A"]) | set(by_arm["B"]))
    datasets: list[dict[str, Any]] = []
    for order, arm in enumerate(("A", "B"), start=2):
        groups = by_arm[arm]
        datasets.append(
            {
                "type": "bar",
                "label": _("Arm %(arm)s") % {"arm": arm},
                "data": [groups[g]["impact_ratio"] if g in groups else None for g in labels],
                "backgroundColor": [
                    ARM_COLOURS[arm] if g in groups and groups[g]["ruled_on"] else UNRULED_COLOUR
                    for g in labels
                ],
                "borderColor": ARM_COLOURS[arm],
                "borderWidth": 2,
                "maxBarThickness": 40,
                "order": order,
            }
        )
    datasets.append(
        {
            "type": "line",
            "label": _("4/5ths rule (0.8)"),
            "data": [FOUR_FIFTHS] * len(labels),
            "borderColor": colour(7),
            "borderDash": [6, 4],
            "borderWidth": 2,
            "pointRadius": 0,
            "order": 1,
        }
    )

    def cells(arm: str, group: str) -> list[Any]:
        found = by_arm[arm].get(group)
        if found is None:
            return [0, None, None]
        return [found["n"], found["pass_rate"], found["impact_ratio"]]

    return chart(
        chart_id,
        kind="bar",
        title=_("%(attribute)s: impact ratio per group in each arm") % {"attribute": attribute},
        summary=_(
            "Each group's pass rate divided by the highest-passing group's in the same arm "
            "(arm A blue, arm B orange). Below the dashed line at 0.8 the 4/5ths rule fails; "
            "grey bars are groups under %(min)s people in that arm, reported but not ruled on."
        )
        % {"min": MIN_GROUP_SIZE},
        labels=labels,
        datasets=datasets,
        options={"scales": {"y": {"min": 0, "suggestedMax": 1}}},
        columns=[
            _("Group"),
            _("Arm A: people"),
            _("Arm A: pass rate"),
            _("Arm A: impact ratio"),
            _("Arm B: people"),
            _("Arm B: pass rate"),
            _("Arm B: impact ratio"),
            _("Ruled on"),
        ],
        rows=[
            [
                group,
                *cells("A", group),
                *cells("B", group),
                _ruled_text(by_arm["A"].get(group), by_arm["B"].get(group)),
            ]
            for group in labels
        ],
        simulated=simulated,
    )


def impact_views(comparisons: Sequence[dict[str, Any]], simulated: bool) -> list[dict[str, Any]]:
    """Each attribute: its groups in both arms, the 4/5ths rule per arm, the ratio test."""
    views = []
    for index, comparison in enumerate(comparisons):
        attribute = comparison["attribute"]
        by_arm = {
            arm: {group["group"]: group for group in comparison[f"arm_{arm.lower()}"]["groups"]}
            for arm in ("A", "B")
        }
        groups = []
        for name in sorted(set(by_arm["A"]) | set(by_arm["B"])):
            row: dict[str, Any] = {"label": name}
            for arm in ("A", "B"):
                found = by_arm[arm].get(name)
                row[arm] = {
                    "n": found["n"] if found else 0,
                    "passes": found["passes"] if found else 0,
                    "pass_rate": percent_text(found["pass_rate"]) if found else "—",
                    "impact_ratio": number_text(found["impact_ratio"]) if found else "—",
                    "present": found is not None,
                    "ruled_on": bool(found and found["ruled_on"]),
                }
            groups.append(row)
        views.append(
            {
                "attribute": attribute,
                "anchor": f"impact-{index}-{slugify(attribute) or 'attribute'}",
                "groups": groups,
                "arms": [
                    {
                        "arm": arm,
                        "not_reported": comparison[f"arm_{arm.lower()}"]["not_reported"],
                        "rule": _rule_text(comparison[f"arm_{arm.lower()}"]),
                        "passed": comparison[f"arm_{arm.lower()}"]["four_fifths_pass"],
                        "lowest_group": comparison[f"arm_{arm.lower()}"]["lowest_group"],
                        "lowest_impact_ratio": number_text(
                            comparison[f"arm_{arm.lower()}"]["lowest_impact_ratio"]
                        ),
                    }
                    for arm in ("A", "B")
                ],
                "tested": comparison["p"] is not None,
                "focal_group": comparison["focal_group"],
                "reference_group": comparison["reference_group"],
                "impact_ratio_a": number_text(comparison["impact_ratio_a"]),
                "impact_ratio_b": number_text(comparison["impact_ratio_b"]),
                "z": number_text(comparison["z"], 2),
                "p": p_value_text(comparison["p"]),
                "focal_pass_rate_a": percent_text(comparison["focal_pass_rate_a"]),
                "focal_pass_rate_b": percent_text(comparison["focal_pass_rate_b"]),
                "focal_pass_rate_p": p_value_text(comparison["focal_pass_rate_p"]),
                "significant": comparison["significant"],
                "verdict": comparison["verdict"],
                "chart": impact_chart(f"ab-impact-{index}", comparison, simulated),
            }
        )
    return views


def _bin_labels() -> list[str]:
    edges = SCORE_BIN_EDGES
    return [f"{edges[i]:g}\N{EN DASH}{edges[i + 1]:g}" for i in range(len(edges) - 1)]


def distribution_chart(distributions: dict[str, Any], simulated: bool) -> dict[str, Any]:
    """Both arms' fit scores on the shared bins, as shares of each arm (arms differ in size)."""
    labels = _bin_labels()
    counts = {arm: distributions[f"arm_{arm.lower()}"]["histogram"] for arm in ("A", "B")}
    sizes = {arm: distributions[f"arm_{arm.lower()}"]["n"] for arm in ("A", "B")}
    shares = {
        arm: [count / sizes[arm] if sizes[arm] else None for count in counts[arm]]
        for arm in ("A", "B")
    }
    return chart(
        "ab-scores",
        kind="bar",
        title=_("Fit scores in each arm"),
        summary=_(
            "The share of each arm's candidates per band of 10 fit-score points (the arms "
            "differ in size, so shares compare them). Mann-Whitney U %(mw)s, "
            "Kolmogorov-Smirnov %(ks)s."
        )
        % {
            "mw": p_phrase(distributions["mann_whitney_p"]),
            "ks": p_phrase(distributions["ks_p"]),
        },
        labels=labels,
        datasets=[
            {
                "label": _("Arm %(arm)s") % {"arm": arm},
                "data": shares[arm],
                "backgroundColor": ARM_COLOURS[arm],
                "maxBarThickness": 28,
            }
            for arm in ("A", "B")
        ],
        options={
            "scales": {
                "x": {"title": {"display": True, "text": _("Fit score")}},
                "y": {
                    "min": 0,
                    "title": {"display": True, "text": _("Share of the arm's candidates")},
                },
            }
        },
        columns=[
            _("Fit score"),
            _("Arm A: candidates"),
            _("Arm A: share"),
            _("Arm B: candidates"),
            _("Arm B: share"),
        ],
        rows=[
            [label, counts["A"][i], shares["A"][i], counts["B"][i], shares["B"][i]]
            for i, label in enumerate(labels)
        ],
        simulated=simulated,
    )


def distributions_view(distributions: dict[str, Any], simulated: bool) -> dict[str, Any]:
    return {
        "rows": [
            {
                "arm": arm,
                "n": summary["n"],
                "mean": number_text(summary["mean"], 1),
                "sd": number_text(summary["sd"], 1),
                "q1": number_text(summary["q1"], 1),
                "median": number_text(summary["median"], 1),
                "q3": number_text(summary["q3"], 1),
            }
            for arm, summary in (("A", distributions["arm_a"]), ("B", distributions["arm_b"]))
        ],
        "mann_whitney_u": number_text(distributions["mann_whitney_u"], 1),
        "mann_whitney_p": p_value_text(distributions["mann_whitney_p"]),
        "probability_b_higher": number_text(distributions["probability_b_higher"]),
        "ks_statistic": number_text(distributions["ks_statistic"]),
        "ks_p": p_value_text(distributions["ks_p"]),
        "significant": distributions["significant"],
        "verdict": distributions["verdict"],
        "chart": distribution_chart(distributions, simulated),
    }


def _auc_with_se(auc: float | None, se: float | None) -> str:
    if auc is None:
        return "—"
    return _("%(auc)s (SE %(se)s)") % {"auc": number_text(auc), "se": number_text(se)}


def validity_view(
    hiring: dict[str, Any] | None, performance: dict[str, Any] | None
) -> dict[str, Any]:
    """Predictive validity where outcomes were recorded; ``recorded`` False when none were."""
    hired_counts = (
        sum(hiring[key] for key in ("hired_a", "not_hired_a", "hired_b", "not_hired_b"))
        if hiring
        else 0
    )
    rated = (performance["n_a"] + performance["n_b"]) if performance else 0
    return {
        "recorded": hired_counts > 0 or rated > 0,
        "hiring": (
            {
                "rows": [
                    {
                        "arm": arm,
                        "hired": hiring[f"hired_{key}"],
                        "not_hired": hiring[f"not_hired_{key}"],
                        "auc": _auc_with_se(hiring[f"auc_{key}"], hiring[f"se_{key}"]),
                    }
                    for arm, key in (("A", "a"), ("B", "b"))
                ],
                "min_per_class": hiring["min_per_class"],
                "tested": hiring["p"] is not None,
                "z": number_text(hiring["z"], 2),
                "p": p_value_text(hiring["p"]),
                "significant": hiring["significant"],
                "verdict": hiring["verdict"],
            }
            if hiring
            else None
        ),
        "performance": (
            {
                "rows": [
                    {
                        "arm": arm,
                        "n": performance[f"n_{key}"],
                        "r": number_text(performance[f"r_{key}"]),
                    }
                    for arm, key in (("A", "a"), ("B", "b"))
                ],
                "min_rated": performance["min_rated"],
                "tested": performance["p"] is not None,
                "z": number_text(performance["z"], 2),
                "p": p_value_text(performance["p"]),
                "significant": performance["significant"],
                "verdict": performance["verdict"],
            }
            if performance
            else None
        ),
    }


# --- the stop form ------------------------------------------------------------------------------


class ABTestStopForm(forms.Form):
    winner = forms.ChoiceField(
        label=gettext_lazy("Winner"),
        required=False,
        widget=forms.RadioSelect,
        initial="",
    )

    def __init__(self, *args: Any, test: ABTest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = test.job_profile.name
        self.fields["winner"].choices = [  # type: ignore[attr-defined]
            (
                "A",
                _("Arm A, %(label)s: it scores every candidate, %(other)s retires")
                % {"label": f"{role} v{test.model_a.version}", "other": f"v{test.model_b.version}"},
            ),
            (
                "B",
                _("Arm B, %(label)s: it scores every candidate, %(other)s retires")
                % {"label": f"{role} v{test.model_b.version}", "other": f"v{test.model_a.version}"},
            ),
            ("", _("No winner: both versions stay active until one is retired")),
        ]


# --- views: A/B tests -------------------------------------------------------------------------


def _list_page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: ABTestStartForm | None = None,
    status: int = 200,
) -> HttpResponse:
    manager = is_manager(actor)
    rows = [ab_test_row(test) for test in ab_test_list(organization_id=actor.organization.pk)]
    if manager and form is None:
        form = ABTestStartForm(organization_id=actor.organization.pk)
    return render(
        request,
        "staff/fitmodels/ab_tests.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "sections": [
                {
                    "key": "running",
                    "title": _("Running"),
                    "caption": _("A/B tests running now, newest first"),
                    "rows": [row for row in rows if row["running"]],
                    "empty": _("No A/B test is running."),
                },
                {
                    "key": "ended",
                    "title": _("Ended"),
                    "caption": _("A/B tests that have ended, newest first"),
                    "rows": [row for row in rows if not row["running"]],
                    "empty": _("No A/B test has ended yet."),
                },
            ],
            "form": form if manager else None,
            "can_manage": manager,
        },
        status=status,
    )


@login_required
def list_page(request: HttpRequest) -> HttpResponse:
    """The organisation's A/B tests, and (owners and admins) a form to start one."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    if request.method in ("GET", "HEAD"):
        return _list_page(request, actor)
    if request.method != "POST":
        return HttpResponse(status=405)
    if not is_manager(actor):
        return forbidden_page(request, actor)
    organization_id = actor.organization.pk
    form = ABTestStartForm(request.POST, organization_id=organization_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            profile = job_profile_get(
                organization_id=organization_id, job_profile_id=data["job_profile"]
            )
            model_a = fit_model_version_get(
                organization_id=organization_id, model_version_id=data["model_a"]
            )
            model_b = fit_model_version_get(
                organization_id=organization_id, model_version_id=data["model_b"]
            )
        except DomainError:  # a choice removed since the form was drawn
            form.add_error(None, _("A role or version chosen no longer exists; choose again."))
        else:
            try:
                test = ab_test_start(
                    actor=actor,
                    job_profile=profile,
                    model_a=model_a,
                    model_b=model_b,
                    share_b=data["share_b"],
                    name=data["name"],
                )
            except PermissionDenied as error:
                return forbidden_page(request, actor, error.message)
            except DomainError as error:
                form.add_error(start_refusal_field(error), error.message)
                return _list_page(request, actor, form=form, status=error.status)
            messages.success(
                request,
                _(
                    "A/B test “%(name)s” started: both versions are active, and the role's "
                    "candidates are being scored again by their arm's version."
                )
                % {"name": test.name},
            )
            return redirect("staff:fit-ab-test", ab_test_id=test.pk)
    return _list_page(request, actor, form=form, status=400)


def _detail_page(
    request: HttpRequest,
    actor: Actor,
    test: ABTest,
    *,
    refusal: str = "",
    stop_form: ABTestStopForm | None = None,
    status: int = 200,
) -> HttpResponse:
    report: dict[str, Any] = ab_test_report(test=test)
    audit_log_record(
        actor=actor,
        action="ab_test.read",
        object_type="abtest",
        object_id=test.pk,
        details={"view": "page"},
    )
    comparison = report["comparison"]
    simulated = report["simulated"]
    simulated_total = simulated["A"] + simulated["B"]
    assignment = report["assignment"]
    empty_arms = [arm for arm in ("A", "B") if assignment[f"n_{arm.lower()}"] == 0]
    manager = is_manager(actor)
    row = ab_test_row(test)
    return render(
        request,
        "staff/fitmodels/ab_test.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "test": row,
            "balance": balance_view(assignment),
            "comparison": comparison,
            "alpha": number_text(comparison["alpha"], -2) if comparison else "",
            "empty_arms": empty_arms,
            "empty_text": (
                ngettext(
                    "No candidate has been scored in arm %(arms)s yet.",
                    "No candidate has been scored in either arm yet.",
                    len(empty_arms),
                )
                % {"arms": empty_arms[0]}
                if empty_arms
                else ""
            ),
            "pass_rates": pass_rates_view(comparison["pass_rates"]) if comparison else None,
            "impacts": (
                impact_views(comparison["adverse_impact"], simulated_total > 0)
                if comparison
                else []
            ),
            "distributions": (
                distributions_view(comparison["score_distributions"], simulated_total > 0)
                if comparison
                else None
            ),
            "validity": (
                validity_view(comparison["hiring"], comparison["performance"])
                if comparison
                else None
            ),
            "simulated": simulated,
            "simulated_total": simulated_total,
            "scored_total": assignment["n_a"] + assignment["n_b"],
            "refusal": refusal,
            "can_manage": manager,
            "stop_form": (stop_form or ABTestStopForm(test=test))
            if manager and row["running"]
            else None,
        },
        status=status,
    )


@login_required
@require_safe
def detail_page(request: HttpRequest, ab_test_id: int) -> HttpResponse:
    """One test: the split against the design and the comparison of its arms."""
    found = organization_object(request, ab_test_get, ab_test_id=ab_test_id)
    if isinstance(found, HttpResponse):
        return found
    actor, test = found
    return _detail_page(request, actor, test)


@login_required
@require_POST
def stop(request: HttpRequest, ab_test_id: int) -> HttpResponse:
    """End a test, with a winner (A or B) or none; a refusal is shown on the test's page."""
    found = organization_object(request, ab_test_get, ab_test_id=ab_test_id)
    if isinstance(found, HttpResponse):
        return found
    actor, test = found
    if not is_manager(actor):
        return forbidden_page(request, actor)
    form = ABTestStopForm(request.POST, test=test)
    if not form.is_valid():
        return _detail_page(request, actor, test, stop_form=form, status=400)
    winner = form.cleaned_data["winner"] or None
    try:
        ended = ab_test_stop(actor=actor, test=test, winner=winner)
    except PermissionDenied as error:
        return forbidden_page(request, actor, error.message)
    except DomainError as error:
        test.refresh_from_db()
        return _detail_page(request, actor, test, refusal=error.message, status=error.status)
    if winner:
        done = _(
            "“%(name)s” ended: arm %(arm)s won; %(label)s now scores the role's candidates."
        ) % {"name": ended.name, "arm": winner, "label": ab_test_row(ended)["winner"]}
    else:
        done = _("“%(name)s” ended without a winner: both versions stay active.") % {
            "name": ended.name
        }
    messages.success(request, done)
    return redirect("staff:fit-ab-test", ab_test_id=ended.pk)


# --- candidates' outcomes (the form on the profile page) ------------------------------------


class PerformanceField(forms.FloatField):
    """A number; infinities and NaN reach the service, whose refusal the form then shows."""

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)


class OutcomeForm(forms.Form):
    hired = forms.ChoiceField(
        label=gettext_lazy("Hired"),
        choices=HIRED_CHOICES,
        initial="unknown",
        widget=forms.RadioSelect,
    )
    performance = PerformanceField(
        required=False,
        label=gettext_lazy("Performance rating (optional)"),
        help_text=gettext_lazy(
            "A number on your organisation's rating scale. A/B tests correlate it with "
            "fit scores (predictive validity)."
        ),
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def _hired_key(hired: bool | None) -> str:
    return "unknown" if hired is None else ("yes" if hired else "no")


def outcome_panel(
    *, actor: Actor, candidate: Candidate, form: OutcomeForm | None = None
) -> dict[str, Any]:
    """The profile page's outcome section: what was recorded, and the form for recorders."""
    outcome = CandidateOutcome.objects.filter(candidate=candidate).first()
    can_record = actor.role in OUTCOME_RECORDERS
    if can_record and form is None:
        form = OutcomeForm(
            initial={
                "hired": _hired_key(outcome.hired),
                "performance": outcome.performance,
            }
            if outcome
            else None
        )
    labels = dict(HIRED_CHOICES)
    return {
        "recorded": outcome is not None,
        "hired": _hired_key(outcome.hired) if outcome else None,
        "hired_text": str(labels[_hired_key(outcome.hired)]) if outcome else "",
        "performance_text": number_text(outcome.performance, -2)
        if outcome and outcome.performance is not None
        else "—",
        "recorded_at": outcome.recorded_at if outcome else None,
        "can_record": can_record,
        "form": form if can_record else None,
        "action": reverse("staff:candidate-outcome", args=[candidate.pk]),
    }


@login_required
@require_POST
def outcome_record(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Record a candidate's outcome from their profile; errors show on the profile's form."""
    # The profile page imports outcome_panel from here: import it back when needed.
    from pymetrics.staff.pages.profile import profile_response

    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    try:
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
    except DomainError:
        return not_found_page(request, actor)
    if actor.role not in OUTCOME_RECORDERS:
        return forbidden_page(
            request, actor, _("Only an owner or an admin of the organisation records outcomes.")
        )
    form = OutcomeForm(request.POST)
    status = 400
    if form.is_valid():
        hired = _HIRED_VALUES[form.cleaned_data["hired"]]
        performance = form.cleaned_data["performance"]
        try:
            candidate_outcome_record(
                actor=actor, candidate=candidate, hired=hired, performance=performance
            )
        except PermissionDenied as error:
            return forbidden_page(request, actor, error.message)
        except DomainError as error:
            form.add_error("performance" if "performance" in error.message else None, error.message)
            status = error.status
        else:
            messages.success(
                request,
                _("Outcome recorded: %(hired)s, performance %(performance)s.")
                % {
                    "hired": str(dict(HIRED_CHOICES)[form.cleaned_data["hired"]]).lower(),
                    "performance": "—" if performance is None else number_text(performance, -2),
                },
            )
            return redirect(reverse("staff:candidate-profile", args=[candidate.pk]) + "#outcome")
    return profile_response(request, actor, candidate, outcome_form=form, status=status)
