"""Staff REST API of the job-fit layer: roles, incumbents, training, audits, activation.

Every object is looked up within the caller's organisation (another organisation's
id answers 404). Reads are open to members; changes are for owners and admins
(the services refuse anyone else with 403). Training runs as a Celery task: the
answer is 202 with the training job, whose progress the client polls.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment, Candidate
from pymetrics.assessments.selectors import assessment_get, candidate_get
from pymetrics.common.api import ErrorSerializer
from pymetrics.common.errors import PermissionDenied, ValidationFailed
from pymetrics.fitmodels.anomaly_services import REVIEWERS, session_review_decide
from pymetrics.fitmodels.models import Algorithm, FeatureSet
from pymetrics.fitmodels.selectors import (
    ab_test_get,
    ab_test_report,
    fit_model_version_get,
    fit_model_version_summary,
    fit_model_versions,
    job_profile_get,
    job_profile_list,
    session_review_get,
    session_review_summary,
    session_reviews,
    training_job_get,
    training_job_summary,
    trait_map_proposal_get,
)
from pymetrics.fitmodels.services import (
    MODEL_MANAGERS,
    ab_test_start,
    ab_test_stop,
    candidate_groups_record,
    candidate_outcome_record,
    fit_model_activate,
    fit_model_audit,
    fit_model_retire,
    incumbents_add,
    incumbents_import,
    job_profile_create,
    training_job_request,
)
from pymetrics.fitmodels.tasks import scan_anomalies
from pymetrics.fitmodels.trait_map_services import (
    trait_map_proposal_activate,
    trait_map_propose,
)
from pymetrics.games.registry import game_keys


def _actor(request: Request) -> Actor:
    actor = actor_for_request(request)
    assert actor is not None  # guaranteed by IsOrganizationMember
    return actor


# --- roles -------------------------------------------------------------------------------


class JobProfileInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    assessment_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        default=list,
        help_text="candidates of these assessments get a fit score",
    )
    baseline_assessment_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="its completed candidates are the baseline"
    )
    features = serializers.ChoiceField(choices=FeatureSet.values, default=FeatureSet.TRAITS)
    algorithm = serializers.ChoiceField(
        choices=Algorithm.values, default=Algorithm.LOGISTIC_REGRESSION
    )
    threshold = serializers.FloatField(default=50.0, help_text="pass = fit score >= threshold")


class JobProfileOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    assessment_ids = serializers.ListField(child=serializers.IntegerField())
    baseline_assessment_id = serializers.IntegerField(allow_null=True)
    features = serializers.CharField()
    algorithm = serializers.CharField()
    threshold = serializers.FloatField()
    incumbents = serializers.IntegerField(
        help_text="incumbents recorded (all, not only successful)"
    )
    versions = serializers.ListField(child=serializers.DictField(), help_text="newest first")


def _job_profile_out(profile: Any) -> dict[str, Any]:
    return {
        "id": profile.pk,
        "name": profile.name,
        "description": profile.description,
        "assessment_ids": sorted(a.pk for a in profile.assessments.all()),
        "baseline_assessment_id": profile.baseline_assessment_id,
        "features": profile.features,
        "algorithm": profile.algorithm,
        "threshold": profile.threshold,
        "incumbents": profile.incumbents.count(),
        "versions": [
            {
                "id": v.pk,
                "version": v.version,
                "status": v.status,
                "auc": v.cv_report.get("auc"),
                "audit_passed": v.audit_passed,
            }
            for v in fit_model_versions(job_profile=profile)
        ],
    }


def _assessments(actor: Actor, ids: list[int]) -> list[Assessment]:
    return [assessment_get(organization=actor.organization, assessment_id=i) for i in ids]


class JobProfileListCreateApi(APIView):
    @extend_schema(
        operation_id="job_profiles_list", responses=JobProfileOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        actor = _actor(request)
        profiles = job_profile_list(organization_id=actor.organization.pk)
        return Response([_job_profile_out(p) for p in profiles])

    @extend_schema(
        operation_id="job_profiles_create",
        request=JobProfileInputSerializer,
        responses={
            201: JobProfileOutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        payload = JobProfileInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        baseline_id = data.get("baseline_assessment_id")
        profile = job_profile_create(
            actor=actor,
            name=data["name"],
            description=data["description"],
            assessments=_assessments(actor, data["assessment_ids"]),
            baseline_assessment=_assessments(actor, [baseline_id])[0] if baseline_id else None,
            features=data["features"],
            algorithm=data["algorithm"],
            threshold=data["threshold"],
        )
        return Response(_job_profile_out(profile), status=status.HTTP_201_CREATED)


class JobProfileDetailApi(APIView):
    @extend_schema(
        operation_id="job_profiles_retrieve",
        responses={200: JobProfileOutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, job_profile_id: int) -> Response:
        actor = _actor(request)
        profile = job_profile_get(
            organization_id=actor.organization.pk, job_profile_id=job_profile_id
        )
        return Response(_job_profile_out(profile))


class IncumbentsInputSerializer(serializers.Serializer):
    candidate_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="the organisation's candidates who hold the role",
    )
    successful = serializers.BooleanField(
        required=False, help_text="with candidate_ids: whether they succeed in the role"
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text='imported incumbents: {"external_id", "successful", "trait:<name>": z, ...}',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("candidate_ids" in attrs) == ("rows" in attrs):
            raise serializers.ValidationError("give either candidate_ids or rows")
        if "candidate_ids" in attrs and "successful" not in attrs:
            raise serializers.ValidationError({"successful": "required with candidate_ids"})
        return attrs


class IncumbentsApi(APIView):
    @extend_schema(
        operation_id="job_profiles_incumbents_add",
        request=IncumbentsInputSerializer,
        responses={
            200: OpenApiResponse(description='{"added": int}'),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request: Request, job_profile_id: int) -> Response:
        actor = _actor(request)
        profile = job_profile_get(
            organization_id=actor.organization.pk, job_profile_id=job_profile_id
        )
        payload = IncumbentsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if "rows" in data:
            added = incumbents_import(actor=actor, job_profile=profile, rows=data["rows"])
        else:
            candidates: list[Candidate] = [
                candidate_get(organization=actor.organization, candidate_id=i)
                for i in data["candidate_ids"]
            ]
            added = incumbents_add(
                actor=actor,
                job_profile=profile,
                candidates=candidates,
                successful=data["successful"],
            )
        return Response({"added": added})


class TrainInputSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=Algorithm.values, required=False)
    debias = serializers.BooleanField(
        default=True, help_text="run the debiasing loop when the bias audit fails"
    )
    seed = serializers.IntegerField(default=0)


class TrainingJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job_profile_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed"])
    progress = serializers.FloatField(help_text="0..1")
    message = serializers.CharField()
    error = serializers.CharField(help_text="why it failed (empty otherwise)")
    algorithm = serializers.CharField()
    model_version_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class TrainApi(APIView):
    @extend_schema(
        operation_id="job_profiles_train",
        request=TrainInputSerializer,
        responses={
            202: TrainingJobSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Train a new model version (a Celery task; poll the training job)",
    )
    def post(self, request: Request, job_profile_id: int) -> Response:
        actor = _actor(request)
        profile = job_profile_get(
            organization_id=actor.organization.pk, job_profile_id=job_profile_id
        )
        payload = TrainInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = training_job_request(
            actor=actor,
            job_profile=profile,
            algorithm=payload.validated_data.get("algorithm"),
            debias_if_needed=payload.validated_data["debias"],
            seed=payload.validated_data["seed"],
        )
        job.refresh_from_db()  # the embedded default trains at once, in this request
        return Response(training_job_summary(job), status=status.HTTP_202_ACCEPTED)


class TrainingJobApi(APIView):
    @extend_schema(
        operation_id="training_jobs_retrieve",
        responses={200: TrainingJobSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, training_job_id: int) -> Response:
        actor = _actor(request)
        job = training_job_get(
            organization_id=actor.organization.pk, training_job_id=training_job_id
        )
        return Response(training_job_summary(job))


# --- model versions ----------------------------------------------------------------------


class FitModelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job_profile = serializers.DictField()
    version = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    algorithm = serializers.CharField()
    status = serializers.ChoiceField(choices=["draft", "audited", "active", "retired"])
    feature_names = serializers.ListField(child=serializers.CharField())
    fingerprint = serializers.CharField(help_text="sha256 of the training data")
    n_successful = serializers.IntegerField()
    n_baseline = serializers.IntegerField()
    simulated_training = serializers.BooleanField()
    threshold = serializers.FloatField()
    auc = serializers.FloatField(allow_null=True, help_text="cross-validated")
    auc_ci = serializers.DictField(allow_null=True)
    cross_validation = serializers.DictField(help_text="ROC, reliability curve, Brier score")
    features = serializers.DictField(help_text="feature effects, down-weights, imputation")
    audit_passed = serializers.BooleanField(allow_null=True)
    audit = serializers.DictField(allow_null=True, help_text="the bias audit (docs/fitmodels.md)")
    audited_at = serializers.DateTimeField(allow_null=True)
    debias_history = serializers.ListField(child=serializers.DictField())
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    retired_at = serializers.DateTimeField(allow_null=True)


class FitModelApi(APIView):
    @extend_schema(
        operation_id="fit_models_retrieve",
        responses={200: FitModelSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, model_version_id: int) -> Response:
        actor = _actor(request)
        version = fit_model_version_get(
            organization_id=actor.organization.pk, model_version_id=model_version_id
        )
        return Response(fit_model_version_summary(version))


class FitModelActionApi(APIView):
    action_name = ""

    @extend_schema(
        request=None,
        responses={
            200: FitModelSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                ErrorSerializer, description="activation refused: the audit has not passed"
            ),
        },
    )
    def post(self, request: Request, model_version_id: int) -> Response:
        actor = _actor(request)
        version = fit_model_version_get(
            organization_id=actor.organization.pk, model_version_id=model_version_id
        )
        if self.action_name == "audit":
            fit_model_audit(actor=actor, model_version=version)
        elif self.action_name == "activate":
            fit_model_activate(actor=actor, model_version=version)
        elif self.action_name == "retire":
            fit_model_retire(actor=actor, model_version=version)
        else:  # pragma: no cover - the URLs name only the three
            raise ValidationFailed(f"unknown action {self.action_name!r}")
        version.refresh_from_db()
        return Response(fit_model_version_summary(version))


class CandidateGroupsInputSerializer(serializers.Serializer):
    groups = serializers.DictField(
        child=serializers.CharField(allow_null=True, allow_blank=True),
        help_text='attribute -> the group the candidate reported, e.g. {"gender": "female"}',
    )


class CandidateGroupsApi(APIView):
    @extend_schema(
        operation_id="candidates_groups_record",
        request=CandidateGroupsInputSerializer,
        responses={204: None, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="Record the groups a candidate reported (encrypted; used only for bias audits)",
    )
    def put(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        payload = CandidateGroupsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        candidate_groups_record(
            actor=actor, candidate=candidate, groups=payload.validated_data["groups"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the anomaly review queue ---------------------------------------------------------------


class SessionReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    game_session_id = serializers.IntegerField()
    candidate_id = serializers.IntegerField()
    game = serializers.CharField()
    anomaly_score = serializers.FloatField(help_text="higher = more unusual (0-1)")
    reasons = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=["pending", "accepted", "invalidated"])
    note = serializers.CharField()
    reviewed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class SessionReviewListApi(APIView):
    @extend_schema(
        operation_id="session_reviews_list",
        parameters=[OpenApiParameter("state", str, enum=["pending", "accepted", "invalidated"])],
        responses=SessionReviewSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        actor = _actor(request)
        reviews = session_reviews(
            organization_id=actor.organization.pk, state=request.query_params.get("state")
        )
        return Response([session_review_summary(r) for r in reviews])


class AnomalyScanInputSerializer(serializers.Serializer):
    game = serializers.ChoiceField(choices=game_keys())


class AnomalyScanApi(APIView):
    @extend_schema(
        operation_id="anomaly_scans_create",
        request=AnomalyScanInputSerializer,
        responses={
            202: OpenApiResponse(description='{"game": key, "queued": true}'),
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
        summary="Scan a game's sessions for anomalies (a Celery task; see session-reviews)",
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        if actor.role not in REVIEWERS:
            raise PermissionDenied("only owners, admins and analysts scan for anomalies")
        payload = AnomalyScanInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        game = payload.validated_data["game"]
        organization_id = actor.organization.pk
        requested_by = actor.user.pk if actor.user is not None else None
        transaction.on_commit(lambda: scan_anomalies.delay(organization_id, game, requested_by))
        return Response({"game": game, "queued": True}, status=status.HTTP_202_ACCEPTED)


class SessionReviewDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "invalidate"])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SessionReviewDecideApi(APIView):
    @extend_schema(
        operation_id="session_reviews_decide",
        request=SessionReviewDecisionSerializer,
        responses={
            200: SessionReviewSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        summary="Accept a suspicious session, or invalidate it (it leaves norms and training)",
    )
    def post(self, request: Request, review_id: int) -> Response:
        actor = _actor(request)
        review = session_review_get(organization_id=actor.organization.pk, review_id=review_id)
        payload = SessionReviewDecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        decided = session_review_decide(
            actor=actor,
            review=review,
            decision=payload.validated_data["decision"],
            note=payload.validated_data["note"],
        )
        return Response(session_review_summary(decided))


# --- A/B tests and outcomes ---------------------------------------------------------------


class ABTestInputSerializer(serializers.Serializer):
    model_a_id = serializers.IntegerField()
    model_b_id = serializers.IntegerField()
    share_b = serializers.FloatField(default=0.5, help_text="share of candidates in arm B")
    name = serializers.CharField(required=False, allow_blank=True, default="")


class ABTestStopSerializer(serializers.Serializer):
    winner = serializers.ChoiceField(
        choices=["A", "B"], required=False, allow_null=True, default=None
    )


class ABTestCreateApi(APIView):
    @extend_schema(
        operation_id="ab_tests_start",
        request=ABTestInputSerializer,
        responses={
            201: OpenApiResponse(description="the test and its report"),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        summary="Run two audited versions of a role side by side",
    )
    def post(self, request: Request, job_profile_id: int) -> Response:
        actor = _actor(request)
        profile = job_profile_get(
            organization_id=actor.organization.pk, job_profile_id=job_profile_id
        )
        if actor.role not in MODEL_MANAGERS:  # before the versions are looked up
            raise PermissionDenied("only an owner or an admin may start an A/B test")
        payload = ABTestInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        test = ab_test_start(
            actor=actor,
            job_profile=profile,
            model_a=fit_model_version_get(
                organization_id=actor.organization.pk, model_version_id=data["model_a_id"]
            ),
            model_b=fit_model_version_get(
                organization_id=actor.organization.pk, model_version_id=data["model_b_id"]
            ),
            share_b=data["share_b"],
            name=data["name"],
        )
        return Response(ab_test_report(test=test), status=status.HTTP_201_CREATED)


class ABTestApi(APIView):
    @extend_schema(
        operation_id="ab_tests_report",
        responses={200: OpenApiResponse(description="the comparison report"), 404: ErrorSerializer},
        summary="An A/B test's comparison: pass rates, adverse impact, scores, validity",
    )
    def get(self, request: Request, ab_test_id: int) -> Response:
        actor = _actor(request)
        test = ab_test_get(organization_id=actor.organization.pk, ab_test_id=ab_test_id)
        report = ab_test_report(test=test)
        # it summarises the groups candidates reported: who read it is recorded
        audit_log_record(
            actor=actor, action="ab_test.read", object_type="abtest", object_id=test.pk
        )
        return Response(report)


class ABTestStopApi(APIView):
    @extend_schema(
        operation_id="ab_tests_stop",
        request=ABTestStopSerializer,
        responses={
            200: OpenApiResponse(description="the test and its report"),
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        summary="End an A/B test; the winner's arm takes over, the other version retires",
    )
    def post(self, request: Request, ab_test_id: int) -> Response:
        actor = _actor(request)
        test = ab_test_get(organization_id=actor.organization.pk, ab_test_id=ab_test_id)
        payload = ABTestStopSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ended = ab_test_stop(actor=actor, test=test, winner=payload.validated_data["winner"])
        return Response(ab_test_report(test=ended))


class CandidateOutcomeSerializer(serializers.Serializer):
    hired = serializers.BooleanField(allow_null=True, required=False, default=None)
    performance = serializers.FloatField(allow_null=True, required=False, default=None)


class CandidateOutcomeApi(APIView):
    @extend_schema(
        operation_id="candidates_outcome_record",
        request=CandidateOutcomeSerializer,
        responses={204: None, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="Record what became of a candidate (hired, a performance rating)",
    )
    def put(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        payload = CandidateOutcomeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        candidate_outcome_record(
            actor=actor,
            candidate=candidate,
            hired=payload.validated_data["hired"],
            performance=payload.validated_data["performance"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- adaptive trait maps --------------------------------------------------------------------


class TraitMapProposalInputSerializer(serializers.Serializer):
    n_factors = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="default: as many as the current map has traits",
    )


def _proposal_out(proposal: Any) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "state": proposal.state,
        "based_on_version": proposal.based_on.version,
        "n_people": proposal.n_people,
        "simulated_people": proposal.simulated_people,
        "activated_version": (
            proposal.activated_version.version if proposal.activated_version else None
        ),
        "proposal": proposal.proposal,
        "created_at": proposal.created_at,
    }


class TraitMapProposalCreateApi(APIView):
    @extend_schema(
        operation_id="trait_map_proposals_create",
        request=TraitMapProposalInputSerializer,
        responses={
            201: OpenApiResponse(description="the proposal"),
            400: ErrorSerializer,
            403: ErrorSerializer,
        },
        summary="Propose a trait map by factor analysis of the organisation's candidates",
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        payload = TraitMapProposalInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        proposal = trait_map_propose(
            actor=actor,
            organization=actor.organization,
            n_factors=payload.validated_data["n_factors"],
        )
        return Response(_proposal_out(proposal), status=status.HTTP_201_CREATED)


class TraitMapProposalApi(APIView):
    @extend_schema(
        operation_id="trait_map_proposals_retrieve",
        responses={200: OpenApiResponse(description="the proposal"), 404: ErrorSerializer},
    )
    def get(self, request: Request, proposal_id: int) -> Response:
        actor = _actor(request)
        proposal = trait_map_proposal_get(
            organization_id=actor.organization.pk, proposal_id=proposal_id
        )
        return Response(_proposal_out(proposal))


class TraitMapProposalActivateApi(APIView):
    @extend_schema(
        operation_id="trait_map_proposals_activate",
        request=None,
        responses={
            200: OpenApiResponse(description="the proposal, activated"),
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        summary="Store the proposed map as a new version, build norms with it, re-score",
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        actor = _actor(request)
        proposal = trait_map_proposal_get(
            organization_id=actor.organization.pk, proposal_id=proposal_id
        )
        trait_map_proposal_activate(actor=actor, proposal=proposal)
        return Response(_proposal_out(proposal))
