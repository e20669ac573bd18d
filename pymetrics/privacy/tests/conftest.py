"""A candidate with a complete history, three others beside them, staff of each role,
and an exports storage of the test's own.

``history`` builds, through the real services wherever they exist: Erin (the
candidate erased or exported in the tests) consents on the invite pages, plays the
hand-made balloons session through the candidate API (11 events, extracted by the
pipeline), has easy_or_hard metrics, trait scores against the organisation's norm
table (built from all four), a fit score, an incumbent link, reported groups, an
outcome, a reviewed session whose reviewer's note names her, a change in the
admin's history, and a data archive on disk. The other three (Olga, Omar, Otto)
have metrics, trait and fit scores only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from pymetrics.accounts.models import Organization, Role, User
from pymetrics.accounts.services import Actor, api_key_create, user_create
from pymetrics.accounts.tests.helpers import login_verified
from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_consent,
    attempt_start,
    candidate_invite,
)
from pymetrics.conftest import HAND_PLAN, _balloon_events, start_play
from pymetrics.fitmodels.anomaly_services import session_review_decide
from pymetrics.fitmodels.models import (
    FitModelVersion,
    FitScore,
    Incumbent,
    JobProfile,
    ModelStatus,
    SessionReview,
)
from pymetrics.fitmodels.services import candidate_groups_record, candidate_outcome_record
from pymetrics.games.registry import get_game
from pymetrics.privacy.models import CandidateArchive
from pymetrics.privacy.services import candidate_archive_request
from pymetrics.scoring.models import MetricSet, NormTable
from pymetrics.scoring.services import norm_table_build, traits_reinfer_for_norm_table

ERIN_NAME = "Erin Erasable"
ERIN_EMAIL = "erin.erasable@example.org"
REVIEW_NOTE = f"{ERIN_NAME} told us she played on a phone"
#: easy_or_hard of the four candidates (Erin first); balloons of the others
P12 = [0.0, 0.2, 0.2, 0.6]
OTHER_PUMPS = [20.0, 30.0, 40.0]
OTHERS = [
    ("Olga Other", "olga@example.org", "ext-olga"),
    ("Omar Other", "omar@example.org", "ext-omar"),
    ("Otto Other", "otto@example.org", "ext-otto"),
]


@pytest.fixture(autouse=True)
def exports_storage(settings: Any, tmp_path: Any) -> Any:
    """Finished exports and archives go to this test's own folder."""
    folder = tmp_path / "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


def _member(organization: Organization, role: str, email: str, name: str) -> User:
    return user_create(
        email=email,
        password="privacy horse battery",
        organization=organization,
        role=role,
        full_name=name,
    )


@pytest.fixture
def owner(organization: Organization) -> User:
    return _member(organization, Role.OWNER, "olive@acme.example", "Olive Owner")


@pytest.fixture
def admin(organization: Organization) -> User:
    return _member(organization, Role.ADMIN, "ada@acme.example", "Ada Admin")


@pytest.fixture
def analyst(organization: Organization) -> User:
    return _member(organization, Role.ANALYST, "ann@acme.example", "Ann Analyst")


def actor_of(user: User) -> Actor:
    membership = user.memberships.select_related("organization").get()
    return Actor(user=user, organization=membership.organization, role=membership.role)


def browser_of(user: User) -> Client:
    browser = Client()
    login_verified(browser, user)
    return browser


def api_client_of(user: User) -> APIClient:
    client = APIClient()
    key = api_key_create(user=user, scopes=["read", "write", "export"]).plaintext
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def other_owner(other_organization: Organization) -> User:
    return _member(other_organization, Role.OWNER, "gina@globex.example", "Gina Globex")


@dataclass(frozen=True)
class History:
    organization: Organization
    assessment: Assessment
    erin: Candidate
    erin_attempt: Attempt
    erin_balloons: GameSession
    others: list[Candidate]
    norm_table: NormTable
    model_version: FitModelVersion
    archive: CandidateArchive
    admin: User


def _metrics(session: GameSession, values: dict[str, float]) -> None:
    GameSession.objects.filter(pk=session.pk).update(state="scored")
    MetricSet.objects.create(
        game_session=session,
        game=session.game,
        extractor_version=get_game(session.game).extractor_version,
        values=values,
    )


def _other(assessment: Assessment, index: int) -> Candidate:
    name, email, external_id = OTHERS[index]
    invitation = candidate_invite(
        assessment=assessment, name=name, email=email, external_id=external_id
    )
    attempt_consent(attempt=invitation.attempt, accommodations={})
    attempt_start(attempt=invitation.attempt)
    for session in invitation.attempt.game_sessions.all():
        if session.game == "balloons":
            _metrics(session, {"adjusted_pumps": OTHER_PUMPS[index], "bursts": 2.0})
        else:
            _metrics(session, {"hard_choice_rate_p12": P12[index + 1], "hard_choice_rate": 0.5})
    return invitation.candidate


def _fit_model(organization: Organization, assessment: Assessment) -> FitModelVersion:
    role = JobProfile.objects.create(organization=organization, name="Analysts")
    role.assessments.add(assessment)
    return FitModelVersion.objects.create(
        job_profile=role,
        version=1,
        algorithm="logistic_regression",
        status=ModelStatus.ACTIVE,
        feature_names=["trait:risk_tolerance"],
        artefact=b"not a real model",
        fingerprint="0" * 64,
        n_successful=1,
        n_baseline=3,
        threshold=50.0,
        cv_report={"auc": 0.5},
        feature_weights={},
    )


@pytest.fixture
def history(
    organization: Organization,
    admin: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> History:
    assessment = assessment_create(
        organization=organization, name="Risk battery", games=["balloons", "easy_or_hard"]
    )
    invitation = candidate_invite(
        assessment=assessment, name=ERIN_NAME, email=ERIN_EMAIL, external_id="ext-erin"
    )
    attempt_consent(attempt=invitation.attempt, accommodations={"reduced_motion": True})
    play = start_play(invitation)
    assert play.send(_balloon_events(HAND_PLAN)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert play.client.post(play.complete_url).status_code == 202
    sessions = {s.game: s for s in GameSession.objects.filter(attempt_id=play.attempt_id)}
    _metrics(sessions["easy_or_hard"], {"hard_choice_rate_p12": P12[0], "hard_choice_rate": 0.5})
    others = [_other(assessment, index) for index in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        table = norm_table_build(
            population="organisation", name="Acme norms", organization=organization
        )
        traits_reinfer_for_norm_table(norm_table=table)
    version = _fit_model(organization, assessment)
    everyone = [invitation.candidate, *others]
    for rank, candidate in enumerate(everyone):
        FitScore.objects.create(
            attempt=candidate.attempts.get(),
            model_version=version,
            score=40.0 + 10 * rank,
            passed=rank >= 1,
        )
    Incumbent.objects.create(
        job_profile=version.job_profile, candidate=invitation.candidate, successful=True
    )
    admin_actor = actor_of(admin)
    candidate_groups_record(
        actor=admin_actor, candidate=invitation.candidate, groups={"gender": "female"}
    )
    candidate_outcome_record(
        actor=admin_actor, candidate=invitation.candidate, hired=True, performance=4.0
    )
    review = SessionReview.objects.create(
        game_session=sessions["balloons"],
        game="balloons",
        anomaly_score=0.91,
        reasons=["constant reaction times"],
        detector_fingerprint="f" * 64,
    )
    session_review_decide(actor=admin_actor, review=review, decision="accept", note=REVIEW_NOTE)
    LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(Candidate),
        object_id=str(invitation.candidate.pk),
        object_repr=str(invitation.candidate),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["email"]}}, ERIN_EMAIL]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        archive = candidate_archive_request(actor=admin_actor, candidate=invitation.candidate)
    archive.refresh_from_db()
    assert archive.state == "ready", archive.error
    return History(
        organization=organization,
        assessment=assessment,
        erin=Candidate.objects.get(pk=invitation.candidate.pk),
        erin_attempt=Attempt.objects.get(pk=play.attempt_id),
        erin_balloons=sessions["balloons"],
        others=others,
        norm_table=table,
        model_version=version,
        archive=archive,
        admin=admin,
    )


def profile_url(candidate_id: int) -> str:
    return reverse("staff:candidate-profile", args=[candidate_id])
