"""Staff REST API of candidates' data rights: data exports, erasure, consent records.

Every object is looked up within the caller's organisation (another organisation's
id answers 404). Exporting, erasing and recording a withdrawal are for owners and
admins (the services refuse anyone else with 403), and so are following an export
and downloading it: an archive holds what other members never see, such as the
groups a candidate reported. Reading consent records is open to members. A data
export is built by a Celery task: the answer is 202 with the job, whose state the
client polls until it carries a signed download link.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.selectors import candidate_get
from pymetrics.common import ratelimit
from pymetrics.common.api import ErrorSerializer
from pymetrics.privacy.models import ErasureReason
from pymetrics.privacy.presenters import archive_payload, consent_record_payload
from pymetrics.privacy.selectors import candidate_archive_get, consent_records_for_candidate
from pymetrics.privacy.services import (
    candidate_archive_request,
    candidate_consent_withdraw,
    candidate_erase,
    require_privacy_manager,
)


def _actor(request: Request) -> Actor:
    actor = actor_for_request(request)
    assert actor is not None  # guaranteed by IsOrganizationMember
    return actor


class DataExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    candidate_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "ready", "failed", "expired"])
    state_label = serializers.CharField()
    progress = serializers.FloatField(help_text="0..1")
    message = serializers.CharField()
    error = serializers.CharField()
    finished = serializers.BooleanField()
    size_bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True, help_text="of the zip file")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="the file is deleted then; ask for a new export after"
    )
    download_url = serializers.CharField(
        allow_null=True,
        help_text="signed link (ready exports only), for an owner or admin of the "
        "organisation: a logged-in staff session or the same Token header",
    )
    link_expires_at = serializers.DateTimeField(allow_null=True)


def _export_out(request: Request, archive: Any) -> dict[str, Any]:
    payload = archive_payload(archive)
    if payload["download_url"]:
        payload["download_url"] = request.build_absolute_uri(payload["download_url"])
    return payload


class CandidateDataExportApi(APIView):
    @extend_schema(
        operation_id="candidates_data_export_create",
        request=None,
        responses={
            202: DataExportSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            429: ErrorSerializer,
        },
        summary="Build a candidate's data archive (owners, admins)",
        description="A zip of everything held about the candidate (docs/privacy.md), "
        "built in the background. A request while one is being built returns that one.",
    )
    def post(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        require_privacy_manager(actor, "export a candidate's data")
        try:
            ratelimit.enforce_member(
                "archives", user=actor.user, organization_id=actor.organization.pk
            )
        except ratelimit.RateLimited as error:
            raise ratelimit.throttled(error) from None
        archive = candidate_archive_request(actor=actor, candidate=candidate)
        archive.refresh_from_db()
        return Response(_export_out(request, archive), status=status.HTTP_202_ACCEPTED)


class DataExportApi(APIView):
    @extend_schema(
        operation_id="data_exports_retrieve",
        responses={200: DataExportSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="A data export's state, and its signed download link once ready (owners, admins)",
    )
    def get(self, request: Request, archive_id: int) -> Response:
        actor = _actor(request)
        archive = candidate_archive_get(
            organization_id=actor.organization.pk, archive_id=archive_id
        )
        require_privacy_manager(actor, "follow a candidate's data export")
        return Response(_export_out(request, archive))


class EraseInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=ErasureReason.choices,
        help_text="candidate_request, consent_withdrawn, retention or organisation",
    )


class ErasureSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="random; give it to the candidate who asked")
    reason = serializers.CharField()
    erased_at = serializers.DateTimeField()
    rows_removed = serializers.DictField(
        child=serializers.IntegerField(), help_text='per model, e.g. {"events.Event": 120}'
    )
    rows_redacted = serializers.DictField(child=serializers.IntegerField())
    files_removed = serializers.IntegerField()


class CandidateEraseApi(APIView):
    @extend_schema(
        operation_id="candidates_erase",
        request=EraseInputSerializer,
        responses={
            200: ErasureSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        summary="Erase a candidate's personal data (owners, admins); cannot be undone",
    )
    def post(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        # another organisation's id is not found, whatever the body
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        payload = EraseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = candidate_erase(
            actor=actor, candidate=candidate, reason=payload.validated_data["reason"]
        )
        return Response(
            {
                "reference": record.reference,
                "reason": record.reason,
                "erased_at": record.erased_at,
                "rows_removed": record.rows_removed,
                "rows_redacted": record.rows_redacted,
                "files_removed": record.files_removed,
            }
        )


class ConsentRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    attempt_id = serializers.IntegerField()
    assessment = serializers.CharField()
    purpose = serializers.ChoiceField(choices=["participation", "results"])
    channel = serializers.ChoiceField(
        choices=["invite_pages", "api"],
        help_text="invite_pages: the consent page (text hashed); api: the client's own text",
    )
    text_version = serializers.CharField()
    text_sha256 = serializers.CharField(allow_null=True)
    language = serializers.CharField()
    given_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class CandidateConsentsApi(APIView):
    @extend_schema(
        operation_id="candidates_consents_list",
        responses={200: ConsentRecordSerializer(many=True), 404: ErrorSerializer},
        summary="A candidate's consent records, oldest first",
    )
    def get(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        records = [
            consent_record_payload(r) for r in consent_records_for_candidate(candidate=candidate)
        ]
        audit_log_record(
            actor=actor,
            action="candidate.consents.read",
            object_type="candidate",
            object_id=candidate.pk,
        )
        return Response(records)


class WithdrawnSerializer(serializers.Serializer):
    withdrawn = serializers.IntegerField(help_text="consent records that were still in force")


class CandidateConsentWithdrawApi(APIView):
    @extend_schema(
        operation_id="candidates_consents_withdraw",
        request=None,
        responses={200: WithdrawnSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        summary="Record that the candidate withdrew consent (owners, admins)",
        description="Their consent records get withdrawn_at; unfinished invitations are "
        "withdrawn. Their data stays until they are erased.",
    )
    def post(self, request: Request, candidate_id: int) -> Response:
        actor = _actor(request)
        candidate = candidate_get(organization=actor.organization, candidate_id=candidate_id)
        return Response({"withdrawn": candidate_consent_withdraw(actor=actor, candidate=candidate)})
