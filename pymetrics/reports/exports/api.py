"""Staff REST API of exports: request one (202), follow it, list them.

Every job is looked up within the caller's organisation (another organisation's
id answers 404), and only jobs of datasets the caller's role may export are seen.
A finished job carries a fresh signed ``download_url`` (valid
``PYMETRICS_EXPORT_LINK_MAX_AGE_S`` seconds); downloading it needs the same API
key (``Authorization: Token``) or a logged-in session.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor
from pymetrics.assessments.models import AttemptState
from pymetrics.common import ratelimit
from pymetrics.common.api import ErrorSerializer
from pymetrics.games.registry import game_keys
from pymetrics.reports.exports.datasets import DATASETS
from pymetrics.reports.exports.links import download_link_expires_at, download_path
from pymetrics.reports.exports.selectors import (
    datasets_for_role,
    export_job_get,
    export_job_summary,
    export_jobs_list,
)
from pymetrics.reports.exports.services import export_job_request
from pymetrics.reports.exports.writers import FORMATS
from pymetrics.reports.models import ExportJob, ExportState

#: Jobs ``GET /exports/`` lists (newest first).
JOBS_LISTED = 100


def _actor(request: Request) -> Actor:
    actor = actor_for_request(request)
    assert actor is not None  # guaranteed by IsOrganizationMember
    return actor


class ExportRequestInputSerializer(serializers.Serializer):
    dataset = serializers.ChoiceField(choices=list(DATASETS))
    format = serializers.ChoiceField(choices=list(FORMATS))
    assessment_id = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="only this assessment"
    )
    attempt_state = serializers.ChoiceField(
        choices=AttemptState.values, required=False, allow_null=True, default=None
    )
    completed_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="only attempts completed on or after this day (UTC)",
    )
    completed_to = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="only attempts completed on or before this day (UTC)",
    )
    game = serializers.ChoiceField(
        choices=game_keys(),
        required=False,
        allow_null=True,
        default=None,
        help_text="metrics and events only",
    )
    include_simulated = serializers.BooleanField(
        required=False, default=True, help_text="simulated candidates' rows (labelled)"
    )


class ExportScopeSerializer(serializers.Serializer):
    assessment_id = serializers.IntegerField(allow_null=True)
    attempt_state = serializers.CharField(allow_null=True)
    completed_from = serializers.DateField(allow_null=True)
    completed_to = serializers.DateField(allow_null=True)
    game = serializers.CharField(allow_null=True)
    include_simulated = serializers.BooleanField()


class ExportJobOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.ChoiceField(choices=list(DATASETS))
    format = serializers.ChoiceField(choices=list(FORMATS))
    scope = ExportScopeSerializer()
    state = serializers.ChoiceField(choices=ExportState.values)
    progress = serializers.FloatField(help_text="0..1, the share of the counted records written")
    total = serializers.IntegerField(
        allow_null=True, help_text="source records counted before writing"
    )
    rows = serializers.IntegerField(help_text="rows written (without the header)")
    size = serializers.IntegerField(help_text="bytes")
    error = serializers.CharField()
    file_name = serializers.CharField(allow_null=True, help_text="the download's file name")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="when the file is deleted")
    finished = serializers.BooleanField()
    download_url = serializers.URLField(
        allow_null=True, help_text="a signed link, made now (succeeded jobs only)"
    )
    download_url_expires_at = serializers.DateTimeField(allow_null=True)


def _job_out(request: Request, job: ExportJob) -> dict[str, Any]:
    ready = job.state == ExportState.SUCCEEDED
    return {
        **export_job_summary(job),
        "download_url": request.build_absolute_uri(download_path(job.pk)) if ready else None,
        "download_url_expires_at": download_link_expires_at().isoformat() if ready else None,
    }


class ExportListCreateApi(APIView):
    @extend_schema(operation_id="exports_list", responses=ExportJobOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor = _actor(request)
        jobs = export_jobs_list(
            organization_id=actor.organization.pk,
            datasets=datasets_for_role(actor.role),
            limit=JOBS_LISTED,
        )
        return Response([_job_out(request, job) for job in jobs])

    @extend_schema(
        operation_id="exports_create",
        request=ExportRequestInputSerializer,
        responses={
            202: ExportJobOutputSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        actor = _actor(request)
        payload = ExportRequestInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            ratelimit.enforce_member(
                "exports", user=actor.user, organization_id=actor.organization.pk
            )
        except ratelimit.RateLimited as error:
            raise ratelimit.throttled(error) from None
        job = export_job_request(
            actor=actor,
            dataset=data["dataset"],
            file_format=data["format"],
            assessment_id=data["assessment_id"],
            attempt_state=data["attempt_state"],
            completed_from=data["completed_from"],
            completed_to=data["completed_to"],
            game=data["game"],
            include_simulated=data["include_simulated"],
        )
        job.refresh_from_db()  # the embedded default may have written it already
        return Response(_job_out(request, job), status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(
        operation_id="exports_retrieve",
        responses={200: ExportJobOutputSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, export_job_id: int) -> Response:
        actor = _actor(request)
        job = export_job_get(
            organization_id=actor.organization.pk,
            export_job_id=export_job_id,
            datasets=datasets_for_role(actor.role),
        )
        return Response(_job_out(request, job))
