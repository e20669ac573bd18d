"""The staff API contract (DESIGN.md 4.3): assessments, invitations, candidate results.

Every staff endpoint is scoped to the caller's organisation; the isolation tests list
them all, and fail when an endpoint is added to the URLconf without being listed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient
from rest_framework.views import APIView

from pymetrics.accounts.models import ApiKey, AuditLog, Membership
from pymetrics.accounts.permissions import IsOrganizationMember
from pymetrics.accounts.services import api_key_create, api_key_revoke
from pymetrics.assessments.models import Assessment, Candidate, GameSession
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.conftest import HAND_METRICS, start_play
from pymetrics.fitmodels.models import (
    ABTest,
    FitModelVersion,
    JobProfile,
    SessionReview,
    TrainingJob,
    TraitMapProposal,
)
from pymetrics.privacy.models import CandidateArchive
from pymetrics.reports.models import ExportJob
from pymetrics.scoring.services import trait_map_version_get_or_create


def _error(response) -> dict:
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _iso(moment) -> str | None:
    """A datetime as DRF's JSON encoder writes it."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- assessments -------------------------------------------------------------------------


def test_create_an_assessment(staff_client, organization, recruiter):
    # when a recruiter creates an assessment through the API
    response = staff_client.post(
        reverse("api:assessments"), {"name": "Analysts 2027", "games": ["balloons"]}, format="json"
    )

    # then it is stored in their organisation and described back
    assert response.status_code == 201
    assessment = Assessment.objects.get(pk=response.json()["id"])
    assert response.json() == {
        "id": assessment.pk,
        "name": "Analysts 2027",
        "games": ["balloons"],
        "settings": {},
        "created_at": _iso(assessment.created_at),
    }
    assert (assessment.organization, assessment.created_by) == (organization, recruiter)
    audit = AuditLog.objects.get(action="assessment.create")
    assert (audit.organization, audit.actor, audit.object_id) == (
        organization,
        recruiter,
        str(assessment.pk),
    )
    assert audit.api_key == ApiKey.objects.get(user=recruiter)


@pytest.mark.parametrize(
    ("body", "message", "details"),
    [
        pytest.param(
            {"name": "Chess club", "games": ["chess"]},
            "unknown game 'chess'; known games: "
            "balloons, cards, stop, arrows, digits, keypresses, easy_or_hard, lengths, tower, "
            "faces, money_exchange_1, money_exchange_2",
            {"games": ["unknown game 'chess'"]},
            id="unknown-game",
        ),
        pytest.param(
            {"name": "Twice", "games": ["balloons", "balloons"]},
            "game 'balloons' is listed twice",
            {"games": ["duplicate 'balloons'"]},
            id="game-listed-twice",
        ),
        pytest.param(
            {"name": "Nothing to play", "games": []},
            "games: This list may not be empty.",
            {"games": ["This list may not be empty."]},
            id="no-games",
        ),
        pytest.param(
            {"games": ["balloons"]},
            "name: This field is required.",
            {"name": ["This field is required."]},
            id="no-name",
        ),
        pytest.param(
            {"name": "   ", "games": ["balloons"]},
            "name: This field may not be blank.",
            {"name": ["This field may not be blank."]},
            id="blank-name",
        ),
    ],
)
def test_an_invalid_assessment_is_400(staff_client, body, message, details):
    response = staff_client.post(reverse("api:assessments"), body, format="json")

    assert response.status_code == 400
    assert _error(response) == {"code": "invalid", "message": message, "details": details}
    assert Assessment.objects.count() == 0


def test_a_duplicate_assessment_name_is_409(staff_client, assessment):
    response = staff_client.post(
        reverse("api:assessments"), {"name": assessment.name, "games": ["balloons"]}, format="json"
    )

    assert response.status_code == 409
    assert _error(response) == {
        "code": "conflict",
        "message": "an assessment named 'Graduates 2027' already exists",
        "details": {"name": ["already exists"]},
    }
    assert Assessment.objects.count() == 1


def test_the_same_name_in_another_organisation_is_fine(other_staff_client, assessment):
    response = other_staff_client.post(
        reverse("api:assessments"), {"name": assessment.name, "games": ["balloons"]}, format="json"
    )

    assert response.status_code == 201
    assert Assessment.objects.filter(name=assessment.name).count() == 2


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        pytest.param(None, "Authentication credentials were not provided.", id="no-header"),
        pytest.param("Token ", "the Token header holds no key", id="empty-key"),
        pytest.param("Token pmk_abc_def", "invalid or revoked API key", id="unknown-key"),
        pytest.param("Token garbage", "invalid or revoked API key", id="garbage"),
    ],
)
def test_without_credentials_the_staff_api_is_401_json(db, authorization, message):
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.post(
        reverse("api:assessments"), {"name": "x", "games": ["balloons"]}, format="json"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert _error(response) == {"code": "not_authenticated", "message": message, "details": {}}
    assert Assessment.objects.count() == 0


def test_a_revoked_api_key_is_401(recruiter, organization, assessment):
    # given a key that worked, then was revoked
    issued = api_key_create(user=recruiter, organization=organization)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.plaintext}")
    url = reverse("api:assessment-detail", args=[assessment.pk])
    assert client.get(url).status_code == 200
    api_key_revoke(api_key=issued.api_key)

    # when it is used again
    response = client.get(url)

    # then it is refused
    assert response.status_code == 401
    assert _error(response)["message"] == "invalid or revoked API key"


def test_a_key_whose_user_left_the_organisation_is_403(staff_client, recruiter, assessment):
    Membership.objects.filter(user=recruiter).delete()

    response = staff_client.get(reverse("api:assessment-detail", args=[assessment.pk]))

    assert response.status_code == 403
    assert _error(response)["code"] == "permission_denied"


def test_list_and_read_assessments(staff_client, assessment, organization):
    second = assessment_create(organization=organization, name="Interns", games=["balloons"])

    listed = staff_client.get(reverse("api:assessments"))
    detail = staff_client.get(reverse("api:assessment-detail", args=[assessment.pk]))

    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [second.pk, assessment.pk]
    assert detail.json() == {
        "id": assessment.pk,
        "name": "Graduates 2027",
        "games": ["balloons"],
        "settings": {},
        "created_at": _iso(assessment.created_at),
    }


# --- candidates --------------------------------------------------------------------------


def test_invite_a_candidate_and_the_link_opens_the_invite_page(staff_client, assessment, client):
    # when a recruiter invites a candidate
    response = staff_client.post(
        reverse("api:assessment-candidates", args=[assessment.pk]),
        {"email": "nia@example.org", "name": "Nia Nguyen", "external_id": "ats-77"},
        format="json",
    )

    # then the candidate and a one-time invite link come back
    assert response.status_code == 201
    body = response.json()
    candidate = Candidate.objects.get(pk=body["id"])
    attempt = candidate.attempts.get()
    assert body == {
        "id": candidate.pk,
        "attempt_id": attempt.pk,
        "external_id": "ats-77",
        "invite_token": body["invite_token"],
        "invite_url": f"http://testserver/play/{body['invite_token']}/",
        "invite_expires_at": _iso(attempt.invite_expires_at),
    }
    assert (candidate.email, candidate.name) == ("nia@example.org", "Nia Nguyen")
    # and the link opens the candidate's invite page
    page = client.get(urlsplit(body["invite_url"]).path)
    assert page.status_code == 200
    assert "Graduates 2027" in page.content.decode()


@pytest.mark.parametrize(
    ("body", "details"),
    [
        pytest.param(
            {"email": "not-an-address", "name": "X"},
            {"email": ["Enter a valid email address."]},
            id="bad-email",
        ),
        pytest.param(
            {"email": "x@example.org"}, {"name": ["This field is required."]}, id="no-name"
        ),
    ],
)
def test_an_invalid_invitation_is_400(staff_client, assessment, body, details):
    response = staff_client.post(
        reverse("api:assessment-candidates", args=[assessment.pk]), body, format="json"
    )

    assert response.status_code == 400
    assert _error(response)["details"] == details
    assert Candidate.objects.count() == 0


def test_inviting_the_same_external_id_twice_is_409(staff_client, assessment, invitation):
    response = staff_client.post(
        reverse("api:assessment-candidates", args=[assessment.pk]),
        {"email": "cara@example.org", "name": "Cara Candidate", "external_id": "cand-001"},
        format="json",
    )

    assert response.status_code == 409
    assert _error(response) == {
        "code": "conflict",
        "message": "candidate 'cand-001' is already invited to 'Graduates 2027'",
        "details": {"external_id": ["already invited to this assessment"]},
    }
    assert Candidate.objects.count() == 1


def test_candidate_detail_before_the_candidate_starts(staff_client, invitation, recruiter):
    response = staff_client.get(reverse("api:candidate-detail", args=[invitation.candidate.pk]))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "invited"
    assert body["attempts"][0]["status"] == "invited"
    assert body["attempts"][0]["game_sessions"] == []
    assert body["consent_at"] is None
    assert (body["traits"], body["fit"]) == ([], [])


def test_candidate_detail_after_a_scored_game(
    staff_client, scored_play, invitation, organization, recruiter, assessment
):
    # given a candidate who played the hand-made balloons session, now scored
    candidate = Candidate.objects.get(pk=invitation.candidate.pk)
    attempt = invitation.attempt
    attempt.refresh_from_db()
    game_session = GameSession.objects.get(pk=scored_play.game_session_id)
    metric_set = game_session.metric_sets.get()

    # when a recruiter reads the candidate
    response = staff_client.get(reverse("api:candidate-detail", args=[candidate.pk]))

    # then status, game session and metrics come back, with name and e-mail decrypted
    assert response.status_code == 200
    assert response.json() == {
        "id": candidate.pk,
        "external_id": "cand-001",
        "name": "Cara Candidate",
        "email": "cara@example.org",
        "is_simulated": False,
        "consent_at": _iso(candidate.consent_at),
        "status": "completed",
        "attempts": [
            {
                "id": attempt.pk,
                "assessment": {"id": assessment.pk, "name": "Graduates 2027"},
                "status": "completed",
                "invited_at": _iso(attempt.created_at),
                "started_at": _iso(attempt.started_at),
                "completed_at": _iso(attempt.completed_at),
                "game_sessions": [
                    {
                        "id": game_session.pk,
                        "game": "balloons",
                        "status": "scored",
                        "source": "browser",
                        "acked_seq": 11,
                        "event_count": 11,
                        "started_at": _iso(game_session.started_at),
                        "completed_at": _iso(game_session.completed_at),
                        "metrics": {
                            "extractor_version": 1,
                            "values": HAND_METRICS,
                            "quality_flags": [],
                            "computed_at": _iso(metric_set.computed_at),
                        },
                    }
                ],
                # no norm table applies to this organisation yet: nothing is invented
                "traits": [],
            }
        ],
        "traits": [],
        "fit": [],
    }
    # and the read is in the audit trail
    audit = AuditLog.objects.get(action="candidate.read")
    assert (audit.organization, audit.actor, audit.object_type, audit.object_id) == (
        organization,
        recruiter,
        "candidate",
        str(candidate.pk),
    )
    assert audit.api_key == ApiKey.objects.get(user=recruiter)
    assert audit.ip_address == "127.0.0.1"


def _candidate_detail_queries(client: APIClient, candidate_id: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("api:candidate-detail", args=[candidate_id])).status_code == 200
    return len(captured)


def test_candidate_detail_costs_a_constant_small_number_of_queries(
    staff_client, scored_play, invitation, organization, django_assert_max_num_queries
):
    # given the candidate's cost with one scored attempt (after the key's first use,
    # which records last_used_at once a minute)
    _candidate_detail_queries(staff_client, invitation.candidate.pk)
    one_attempt = _candidate_detail_queries(staff_client, invitation.candidate.pk)

    # when they are invited to (and start) three more assessments
    for name in ("Second", "Third", "Fourth"):
        more = assessment_create(organization=organization, name=name, games=["balloons"])
        again = candidate_invite(assessment=more, external_id="cand-001")
        start_play(again)

    # then reading them costs the same number of queries, and few (traits: the norm
    # table that applies, and every attempt's scores under it, one query each)
    with django_assert_max_num_queries(9):
        assert (
            staff_client.get(
                reverse("api:candidate-detail", args=[invitation.candidate.pk])
            ).json()["attempts"][3]["game_sessions"][0]["status"]
            == "pending"
        )
    assert _candidate_detail_queries(staff_client, invitation.candidate.pk) == one_attempt


# --- organisation isolation --------------------------------------------------------------


def _staff_routes() -> dict[tuple[str, str], list[str]]:
    """Every (route name, HTTP method) a staff member may call, with the route's kwargs.

    Found by walking the whole URLconf for DRF views guarded by IsOrganizationMember,
    so an endpoint added anywhere shows up here.
    """
    found: dict[tuple[str, str], list[str]] = {}

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
                continue
            assert isinstance(pattern, URLPattern)
            view_class = getattr(pattern.callback, "view_class", None)
            if view_class is None or not issubclass(view_class, APIView):
                continue
            permissions = view_class().get_permissions()
            if not any(isinstance(p, IsOrganizationMember) for p in permissions):
                continue
            for method in view_class.http_method_names:
                if method != "options" and hasattr(view_class, method):
                    found[(f"{namespace}{pattern.name}", method.upper())] = list(
                        pattern.pattern.converters
                    )

    walk(get_resolver().url_patterns, "")
    return found


# Endpoints addressed by an object id: another organisation's id must answer 404.
BY_ID = [
    pytest.param("api:assessment-detail", "GET", id="assessment-detail-GET"),
    pytest.param("api:assessment-candidates", "POST", id="assessment-candidates-POST"),
    pytest.param("api:candidate-detail", "GET", id="candidate-detail-GET"),
    pytest.param("api:assessment-dashboard", "GET", id="assessment-dashboard-GET"),
    pytest.param("api:candidate-groups", "PUT", id="candidate-groups-PUT"),
    pytest.param("api:job-profile-detail", "GET", id="job-profile-detail-GET"),
    pytest.param("api:job-profile-incumbents", "POST", id="job-profile-incumbents-POST"),
    pytest.param("api:job-profile-train", "POST", id="job-profile-train-POST"),
    pytest.param("api:training-job-detail", "GET", id="training-job-detail-GET"),
    pytest.param("api:fit-model-detail", "GET", id="fit-model-detail-GET"),
    pytest.param("api:fit-model-audit", "POST", id="fit-model-audit-POST"),
    pytest.param("api:fit-model-activate", "POST", id="fit-model-activate-POST"),
    pytest.param("api:fit-model-retire", "POST", id="fit-model-retire-POST"),
    pytest.param("api:session-review-decide", "POST", id="session-review-decide-POST"),
    pytest.param("api:candidate-outcome", "PUT", id="candidate-outcome-PUT"),
    pytest.param("api:job-profile-ab-tests", "POST", id="job-profile-ab-tests-POST"),
    pytest.param("api:ab-test-detail", "GET", id="ab-test-detail-GET"),
    pytest.param("api:ab-test-stop", "POST", id="ab-test-stop-POST"),
    pytest.param("api:trait-map-proposal-detail", "GET", id="trait-map-proposal-detail-GET"),
    pytest.param("api:trait-map-proposal-activate", "POST", id="trait-map-proposal-activate-POST"),
    pytest.param("api:export-detail", "GET", id="export-detail-GET"),
    pytest.param("api:candidate-data-export", "POST", id="candidate-data-export-POST"),
    pytest.param("api:data-export-detail", "GET", id="data-export-detail-GET"),
    pytest.param("api:candidate-erase", "POST", id="candidate-erase-POST"),
    pytest.param("api:candidate-consents", "GET", id="candidate-consents-GET"),
    pytest.param("api:candidate-consents-withdraw", "POST", id="candidate-consents-withdraw-POST"),
]
# Endpoints that change models are for owners and admins: the other organisation's
# recruiter reaches them (403, not 404) but may not use them.
MANAGERS_ONLY = {
    "api:candidate-groups",
    "api:job-profile-incumbents",
    "api:job-profile-train",
    "api:fit-model-audit",
    "api:fit-model-activate",
    "api:fit-model-retire",
    "api:session-review-decide",
    "api:candidate-outcome",
    "api:job-profile-ab-tests",
    "api:ab-test-stop",
    "api:trait-map-proposal-activate",
    "api:candidate-data-export",
    "api:data-export-detail",
    "api:candidate-erase",
    "api:candidate-consents-withdraw",
}
# Collections: another organisation's objects must not be in them.
COLLECTIONS = [
    pytest.param("api:assessments", "GET", id="assessments-GET"),
    pytest.param("api:assessments", "POST", id="assessments-POST"),
]
REVIEW_COLLECTIONS = [
    pytest.param("api:session-reviews", "GET", id="session-reviews-GET"),
    pytest.param("api:anomaly-scans", "POST", id="anomaly-scans-POST"),
    pytest.param("api:trait-map-proposals", "POST", id="trait-map-proposals-POST"),
    pytest.param("api:drift-alerts", "GET", id="drift-alerts-GET"),
]
EXPORT_COLLECTIONS = [
    pytest.param("api:exports", "GET", id="exports-GET"),
    pytest.param("api:exports", "POST", id="exports-POST"),
]
ROLE_COLLECTIONS = [
    pytest.param("api:job-profiles", "GET", id="job-profiles-GET"),
    pytest.param("api:job-profiles", "POST", id="job-profiles-POST"),
]
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("api:assessment-candidates", "POST"): {"email": "eve@example.org", "name": "Eve"},
    ("api:assessments", "POST"): {"name": "Globex secret", "games": ["balloons"]},
    ("api:candidate-groups", "PUT"): {"groups": {"gender": "female"}},
    ("api:job-profile-incumbents", "POST"): {"candidate_ids": [], "successful": True},
    ("api:job-profiles", "POST"): {"name": "Globex role"},
    ("api:session-review-decide", "POST"): {"decision": "accept"},
    ("api:anomaly-scans", "POST"): {"game": "balloons"},
    ("api:candidate-outcome", "PUT"): {"hired": True},
    ("api:job-profile-ab-tests", "POST"): {"model_a_id": 1, "model_b_id": 2},
    ("api:candidate-erase", "POST"): {"reason": "organisation"},
    ("api:exports", "POST"): {"dataset": "metrics", "format": "csv"},
}


@pytest.fixture
def foreign_ids(other_organization) -> dict[str, int]:
    """Ids of the other organisation's objects, by URL kwarg name."""
    assessment = assessment_create(
        organization=other_organization, name="Globex secret", games=["balloons"]
    )
    invitation = candidate_invite(
        assessment=assessment, email="gus@globex.example", name="Gus", external_id="g-1"
    )
    profile = JobProfile.objects.create(organization=other_organization, name="Globex role")
    job = TrainingJob.objects.create(job_profile=profile, algorithm="logistic_regression")
    version = FitModelVersion.objects.create(
        job_profile=profile,
        version=1,
        algorithm="logistic_regression",
        feature_names=["trait:attention"],
        artefact=b"",
        fingerprint="0" * 64,
        n_successful=40,
        n_baseline=80,
        threshold=50.0,
        cv_report={"auc": 0.7},
        feature_weights={},
    )
    session = GameSession.objects.create(
        attempt=invitation.attempt, game="balloons", position=1, seed=1, state="scored"
    )
    review = SessionReview.objects.create(
        game_session=session, game="balloons", anomaly_score=0.9, detector_fingerprint="0" * 64
    )
    test = ABTest.objects.create(
        job_profile=profile, name="Globex test", key="ab-globex", model_a=version, model_b=version
    )
    proposal = TraitMapProposal.objects.create(
        organization=other_organization,
        based_on=trait_map_version_get_or_create(version=1),
        proposal={},
        definition={},
        n_people=0,
    )
    archive = CandidateArchive.objects.create(
        organization=other_organization, candidate=invitation.candidate
    )
    export = ExportJob.objects.create(
        organization=other_organization, dataset="metrics", format="csv"
    )
    return {
        "export_job_id": export.pk,
        "archive_id": archive.pk,
        "proposal_id": proposal.pk,
        "ab_test_id": test.pk,
        "assessment_id": assessment.pk,
        "candidate_id": invitation.candidate.pk,
        "job_profile_id": profile.pk,
        "training_job_id": job.pk,
        "model_version_id": version.pk,
        "review_id": review.pk,
    }


def _call(client: APIClient, route: str, method: str, kwargs: dict[str, int]):
    url = reverse(route, kwargs=kwargs)
    return getattr(client, method.lower())(url, BODIES.get((route, method)), format="json")


@pytest.mark.parametrize(("route", "method"), BY_ID)
def test_another_organisations_id_is_404(
    staff_client, other_staff_client, foreign_ids, route, method
):
    # given an object of the other organisation, addressed by its id
    kwargs = {name: foreign_ids[name] for name in _staff_routes()[(route, method)]}
    counts = (Candidate.objects.count(), AuditLog.objects.count())

    # when this organisation's key calls the endpoint with it
    response = _call(staff_client, route, method, kwargs)

    # then it answers exactly like a missing id, and nothing is written or audited
    assert response.status_code == 404
    error = _error(response)
    assert (error["code"], error["details"]) == ("not_found", {})
    assert error["message"].endswith(f" {next(iter(kwargs.values()))} not found")
    assert (Candidate.objects.count(), AuditLog.objects.count()) == counts
    # while the owner's own key reaches it (the 404 is isolation, not a broken URL)
    owner = _call(other_staff_client, route, method, kwargs).status_code
    assert owner in ((403,) if route in MANAGERS_ONLY else (200, 201))


@pytest.mark.parametrize(("route", "method"), COLLECTIONS)
def test_collections_hold_only_the_callers_organisation(
    staff_client, foreign_ids, organization, assessment, route, method
):
    # when this organisation lists its assessments, or creates one named like a foreign one
    response = _call(staff_client, route, method, {})

    # then only its own assessments are involved
    assert response.status_code in (200, 201)
    body = response.json()
    returned = [a["id"] for a in body] if method == "GET" else [body["id"]]
    ours = set(Assessment.objects.filter(organization=organization).values_list("pk", flat=True))
    assert foreign_ids["assessment_id"] not in returned
    assert set(returned) <= ours
    if method == "GET":
        assert returned == [assessment.pk]


@pytest.mark.parametrize(("route", "method"), ROLE_COLLECTIONS)
def test_the_roles_collection_holds_only_the_callers_organisation(
    staff_client, foreign_ids, organization, route, method
):
    own = JobProfile.objects.create(organization=organization, name="Our role")

    response = _call(staff_client, route, method, {})

    if method == "GET":
        assert response.status_code == 200
        assert [p["id"] for p in response.json()] == [own.pk]
    else:  # a recruiter may not define roles; nothing is created anywhere
        assert response.status_code == 403
        assert JobProfile.objects.filter(name="Globex role").count() == 1


@pytest.mark.parametrize(("route", "method"), REVIEW_COLLECTIONS)
def test_the_review_queue_holds_only_the_callers_organisation(
    staff_client, foreign_ids, route, method
):
    response = _call(staff_client, route, method, {})

    if route == "api:drift-alerts":  # no norm table of its own applies: nothing to judge
        assert response.status_code == 200
        assert (response.json()["checked"], response.json()["alerts"]) == (0, [])
    elif method == "GET":
        assert (response.status_code, response.json()) == (200, [])
    else:  # a recruiter may not scan; nothing is queued anywhere
        assert response.status_code == 403
        assert SessionReview.objects.count() == 1


def test_the_candidate_search_finds_only_the_callers_organisation(
    staff_client, other_staff_client, foreign_ids
):
    # when this organisation searches for the other one's candidate's address
    ours = staff_client.get(reverse("api:candidates"), {"email": "gus@globex.example"})
    # then nothing is found, while the owner's own key finds them
    theirs = other_staff_client.get(reverse("api:candidates"), {"email": "gus@globex.example"})
    assert (ours.status_code, ours.json()) == (200, [])
    assert [c["id"] for c in theirs.json()] == [foreign_ids["candidate_id"]]


@pytest.mark.parametrize(("route", "method"), EXPORT_COLLECTIONS)
def test_the_exports_collection_holds_only_the_callers_organisation(
    staff_client, foreign_ids, organization, route, method
):
    own = ExportJob.objects.create(organization=organization, dataset="metrics", format="csv")

    response = _call(staff_client, route, method, {})

    if method == "GET":
        assert response.status_code == 200
        assert [job["id"] for job in response.json()] == [own.pk]
    else:
        assert response.status_code == 202
        assert ExportJob.objects.get(pk=response.json()["id"]).organization_id == organization.pk
