"""Staff REST API: finding the organisation's candidates by e-mail address.

``GET /api/v1/candidates/?email=ADDRESS`` lists the caller's organisation's
candidates with that address (compared trimmed and case-insensitively, through the
keyed blind index: :func:`pymetrics.assessments.selectors.candidate_find_by_email`).
Any member may search; another organisation's candidates are never found. Each
search is audit-logged with how many candidates it found, and each candidate shown
gets a read entry of its own, so that their history says who saw them; the address
searched for is never logged.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pymetrics.accounts.permissions import actor_for_request
from pymetrics.accounts.services import Actor, audit_log_record
from pymetrics.assessments.models import Candidate
from pymetrics.assessments.selectors import candidate_find_by_email
from pymetrics.common.api import ErrorSerializer

#: The longest address accepted (RFC 5321's 64 + 1 + 255, rounded up).
MAX_EMAIL_LENGTH = 320


def candidate_search_by_email(*, actor: Actor, email: str) -> list[Candidate]:
    """The actor's organisation's candidates with ``email``, audit-logged (API and page).

    One ``candidate.search`` entry with the number of matches, and one
    ``candidate.read`` entry per candidate found; never the address itself.
    """
    found = candidate_find_by_email(organization=actor.organization, email=email)
    audit_log_record(
        actor=actor,
        action="candidate.search",
        object_type="candidate",
        details={"by": "email", "matches": len(found)},
    )
    for candidate in found:
        audit_log_record(
            actor=actor,
            action="candidate.read",
            object_type="candidate",
            object_id=candidate.pk,
            details={"via": "email_search"},
        )
    return found


class CandidateSearchQuerySerializer(serializers.Serializer):
    email = serializers.CharField(max_length=MAX_EMAIL_LENGTH)


class CandidateMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    email = serializers.CharField()
    is_simulated = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def _match_out(candidate: Candidate) -> dict[str, Any]:
    return {
        "id": candidate.pk,
        "external_id": candidate.external_id,
        "name": candidate.name,
        "email": candidate.email,
        "is_simulated": candidate.is_simulated,
        "created_at": candidate.created_at,
    }


class CandidateSearchApi(APIView):
    @extend_schema(
        operation_id="candidates_find_by_email",
        summary="Find the organisation's candidates by e-mail address",
        description=(
            "Equality only, compared trimmed and case-insensitively (Unicode NFKC and "
            "case folding); newest candidate first. Every member may search; each search "
            "is audit-logged with its number of matches (never the address)."
        ),
        parameters=[
            OpenApiParameter(
                "email", str, OpenApiParameter.QUERY, required=True, description="the address"
            )
        ],
        responses={200: CandidateMatchSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        actor = actor_for_request(request)
        assert actor is not None  # guaranteed by IsOrganizationMember
        query = CandidateSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = candidate_search_by_email(actor=actor, email=query.validated_data["email"])
        return Response(CandidateMatchSerializer([_match_out(c) for c in found], many=True).data)
