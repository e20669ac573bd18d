"""Staff REST API (DESIGN.md 4.3): assessments, invitations, candidate results, dashboards.

Every object is looked up within the caller's organisation, so another
organisation's id answers 404 exactly like an id that does not exist.

The two hot reads, a candidate's detail and an assessment's dashboard summary, come
from the versioned analytics cache and are sent as JSON encoded by orjson (the
candidate's once per version, as cached) rather than through DRF's renderer; their
serializers describe the shape for the OpenAPI schema. Each read is audit-logged,
committed before the answer is sent.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.analytics.selectors.dashboard import assessment_dashboard_json
from pymetrics.analytics.selectors.drift_alerts import drift_alerts
from pymetrics.assessments.models import Assessment
from pymetrics.assessments.selectors import assessment_get, assessment_list
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.common.api import ErrorSerializer
from pymetrics.staff.presenters import candidate_detail_json


def _actor(request: Request) -> Actor:
    actor = actor_for_request(request)
    assert actor is not None  # guaranteed by IsOrganizationMember
    return actor


class AssessmentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    games = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    settings = serializers.DictField(required=False)


class AssessmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    games = serializers.ListField(child=serializers.CharField())
    settings = serializers.DictField()
    created_at = serializers.DateTimeField()


def _assessment_out(assessment: Assessment) -> dict[str, Any]:
    return {
        "id": assessment.pk,
        "name": assessment.name,
        "games": assessment.games,
        "settings": assessment.settings,
        "created_at": assessment.created_at,
    }


class AssessmentListCreateApi(APIView):
    @extend_schema(operation_id="assessments_list", responses=AssessmentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor = _actor(request)
        data = [_assessment_out(a) for a in assessment_list(organization=actor.organization)]
        return Response(AssessmentOutputSerializer(data, many=True).data)

    @extend_schema(
        operation_id="assessments_create",
        request=AssessmentInputSerializer,
        responses={201: AssessmentOutputSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        payload = AssessmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assessment = assessment_create(
            organization=actor.organization,
            name=payload.validated_data["name"],
            games=payload.validated_data["games"],
            settings_=payload.validated_data.get("settings"),
            actor=actor,
        )
        return Response(
            AssessmentOutputSerializer(_assessment_out(assessment)).data,
            status=status.HTTP_201_CREATED,
        )


class AssessmentDetailApi(APIView):
    @extend_schema(
        operation_id="assessments_retrieve",
        responses={200: AssessmentOutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, assessment_id: int) -> Response:
        actor = _actor(request)
        assessment = assessment_get(organization=actor.organization, assessment_id=assessment_id)
        return Response(AssessmentOutputSerializer(_assessment_out(assessment)).data)


class CandidateInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(max_length=200)
    external_id = serializers.CharField(max_length=200, required=False, allow_blank=True)


class InvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="candidate id")
    attempt_id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    invite_token = serializers.CharField()
    invite_url = serializers.URLField()
    invite_expires_at = serializers.DateTimeField()


class CandidateCreateApi(APIView):
    @extend_schema(
        operation_id="candidates_invite",
        request=CandidateInputSerializer,
        responses={
            201: InvitationOutputSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="already invited"),
        },
        summary="Invite a candidate to an assessment",
    )
    def post(self, request: Request, assessment_id: int) -> Response:
        actor = _actor(request)
        assessment = assessment_get(organization=actor.organization, assessment_id=assessment_id)
        payload = CandidateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = candidate_invite(
            assessment=assessment,
            email=payload.validated_data["email"],
            name=payload.validated_data["name"],
            external_id=payload.validated_data.get("external_id"),
            actor=actor,
        )
        invite_url = request.build_absolute_uri(
            reverse("play:invite", args=[invitation.invite_token])
        )
        return Response(
            {
                "id": invitation.candidate.pk,
                "attempt_id": invitation.attempt.pk,
                "external_id": invitation.candidate.external_id,
                "invite_token": invitation.invite_token,
                "invite_url": invite_url,
                "invite_expires_at": invitation.attempt.invite_expires_at,
            },
            status=status.HTTP_201_CREATED,
        )


class QualityFlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()


class MetricSetSerializer(serializers.Serializer):
    extractor_version = serializers.IntegerField()
    values = serializers.DictField(
        child=serializers.FloatField(), help_text="metric name -> value; absent = not computable"
    )
    quality_flags = QualityFlagSerializer(many=True)
    computed_at = serializers.DateTimeField()


class GameSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    game = serializers.CharField()
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.source
    acked_seq = serializers.IntegerField()
    event_count = serializers.IntegerField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    metrics = MetricSetSerializer(allow_null=True)


class AssessmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NormTableRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    population = serializers.CharField()
    simulated = serializers.BooleanField(help_text="true when the norm group is bots")


class TraitVersionsSerializer(serializers.Serializer):
    norm_table = NormTableRefSerializer()
    trait_map = serializers.IntegerField(help_text="trait map version")
    extractors = serializers.DictField(
        child=serializers.IntegerField(), help_text="game -> extractor version of its metrics"
    )


class TraitIntervalSerializer(serializers.Serializer):
    level = serializers.FloatField(help_text="0.90")
    z_low = serializers.FloatField()
    z_high = serializers.FloatField()
    percentile_low = serializers.FloatField()
    percentile_high = serializers.FloatField()


class TraitScoreSerializer(serializers.Serializer):
    trait = serializers.CharField()
    poles = serializers.ListField(child=serializers.CharField(), help_text="[low pole, high pole]")
    scored = serializers.BooleanField()
    score = serializers.FloatField(allow_null=True, help_text="trait z against the norm group")
    percentile = serializers.FloatField(allow_null=True)
    interval = TraitIntervalSerializer(allow_null=True)
    reliability = serializers.FloatField()
    metrics_present = serializers.IntegerField()
    metrics_total = serializers.IntegerField()
    reason = serializers.CharField(help_text="why the trait is not scored; empty when scored")
    quality_flags = QualityFlagSerializer(many=True)
    versions = TraitVersionsSerializer()
    computed_at = serializers.DateTimeField()


class AttemptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    assessment = AssessmentRefSerializer()
    status = serializers.CharField()
    invited_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    game_sessions = GameSessionSerializer(many=True)
    traits = TraitScoreSerializer(many=True)


class FitJobProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FitModelVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    label = serializers.CharField(help_text='"<role> v<version>"')  # type: ignore[assignment]
    simulated_training = serializers.BooleanField(
        help_text="trained on simulated candidates (bots): not a real role's profile"
    )


class FitSerializer(serializers.Serializer):
    job_profile = FitJobProfileSerializer()
    model_version = FitModelVersionSerializer()
    score = serializers.FloatField(help_text="calibrated probability x 100")
    passed = serializers.BooleanField(help_text="score >= threshold")
    threshold = serializers.FloatField()
    arm = serializers.ChoiceField(
        choices=["A", "B"], allow_null=True, help_text="the A/B test arm, while one runs"
    )
    computed_at = serializers.DateTimeField()


class CandidateDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    email = serializers.CharField()
    is_simulated = serializers.BooleanField()
    consent_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="state of the latest attempt")
    attempts = AttemptSerializer(many=True)
    traits = TraitScoreSerializer(
        many=True,
        help_text="traits of the latest attempt against the organisation's current norm "
        "table; empty until a norm table applies and the attempt has metrics",
    )
    fit = FitSerializer(
        many=True,
        help_text="the latest attempt's fit to each role, by the role's active model; "
        "empty until one scored",
    )


class CandidateDetailApi(APIView):
    @extend_schema(
        operation_id="candidates_retrieve",
        responses={200: CandidateDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, candidate_id: int) -> HttpResponse:
        actor = _actor(request)
        body = candidate_detail_json(organization=actor.organization, candidate_id=candidate_id)
        # committed before the answer leaves: no read goes unaudited, even on a crash
        audit_log_record(
            actor=actor, action="candidate.read", object_type="candidate", object_id=candidate_id
        )
        return HttpResponse(body, content_type="application/json")


# --- assessment dashboard ------------------------------------------------------------------


class DashboardAssessmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    games = serializers.ListField(child=serializers.CharField(), help_text="game keys, in order")


class DashboardCountsSerializer(serializers.Serializer):
    invited = serializers.IntegerField(help_text="attempts: everyone invited")
    started = serializers.IntegerField(help_text="attempts with a first game opened")
    completed = serializers.IntegerField(help_text="attempts with every game finished")
    expired = serializers.IntegerField(help_text="invitations expired unstarted")
    withdrawn = serializers.IntegerField()
    flagged = serializers.IntegerField(help_text="attempts with a quality flag on any game")
    simulated = serializers.IntegerField(help_text="attempts of simulated candidates (bots)")


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=["invited", "started", "completed"])
    count = serializers.IntegerField()
    of_previous = serializers.FloatField(allow_null=True, help_text="share of the stage before")
    of_first = serializers.FloatField(allow_null=True, help_text="share of those invited")


class FunnelGameSerializer(serializers.Serializer):
    game = serializers.CharField()
    title = serializers.CharField(help_text="English")
    position = serializers.IntegerField(help_text="1 for the first game of the battery")
    reached = serializers.IntegerField()
    finished = serializers.IntegerField()
    stopped_here = serializers.IntegerField()
    stop_rate = serializers.FloatField(allow_null=True)


class FunnelSerializer(serializers.Serializer):
    stages = FunnelStageSerializer(many=True)
    games = FunnelGameSerializer(many=True, help_text="battery order")


class HistogramBinSerializer(serializers.Serializer):
    low = serializers.FloatField()
    high = serializers.FloatField()
    count = serializers.IntegerField()


class CompletionMinutesSerializer(serializers.Serializer):
    n = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    bins = HistogramBinSerializer(many=True)


class TraitDistributionSerializer(serializers.Serializer):
    trait = serializers.CharField()
    poles = serializers.ListField(child=serializers.CharField(), help_text="[low pole, high pole]")
    n = serializers.IntegerField(help_text="completed candidates scored on the trait")
    counts = serializers.ListField(child=serializers.IntegerField(), help_text="per percentile bin")
    shares = serializers.ListField(child=serializers.FloatField(allow_null=True))
    mean_z = serializers.FloatField(allow_null=True)


class DashboardTraitsSerializer(serializers.Serializer):
    edges = serializers.ListField(child=serializers.FloatField(), help_text="percentile bin edges")
    expected_share = serializers.ListField(
        child=serializers.FloatField(), help_text="share of each bin under the norm"
    )
    traits = TraitDistributionSerializer(many=True, help_text="empty without a norm table")


class QualityFlagCountSerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField(help_text="English")
    candidates = serializers.IntegerField()
    sessions = serializers.IntegerField()


class FlaggedGameSerializer(serializers.Serializer):
    game = serializers.CharField()
    code = serializers.CharField()


class FlaggedCandidateSerializer(serializers.Serializer):
    attempt_id = serializers.IntegerField()
    candidate_id = serializers.IntegerField()
    participant = serializers.CharField(help_text="external id, else the candidate id")
    simulated = serializers.BooleanField()
    flags = FlaggedGameSerializer(many=True)


class DashboardQualityFlagsSerializer(serializers.Serializer):
    flags = QualityFlagCountSerializer(many=True, help_text="most candidates first")
    candidates = FlaggedCandidateSerializer(
        many=True, help_text="flagged candidates, newest attempts first (at most 50)"
    )


class DashboardNormTableSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.IntegerField()
    simulated = serializers.BooleanField(help_text="true when the norm group is bots")
    n_attempts = serializers.IntegerField()
    trait_map_version = serializers.IntegerField()


class PlayingGameSerializer(serializers.Serializer):
    game = serializers.CharField()
    count = serializers.IntegerField()


class PlayingNowSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="candidates with a game in progress")
    window_s = serializers.IntegerField(help_text="their latest event is at most this old")
    games = PlayingGameSerializer(many=True)
    computed_at = serializers.DateTimeField()


class AssessmentDashboardSerializer(serializers.Serializer):
    assessment = DashboardAssessmentSerializer()
    computed_at = serializers.DateTimeField(help_text="when the summary was computed")
    counts = DashboardCountsSerializer()
    candidates_simulated = serializers.BooleanField(help_text="any candidate is a bot")
    funnel = FunnelSerializer()
    completion_minutes = CompletionMinutesSerializer()
    traits = DashboardTraitsSerializer(
        help_text="completed candidates' scored traits under the current norm table"
    )
    quality_flags = DashboardQualityFlagsSerializer()
    norm_table = DashboardNormTableSerializer(allow_null=True)
    playing_now = PlayingNowSerializer(help_text="recomputed at most every 15 s")


class AssessmentDashboardApi(APIView):
    @extend_schema(
        operation_id="assessments_dashboard",
        responses={200: AssessmentDashboardSerializer, 404: ErrorSerializer},
        summary="An assessment's dashboard summary (the staff dashboard's numbers)",
    )
    def get(self, request: Request, assessment_id: int) -> HttpResponse:
        actor = _actor(request)
        read = assessment_dashboard_json(
            organization_id=actor.organization.pk, assessment_id=assessment_id
        )
        # it names flagged candidates: who saw which is recorded, as on the dashboard page
        audit_log_record(
            actor=actor,
            action="assessment.dashboard.read",
            object_type="assessment",
            object_id=assessment_id,
            details={"candidates": read.flagged_candidate_ids},
        )
        return HttpResponse(read.body, content_type="application/json")


class DriftAlertsApi(APIView):
    @extend_schema(
        operation_id="drift_alerts_list",
        responses={200: OpenApiResponse(description="the metrics drifting from the norm table")},
        summary="Metrics whose last 28 days drift from the norm table (PSI above 0.2)",
    )
    def get(self, request: Request) -> HttpResponse:
        actor = _actor(request)
        return HttpResponse(
            orjson.dumps(drift_alerts(organization=actor.organization)),
            content_type="application/json",
        )
