"""Writes of the job-fit layer: roles, incumbents, training, audits, activation, fit scores.

Every state change of a model version (trained, audited, activated, retired) and
every read of the groups candidates reported is written to the audit log, with
who did it. Training and re-scoring run as Celery tasks (:mod:`.tasks`), which
call the services here with ids.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from pymetrics.accounts.models import Organization, Role
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment, Attempt, Candidate
from pymetrics.common.errors import Conflict, PermissionDenied, ValidationFailed
from pymetrics.common.telemetry import FIT_SCORES
from pymetrics.common.versions import bump, candidate_scope
from pymetrics.fitmodels.models import (
    ABTest,
    Algorithm,
    CandidateGroups,
    CandidateOutcome,
    FeatureSet,
    FitModelVersion,
    FitScore,
    Incumbent,
    JobProfile,
    ModelStatus,
    TrainingJob,
    TrainingState,
)
from pymetrics.fitmodels.science.abtests import assign_arm
from pymetrics.fitmodels.science.audit import AuditReport, audit_outcomes, passes_at
from pymetrics.fitmodels.science.chance import CHANCE_AUC
from pymetrics.fitmodels.selectors import (
    active_models_due_for_audit,
    attempt_features,
    debiasing_set,
    norm_table_for,
    training_set,
)

if TYPE_CHECKING:
    from pymetrics.fitmodels.science.training import Algorithm as TrainingAlgorithm
    from pymetrics.fitmodels.science.training import TrainedFitModel

logger = logging.getLogger(__name__)

#: Told a fraction done (0..1) and what is being done.
ProgressCallback = Callable[[float, str], None]
#: A training job writes its progress at most this often (the page polls it).
PROGRESS_EVERY_S = 0.5
#: Fit scores written per statement when a model version scores many attempts.
SCORE_BATCH = 2000
#: Attributes whose intersections are audited too (when both were reported).
INTERSECTIONS: tuple[tuple[str, ...], ...] = (("gender", "ethnicity"),)


#: Roles that may train, audit, activate and retire models (and define roles).
MODEL_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})


def require_model_manager(actor: Actor | None, what: str) -> None:
    """Only owners and admins change models; None is the platform itself (commands, tasks)."""
    if actor is not None and actor.role not in MODEL_MANAGERS:
        raise PermissionDenied(f"only an owner or an admin may {what}")


def _audit(
    actor: Actor | None, organization: Organization, action: str, obj: Any, **details: Any
) -> None:
    audit_log_record(
        actor=actor,
        organization=organization,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        details=details,
    )


# --- roles and incumbents ------------------------------------------------------------


@transaction.atomic
def job_profile_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    assessments: Sequence[Assessment] = (),
    baseline_assessment: Assessment | None = None,
    features: str = FeatureSet.TRAITS,
    algorithm: str = Algorithm.LOGISTIC_REGRESSION,
    threshold: float = 50.0,
) -> JobProfile:
    require_model_manager(actor, "define a role")
    name = name.strip()
    if not name:
        raise ValidationFailed("a job profile needs a name", details={"name": "required"})
    if JobProfile.objects.filter(organization=actor.organization, name=name).exists():
        raise Conflict(f"a job profile named {name!r} exists already")
    if features not in FeatureSet.values:
        raise ValidationFailed(f"features must be one of {FeatureSet.values}")
    if algorithm not in Algorithm.values:
        raise ValidationFailed(f"algorithm must be one of {Algorithm.values}")
    if not 0 < threshold < 100:
        raise ValidationFailed("the pass threshold is a fit score between 0 and 100")
    for assessment in [*assessments, *([baseline_assessment] if baseline_assessment else [])]:
        if assessment.organization_id != actor.organization.pk:
            raise ValidationFailed(f"assessment {assessment.pk} is not this organisation's")
    profile = JobProfile.objects.create(
        organization=actor.organization,
        name=name,
        description=description,
        baseline_assessment=baseline_assessment,
        features=features,
        algorithm=algorithm,
        threshold=threshold,
        created_by=actor.user,
    )
    profile.assessments.set(assessments)
    _audit(actor, actor.organization, "job_profile.create", profile, name=name)
    return profile


@transaction.atomic
def incumbents_add(
    *, actor: Actor, job_profile: JobProfile, candidates: Sequence[Candidate], successful: bool
) -> int:
    """Mark the organisation's candidates as incumbents of the role; returns how many are new."""
    require_model_manager(actor, "change a role's incumbents")
    for candidate in candidates:
        if candidate.organization_id != job_profile.organization_id:
            raise ValidationFailed(f"candidate {candidate.pk} is not this organisation's")
    existing = set(
        job_profile.incumbents.filter(candidate__in=candidates).values_list(
            "candidate_id", flat=True
        )
    )
    job_profile.incumbents.filter(candidate__in=candidates).update(successful=successful)
    new = [
        Incumbent(job_profile=job_profile, candidate=candidate, successful=successful)
        for candidate in candidates
        if candidate.pk not in existing
    ]
    Incumbent.objects.bulk_create(new)
    _audit(
        actor,
        job_profile.organization,
        "job_profile.incumbents.add",
        job_profile,
        candidates=[c.pk for c in candidates],
        successful=successful,
    )
    return len(new)


@transaction.atomic
def incumbents_import(
    *, actor: Actor, job_profile: JobProfile, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Incumbents from elsewhere with their scores: ``{"external_id", "successful", features}``.

    Feature names are the model's (``trait:attention``, ``metric:balloons.adjusted_pumps``);
    values are z-scores. The whole import is refused on the first bad row, naming it.
    """
    require_model_manager(actor, "change a role's incumbents")
    allowed_prefixes = ("trait:", "metric:")
    incumbents = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        external_id = str(row.get("external_id") or "").strip()
        if not external_id:
            raise ValidationFailed(f"row {number}: external_id is required")
        if external_id in seen:
            raise ValidationFailed(f"row {number}: external_id {external_id!r} appears twice")
        seen.add(external_id)
        successful = row.get("successful")
        if successful not in (True, False, 0, 1, "0", "1", "true", "false"):
            raise ValidationFailed(f"row {number}: successful must be true/false or 1/0")
        features: dict[str, float] = {}
        for key, value in row.items():
            if key in ("external_id", "successful") or value in (None, ""):
                continue
            if not str(key).startswith(allowed_prefixes):
                raise ValidationFailed(
                    f"row {number}: column {key!r} is not a feature (trait:... or metric:...)"
                )
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                raise ValidationFailed(f"row {number}: {key} is not a number") from None
            if not np.isfinite(number_value):
                raise ValidationFailed(f"row {number}: {key} is not a finite number")
            features[str(key)] = number_value
        incumbents.append(
            Incumbent(
                job_profile=job_profile,
                external_id=external_id,
                successful=successful in (True, 1, "1", "true"),
                features=features,
            )
        )
    job_profile.incumbents.filter(external_id__in=seen, candidate__isnull=True).delete()
    Incumbent.objects.bulk_create(incumbents)
    _audit(
        actor,
        job_profile.organization,
        "job_profile.incumbents.import",
        job_profile,
        rows=len(incumbents),
    )
    return len(incumbents)


def candidate_groups_record(
    *, actor: Actor | None, candidate: Candidate, groups: Mapping[str, str | None]
) -> CandidateGroups:
    """Store (replace) the groups a candidate reported, encrypted, for bias audits.

    The audit log records that groups were recorded, and which attributes, never the
    groups themselves.
    """
    require_model_manager(actor, "record a candidate's reported groups")
    if actor is not None and candidate.organization_id != actor.organization.pk:
        raise ValidationFailed(f"candidate {candidate.pk} is not this organisation's")
    cleaned = {}
    for attribute, group in groups.items():
        name = str(attribute).strip()
        if not name:
            raise ValidationFailed("an attribute needs a name")
        cleaned[name] = None if group is None or not str(group).strip() else str(group).strip()
    with transaction.atomic():
        record, _ = CandidateGroups.objects.update_or_create(
            candidate=candidate,
            defaults={
                "groups": json.dumps(cleaned, sort_keys=True),
                "recorded_at": timezone.now(),
            },
        )
        _audit(
            actor,
            candidate.organization,
            "candidate.groups.record",
            candidate,
            attributes=sorted(cleaned),
        )
    return record


# --- training --------------------------------------------------------------------------


@transaction.atomic
def training_job_request(
    *,
    actor: Actor | None,
    job_profile: JobProfile,
    algorithm: str | None = None,
    debias_if_needed: bool = True,
    seed: int = 0,
    queue: bool = True,
) -> TrainingJob:
    """Ask for a new model version of the role: a Celery task trains it (``queue``),
    or the caller runs :func:`training_job_run` itself (the ``train_model`` command)."""
    from pymetrics.fitmodels.tasks import train_job_profile_model

    require_model_manager(actor, "train a model")
    algorithm = algorithm or job_profile.algorithm
    if algorithm not in Algorithm.values:
        raise ValidationFailed(f"algorithm must be one of {Algorithm.values}")
    job = TrainingJob.objects.create(
        job_profile=job_profile,
        algorithm=algorithm,
        debias=debias_if_needed,
        seed=seed,
        requested_by=actor.user if actor else None,
    )
    _audit(actor, job_profile.organization, "fit_model.train.request", job, algorithm=algorithm)
    if queue:
        transaction.on_commit(lambda: train_job_profile_model.delay(job.pk))
    return job


class _Progress:
    """Writes a training job's progress, at most every PROGRESS_EVERY_S (the page polls it)."""

    def __init__(
        self, job: TrainingJob, start: float, end: float, echo: ProgressCallback | None
    ) -> None:
        self._job, self._start, self._end, self._echo = job, start, end, echo
        self._written = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self._written < PROGRESS_EVERY_S and fraction < 1.0:
            return
        self._written = now
        progress = self._start + (self._end - self._start) * min(max(fraction, 0.0), 1.0)
        if self._echo is not None:
            self._echo(progress, message)
        TrainingJob.objects.filter(pk=self._job.pk).update(
            progress=round(progress, 4), message=message[:200]
        )


def training_job_run(
    *, training_job_id: int, echo: ProgressCallback | None = None
) -> FitModelVersion | None:
    """Train, audit and (when the audit fails and it was asked for) debias: one new version.

    Idempotent: a job that already succeeded returns its version; a failed one is
    not run again (request a new job). Bad training data fails the job with the
    reason shown to the user, not a retry.
    """
    job = TrainingJob.objects.select_related("job_profile").get(pk=training_job_id)
    if job.state == TrainingState.SUCCEEDED:
        return job.model_version
    if job.state == TrainingState.FAILED:
        return None
    TrainingJob.objects.filter(pk=job.pk).update(
        state=TrainingState.RUNNING, started_at=timezone.now(), message="reading training data"
    )
    try:
        version = _train(job, echo)
    except (ValueError, ValidationFailed) as error:
        message = getattr(error, "message", None) or str(error)
        TrainingJob.objects.filter(pk=job.pk).update(
            state=TrainingState.FAILED, error=message, finished_at=timezone.now()
        )
        logger.info("training job %s failed: %s", job.pk, message)
        return None
    TrainingJob.objects.filter(pk=job.pk).update(
        state=TrainingState.SUCCEEDED,
        progress=1.0,
        message=f"version {version.version} trained",
        model_version=version,
        finished_at=timezone.now(),
    )
    return version


def _train(job: TrainingJob, echo: ProgressCallback | None) -> FitModelVersion:
    from pymetrics.fitmodels.science.debiasing import debias
    from pymetrics.fitmodels.science.training import dump_model, train_fit_model

    profile = job.job_profile
    data = training_set(job_profile=profile)
    if data.n_successful == 0:
        raise ValidationFailed("the role has no successful incumbents with scores to learn from")
    if data.n_baseline == 0:
        raise ValidationFailed(
            "there is no baseline: choose a baseline assessment with completed candidates"
        )
    model = train_fit_model(
        features=data.features,
        labels=data.labels,
        algorithm=_algorithm(job.algorithm),
        seed=job.seed,
        threshold=profile.threshold,
        progress=_Progress(job, 0.05, 0.6, echo),
    )
    audit_set = debiasing_set(organization_id=profile.organization_id, feature_set=profile.features)
    report: AuditReport | None = None
    history: list[dict[str, Any]] = []
    if audit_set.candidate_ids:
        report = _audit_model(model, audit_set.features, audit_set.groups, profile.threshold)
        if not report.passed and job.debias:
            outcome = debias(
                features=data.features,
                labels=data.labels,
                groups=audit_set.groups,
                audit_features=audit_set.features,
                train=lambda **kwargs: train_fit_model(
                    algorithm=_algorithm(job.algorithm),
                    seed=job.seed,
                    threshold=profile.threshold,
                    **kwargs,
                ),
                audit=lambda scores, threshold: _audit_scores(scores, audit_set.groups, threshold),
                progress=_Progress(job, 0.6, 0.95, echo),
            )
            history = outcome.to_dict()["steps"]
            model = outcome.final_model
            report = _audit_model(model, audit_set.features, audit_set.groups, profile.threshold)
    with transaction.atomic():
        version = FitModelVersion.objects.create(
            job_profile=profile,
            version=_next_version(profile),
            algorithm=job.algorithm,
            status=ModelStatus.AUDITED
            if report is not None and audit_verdict(report)
            else ModelStatus.DRAFT,
            feature_names=list(model.feature_names),
            artefact=dump_model(model),
            fingerprint=model.training_fingerprint,
            n_successful=data.n_successful,
            n_baseline=data.n_baseline,
            threshold=profile.threshold,
            cv_report={**model.cv_report.to_dict(), "simulated_rows": data.simulated},
            feature_weights=_model_summary(model),
            debias_history=history,
            audit_report=report.to_dict() if report is not None else None,
            audit_passed=audit_verdict(report) if report is not None else None,
            audited_at=timezone.now() if report is not None else None,
            created_by=job.requested_by,
        )
        audit_log_record(
            actor=None,
            organization=profile.organization,
            action="fit_model.train",
            object_type="fitmodelversion",
            object_id=version.pk,
            details={
                "job_profile": profile.pk,
                "version": version.version,
                "fingerprint": version.fingerprint,
                "audit_passed": version.audit_passed,
                "debias_steps": len(history),
                "requested_by": job.requested_by_id,
            },
        )
    return version


def _algorithm(value: str) -> TrainingAlgorithm:
    if value not in Algorithm.values:
        raise ValidationFailed(f"algorithm must be one of {Algorithm.values}")
    return cast("TrainingAlgorithm", value)


def _model_summary(model: TrainedFitModel) -> dict[str, Any]:
    """What a version stores about its features: effects, down-weights, imputation."""
    summary = model.to_dict()
    return {
        key: summary[key]
        for key in ("feature_effects", "feature_weights", "imputed_fractions", "intercept")
    }


def audit_verdict(report: AuditReport) -> bool:
    """Whether a model may be activated on this audit (SCIENCE.md 4).

    The 4/5ths rule must hold for every attribute it can be ruled on, and at least
    one attribute must have been ruled on: an audit in which no attribute had two
    groups of 30 or more people shows nothing, and activates nothing.
    """
    ruled = len(report.attributes) - len(report.unruled_attributes)
    return report.passed and ruled > 0


def _load_model(version: FitModelVersion) -> TrainedFitModel:
    """The version's fitted model (scikit-learn is imported here, on first use: the web
    processes that never train or score do not carry it)."""
    from pymetrics.fitmodels.science.training import load_model

    return load_model(bytes(version.artefact))


def _refuse_without_validity(version: FitModelVersion, what: str) -> None:
    """A model whose cross-validated AUC interval reaches chance tells no one apart:
    it passes any audit and must not be used (the debiasing loop can end there)."""
    interval = version.cv_report.get("auc_ci") or {}
    low = interval.get("low")
    if low is None or low <= CHANCE_AUC:
        auc = version.cv_report.get("auc")
        shown = "unknown" if auc is None else f"{auc:.3f}"
        raise Conflict(
            f"{version.label} cannot be {what}: its cross-validated AUC ({shown}, 95% CI "
            f"from {low if low is None else round(low, 3)}) is no better than chance",
            code="no_validity",
        )


def _next_version(profile: JobProfile) -> int:
    latest = profile.versions.order_by("-version").values_list("version", flat=True).first()
    return (latest or 0) + 1


def _audit_scores(
    scores: np.ndarray, groups: Mapping[str, Sequence[str | None]], threshold: float
) -> AuditReport:
    present = set(groups)
    return audit_outcomes(
        passed=passes_at(scores=scores, threshold=threshold),
        groups=groups,
        intersections=[pair for pair in INTERSECTIONS if set(pair) <= present],
        threshold=threshold,
    )


def _audit_model(
    model: TrainedFitModel,
    features: pd.DataFrame,
    groups: Mapping[str, Sequence[str | None]],
    threshold: float,
) -> AuditReport:
    return _audit_scores(model.fit_scores(features), groups, threshold)


def fit_model_audit(*, actor: Actor | None, model_version: FitModelVersion) -> AuditReport:
    """Audit a version on the organisation's debiasing set, now; stores the report.

    A passing draft becomes audited; an audited version whose new audit fails goes
    back to draft; an active one stays active (its scores are live) but carries the
    failing report, which the pages show as an alert.
    """
    require_model_manager(actor, "audit a model")
    profile = model_version.job_profile
    model = _load_model(model_version)
    audit_set = debiasing_set(organization_id=profile.organization_id, feature_set=profile.features)
    if not audit_set.candidate_ids:
        raise ValidationFailed(
            "nobody in this organisation has reported groups: the audit has no one to look at",
            code="no_debiasing_set",
        )
    report = _audit_model(model, audit_set.features, audit_set.groups, model_version.threshold)
    passed = audit_verdict(report)
    status = model_version.status
    if status == ModelStatus.DRAFT and passed:
        status = ModelStatus.AUDITED
    elif status == ModelStatus.AUDITED and not passed:
        status = ModelStatus.DRAFT
    with transaction.atomic():
        FitModelVersion.objects.filter(pk=model_version.pk).update(
            audit_report=report.to_dict(),
            audit_passed=passed,
            audited_at=timezone.now(),
            status=status,
        )
        _audit(
            actor,
            profile.organization,
            "fit_model.audit",
            model_version,
            passed=passed,
            people=len(audit_set.candidate_ids),
        )
    model_version.refresh_from_db()
    return report


def fit_model_activate(*, actor: Actor | None, model_version: FitModelVersion) -> FitModelVersion:
    """Make a version the role's active model; refused unless its bias audit passed."""
    from pymetrics.fitmodels.tasks import score_with_fit_model

    require_model_manager(actor, "activate a model")
    if model_version.status == ModelStatus.ACTIVE:
        return model_version
    if running_ab_test(job_profile=model_version.job_profile) is not None:
        raise Conflict(
            f"{model_version.job_profile.name} has an A/B test running: stop it first",
            code="ab_test_running",
        )
    if not model_version.audit_passed:
        reason = (
            "it has not been audited"
            if model_version.audit_passed is None
            else "its bias audit failed the 4/5ths rule"
        )
        raise Conflict(
            f"{model_version.label} cannot be activated: {reason}",
            code="audit_not_passed",
            details={"audit": model_version.audit_report},
        )
    _refuse_without_validity(model_version, "activated")
    now = timezone.now()
    with transaction.atomic():
        previous = list(
            FitModelVersion.objects.select_for_update().filter(
                job_profile_id=model_version.job_profile_id, status=ModelStatus.ACTIVE
            )
        )
        FitModelVersion.objects.filter(pk__in=[v.pk for v in previous]).update(
            status=ModelStatus.RETIRED, retired_at=now
        )
        FitModelVersion.objects.filter(pk=model_version.pk).update(
            status=ModelStatus.ACTIVE, activated_at=now, retired_at=None
        )
        _audit(
            actor,
            model_version.job_profile.organization,
            "fit_model.activate",
            model_version,
            retired=[v.pk for v in previous],
        )
        transaction.on_commit(lambda: score_with_fit_model.delay(model_version.pk))
    model_version.refresh_from_db()
    return model_version


def fit_model_retire(*, actor: Actor | None, model_version: FitModelVersion) -> None:
    """Stop using a version: its scores stay stored but are no longer shown as the fit."""
    require_model_manager(actor, "retire a model")
    with transaction.atomic():
        FitModelVersion.objects.filter(pk=model_version.pk).update(
            status=ModelStatus.RETIRED, retired_at=timezone.now()
        )
        candidates = set(
            FitScore.objects.filter(model_version=model_version).values_list(
                "attempt__candidate_id", flat=True
            )
        )
        bump(*[candidate_scope(c) for c in candidates])
        _audit(actor, model_version.job_profile.organization, "fit_model.retire", model_version)


@dataclass(frozen=True)
class ReauditSummary:
    """What a scheduled re-audit did: versions audited, newly failing, skipped (and why)."""

    audited: list[int]
    newly_failing: list[int]
    skipped: dict[int, str]


def active_models_reaudit(*, audited_before: datetime) -> ReauditSummary:
    """Audit again every active version whose last audit is older than ``audited_before``.

    The people who apply change (a new sourcing channel, a new market), so a model
    that was fair on last quarter's candidates may not be on this quarter's. A
    version that fails keeps scoring (switching it off is a human decision) but its
    failing report is shown as an alert on the roles and model pages, and the
    change is logged. Versions already audited since ``audited_before`` are left
    alone, so running this twice does the work once.
    """
    audited: list[int] = []
    newly_failing: list[int] = []
    skipped: dict[int, str] = {}
    for version in active_models_due_for_audit(audited_before=audited_before):
        passed_before = version.audit_passed
        try:
            fit_model_audit(actor=None, model_version=version)
        except ValidationFailed as error:
            skipped[version.pk] = error.message
            continue
        audited.append(version.pk)
        if passed_before and not version.audit_passed:
            newly_failing.append(version.pk)
            logger.warning(
                "active model %s fails its scheduled bias audit (role %s)",
                version.label,
                version.job_profile_id,
            )
    return ReauditSummary(audited=audited, newly_failing=newly_failing, skipped=skipped)


# --- fit scores ------------------------------------------------------------------------


def role_attempts(*, job_profile: JobProfile) -> list[int]:
    """Completed attempts of the role's assessments: who its active model scores."""
    return list(
        Attempt.objects.filter(
            assessment__in=job_profile.assessments.all(), state="completed"
        ).values_list("pk", flat=True)
    )


def fit_scores_compute(
    *,
    model_version: FitModelVersion,
    attempt_ids: Iterable[int] | None = None,
    arm: str = "",
) -> int:
    """Score attempts with one model version (all of its role's by default); idempotent.

    ``arm`` records the A/B test arm the attempts were scored in (empty outside one).
    """
    profile = model_version.job_profile
    ids = sorted(
        set(attempt_ids) if attempt_ids is not None else role_attempts(job_profile=profile)
    )
    if not ids:
        return 0
    model = _load_model(model_version)
    table = norm_table_for(profile.organization_id)
    written = 0
    for start in range(0, len(ids), SCORE_BATCH):
        batch = ids[start : start + SCORE_BATCH]
        features = attempt_features(
            attempt_ids=batch, norm_table=table, feature_set=profile.features
        )
        scores = model.fit_scores(features)
        now = timezone.now()
        rows = [
            FitScore(
                attempt_id=attempt_id,
                model_version=model_version,
                score=float(score),
                passed=bool(score >= model_version.threshold),
                arm=arm,
                computed_at=now,
            )
            for attempt_id, score in zip(batch, scores, strict=True)
        ]
        with transaction.atomic():
            FitScore.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["attempt", "model_version"],
                update_fields=["score", "passed", "arm", "computed_at"],
            )
            candidates = Attempt.objects.filter(pk__in=batch).values_list("candidate_id", flat=True)
            bump(*[candidate_scope(c) for c in set(candidates)])
        FIT_SCORES.labels(job_profile=profile.pk, model_version=model_version.version).inc(
            len(rows)
        )
        written += len(rows)
    return written


def role_fit_scores_compute(
    *, job_profile: JobProfile, attempt_ids: Sequence[int] | None = None
) -> int:
    """Score a role's attempts as the role stands now: by its A/B test's arms while one
    runs (each candidate by their arm's version), else by its active version."""
    ids = list(attempt_ids) if attempt_ids is not None else role_attempts(job_profile=job_profile)
    if not ids:
        return 0
    test = running_ab_test(job_profile=job_profile)
    if test is None:
        active = job_profile.versions.filter(status=ModelStatus.ACTIVE).first()
        return fit_scores_compute(model_version=active, attempt_ids=ids) if active else 0
    arms: dict[str, list[int]] = {"A": [], "B": []}
    for attempt_id, candidate_id in Attempt.objects.filter(pk__in=ids).values_list(
        "pk", "candidate_id"
    ):
        arms[ab_test_arm(test=test, candidate_id=candidate_id)].append(attempt_id)
    return fit_scores_compute(
        model_version=test.model_a, attempt_ids=arms["A"], arm="A"
    ) + fit_scores_compute(model_version=test.model_b, attempt_ids=arms["B"], arm="B")


def attempts_fit_scores_compute(*, attempt_ids: Sequence[int]) -> int:
    """After attempts' traits land: their fit to every role whose assessments hold them.

    Only completed attempts are scored: by the role's active version, or by the
    arm's version while the role's A/B test runs.
    """
    by_assessment: dict[int, list[int]] = {}
    for attempt_id, assessment_id in Attempt.objects.filter(
        pk__in=list(attempt_ids), state="completed"
    ).values_list("pk", "assessment_id"):
        by_assessment.setdefault(assessment_id, []).append(attempt_id)
    if not by_assessment:
        return 0
    profiles = (
        JobProfile.objects.filter(
            assessments__in=list(by_assessment), versions__status=ModelStatus.ACTIVE
        )
        .distinct()
        .order_by("pk")
    )
    written = 0
    for profile in profiles:
        covered = profile.assessments.values_list("pk", flat=True)
        ids = [a for assessment in covered for a in by_assessment.get(assessment, [])]
        written += role_fit_scores_compute(job_profile=profile, attempt_ids=ids)
    return written


# --- A/B tests -----------------------------------------------------------------------------


def running_ab_test(*, job_profile: JobProfile) -> ABTest | None:
    return (
        ABTest.objects.filter(job_profile=job_profile, ended_at__isnull=True)
        .select_related("model_a", "model_b", "job_profile")
        .first()
    )


def ab_test_arm(*, test: ABTest, candidate_id: int) -> str:
    return assign_arm(experiment=test.key, candidate=str(candidate_id), share_b=test.share_b)


def ab_test_start(
    *,
    actor: Actor | None,
    job_profile: JobProfile,
    model_a: FitModelVersion,
    model_b: FitModelVersion,
    share_b: float = 0.5,
    name: str = "",
    key: str | None = None,
) -> ABTest:
    """Run two versions of a role side by side: both active, each candidate in one arm.

    ``key`` seeds the assignment (a new random one by default); giving one makes an
    experiment's split reproducible, e.g. to rerun it on another copy of the data.

    Both must be the role's and have passed their bias audit; one test per role at a
    time. Every candidate of the role is scored again by their arm's version.
    """
    from pymetrics.fitmodels.tasks import score_role

    require_model_manager(actor, "start an A/B test")
    if model_a.pk == model_b.pk:
        raise ValidationFailed(
            "an A/B test compares two different versions",
            code="same_version",
            details={"field": "model_b"},
        )
    for field, version in (("model_a", model_a), ("model_b", model_b)):
        if version.job_profile_id != job_profile.pk:
            raise ValidationFailed(
                f"{version.label} is not a version of {job_profile.name}",
                code="not_this_role",
                details={"field": field},
            )
        if not version.audit_passed:
            raise Conflict(
                f"{version.label} cannot be tested on candidates: its bias audit has not passed",
                code="audit_not_passed",
                details={"field": field},
            )
        try:
            _refuse_without_validity(version, "tested on candidates")
        except Conflict as refusal:
            refusal.details = {"field": field}
            raise
    if not 0 < share_b < 1:
        raise ValidationFailed(
            "share_b is the share of candidates in arm B, between 0 and 1",
            code="share_out_of_range",
            details={"field": "share_b"},
        )
    now = timezone.now()
    with transaction.atomic():
        if ABTest.objects.filter(job_profile=job_profile, ended_at__isnull=True).exists():
            raise Conflict(
                f"{job_profile.name} has an A/B test running: stop it first",
                code="ab_test_running",
                details={"field": "job_profile"},
            )
        FitModelVersion.objects.filter(job_profile=job_profile, status=ModelStatus.ACTIVE).exclude(
            pk__in=[model_a.pk, model_b.pk]
        ).update(status=ModelStatus.RETIRED, retired_at=now)
        FitModelVersion.objects.filter(pk__in=[model_a.pk, model_b.pk]).exclude(
            status=ModelStatus.ACTIVE
        ).update(status=ModelStatus.ACTIVE, activated_at=now, retired_at=None)
        test = ABTest.objects.create(
            job_profile=job_profile,
            name=name.strip() or f"{model_a.label} vs {model_b.label}",
            key=key or f"ab-{uuid.uuid4().hex}",
            model_a=model_a,
            model_b=model_b,
            share_b=share_b,
            started_at=now,
            created_by=actor.user if actor else None,
        )
        _audit(
            actor,
            job_profile.organization,
            "ab_test.start",
            test,
            model_a=model_a.pk,
            model_b=model_b.pk,
            share_b=share_b,
        )
        transaction.on_commit(lambda: score_role.delay(job_profile.pk))
    return test


def ab_test_stop(*, actor: Actor | None, test: ABTest, winner: str | None = None) -> ABTest:
    """End a test; with a winner ("A" or "B") the other version is retired and the
    role's candidates are scored by the winner, else both stay active until one is."""
    from pymetrics.fitmodels.tasks import score_role

    require_model_manager(actor, "stop an A/B test")
    if test.ended_at is not None:
        raise Conflict(f"{test.name} has already ended")
    if winner not in (None, "A", "B"):
        raise ValidationFailed("winner must be 'A', 'B' or none")
    now = timezone.now()
    with transaction.atomic():
        ABTest.objects.filter(pk=test.pk).update(
            ended_at=now,
            winner=(test.model_a if winner == "A" else test.model_b) if winner else None,
        )
        if winner:
            loser = test.model_b if winner == "A" else test.model_a
            FitModelVersion.objects.filter(pk=loser.pk).update(
                status=ModelStatus.RETIRED, retired_at=now
            )
        _audit(actor, test.job_profile.organization, "ab_test.stop", test, winner=winner)
        if winner:
            transaction.on_commit(lambda: score_role.delay(test.job_profile_id))
    test.refresh_from_db()
    return test


def candidate_outcome_record(
    *, actor: Actor | None, candidate: Candidate, hired: bool | None, performance: float | None
) -> CandidateOutcome:
    """Record what became of a candidate (for predictive validity in A/B reports)."""
    require_model_manager(actor, "record outcomes")
    if actor is not None and candidate.organization_id != actor.organization.pk:
        raise ValidationFailed(f"candidate {candidate.pk} is not this organisation's")
    if performance is not None and not np.isfinite(performance):
        raise ValidationFailed("performance must be a finite number")
    with transaction.atomic():
        outcome, _ = CandidateOutcome.objects.update_or_create(
            candidate=candidate,
            defaults={"hired": hired, "performance": performance, "recorded_at": timezone.now()},
        )
        _audit(actor, candidate.organization, "candidate.outcome.record", candidate)
    return outcome
