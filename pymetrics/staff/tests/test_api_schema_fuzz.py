"""Every operation of the OpenAPI schema, fuzzed in process (schemathesis, WSGI).

The schema is the one ``/api/schema/`` serves (drf-spectacular's generator). Each
operation is called with generated parameters and bodies by an owner's API key with
every scope (a candidate's session token for the play endpoints), on an organisation
holding a scored candidate; generated ids are swapped for the seeded ones in about
half the cases, so the calls reach real objects as well as unknown ones. Checks: no
5xx, every status code and content type documented, every body as documented.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hyp_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from pymetrics.accounts.models import Role, all_api_scopes
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.conftest import PlayClient, start_play

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(
    scored_play: PlayClient, make_invitation: Any, organization: Any, settings: Any
) -> Iterator[dict[str, Any]]:
    """Ids of real objects and the credentials to reach them."""
    # the fuzzer calls an operation hundreds of times a second: rate limits would
    # answer 429 for most of them, which is their own tests' business
    settings.PYMETRICS_RATE_LIMITS_ENABLED = False
    owner = user_create(
        email="olive@acme.example",
        password="correct horse battery",
        organization=organization,
        role=Role.OWNER,
    )
    key = api_key_create(user=owner, organization=organization, scopes=all_api_scopes())
    playing = start_play(make_invitation(external_id="cand-fuzz", email="fuzz@example.org"))
    # Django's test client keeps the connection open across requests; the WSGI
    # transport does not, and closing it inside the test's transaction breaks the test
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "staff": f"Token {key.plaintext}",
            "session": f"Bearer {playing.session_token}",
            "ids": {
                "candidate_id": _candidate_of(scored_play),
                "assessment_id": _assessment_of(scored_play),
                "game_session_id": playing.game_session_id,
                "invite_token": playing.invite_token,
            },
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _candidate_of(play: PlayClient) -> int:
    from pymetrics.assessments.models import Attempt

    return Attempt.objects.values_list("candidate_id", flat=True).get(pk=play.attempt_id)


def _assessment_of(play: PlayClient) -> int:
    from pymetrics.assessments.models import Attempt

    return Attempt.objects.values_list("assessment_id", flat=True).get(pk=play.attempt_id)


@schema.parametrize()
@hyp_settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_every_operation_answers_as_documented(case: Any, seeded: dict[str, Any]) -> None:
    # about half the cases address the seeded objects instead of generated ids
    if case.path_parameters and zlib.crc32(repr(case.path_parameters).encode()) % 2 == 0:
        case.path_parameters = {
            name: seeded["ids"].get(name, value) for name, value in case.path_parameters.items()
        }
    # the play endpoints take the candidate's session token, the others the staff key
    playing = case.path.startswith("/api/v1/play/game-sessions/")
    authorization = seeded["session"] if playing else seeded["staff"]
    case.call_and_validate(app=application, headers={"Authorization": authorization}, checks=CHECKS)
