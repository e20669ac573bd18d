"""Staff pages of the job-fit layer: roles, their incumbents and training, model versions.

``staff:fit-roles`` lists the organisation's roles (job profiles) with their
incumbents and models, and defines new ones; ``staff:fit-role`` shows one role: its
incumbents (added from the organisation's candidates), its training jobs (a bar that
``staff/fitmodels.js`` keeps up to date from ``staff:fit-training-job-data``) and its
model versions; ``staff:fit-model`` shows one version: the cross-validation report,
what the model makes of each feature, the bias audit per attribute and the debiasing
steps, with the buttons that audit, activate and retire it.

Everything is read within the viewer's organisation: another organisation's id
answers the not-found page (404), exactly like an unknown one. Only owners and
admins change anything (define roles, add incumbents, train, audit, activate,
retire); the others see the same pages without the forms, and a POST of theirs is
refused with 403. Pages that name candidates (the incumbents) or show figures of
the groups they reported (the audit) are audit-logged on every read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from pymetrics.accounts.models import Role
from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment, Candidate
from pymetrics.common.api import error_body
from pymetrics.common.errors import Conflict, DomainError, PermissionDenied
from pymetrics.fitmodels.models import (
    Algorithm,
    FeatureSet,
    FitModelVersion,
    Incumbent,
    JobProfile,
    ModelStatus,
    TrainingJob,
    TrainingState,
)
from pymetrics.fitmodels.selectors import (
    fit_model_version_get,
    job_profile_get,
    job_profile_list,
    training_job_get,
)
from pymetrics.fitmodels.services import (
    fit_model_activate,
    fit_model_audit,
    fit_model_retire,
    incumbents_add,
    job_profile_create,
    training_job_request,
)
from pymetrics.scoring.labels import trait_label
from pymetrics.staff.charts import chart, colour

T = TypeVar("T")

#: Roles that may change roles and models; the others read (the services check it too).
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})
#: The 4/5ths rule's line on the impact-ratio charts.
FOUR_FIFTHS = 0.8
#: Incumbents listed on a role's page (newest first); the count covers all.
INCUMBENTS_SHOWN = 200
#: How often the role page asks for a running training job's progress.
POLL_MS = 1500
#: Bar colours of the audit: ruled on and passing, failing, and not ruled on (grey).
PASS_COLOUR, FAIL_COLOUR, UNRULED_COLOUR = colour(2), colour(5), "#9aa5b1"

STATUS_LABELS = {
    ModelStatus.DRAFT: gettext_lazy("Draft"),
    ModelStatus.AUDITED: gettext_lazy("Audited"),
    ModelStatus.ACTIVE: gettext_lazy("Active"),
    ModelStatus.RETIRED: gettext_lazy("Retired"),
}
ALGORITHM_LABELS = {
    Algorithm.LOGISTIC_REGRESSION: gettext_lazy("Logistic regression"),
    Algorithm.GRADIENT_BOOSTING: gettext_lazy("Gradient boosting (calibrated)"),
}
FEATURE_SET_LABELS = {
    FeatureSet.TRAITS: gettext_lazy("The nine traits"),
    FeatureSet.TRAITS_AND_METRICS: gettext_lazy("The nine traits and every metric"),
}
TRAINING_STATE_LABELS = {
    TrainingState.QUEUED: gettext_lazy("Queued"),
    TrainingState.RUNNING: gettext_lazy("Running"),
    TrainingState.SUCCEEDED: gettext_lazy("Succeeded"),
    TrainingState.FAILED: gettext_lazy("Failed"),
}
DEBIAS_ACTION_LABELS = {
    "trained": gettext_lazy("trained"),
    "removed": gettext_lazy("feature removed"),
    "down_weighted": gettext_lazy("feature down-weighted"),
}
BAYES_FACTOR_READINGS = {
    "difference": gettext_lazy("evidence of a difference between groups (BF10 above 3)"),
    "no difference": gettext_lazy("evidence of no difference between groups (BF10 below 1/3)"),
    "inconclusive": gettext_lazy("inconclusive (BF10 between 1/3 and 3)"),
}


# --- words and numbers -----------------------------------------------------------------


def number_text(value: float | None, digits: int = 3) -> str:
    """A number as the pages print it (rounded half up, localised); a dash for none."""
    return "—" if value is None else str(floatformat(value, digits))


def percent_text(share: float | None, digits: int = 1) -> str:
    return "—" if share is None else f"{floatformat(100.0 * share, digits)}%"


def p_value_text(p: float | None) -> str:
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else number_text(p, 3)


def feature_label(name: str) -> str:
    """``trait:attention`` -> "Attention"; ``metric:balloons.adjusted_pumps`` stays a key."""
    if name.startswith("trait:"):
        return trait_label(name.removeprefix("trait:"))
    return name.removeprefix("metric:")


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))  # type: ignore[call-overload]


def _auc_text(auc: float | None, ci: dict[str, Any] | None) -> str:
    """The AUC with its interval, as the versions table and the model page show it."""
    if auc is None:
        return "—"
    if not ci or ci.get("low") is None or ci.get("high") is None:
        return number_text(auc)
    level = round(100 * float(ci.get("level", 0.95)))
    return _("%(auc)s (%(level)s%% CI %(low)s to %(high)s)") % {
        "auc": number_text(auc),
        "level": level,
        "low": number_text(ci["low"]),
        "high": number_text(ci["high"]),
    }


def _reaches_chance(ci: dict[str, Any] | None) -> bool:
    """Whether the AUC's interval reaches 0.5: no better than chance, however fair."""
    low = (ci or {}).get("low")
    return low is not None and float(low) <= 0.5


def audit_verdict_text(version: FitModelVersion) -> str:
    """What the version's latest bias audit says, in words."""
    if version.audit_passed is None:
        return _("not audited")
    if version.audit_passed:
        return _("passes the 4/5ths rule")
    report = version.audit_report or {}
    if report.get("passed"):
        return _("nothing could be ruled on: no attribute had two groups of 30 or more")
    return _("fails the 4/5ths rule")


def _user_label(user: Any) -> str:
    if user is None:
        return _("the platform")
    return str(user.full_name or user.email)


# --- access ------------------------------------------------------------------------------


def is_manager(actor: Actor) -> bool:
    return actor.role in MANAGER_ROLES


def not_found_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "staff/not_found.html", {"organization": actor.organization}, status=404)


def forbidden_page(request: HttpRequest, actor: Actor, message: str = "") -> HttpResponse:
    return render(
        request,
        "staff/fitmodels/forbidden.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "message": message or _("Only an owner or an admin of the organisation may do this."),
        },
        status=403,
    )


def organization_object(
    request: HttpRequest, get: Callable[..., T], **ids: int
) -> tuple[Actor, T] | HttpResponse:
    """The viewer and the object ``get`` finds by ``ids`` within their organisation, or
    the page to answer instead: no organisation (403), or not found (404), which is
    also what another organisation's id gets."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    try:
        return actor, get(organization_id=actor.organization.pk, **ids)
    except DomainError:
        return not_found_page(request, actor)


def no_organization_page(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/no_organization.html", status=403)


# --- forms -------------------------------------------------------------------------------


class JobProfileForm(forms.Form):
    """A new role; the service checks the rules (a unique name, a threshold in 0..100)."""

    name = forms.CharField(max_length=200, label=gettext_lazy("Name"))
    description = forms.CharField(
        required=False,
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    assessments = forms.ModelMultipleChoiceField(
        queryset=Assessment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Assessments whose candidates it scores"),
        help_text=gettext_lazy(
            "Once a model of the role is active, every completed candidate of these "
            "assessments gets a fit score."
        ),
    )
    baseline_assessment = forms.ModelChoiceField(
        queryset=Assessment.objects.none(),
        required=False,
        label=gettext_lazy("Baseline assessment"),
        help_text=gettext_lazy(
            "Its completed candidates are the contrast the model learns the incumbents "
            "against (for example, all applicants)."
        ),
    )
    features = forms.ChoiceField(
        choices=list(FEATURE_SET_LABELS.items()),
        initial=FeatureSet.TRAITS,
        label=gettext_lazy("Features"),
    )
    algorithm = forms.ChoiceField(
        choices=list(ALGORITHM_LABELS.items()),
        initial=Algorithm.LOGISTIC_REGRESSION,
        label=gettext_lazy("Algorithm"),
    )
    threshold = forms.FloatField(
        initial=50.0,
        label=gettext_lazy("Pass threshold (fit score)"),
        help_text=gettext_lazy(
            "A candidate passes at a fit score at or above it (0 to 100); the bias audit "
            "judges the passes at this threshold."
        ),
        widget=forms.NumberInput(attrs={"step": "any"}),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = Assessment.objects.filter(organization=organization).order_by("name", "pk")
        self.fields["assessments"].queryset = choices  # type: ignore[attr-defined]
        self.fields["baseline_assessment"].queryset = choices  # type: ignore[attr-defined]


class IncumbentsForm(forms.Form):
    candidates = forms.CharField(
        label=gettext_lazy("Candidates"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "External ids or candidate ids of your organisation, separated by commas, "
            "spaces or new lines."
        ),
    )
    successful = forms.TypedChoiceField(
        label=gettext_lazy("In the role, they are"),
        choices=[
            ("1", gettext_lazy("successful (the model learns to recognise them)")),
            ("0", gettext_lazy("not successful (they count with the baseline)")),
        ],
        coerce=lambda value: value == "1",
        initial="1",
        widget=forms.RadioSelect,
    )


def candidates_from_text(*, organization: Any, text: str) -> tuple[list[Candidate], list[str]]:
    """The organisation's candidates named in ``text`` (external ids first, then ids),
    and the names that matched none of them."""
    tokens = list(dict.fromkeys(token for token in re.split(r"[\s,;]+", text) if token))
    by_external_id = {
        candidate.external_id: candidate
        for candidate in Candidate.objects.filter(
            organization=organization, external_id__in=tokens
        ).only("pk", "organization_id", "external_id")
    }
    numbers = [
        int(token)
        for token in tokens
        if token not in by_external_id and token.isascii() and token.isdigit() and len(token) < 19
    ]
    by_id = {
        str(candidate.pk): candidate
        for candidate in Candidate.objects.filter(organization=organization, pk__in=numbers).only(
            "pk", "organization_id", "external_id"
        )
    }
    found: dict[int, Candidate] = {}
    unknown: list[str] = []
    for token in tokens:
        candidate = by_external_id.get(token) or by_id.get(token)
        if candidate is None:
            unknown.append(token)
        else:
            found.setdefault(candidate.pk, candidate)
    return list(found.values()), unknown


# --- reads of the pages ----------------------------------------------------------------------

#: What a versions table does not need of a version: the artefact, the long reports.
#: (The audit report stays: its verdict tells "failed" from "nothing to rule on".)
_VERSION_LIST_DEFER = ("artefact", "debias_history", "feature_weights")


def _incumbent_counts(profile_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    rows = (
        Incumbent.objects.filter(job_profile_id__in=list(profile_ids))
        .values("job_profile_id")
        .annotate(total=Count("pk"), successful=Count("pk", filter=Q(successful=True)))
    )
    return {
        row["job_profile_id"]: {"total": row["total"], "successful": row["successful"]}
        for row in rows
    }


def _versions_of(profile_ids: Iterable[int]) -> dict[int, list[FitModelVersion]]:
    """Each role's versions, newest first (without the artefact and the long reports)."""
    versions: dict[int, list[FitModelVersion]] = {}
    for version in (
        FitModelVersion.objects.filter(job_profile_id__in=list(profile_ids))
        .defer(*_VERSION_LIST_DEFER)
        .select_related("created_by")
        .order_by("job_profile_id", "-version")
    ):
        versions.setdefault(version.job_profile_id, []).append(version)
    return versions


def version_row(version: FitModelVersion) -> dict[str, Any]:
    """One version as a versions table shows it."""
    cv = version.cv_report or {}
    return {
        "id": version.pk,
        "version": version.version,
        "url": reverse("staff:fit-model", args=[version.pk]),
        "status": version.status,
        "status_label": status_label(version.status),
        "auc": cv.get("auc"),
        "auc_text": _auc_text(cv.get("auc"), cv.get("auc_ci")),
        "audit_passed": version.audit_passed,
        "verdict": audit_verdict_text(version),
        "simulated": bool(cv.get("simulated_rows", 0)),
        "created_at": version.created_at,
        "created_by": _user_label(version.created_by),
    }


def role_rows(profiles: Sequence[JobProfile]) -> list[dict[str, Any]]:
    """The roles table: incumbents, the active version and the latest version's status."""
    ids = [profile.pk for profile in profiles]
    counts = _incumbent_counts(ids)
    versions = _versions_of(ids)
    rows = []
    for profile in profiles:
        mine = versions.get(profile.pk, [])
        active = next((v for v in mine if v.status == ModelStatus.ACTIVE), None)
        latest = mine[0] if mine else None
        rows.append(
            {
                "profile": profile,
                "url": reverse("staff:fit-role", args=[profile.pk]),
                "assessments": [a.name for a in profile.assessments.all()],
                "incumbents": counts.get(profile.pk, {"total": 0, "successful": 0}),
                "active": version_row(active) if active else None,
                "latest": version_row(latest) if latest else None,
            }
        )
    return rows


def training_job_payload(job: TrainingJob) -> dict[str, Any]:
    """A training job as its JSON route answers and the role page first draws it."""
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": str(TRAINING_STATE_LABELS.get(job.state, job.state)),  # type: ignore[call-overload]
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "algorithm": job.algorithm,
        "model_version_id": job.model_version_id,
        "model_version_url": (
            reverse("staff:fit-model", args=[job.model_version_id])
            if job.model_version_id
            else None
        ),
        "finished": job.state in (TrainingState.SUCCEEDED, TrainingState.FAILED),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


# --- charts of a model version -------------------------------------------------------------


def roc_chart(cv_report: dict[str, Any], simulated: bool) -> dict[str, Any]:
    """The out-of-fold ROC curve, with the chance diagonal."""
    roc = cv_report["roc"]
    points = [{"x": fpr, "y": tpr} for fpr, tpr in zip(roc["fpr"], roc["tpr"], strict=True)]
    return chart(
        "fit-roc",
        kind="line",
        title=_("ROC curve (out of fold)"),
        summary=_(
            "Each point is a pass threshold: the share of the baseline who would pass (false "
            "positive rate) against the share of successful incumbents who would (true "
            "positive rate). AUC %(auc)s; the dashed diagonal is chance (0.5)."
        )
        % {"auc": _auc_text(cv_report.get("auc"), cv_report.get("auc_ci"))},
        **_unit_square(
            points,
            point_radius=0,
            diagonal=_("Chance"),
            x_title=_("False positive rate (baseline)"),
            y_title=_("True positive rate (incumbents)"),
        ),
        columns=[_("Fit score threshold"), _("False positive rate"), _("True positive rate")],
        rows=[
            [_("nobody passes") if threshold is None else threshold, fpr, tpr]
            for threshold, fpr, tpr in zip(roc["thresholds"], roc["fpr"], roc["tpr"], strict=True)
        ],
        simulated=simulated,
    )


def _unit_square(
    points: list[dict[str, Any]], *, point_radius: int, diagonal: str, x_title: str, y_title: str
) -> dict[str, Any]:
    """The model's curve and the dashed diagonal on [0, 1] x [0, 1] (ROC, reliability)."""
    return {
        "datasets": [
            {
                "label": _("Model"),
                "data": points,
                "borderColor": colour(0),
                "backgroundColor": colour(0),
                "pointRadius": point_radius,
                "borderWidth": 2,
            },
            {
                "label": diagonal,
                "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
                "borderColor": colour(7, 0.5),
                "borderDash": [6, 4],
                "pointRadius": 0,
                "borderWidth": 1,
            },
        ],
        "options": {
            "scales": {
                "x": {
                    "type": "linear",
                    "min": 0,
                    "max": 1,
                    "title": {"display": True, "text": x_title},
                },
                "y": {"min": 0, "max": 1, "title": {"display": True, "text": y_title}},
            }
        },
    }


def reliability_chart(cv_report: dict[str, Any], simulated: bool) -> dict[str, Any]:
    """Predicted against observed per quantile bin, with the diagonal of perfect calibration."""
    bins = cv_report["reliability"]["bins"]
    points = [
        {"x": b["mean_predicted"], "y": b["observed_frequency"]}
        for b in bins
        if b["mean_predicted"] is not None and b["observed_frequency"] is not None
    ]
    return chart(
        "fit-reliability",
        kind="line",
        title=_("Reliability: predicted against observed"),
        summary=_(
            "Out-of-fold probabilities in %(bins)s bins of equal size: each point is a bin's "
            "mean predicted probability against the share of successful incumbents in it, "
            "with the classes weighted to equal priors as the model is. On the diagonal, "
            "a fit score of 70 means 70 in 100. Brier score %(brier)s."
        )
        % {"bins": len(bins), "brier": number_text(cv_report.get("brier_score"))},
        **_unit_square(
            points,
            point_radius=4,
            diagonal=_("Perfect calibration"),
            x_title=_("Mean predicted probability"),
            y_title=_("Observed share of incumbents"),
        ),
        columns=[
            _("Bin"),
            _("Mean predicted"),
            _("Observed"),
            _("People"),
            _("Weight (equal priors)"),
        ],
        rows=[
            [index, b["mean_predicted"], b["observed_frequency"], b["count"], b["weight"]]
            for index, b in enumerate(bins, start=1)
        ],
        simulated=simulated,
    )


def feature_effects_chart(
    feature_weights: dict[str, Any], algorithm: str, simulated: bool
) -> dict[str, Any]:
    """Coefficients per SD (logistic regression) or permutation importances (boosting)."""
    effects = feature_weights.get("feature_effects") or []
    imputed = feature_weights.get("imputed_fractions") or {}
    labels = [feature_label(effect["feature"]) for effect in effects]
    if algorithm == Algorithm.GRADIENT_BOOSTING:
        values = [effect["importance_mean"] for effect in effects]
        title = _("Feature importance (permutation)")
        summary = _(
            "How much the training AUC drops when the feature is shuffled, averaged over "
            "the repeats (the table gives its SD). Features removed by debiasing are absent."
        )
        columns = [_("Feature"), _("Importance"), _("Importance SD"), _("Weight"), _("Imputed")]
        rows = [
            [
                label,
                effect["importance_mean"],
                effect["importance_sd"],
                effect["weight"],
                imputed.get(effect["feature"]),
            ]
            for label, effect in zip(labels, effects, strict=True)
        ]
        axis = _("Drop in AUC")
    else:
        values = [effect["coefficient"] for effect in effects]
        title = _("Feature effects (log-odds per SD)")
        summary = _(
            "Each bar is the change in the log-odds of resembling the successful incumbents "
            "per standard deviation of the feature; the table gives the odds ratio. Features "
            "removed by debiasing are absent."
        )
        columns = [
            _("Feature"),
            _("Coefficient per SD"),
            _("Odds ratio"),
            _("Weight"),
            _("Imputed"),
        ]
        rows = [
            [
                label,
                effect["coefficient"],
                effect["odds_ratio"],
                effect["weight"],
                imputed.get(effect["feature"]),
            ]
            for label, effect in zip(labels, effects, strict=True)
        ]
        axis = _("log-odds per SD")
    return chart(
        "fit-features",
        kind="bar",
        title=title,
        summary=summary,
        labels=labels,
        datasets=[
            {
                "label": axis,
                "data": values,
                "backgroundColor": [
                    colour(0) if (value or 0) >= 0 else colour(1) for value in values
                ],
                "maxBarThickness": 24,
            }
        ],
        options={
            "indexAxis": "y",
            "scales": {"x": {"title": {"display": True, "text": axis}}},
        },
        columns=columns,
        rows=rows,
        simulated=simulated,
        size="tall" if len(labels) > 12 else "",
    )


def _group_state(group: dict[str, Any]) -> str:
    if not group["ruled_on"]:
        return "unruled"
    if group["four_fifths_pass"] is None:
        return "unruled"
    return "pass" if group["four_fifths_pass"] else "fail"


def _group_rule_text(group: dict[str, Any]) -> str:
    state = _group_state(group)
    if not group["ruled_on"]:
        return _("reported, not ruled on")
    if state == "unruled":
        return _("not ruled on")
    return _("passes") if state == "pass" else _("fails")


def impact_chart(
    chart_id: str, attribute: str, audit: dict[str, Any], min_group_size: int
) -> dict[str, Any]:
    """One attribute's impact ratio per group, with the 4/5ths line."""
    groups = audit["groups"]
    labels = list(groups)
    colours = {"pass": PASS_COLOUR, "fail": FAIL_COLOUR, "unruled": UNRULED_COLOUR}
    return chart(
        chart_id,
        kind="bar",
        title=_("%(attribute)s: impact ratio per group") % {"attribute": attribute},
        summary=_(
            "Each group's pass rate divided by the highest-passing group's. Below the dashed "
            "line at 0.8 the 4/5ths rule fails; grey bars are groups under %(min)s people, "
            "reported but not ruled on."
        )
        % {"min": min_group_size},
        labels=labels,
        datasets=[
            {
                "type": "bar",
                "label": _("Impact ratio"),
                "data": [groups[label]["impact_ratio"] for label in labels],
                "backgroundColor": [colours[_group_state(groups[label])] for label in labels],
                "maxBarThickness": 48,
                "order": 2,
            },
            {
                "type": "line",
                "label": _("4/5ths rule (0.8)"),
                "data": [FOUR_FIFTHS] * len(labels),
                "borderColor": colour(7),
                "borderDash": [6, 4],
                "borderWidth": 2,
                "pointRadius": 0,
                "order": 1,
            },
        ],
        options={"scales": {"y": {"min": 0, "suggestedMax": 1}}},
        columns=[
            _("Group"),
            _("People"),
            _("Passes"),
            _("Pass rate"),
            _("Impact ratio"),
            _("4/5ths rule"),
        ],
        rows=[
            [
                label,
                groups[label]["n"],
                groups[label]["passes"],
                groups[label]["pass_rate"],
                groups[label]["impact_ratio"],
                _group_rule_text(groups[label]),
            ]
            for label in labels
        ],
    )


def _bayes_factor(audit: dict[str, Any]) -> dict[str, Any]:
    """BF10 as printed: a plain number, or a power of ten when it is huge or tiny."""
    log10 = audit.get("log10_bayes_factor")
    value = audit.get("bayes_factor")
    evidence = audit.get("bayes_factor_evidence")
    reading = str(BAYES_FACTOR_READINGS[evidence]) if evidence in BAYES_FACTOR_READINGS else ""
    if log10 is None:
        return {"text": "—", "exponent": None, "reading": reading}
    if abs(log10) >= 3 or value is None:
        return {"text": "10", "exponent": number_text(log10, 1), "reading": reading}
    return {"text": number_text(value, 2), "exponent": None, "reading": reading}


def attribute_views(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each audited attribute (and intersection): groups, verdict, tests, chart."""
    views = []
    min_group_size = report.get("min_group_size", 30)
    for index, (attribute, audit) in enumerate(report.get("attributes", {}).items()):
        verdict = audit["four_fifths_pass"]
        cmh = audit.get("cmh")
        views.append(
            {
                "attribute": attribute,
                "anchor": f"audit-{index}-{slugify(attribute) or 'attribute'}",
                "passed": verdict,
                "verdict": (
                    _("passes the 4/5ths rule")
                    if verdict
                    else _("fails the 4/5ths rule")
                    if verdict is False
                    else _("not ruled on")
                ),
                "reason": audit.get("reason"),
                "n": audit["n"],
                "n_not_reported": audit["n_not_reported"],
                "lowest_group": audit.get("lowest_group"),
                "highest_group": audit.get("highest_group"),
                "min_impact_ratio": number_text(audit.get("min_impact_ratio")),
                "groups": [
                    {
                        "label": label,
                        "n": group["n"],
                        "passes": group["passes"],
                        "pass_rate": percent_text(group["pass_rate"]),
                        "impact_ratio": number_text(group["impact_ratio"]),
                        "state": _group_state(group),
                        "rule": _group_rule_text(group),
                    }
                    for label, group in audit["groups"].items()
                ],
                "z": number_text(audit.get("z"), 2),
                "z_test_p": p_value_text(audit.get("z_test_p")),
                "fisher_odds_ratio": number_text(audit.get("fisher_odds_ratio"), 2),
                "fisher_p": p_value_text(audit.get("fisher_p")),
                "chi2": number_text(audit.get("chi2"), 2),
                "chi2_dof": audit.get("chi2_dof"),
                "chi2_p": p_value_text(audit.get("chi2_p")),
                "chi2_yates": audit.get("chi2_yates"),
                "bayes_factor": _bayes_factor(audit),
                "cmh": (
                    {
                        "odds_ratio": number_text(cmh.get("common_odds_ratio"), 2),
                        "ci_low": number_text(cmh.get("odds_ratio_ci_low"), 2),
                        "ci_high": number_text(cmh.get("odds_ratio_ci_high"), 2),
                        "p": p_value_text(cmh.get("p")),
                        "strata": cmh.get("strata_used"),
                        "breslow_day_p": p_value_text(cmh.get("breslow_day_p")),
                        "tarone_p": p_value_text(cmh.get("breslow_day_tarone_p")),
                    }
                    if cmh
                    else None
                ),
                "notes": audit.get("notes", []),
                "chart": impact_chart(f"fit-audit-{index}", attribute, audit, min_group_size),
            }
        )
    return views


def _lowest_impact_ratio(step: dict[str, Any]) -> float | None:
    """The step's lowest impact ratio among groups ruled on (what the 4/5ths rule judges)."""
    attributes = (step.get("audit") or {}).get("attributes")
    if attributes:
        ruled = [
            a["min_impact_ratio"]
            for a in attributes.values()
            if a.get("min_impact_ratio") is not None
        ]
        return min(ruled) if ruled else None
    values = [
        ratio
        for groups in (step.get("impact_ratios") or {}).values()
        for ratio in groups.values()
        if ratio is not None
    ]
    return min(values) if values else None


def debias_rows(history: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for step in history:
        auc_ci = step.get("auc_ci") or {}
        lowest = _lowest_impact_ratio(step)
        rows.append(
            {
                "step": step["step"],
                "action": str(DEBIAS_ACTION_LABELS.get(step["action"], step["action"])),
                "feature": feature_label(step["changed_feature"])
                if step.get("changed_feature")
                else "—",
                "reason": step.get("reason", ""),
                "auc": step.get("auc"),
                "auc_text": _auc_text(step.get("auc"), {**auc_ci, "level": 0.95}),
                "lowest_impact_ratio": lowest,
                "lowest_impact_ratio_text": number_text(lowest),
                "passed": bool(step.get("audit_passed")),
            }
        )
    return rows


def debias_chart(rows: Sequence[dict[str, Any]], simulated: bool) -> dict[str, Any]:
    labels = [f"{row['step']}: {row['action']}" for row in rows]
    return chart(
        "fit-debiasing",
        kind="line",
        title=_("Debiasing: AUC and lowest impact ratio per step"),
        summary=_(
            "Step 0 is the model as trained; each later step removes (or down-weights) the "
            "feature that carried most of the failing groups' score gap, retrains and "
            "audits again. The loop stops once the lowest impact ratio reaches 0.8."
        ),
        labels=labels,
        datasets=[
            {
                "label": _("AUC"),
                "data": [row["auc"] for row in rows],
                "borderColor": colour(0),
                "backgroundColor": colour(0),
                "pointRadius": 4,
            },
            {
                "label": _("Lowest impact ratio"),
                "data": [row["lowest_impact_ratio"] for row in rows],
                "borderColor": colour(5),
                "backgroundColor": colour(5),
                "pointRadius": 4,
            },
            {
                "label": _("4/5ths rule (0.8)"),
                "data": [FOUR_FIFTHS] * len(rows),
                "borderColor": colour(7),
                "borderDash": [6, 4],
                "pointRadius": 0,
                "borderWidth": 1,
            },
        ],
        options={"scales": {"y": {"min": 0, "max": 1}}},
        columns=[
            _("Step"),
            _("Feature"),
            _("AUC"),
            _("Lowest impact ratio"),
            _("Audit passed"),
        ],
        rows=[
            [
                label,
                row["feature"],
                row["auc"],
                row["lowest_impact_ratio"],
                _("yes") if row["passed"] else _("no"),
            ]
            for label, row in zip(labels, rows, strict=True)
        ],
        simulated=simulated,
    )


# --- views: roles --------------------------------------------------------------------------


@login_required
def roles_page(request: HttpRequest) -> HttpResponse:
    """The organisation's roles, and (owners and admins) a form to define one."""
    actor = actor_for_request(request)
    if actor is None:
        return no_organization_page(request)
    manager = is_manager(actor)
    form = JobProfileForm(
        request.POST if request.method == "POST" else None, organization=actor.organization
    )
    status = 200
    if request.method == "POST":
        if not manager:
            return forbidden_page(request, actor)
        if form.is_valid():
            try:
                profile = job_profile_create(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    assessments=list(form.cleaned_data["assessments"]),
                    baseline_assessment=form.cleaned_data["baseline_assessment"],
                    features=form.cleaned_data["features"],
                    algorithm=form.cleaned_data["algorithm"],
                    threshold=form.cleaned_data["threshold"],
                )
            except PermissionDenied as error:
                return forbidden_page(request, actor, error.message)
            except DomainError as error:
                field = (
                    "name"
                    if isinstance(error, Conflict) or "name" in (error.details or {})
                    else None
                )
                if field is None and "threshold" in error.message:
                    field = "threshold"
                form.add_error(field, error.message)
            else:
                messages.success(request, _("Role “%(name)s” defined.") % {"name": profile.name})
                return redirect("staff:fit-role", job_profile_id=profile.pk)
        status = 400
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    profiles = job_profile_list(organization_id=actor.organization.pk)
    return render(
        request,
        "staff/fitmodels/roles.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "roles": role_rows(profiles),
            "form": form,
            "can_manage": manager,
        },
        status=status,
    )


def _incumbent_rows(profile: JobProfile) -> tuple[list[dict[str, Any]], dict[str, int]]:
    counts = _incumbent_counts([profile.pk]).get(profile.pk, {"total": 0, "successful": 0})
    incumbents = (
        Incumbent.objects.filter(job_profile=profile)
        .select_related("candidate")
        .only(
            "pk",
            "external_id",
            "successful",
            "added_at",
            "candidate_id",
            "candidate__external_id",
            "candidate__is_simulated",
        )
        .order_by("-added_at", "-pk")[:INCUMBENTS_SHOWN]
    )
    rows = [
        {
            "candidate_id": incumbent.candidate_id,
            "participant": incumbent.candidate.participant
            if incumbent.candidate
            else incumbent.external_id,
            "imported": incumbent.candidate_id is None,
            "simulated": bool(incumbent.candidate and incumbent.candidate.is_simulated),
            "profile_url": reverse("staff:candidate-profile", args=[incumbent.candidate_id])
            if incumbent.candidate_id
            else None,
            "successful": incumbent.successful,
            "added_at": incumbent.added_at,
        }
        for incumbent in incumbents
    ]
    return rows, counts


def _role_page(
    request: HttpRequest,
    actor: Actor,
    profile: JobProfile,
    *,
    incumbents_form: IncumbentsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    incumbents, counts = _incumbent_rows(profile)
    audit_log_record(
        actor=actor,
        action="job_profile.read",
        object_type="jobprofile",
        object_id=profile.pk,
        details={"candidates": [row["candidate_id"] for row in incumbents if row["candidate_id"]]},
    )
    versions = _versions_of([profile.pk]).get(profile.pk, [])
    job = TrainingJob.objects.filter(job_profile=profile).order_by("-created_at", "-pk").first()
    job_payload = training_job_payload(job) if job else None
    return render(
        request,
        "staff/fitmodels/role.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "role": profile,
            "assessments": list(profile.assessments.order_by("name", "pk")),
            "features_label": FEATURE_SET_LABELS.get(profile.features, profile.features),  # type: ignore[call-overload]
            "algorithm_label": ALGORITHM_LABELS.get(profile.algorithm, profile.algorithm),  # type: ignore[call-overload]
            "threshold_text": number_text(profile.threshold, -1),
            "incumbents": incumbents,
            "incumbent_counts": counts,
            "incumbents_shown": min(INCUMBENTS_SHOWN, counts["total"]),
            "incumbents_form": incumbents_form or IncumbentsForm(),
            "versions": [version_row(v) for v in versions],
            "job": job_payload,
            "training_config": {
                "url": reverse("staff:fit-training-job-data", args=[job.pk]),
                "poll_ms": POLL_MS,
                "running": not job_payload["finished"],
            }
            if job and job_payload
            else None,
            "can_manage": is_manager(actor),
        },
        status=status,
    )


@login_required
@require_safe
def role_page(request: HttpRequest, job_profile_id: int) -> HttpResponse:
    """A role: its incumbents, its latest training job and its model versions."""
    found = organization_object(request, job_profile_get, job_profile_id=job_profile_id)
    if isinstance(found, HttpResponse):
        return found
    actor, profile = found
    return _role_page(request, actor, profile)


@login_required
@require_POST
def role_incumbents_add(request: HttpRequest, job_profile_id: int) -> HttpResponse:
    """Mark the organisation's candidates (by external id or id) as the role's incumbents."""
    found = organization_object(request, job_profile_get, job_profile_id=job_profile_id)
    if isinstance(found, HttpResponse):
        return found
    actor, profile = found
    if not is_manager(actor):
        return forbidden_page(request, actor)
    form = IncumbentsForm(request.POST)
    if form.is_valid():
        candidates, unknown = candidates_from_text(
            organization=actor.organization, text=form.cleaned_data["candidates"]
        )
        if unknown:
            form.add_error(
                "candidates",
                ngettext(
                    "No candidate of your organisation has this external id or id: %(names)s.",
                    "No candidate of your organisation has these external ids or ids: %(names)s.",
                    len(unknown),
                )
                % {"names": ", ".join(unknown)},
            )
        else:
            try:
                added = incumbents_add(
                    actor=actor,
                    job_profile=profile,
                    candidates=candidates,
                    successful=form.cleaned_data["successful"],
                )
            except PermissionDenied as error:
                return forbidden_page(request, actor, error.message)
            except DomainError as error:
                form.add_error("candidates", error.message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(added)s incumbent added (%(given)s named; the others were "
                        "incumbents already and are updated).",
                        "%(added)s incumbents added (%(given)s named; the others were "
                        "incumbents already and are updated).",
                        added,
                    )
                    % {"added": added, "given": len(candidates)},
                )
                return redirect("staff:fit-role", job_profile_id=profile.pk)
    return _role_page(request, actor, profile, incumbents_form=form, status=400)


@login_required
@require_POST
def role_train(request: HttpRequest, job_profile_id: int) -> HttpResponse:
    """Ask for a new model version of the role (trained by a Celery worker)."""
    found = organization_object(request, job_profile_get, job_profile_id=job_profile_id)
    if isinstance(found, HttpResponse):
        return found
    actor, profile = found
    if not is_manager(actor):
        return forbidden_page(request, actor)
    try:
        training_job_request(actor=actor, job_profile=profile)
    except PermissionDenied as error:
        return forbidden_page(request, actor, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Training requested: the progress is shown below."))
    return redirect("staff:fit-role", job_profile_id=profile.pk)


@login_required
@require_safe
def training_job_data(request: HttpRequest, training_job_id: int) -> JsonResponse:
    """A training job's state and progress, for the role page's bar."""
    actor = actor_for_request(request)
    if actor is None:
        return JsonResponse(
            error_body("permission_denied", "not a member of any organisation"), status=403
        )
    try:
        job = training_job_get(
            organization_id=actor.organization.pk, training_job_id=training_job_id
        )
    except DomainError:
        return JsonResponse(
            error_body("not_found", f"training job {training_job_id} not found"), status=404
        )
    return JsonResponse(training_job_payload(job))


# --- views: model versions -------------------------------------------------------------------


def _model_page(
    request: HttpRequest,
    actor: Actor,
    version: FitModelVersion,
    *,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    cv = version.cv_report or {}
    simulated_rows = int(cv.get("simulated_rows", 0) or 0)
    simulated = simulated_rows > 0
    report = version.audit_report
    audit_log_record(
        actor=actor,
        action="fit_model.read",
        object_type="fitmodelversion",
        object_id=version.pk,
        details={"audit_report": report is not None},
    )
    history = debias_rows(version.debias_history or [])
    feature_weights = version.feature_weights or {}
    return render(
        request,
        "staff/fitmodels/model.html",
        {
            "organization": actor.organization,
            "nav": "fit",
            "version": version,
            "role": version.job_profile,
            "status_label": status_label(version.status),
            "algorithm_label": ALGORITHM_LABELS.get(version.algorithm, version.algorithm),  # type: ignore[call-overload]
            "threshold_text": number_text(version.threshold, -1),
            "created_by": _user_label(version.created_by),
            "simulated": simulated,
            "simulated_rows": simulated_rows,
            "auc_text": _auc_text(cv.get("auc"), cv.get("auc_ci")),
            "chance_level": _reaches_chance(cv.get("auc_ci")),
            "brier_text": number_text(cv.get("brier_score")),
            "fold_aucs": ", ".join(number_text(auc) for auc in cv.get("fold_aucs", [])),
            "folds": cv.get("folds"),
            "verdict": audit_verdict_text(version),
            "audit": report,
            "audit_pass_rate": percent_text(report.get("pass_rate")) if report else "—",
            "attributes": attribute_views(report) if report else [],
            "history": history,
            "removed_features": [
                feature_label(row["changed_feature"])
                for row in version.debias_history or []
                if row.get("action") == "removed" and row.get("changed_feature")
            ],
            "charts": {
                "roc": roc_chart(cv, simulated) if cv.get("roc") else None,
                "reliability": reliability_chart(cv, simulated) if cv.get("reliability") else None,
                "features": feature_effects_chart(feature_weights, version.algorithm, simulated),
                "debiasing": debias_chart(history, simulated) if history else None,
            },
            "refusal": refusal,
            "can_manage": is_manager(actor),
            "can_activate": version.status != ModelStatus.ACTIVE,
            "can_retire": version.status != ModelStatus.RETIRED,
        },
        status=status,
    )


@login_required
@require_safe
def model_page(request: HttpRequest, model_version_id: int) -> HttpResponse:
    """A model version: cross-validation, feature effects, bias audit, debiasing, actions."""
    found = organization_object(request, fit_model_version_get, model_version_id=model_version_id)
    if isinstance(found, HttpResponse):
        return found
    actor, version = found
    return _model_page(request, actor, version)


def _model_action(request: HttpRequest, model_version_id: int, action: str) -> HttpResponse:
    """Audit, activate or retire a version; a refusal is shown on the version's page."""
    found = organization_object(request, fit_model_version_get, model_version_id=model_version_id)
    if isinstance(found, HttpResponse):
        return found
    actor, version = found
    if not is_manager(actor):
        return forbidden_page(request, actor)
    try:
        if action == "audit":
            fit_model_audit(actor=actor, model_version=version)  # refreshes ``version``
            done = (
                _("Audited again: the version passes the 4/5ths rule.")
                if version.audit_passed
                else _("Audited again: the version does not pass (see the audit below).")
            )
        elif action == "activate":
            fit_model_activate(actor=actor, model_version=version)
            done = _(
                "%(label)s is the role's active model; its candidates are being scored again."
            ) % {"label": version.label}
        else:
            fit_model_retire(actor=actor, model_version=version)
            done = _("%(label)s is retired.") % {"label": version.label}
    except PermissionDenied as error:
        return forbidden_page(request, actor, error.message)
    except DomainError as error:
        version.refresh_from_db()
        return _model_page(request, actor, version, refusal=error.message, status=error.status)
    messages.success(request, done)
    return redirect("staff:fit-model", model_version_id=version.pk)


@login_required
@require_POST
def model_audit(request: HttpRequest, model_version_id: int) -> HttpResponse:
    return _model_action(request, model_version_id, "audit")


@login_required
@require_POST
def model_activate(request: HttpRequest, model_version_id: int) -> HttpResponse:
    return _model_action(request, model_version_id, "activate")


@login_required
@require_POST
def model_retire(request: HttpRequest, model_version_id: int) -> HttpResponse:
    return _model_action(request, model_version_id, "retire")
