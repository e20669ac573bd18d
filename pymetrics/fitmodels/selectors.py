"""Reads of the job-fit layer: the features models learn from and score, the debiasing set.

Features are z-scores against the organisation's current norm table: each trait's z
(``trait:<name>``, NaN where the trait could not be scored) and, for roles that use
them, each metric's z (``metric:<game>.<metric>``, clipped to [-4, 4] as in trait
inference). A person's features come from their latest completed attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from django.db import models
from scipy import stats

from pymetrics.assessments.models import Attempt, AttemptState
from pymetrics.common.errors import NotFound, ValidationFailed
from pymetrics.fitmodels.models import (
    ABTest,
    CandidateGroups,
    CandidateOutcome,
    FeatureSet,
    FitModelVersion,
    FitScore,
    JobProfile,
    ModelStatus,
    ReviewState,
    SessionReview,
    TrainingJob,
    TraitMapProposal,
)
from pymetrics.fitmodels.science.abtests import ArmSample, compare_arms
from pymetrics.psychometrics.inference import metric_z_scores
from pymetrics.psychometrics.norms import NormTableData
from pymetrics.psychometrics.trait_map import TraitMap
from pymetrics.scoring.models import NormTable
from pymetrics.scoring.selectors import attempt_metrics, current_norm_table, trait_scores_by_attempt

TRAIT_PREFIX = "trait:"
METRIC_PREFIX = "metric:"


def norm_table_for(organization_id: int) -> NormTable:
    table = current_norm_table(organization_id=organization_id)
    if table is None:
        raise ValidationFailed(
            "no norm table applies to this organisation yet: build one before training",
            code="no_norm_table",
        )
    return table


def attempt_features(
    *, attempt_ids: Sequence[int], norm_table: NormTable, feature_set: str
) -> pd.DataFrame:
    """One row per attempt id (in the order given), one column per feature."""
    trait_map = TraitMap.from_dict(norm_table.trait_map.definition)
    scores = trait_scores_by_attempt(attempt_ids=attempt_ids, norm_table=norm_table)
    columns = [TRAIT_PREFIX + trait.name for trait in trait_map.traits]
    rows = []
    for attempt_id in attempt_ids:
        by_trait = scores[attempt_id]
        rows.append(
            [
                by_trait[trait.name].z
                if trait.name in by_trait and by_trait[trait.name].scored
                else np.nan
                for trait in trait_map.traits
            ]
        )
    frame = pd.DataFrame(rows, index=pd.Index(list(attempt_ids), name="attempt"), columns=columns)
    if feature_set == FeatureSet.TRAITS_AND_METRICS:
        metrics = attempt_metrics(attempt_ids=attempt_ids).metrics.reindex(list(attempt_ids))
        z = metric_z_scores(metrics, NormTableData.from_dict(norm_table.data))
        z = z.reindex(columns=sorted(z.columns))
        z.columns = [METRIC_PREFIX + name for name in z.columns]
        frame = pd.concat([frame, z], axis=1)
    return frame.astype("float64")


def latest_completed_attempts(*, candidate_ids: Iterable[int]) -> dict[int, int]:
    """candidate id -> their latest completed attempt's id (candidates with none are left out).

    Attempts with a session a reviewer invalidated (anomaly review) are not used:
    they leave training data and bias audits.
    """
    latest: dict[int, int] = {}
    rows = (
        Attempt.objects.filter(candidate_id__in=list(candidate_ids), state=AttemptState.COMPLETED)
        .exclude(game_sessions__invalidated_at__isnull=False)
        .order_by("candidate_id", "-completed_at", "-pk")
        .values_list("candidate_id", "pk")
    )
    for candidate_id, attempt_id in rows:
        latest.setdefault(candidate_id, attempt_id)
    return latest


@dataclass(frozen=True)
class TrainingSet:
    """What a role's model learns from, rows in a stable order (their labels sorted).

    ``rows`` name each row: ``incumbent:<id>`` or ``baseline:<candidate id>``;
    ``simulated`` counts rows of simulated candidates (bots), shown wherever the
    model is, so a model trained on a simulated population says so.
    """

    features: pd.DataFrame
    labels: np.ndarray
    rows: list[str]
    simulated: int

    @property
    def n_successful(self) -> int:
        return int(self.labels.sum())

    @property
    def n_baseline(self) -> int:
        return int(len(self.labels) - self.labels.sum())


def training_set(*, job_profile: JobProfile) -> TrainingSet:
    """Successful incumbents (label 1) against the baseline population (label 0).

    Incumbents recorded as not successful count with the baseline: they show what
    the role's unsuccessful holders look like, which is what a model must tell
    apart. Baseline candidates who are also incumbents of the role count once, as
    incumbents. Imported incumbents bring their own feature values; missing ones
    are NaN (imputed by the model's pipeline).
    """
    table = norm_table_for(job_profile.organization_id)
    incumbents = list(job_profile.incumbents.select_related("candidate").order_by("pk"))
    linked = [i.candidate_id for i in incumbents if i.candidate_id is not None]
    attempts = latest_completed_attempts(candidate_ids=linked)
    baseline_ids: list[int] = []
    if job_profile.baseline_assessment_id is not None:
        baseline_candidates = (
            Attempt.objects.filter(
                assessment_id=job_profile.baseline_assessment_id, state=AttemptState.COMPLETED
            )
            .exclude(candidate_id__in=linked)
            .values_list("candidate_id", flat=True)
            .distinct()
        )
        baseline_attempts = latest_completed_attempts(candidate_ids=list(baseline_candidates))
        baseline_ids = sorted(baseline_attempts)
        attempts.update(baseline_attempts)
    attempt_ids = sorted(set(attempts.values()))
    features = attempt_features(
        attempt_ids=attempt_ids, norm_table=table, feature_set=job_profile.features
    )
    simulated_candidates = set(
        Attempt.objects.filter(pk__in=attempt_ids, candidate__is_simulated=True).values_list(
            "candidate_id", flat=True
        )
    )
    rows: list[str] = []
    labels: list[int] = []
    vectors: list[np.ndarray] = []
    simulated = 0
    for incumbent in incumbents:
        if incumbent.candidate_id is not None:
            attempt_id = attempts.get(incumbent.candidate_id)
            if attempt_id is None:
                continue  # no completed attempt yet: nothing to learn from
            vector = features.loc[attempt_id].to_numpy(dtype="float64")
            simulated += incumbent.candidate_id in simulated_candidates
        else:
            vector = (
                pd.Series(incumbent.features, dtype="float64")
                .reindex(features.columns)
                .to_numpy(dtype="float64")
            )
        rows.append(f"incumbent:{incumbent.pk}")
        labels.append(1 if incumbent.successful else 0)
        vectors.append(vector)
    for candidate_id in baseline_ids:
        rows.append(f"baseline:{candidate_id}")
        labels.append(0)
        vectors.append(features.loc[attempts[candidate_id]].to_numpy(dtype="float64"))
        simulated += candidate_id in simulated_candidates
    frame = pd.DataFrame(
        vectors,
        index=pd.Index(rows, name="row"),
        columns=features.columns,
    )
    return TrainingSet(
        features=frame, labels=np.asarray(labels, dtype=int), rows=rows, simulated=simulated
    )


@dataclass(frozen=True)
class DebiasingSet:
    """Candidates of the organisation who reported groups, with their features.

    ``groups`` maps each attribute to one label per row (None where that person did
    not report it).
    """

    candidate_ids: list[int]
    attempt_ids: list[int]
    features: pd.DataFrame
    groups: dict[str, list[str | None]]


def debiasing_set(*, organization_id: int, feature_set: str) -> DebiasingSet:
    """Everyone with reported groups and a completed attempt, in candidate id order."""
    records = CandidateGroups.objects.filter(candidate__organization_id=organization_id)
    reported = {record.candidate_id: json.loads(record.groups) for record in records}
    attempts = latest_completed_attempts(candidate_ids=reported)
    candidate_ids = sorted(attempts)
    attempt_ids = [attempts[c] for c in candidate_ids]
    table = norm_table_for(organization_id)
    features = attempt_features(attempt_ids=attempt_ids, norm_table=table, feature_set=feature_set)
    attributes = sorted({name for c in candidate_ids for name in reported[c]})
    groups = {
        attribute: [_group_label(reported[c].get(attribute)) for c in candidate_ids]
        for attribute in attributes
    }
    features.index = pd.Index(candidate_ids, name="candidate")
    return DebiasingSet(
        candidate_ids=candidate_ids, attempt_ids=attempt_ids, features=features, groups=groups
    )


def _group_label(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def fit_model_versions(*, job_profile: JobProfile) -> list[FitModelVersion]:
    return list(job_profile.versions.order_by("-version"))


def active_fit_model(*, job_profile: JobProfile) -> FitModelVersion | None:
    return job_profile.versions.filter(status=ModelStatus.ACTIVE).first()


def active_models_due_for_audit(*, audited_before: datetime) -> list[FitModelVersion]:
    """Active versions never audited or last audited before ``audited_before``, oldest first."""
    return list(
        FitModelVersion.objects.filter(status=ModelStatus.ACTIVE)
        .filter(models.Q(audited_at__isnull=True) | models.Q(audited_at__lt=audited_before))
        .select_related("job_profile")
        .order_by(models.F("audited_at").asc(nulls_first=True), "pk")
    )


def job_profile_get(*, organization_id: int, job_profile_id: int) -> JobProfile:
    profile = JobProfile.objects.filter(organization_id=organization_id, pk=job_profile_id).first()
    if profile is None:
        raise NotFound(f"job profile {job_profile_id} not found")
    return profile


def attempt_fit_summaries(*, attempt_id: int | None) -> list[dict[str, object]]:
    """An attempt's fit to each role, by the role's active model (empty until one scored).

    One per role: while an A/B test runs both of its versions are active, and the
    attempt's latest score is its arm's. Plain JSON-able values, as the candidate's
    detail and profile show them; a model trained on simulated candidates says so
    (``simulated_training``).
    """
    if attempt_id is None:
        return []
    scores = (
        FitScore.objects.filter(attempt_id=attempt_id, model_version__status=ModelStatus.ACTIVE)
        .select_related("model_version__job_profile")
        .order_by("model_version__job_profile__name", "-computed_at", "-pk")
    )
    summaries: list[dict[str, object]] = []
    seen: set[int] = set()
    for score in scores:
        profile = score.model_version.job_profile
        if profile.pk in seen:
            continue
        seen.add(profile.pk)
        summaries.append(
            {
                "job_profile": {"id": profile.pk, "name": profile.name},
                "model_version": {
                    "id": score.model_version_id,
                    "version": score.model_version.version,
                    "label": score.model_version.label,
                    "simulated_training": bool(
                        score.model_version.cv_report.get("simulated_rows", 0)
                    ),
                },
                "score": score.score,
                "passed": score.passed,
                "threshold": score.model_version.threshold,
                "arm": score.arm or None,
                "computed_at": score.computed_at,
            }
        )
    return summaries


def job_profile_list(*, organization_id: int) -> list[JobProfile]:
    return list(
        JobProfile.objects.filter(organization_id=organization_id)
        .prefetch_related("assessments")
        .order_by("name", "pk")
    )


def fit_model_version_get(*, organization_id: int, model_version_id: int) -> FitModelVersion:
    """The organisation's model version, or NotFound (also for another organisation's id)."""
    version = (
        FitModelVersion.objects.select_related("job_profile")
        .filter(job_profile__organization_id=organization_id, pk=model_version_id)
        .first()
    )
    if version is None:
        raise NotFound(f"model version {model_version_id} not found")
    return version


def training_job_get(*, organization_id: int, training_job_id: int) -> TrainingJob:
    job = TrainingJob.objects.filter(
        job_profile__organization_id=organization_id, pk=training_job_id
    ).first()
    if job is None:
        raise NotFound(f"training job {training_job_id} not found")
    return job


def fit_model_version_summary(version: FitModelVersion) -> dict[str, object]:
    """A version as the API and the pages show it (JSON types; no artefact)."""
    cv = version.cv_report
    return {
        "id": version.pk,
        "job_profile": {"id": version.job_profile_id, "name": version.job_profile.name},
        "version": version.version,
        "label": version.label,
        "algorithm": version.algorithm,
        "status": version.status,
        "feature_names": version.feature_names,
        "fingerprint": version.fingerprint,
        "n_successful": version.n_successful,
        "n_baseline": version.n_baseline,
        "simulated_training": bool(cv.get("simulated_rows", 0)),
        "threshold": version.threshold,
        "auc": cv.get("auc"),
        "auc_ci": cv.get("auc_ci"),
        "cross_validation": cv,
        "features": version.feature_weights,
        "audit_passed": version.audit_passed,
        "audit": version.audit_report,
        "audited_at": version.audited_at,
        "debias_history": version.debias_history,
        "created_at": version.created_at,
        "activated_at": version.activated_at,
        "retired_at": version.retired_at,
    }


def training_job_summary(job: TrainingJob) -> dict[str, object]:
    return {
        "id": job.pk,
        "job_profile_id": job.job_profile_id,
        "state": job.state,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        "algorithm": job.algorithm,
        "model_version_id": job.model_version_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def session_reviews(
    *, organization_id: int, state: str | None = None
) -> models.QuerySet[SessionReview]:
    """The organisation's reviews (lazy, so a page of them is one query), pending first
    and then by anomaly score; each with its session, candidate and reviewer joined,
    without the scan's full result (``assessment``), which only the detail needs."""
    reviews = (
        SessionReview.objects.filter(
            game_session__attempt__candidate__organization_id=organization_id
        )
        .select_related("game_session__attempt__candidate", "reviewed_by")
        .defer("assessment")
    )
    if state:
        reviews = reviews.filter(state=state)
    return reviews.order_by("state", "-anomaly_score", "pk")


def session_review_counts(*, organization_id: int) -> dict[str, int]:
    """Reviews of the organisation per state (every state, zeros included)."""
    counts = dict.fromkeys(ReviewState.values, 0)
    rows = (
        SessionReview.objects.filter(
            game_session__attempt__candidate__organization_id=organization_id
        )
        .order_by()
        .values_list("state")
        .annotate(n=models.Count("pk"))
    )
    for state, n in rows:
        counts[state] = n
    return counts


def session_review_get(*, organization_id: int, review_id: int) -> SessionReview:
    review = SessionReview.objects.filter(
        game_session__attempt__candidate__organization_id=organization_id, pk=review_id
    ).first()
    if review is None:
        raise NotFound(f"session review {review_id} not found")
    return review


def session_review_summary(review: SessionReview) -> dict[str, object]:
    return {
        "id": review.pk,
        "game_session_id": review.game_session_id,
        "candidate_id": review.game_session.attempt.candidate_id,
        "game": review.game,
        "anomaly_score": review.anomaly_score,
        "reasons": review.reasons,
        "state": review.state,
        "note": review.note,
        "reviewed_at": review.reviewed_at,
        "created_at": review.created_at,
    }


#: What a list of A/B tests does not need of their versions: the artefact, the reports.
_AB_LIST_DEFER = tuple(
    f"{arm}__{field}"
    for arm in ("model_a", "model_b")
    for field in (
        "artefact",
        "debias_history",
        "feature_weights",
        "audit_report",
        "cv_report",
        "feature_names",
    )
)


def ab_test_list(*, organization_id: int) -> list[ABTest]:
    """The organisation's A/B tests, newest first, with their role and versions."""
    return list(
        ABTest.objects.filter(job_profile__organization_id=organization_id)
        .select_related("job_profile", "model_a", "model_b")
        .defer(*_AB_LIST_DEFER)
        .order_by("-started_at", "-pk")
    )


def ab_test_get(*, organization_id: int, ab_test_id: int) -> ABTest:
    test = (
        ABTest.objects.select_related("model_a", "model_b", "job_profile", "winner")
        .filter(job_profile__organization_id=organization_id, pk=ab_test_id)
        .first()
    )
    if test is None:
        raise NotFound(f"A/B test {ab_test_id} not found")
    return test


def ab_test_report(*, test: ABTest) -> dict[str, object]:
    """The comparison of a test's arms (pure statistics on its stored fit scores).

    Each arm holds the candidates scored in it while the test ran: their fit scores
    and passes at that arm's threshold, the groups they reported (for adverse
    impact) and the outcomes recorded since (hired, performance). The assignment's
    balance is checked against ``share_b`` (chi-square goodness of fit).
    """
    scored = list(
        FitScore.objects.filter(
            model_version__in=[test.model_a_id, test.model_b_id], arm__in=["A", "B"]
        )
        .filter(
            models.Q(model_version=test.model_a_id, arm="A")
            | models.Q(model_version=test.model_b_id, arm="B")
        )
        .values_list("arm", "score", "attempt__candidate_id", "attempt__candidate__is_simulated")
        .order_by("attempt__candidate_id", "arm")
    )
    simulated = {"A": 0, "B": 0}
    for arm, _, _, is_simulated in scored:
        simulated[arm] += bool(is_simulated)
    rows = [(arm, score, candidate) for arm, score, candidate, _ in scored]
    candidate_ids = sorted({candidate for _, _, candidate in rows})
    reported = {
        record.candidate_id: json.loads(record.groups)
        for record in CandidateGroups.objects.filter(candidate_id__in=candidate_ids)
    }
    outcomes = {
        o.candidate_id: o for o in CandidateOutcome.objects.filter(candidate_id__in=candidate_ids)
    }
    attributes = sorted({name for groups in reported.values() for name in groups})
    samples = {}
    for arm, version in (("A", test.model_a), ("B", test.model_b)):
        mine = [(score, candidate) for a, score, candidate in rows if a == arm]
        people = [candidate for _, candidate in mine]
        samples[arm] = ArmSample(
            scores=np.array([score for score, _ in mine], dtype="float64"),
            threshold=version.threshold,
            groups={
                attribute: [_group_label(reported.get(c, {}).get(attribute)) for c in people]
                for attribute in attributes
            },
            hired=np.array(
                [_number(outcomes[c].hired) if c in outcomes else np.nan for c in people],
                dtype="float64",
            ),
            performance=np.array(
                [_number(outcomes[c].performance) if c in outcomes else np.nan for c in people],
                dtype="float64",
            ),
        )
    n_a, n_b = len(samples["A"].scores), len(samples["B"].scores)
    balance: dict[str, object] = {
        "n_a": n_a,
        "n_b": n_b,
        "share_b": test.share_b,
        "chi2": None,
        "p": None,
    }
    if n_a + n_b > 0:
        expected = [(n_a + n_b) * (1 - test.share_b), (n_a + n_b) * test.share_b]
        goodness = stats.chisquare([n_a, n_b], f_exp=expected)
        balance["chi2"], balance["p"] = float(goodness.statistic), float(goodness.pvalue)
    empty = [arm for arm in ("A", "B") if len(samples[arm].scores) == 0]
    report = compare_arms(arm_a=samples["A"], arm_b=samples["B"]).to_dict() if not empty else None
    return {
        "id": test.pk,
        "name": test.name,
        "job_profile": {"id": test.job_profile_id, "name": test.job_profile.name},
        "model_a": {"id": test.model_a_id, "label": test.model_a.label},
        "model_b": {"id": test.model_b_id, "label": test.model_b.label},
        "started_at": test.started_at,
        "ended_at": test.ended_at,
        "winner": test.winner.label if test.winner else None,
        "assignment": balance,
        "simulated": simulated,
        "comparison": report,
        "note": (
            f"nothing to compare yet: no candidate scored in arm {' or '.join(empty)}"
            if empty
            else None
        ),
    }


def _number(value: object) -> float:
    if value is None:
        return float("nan")
    return float(value)  # type: ignore[arg-type]


def trait_map_proposal_list(*, organization_id: int) -> models.QuerySet[TraitMapProposal]:
    """The organisation's proposals, newest first (lazy, to count and slice in the
    database), without the maps' definitions."""
    return (
        TraitMapProposal.objects.filter(organization_id=organization_id)
        .select_related("based_on", "activated_version", "created_by")
        .defer("definition", "based_on__definition", "activated_version__definition")
        .order_by("-created_at", "-pk")
    )


def trait_map_proposal_get(*, organization_id: int, proposal_id: int) -> TraitMapProposal:
    proposal = (
        TraitMapProposal.objects.select_related("based_on", "activated_version")
        .filter(organization_id=organization_id, pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise NotFound(f"trait map proposal {proposal_id} not found")
    return proposal
