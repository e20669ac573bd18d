"""The OpenAPI schema is valid, warning-free and lists every contract endpoint."""

from __future__ import annotations

import yaml
from django.core.management import call_command


def test_openapi_schema_validates_without_warnings_and_covers_the_contract(tmp_path) -> None:
    path = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    schema = yaml.safe_load(path.read_text())
    assert set(schema["paths"]) == {
        "/api/v1/assessments/",
        "/api/v1/assessments/{assessment_id}/",
        "/api/v1/assessments/{assessment_id}/candidates/",
        "/api/v1/candidates/",
        "/api/v1/candidates/{candidate_id}/",
        "/api/v1/assessments/{assessment_id}/dashboard/",
        "/api/v1/play/{invite_token}/start/",
        "/api/v1/play/game-sessions/{game_session_id}/events/",
        "/api/v1/play/game-sessions/{game_session_id}/complete/",
        "/api/v1/play/game-sessions/{game_session_id}/restart/",
        # the job-fit layer (docs/fitmodels.md)
        "/api/v1/ab-tests/{ab_test_id}/",
        "/api/v1/ab-tests/{ab_test_id}/stop/",
        "/api/v1/anomaly-scans/",
        "/api/v1/drift-alerts/",
        "/api/v1/candidates/{candidate_id}/groups/",
        "/api/v1/candidates/{candidate_id}/outcome/",
        "/api/v1/fit-models/{model_version_id}/",
        "/api/v1/fit-models/{model_version_id}/activate/",
        "/api/v1/fit-models/{model_version_id}/audit/",
        "/api/v1/fit-models/{model_version_id}/retire/",
        "/api/v1/job-profiles/",
        "/api/v1/job-profiles/{job_profile_id}/",
        "/api/v1/job-profiles/{job_profile_id}/ab-tests/",
        "/api/v1/job-profiles/{job_profile_id}/incumbents/",
        "/api/v1/job-profiles/{job_profile_id}/train/",
        "/api/v1/session-reviews/",
        "/api/v1/session-reviews/{review_id}/decide/",
        "/api/v1/training-jobs/{training_job_id}/",
        "/api/v1/trait-map-proposals/",
        "/api/v1/trait-map-proposals/{proposal_id}/",
        "/api/v1/trait-map-proposals/{proposal_id}/activate/",
        # exports (docs/exports.md)
        "/api/v1/exports/",
        "/api/v1/exports/{export_job_id}/",
        # candidates' data rights (docs/privacy.md)
        "/api/v1/candidates/{candidate_id}/data-export/",
        "/api/v1/data-exports/{archive_id}/",
        "/api/v1/candidates/{candidate_id}/erase/",
        "/api/v1/candidates/{candidate_id}/consents/",
        "/api/v1/candidates/{candidate_id}/consents/withdraw/",
    }
    assert schema["components"]["securitySchemes"] == {
        "ApiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Staff API key: `Token <key>` (manage.py create_api_key).",
        },
        "SessionToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The session_token returned by POST /api/v1/play/{invite_token}/start/.",
        },
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }
    events = schema["paths"]["/api/v1/play/game-sessions/{game_session_id}/events/"]["post"]
    assert events["security"] == [{"SessionToken": []}]
    assert set(events["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "429"}
