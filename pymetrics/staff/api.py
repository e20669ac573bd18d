"""Staff REST API (DESIGN.md 4.3): assessments, invitations, candidate results.

Every object is looked up within the caller's organisation, so another
organisation's id answers 404 exactly like an id that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Assessment
from pymetrics.assessments.selectors import (
    assessment_get,
    assessment_list,
    attempts_for_candidate,
    candidate_get,
)
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.common.api import ErrorSerializer
from pymetrics.common.db import read_snapshot
from pymetrics.staff.presenters import candidate_detail


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
    fit = serializers.DictField(allow_null=True, help_text="null until a job-fit model scored")


class CandidateDetailApi(APIView):
    @extend_schema(
        operation_id="candidates_retrieve",
        responses={200: CandidateDetailSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        with read_snapshot():
            candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
            detail = candidate_detail(candidate, list(attempts_for_candidate(candidate=candidate)))
        audit_log_record(
            actor=actor, action="candidate.read", object_type="candidate", object_id=candidate.pk
        )
        return Response(detail)
