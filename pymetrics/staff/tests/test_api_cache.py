"""The cached staff API reads: never stale after a write, isolated, every read audited.

A candidate's detail is cached under versioned keys and an API key is trusted for
a few seconds once checked, so these tests commit for real (transactional): the
cache is only used outside a transaction, and versions are bumped after commits.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts import services as account_services
from pymetrics.accounts.models import ApiKey, AuditLog, Membership
from pymetrics.accounts.services import api_key_create, api_key_revoke, audit_log_record
from pymetrics.analytics.selectors.dashboard import assessment_dashboard_summary
from pymetrics.assessments.models import Attempt, Candidate
from pymetrics.assessments.services import assessment_create
from pymetrics.conftest import HAND_METRICS, HAND_PLAN
from pymetrics.scoring.models import TraitScore
from pymetrics.scoring.services import norm_table_build, traits_reinfer_for_norm_table
from pymetrics.staff.api import AssessmentDashboardSerializer, CandidateDetailSerializer
from pymetrics.staff.presenters import candidate_detail_json

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_caches():
    """Ids come back between test runs (and on SQLite between tests); cached reads must not."""
    cache.clear()
    account_services.TRUSTED_KEYS.clear()
    yield
    cache.clear()
    account_services.TRUSTED_KEYS.clear()


def _detail_url(candidate_id: int) -> str:
    return reverse("api:candidate-detail", args=[candidate_id])


def _candidate_id(attempt_id: int) -> int:
    return Attempt.objects.get(pk=attempt_id).candidate_id


def _first_session(detail: dict[str, Any]) -> dict[str, Any]:
    return detail["attempts"][0]["game_sessions"][0]


# --- candidate detail --------------------------------------------------------------------


def test_a_cached_read_costs_one_statement_the_audit_entry(staff_client, play):
    # given a candidate read once (the detail is now cached, the API key checked)
    url = _detail_url(_candidate_id(play.attempt_id))
    first = staff_client.get(url)
    assert first.status_code == 200

    # when it is read again
    with CaptureQueriesContext(connection) as queries:
        again = staff_client.get(url)

    # then the same JSON comes back, and the database only receives the audit entry
    assert again.status_code == 200
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    assert [query["sql"].split()[:3] for query in queries.captured_queries] == [
        ["INSERT", "INTO", '"accounts_auditlog"']
    ]


def test_the_read_after_each_write_shows_it(staff_client, play, make_balloon_events):
    # given a started candidate whose detail is cached
    url = _detail_url(_candidate_id(play.attempt_id))
    before = staff_client.get(url).json()
    assert staff_client.get(url).json() == before  # served from the cache
    assert (_first_session(before)["event_count"], _first_session(before)["metrics"]) == (0, None)

    # when an event batch lands, the next read shows it
    assert play.send(make_balloon_events(HAND_PLAN)).status_code == 200
    played = _first_session(staff_client.get(url).json())
    assert (played["status"], played["acked_seq"], played["event_count"]) == ("in_progress", 11, 11)

    # when the game completes and its metrics are extracted (Celery runs in-process)
    assert play.client.post(play.complete_url).status_code == 202
    scored = staff_client.get(url).json()
    assert scored["status"] == "completed"
    assert (_first_session(scored)["status"], _first_session(scored)["metrics"]["values"]) == (
        "scored",
        HAND_METRICS,
    )
    assert scored["traits"] == []  # no norm table applies yet

    # when a shared norm table is built and the attempt's traits are inferred
    table = norm_table_build(population="simulated", name="Reference", players=30, seed=4)
    traits_reinfer_for_norm_table(norm_table=table)
    traits = {t["trait"]: t for t in staff_client.get(url).json()["traits"]}
    stored = TraitScore.objects.get(attempt_id=play.attempt_id, trait="risk_tolerance")
    assert traits["risk_tolerance"]["score"] == stored.z
    assert traits["risk_tolerance"]["versions"]["norm_table"]["id"] == table.pk
    assert len(traits) == 9


def test_every_read_is_audited_cached_or_not(staff_client, invitation, organization, recruiter):
    candidate_id = invitation.candidate.pk

    for _ in range(3):
        assert staff_client.get(_detail_url(candidate_id)).status_code == 200

    entries = AuditLog.objects.filter(action="candidate.read").order_by("pk")
    key = ApiKey.objects.get(user=recruiter)
    assert [
        (e.organization_id, e.actor_id, e.api_key_id, e.object_type, e.object_id, e.ip_address)
        for e in entries
    ] == [(organization.pk, recruiter.pk, key.pk, "candidate", str(candidate_id), "127.0.0.1")] * 3
    assert [e.details for e in entries] == [{}, {}, {}]


def test_another_organisation_never_reaches_a_cached_detail(
    staff_client, other_staff_client, invitation
):
    # given a candidate of this organisation, read (and cached) by its staff
    url = _detail_url(invitation.candidate.pk)
    assert staff_client.get(url).status_code == 200
    audited = AuditLog.objects.filter(action="candidate.read").count()

    # when the other organisation asks for the same id
    response = other_staff_client.get(url)

    # then it answers like an id that does not exist, and audits nothing
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": f"candidate {invitation.candidate.pk} not found",
            "details": {},
        }
    }
    assert AuditLog.objects.filter(action="candidate.read").count() == audited


def test_an_unknown_candidate_is_404_and_not_audited(staff_client, invitation):
    response = staff_client.get(_detail_url(invitation.candidate.pk + 1000))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not AuditLog.objects.filter(action="candidate.read").exists()


def test_what_a_transaction_reads_is_never_cached(invitation, organization):
    # given a candidate whose detail is cached
    candidate_id = invitation.candidate.pk

    def detail() -> dict[str, Any]:
        return orjson.loads(
            candidate_detail_json(organization=organization, candidate_id=candidate_id)
        )

    assert detail()["is_simulated"] is False

    # when a transaction changes the candidate and reads them, then rolls back
    with transaction.atomic():
        Candidate.objects.filter(pk=candidate_id).update(is_simulated=True)
        inside = detail()
        transaction.set_rollback(True)

    # then the transaction saw its own write, and nobody else ever sees it
    assert inside["is_simulated"] is True
    assert detail()["is_simulated"] is False


def test_the_cached_detail_keeps_the_documented_shape(staff_client, play, make_balloon_events):
    assert play.send(make_balloon_events(HAND_PLAN)).status_code == 200
    assert play.client.post(play.complete_url).status_code == 202
    url = _detail_url(_candidate_id(play.attempt_id))
    staff_client.get(url)

    body = staff_client.get(url).json()

    serializer = CandidateDetailSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert body["consent_at"].endswith("Z")  # UTC written as DRF writes it


# --- API keys ------------------------------------------------------------------------------


def test_a_revoked_key_is_refused_at_once_by_the_process_that_revoked_it(
    recruiter, organization, invitation
):
    issued = api_key_create(user=recruiter, organization=organization)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.plaintext}")
    url = _detail_url(invitation.candidate.pk)
    assert client.get(url).status_code == 200

    api_key_revoke(api_key=issued.api_key)

    assert client.get(url).status_code == 401


def test_a_checked_key_is_trusted_for_a_few_seconds_then_checked_again(
    staff_client, recruiter, invitation, monkeypatch
):
    # given a key checked a moment ago, at a clock we control
    now = [1000.0]
    monkeypatch.setattr(account_services.time, "monotonic", lambda: now[0])
    url = _detail_url(invitation.candidate.pk)
    assert staff_client.get(url).status_code == 200

    # when its user leaves the organisation (no service announces it to this process)
    Membership.objects.filter(user=recruiter).delete()

    # then the key keeps working until the recheck is due, and not a moment after
    now[0] += account_services.API_KEY_RECHECK_S - 0.1
    assert staff_client.get(url).status_code == 200
    now[0] += 0.2
    response = staff_client.get(url)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_each_request_gets_its_own_copy_of_a_trusted_key(
    recruiter, organization, django_assert_num_queries
):
    plaintext = api_key_create(user=recruiter, organization=organization).plaintext

    first = account_services.api_key_authenticate(plaintext=plaintext)
    with django_assert_num_queries(0):  # trusted now: no lookup, last use just recorded
        second = account_services.api_key_authenticate(plaintext=plaintext)

    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert (first is second, first.user is second.user) == (False, False)
    assert first.organization is not second.organization
    assert (first.user.pk, first.member_role) == (recruiter.pk, "recruiter")  # type: ignore[attr-defined]
    # what one request sets on its copy, the next one does not see
    first.user.full_name = "changed by a request"
    first.organization.name = "changed by a request"
    third = account_services.api_key_authenticate(plaintext=plaintext)
    assert third is not None
    assert (third.user.full_name, third.organization.name) == (
        recruiter.full_name,
        organization.name,
    )


# --- the audit log -------------------------------------------------------------------------


def test_an_audit_entry_holds_what_it_was_given(organization):
    entry = audit_log_record(
        actor=None,
        organization=organization,
        action="norms.build",
        object_type="norm_table",
        object_id=7,
        details={"players": 30, "simulated": True},
    )

    stored = AuditLog.objects.get()
    assert entry.pk == stored.pk
    assert (stored.organization, stored.actor, stored.api_key, stored.ip_address) == (
        organization,
        None,
        None,
        None,
    )
    assert (stored.action, stored.object_type, stored.object_id, stored.details) == (
        "norms.build",
        "norm_table",
        "7",
        {"players": 30, "simulated": True},
    )
    assert stored.at == entry.at


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_on_postgresql_the_audit_insert_is_prepared_once_used_a_few_times(organization):
    for number in range(4):
        audit_log_record(
            actor=None,
            organization=organization,
            action="candidate.read",
            object_type="candidate",
            object_id=number,
            details={"n": number},
        )

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert [s for s in prepared if '"accounts_auditlog"' in s] == [
        'INSERT INTO "accounts_auditlog" ("organization_id", "actor_id", "api_key_id", '
        '"action", "object_type", "object_id", "at", "ip_address", "details", '
        '"chain_seq", "prev_hash", "entry_hash") '
        'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING "id"'
    ]
    stored = AuditLog.objects.filter(action="candidate.read").order_by("pk")
    assert [(entry.object_id, entry.details) for entry in stored] == [
        ("0", {"n": 0}),
        ("1", {"n": 1}),
        ("2", {"n": 2}),
        ("3", {"n": 3}),
    ]


# --- the dashboard summary -------------------------------------------------------------------


def _dashboard_url(assessment_id: int) -> str:
    return reverse("api:assessment-dashboard", args=[assessment_id])


def test_the_dashboard_summary_of_an_assessment(
    staff_client, assessment, make_invitation, play, organization, recruiter
):
    # given the assessment of ``play`` (started) and one more candidate, only invited
    make_invitation(email="dev@example.org", name="Dev", external_id="cand-002")

    # when a recruiter reads its dashboard through the API
    response = staff_client.get(_dashboard_url(assessment.pk))

    # then the summary comes back as the staff dashboard computes it
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == orjson.loads(orjson.dumps(assessment_dashboard_summary(assessment=assessment)))
    assert body["assessment"] == {
        "id": assessment.pk,
        "name": "Graduates 2027",
        "games": ["balloons"],
    }
    assert body["counts"] == {
        "invited": 2,
        "started": 1,
        "completed": 0,
        "expired": 0,
        "withdrawn": 0,
        "flagged": 0,
        "simulated": 0,
    }
    # in the shape the OpenAPI schema documents
    serializer = AssessmentDashboardSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    # and the read is audited as the dashboard page audits it
    entry = AuditLog.objects.get(action="assessment.dashboard.read")
    assert (entry.organization, entry.actor, entry.object_type, entry.object_id) == (
        organization,
        recruiter,
        "assessment",
        str(assessment.pk),
    )
    assert entry.details == {"candidates": []}


def test_a_cached_dashboard_read_costs_one_statement_the_audit_entry(
    staff_client, assessment, play
):
    url = _dashboard_url(assessment.pk)
    first = staff_client.get(url)
    assert first.status_code == 200

    with CaptureQueriesContext(connection) as queries:
        again = staff_client.get(url)

    assert again.status_code == 200
    assert again.content == first.content
    assert [query["sql"].split()[:3] for query in queries.captured_queries] == [
        ["INSERT", "INTO", '"accounts_auditlog"']
    ]


def test_the_dashboard_shows_a_completed_game_on_the_next_read(
    staff_client, assessment, play, make_balloon_events
):
    url = _dashboard_url(assessment.pk)
    assert staff_client.get(url).json()["counts"]["completed"] == 0

    assert play.send(make_balloon_events(HAND_PLAN)).status_code == 200
    assert play.client.post(play.complete_url).status_code == 202

    body = staff_client.get(url).json()
    assert body["counts"]["completed"] == 1
    assert body["completion_minutes"]["n"] == 1


@pytest.mark.parametrize("whose", ["other-organisation", "unknown"])
def test_another_organisations_dashboard_is_404(
    staff_client, other_organization, assessment, whose
):
    foreign = assessment_create(organization=other_organization, name="Secret", games=["balloons"])
    assessment_id = foreign.pk if whose == "other-organisation" else foreign.pk + 1000

    response = staff_client.get(_dashboard_url(assessment_id))

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": f"assessment {assessment_id} not found",
            "details": {},
        }
    }
    assert not AuditLog.objects.filter(action="assessment.dashboard.read").exists()


def test_the_dashboard_needs_a_member_of_the_organisation(staff_client, recruiter, assessment):
    Membership.objects.filter(user=recruiter).delete()

    response = staff_client.get(_dashboard_url(assessment.pk))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
