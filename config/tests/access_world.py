"""Two organisations, each with a member of every role and one object of every kind
addressed by a URL kwarg: the world of the access-matrix tests.

Every member gets a confirmed TOTP device and a logged-in browser whose session
says it passed the second factor, and an API key with every scope, so requests
reach the views whatever the log-in requirements in front of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import django_otp
import numpy as np
import pandas as pd
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from pymetrics.accounts.models import ApiScope, Membership, Organization, Role, User
from pymetrics.accounts.services import api_key_create, organization_create, user_create
from pymetrics.assessments.services import Invitation, assessment_create, candidate_invite
from pymetrics.conftest import PlayClient, start_play
from pymetrics.fitmodels.models import (
    ABTest,
    FitModelVersion,
    JobProfile,
    SessionReview,
    TrainingJob,
    TraitMapProposal,
)
from pymetrics.privacy.links import archive_download_token
from pymetrics.privacy.models import CandidateArchive
from pymetrics.reports.exports.links import download_path
from pymetrics.reports.models import ExportJob
from pymetrics.scoring.services import trait_map_version_get_or_create

ALL_SCOPES = [scope.value for scope in ApiScope]


@functools.cache
def model_artefact() -> bytes:
    """A real (tiny) trained model: audits and activations load it."""
    from pymetrics.fitmodels.science.training import dump_model, train_fit_model

    rng = np.random.default_rng(7)
    labels = np.array([1] * 20 + [0] * 20)
    features = pd.DataFrame({"trait:attention": rng.normal(labels, 1.0)})
    return dump_model(
        train_fit_model(features=features, labels=labels, folds=2, bootstrap_samples=5)
    )


@dataclass
class Member:
    user: User
    role: str
    browser: Client
    api: APIClient
    membership_id: int
    api_key_id: int
    #: the API key itself, for socket handshakes
    api_token: str


@dataclass
class OrganizationWorld:
    organization: Organization
    members: dict[str, Member]
    #: URL kwarg -> this organisation's object id (or signed token)
    kwargs: dict[str, Any]
    invitation: Invitation
    #: another candidate of the same assessment, not started
    other_invitation: Invitation
    #: ``invitation``'s attempt, started through the candidate API
    play: PlayClient


def logged_in(user: User) -> Client:
    """A browser logged in as ``user``, its session past the second factor."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    browser = Client(raise_request_exception=False)
    browser.force_login(user)
    session = browser.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return browser


def api_client(user: User, organization: Organization) -> tuple[APIClient, int, str]:
    """A client with a new API key of ``user`` holding every scope; the key's id and text."""
    client = APIClient(raise_request_exception=False)
    issued = api_key_create(user=user, organization=organization, scopes=ALL_SCOPES)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.plaintext}")
    return client, issued.api_key.pk, issued.plaintext


def build_organization(slug: str) -> OrganizationWorld:
    organization = organization_create(name=f"{slug.title()} Hiring", slug=slug)
    organization.feedback_reports_enabled = True  # the candidate's report is reachable
    organization.save(update_fields=["feedback_reports_enabled"])
    members: dict[str, Member] = {}
    for role in Role:
        user = user_create(
            email=f"{role.value}@{slug}.example",
            password=f"{role.value} horse battery staple",
            organization=organization,
            role=role,
        )
        client, api_key_id, api_token = api_client(user, organization)
        membership = Membership.objects.get(user=user, organization=organization)
        members[role.value] = Member(
            user, role.value, logged_in(user), client, membership.pk, api_key_id, api_token
        )
    assessment = assessment_create(
        organization=organization, name=f"{slug} graduates", games=["balloons"]
    )
    invitation = candidate_invite(
        assessment=assessment, email=f"cara@{slug}.example", name="Cara", external_id=f"{slug}-1"
    )
    other_invitation = candidate_invite(
        assessment=assessment, email=f"carl@{slug}.example", name="Carl", external_id=f"{slug}-2"
    )
    play = start_play(invitation)
    profile = JobProfile.objects.create(organization=organization, name=f"{slug} role")
    job = TrainingJob.objects.create(job_profile=profile, algorithm="logistic_regression")
    version = FitModelVersion.objects.create(
        job_profile=profile,
        version=1,
        algorithm="logistic_regression",
        feature_names=["trait:attention"],
        artefact=model_artefact(),
        fingerprint="0" * 64,
        n_successful=40,
        n_baseline=80,
        threshold=50.0,
        cv_report={"auc": 0.7},
        feature_weights={},
    )
    review = SessionReview.objects.create(
        game_session_id=play.game_session_id,
        game="balloons",
        anomaly_score=0.9,
        detector_fingerprint="0" * 64,
    )
    test = ABTest.objects.create(
        job_profile=profile, name=f"{slug} test", key=f"ab-{slug}", model_a=version, model_b=version
    )
    proposal = TraitMapProposal.objects.create(
        organization=organization,
        based_on=trait_map_version_get_or_create(version=1),
        proposal={},
        definition={},
        n_people=0,
    )
    archive = CandidateArchive.objects.create(
        organization=organization, candidate=invitation.candidate
    )
    export = ExportJob.objects.create(organization=organization, dataset="metrics", format="csv")
    kwargs: dict[str, Any] = {
        "assessment_id": assessment.pk,
        "candidate_id": invitation.candidate.pk,
        "job_profile_id": profile.pk,
        "training_job_id": job.pk,
        "model_version_id": version.pk,
        "review_id": review.pk,
        "ab_test_id": test.pk,
        "proposal_id": proposal.pk,
        "archive_id": archive.pk,
        "export_job_id": export.pk,
        "game_session_id": play.game_session_id,
        "invite_token": invitation.invite_token,
    }
    kwargs["export_token"] = download_path(export.pk).rstrip("/").rsplit("/", 1)[-1]
    kwargs["archive_token"] = archive_download_token(archive)
    return OrganizationWorld(organization, members, kwargs, invitation, other_invitation, play)


def route_kwargs(
    world: OrganizationWorld, route: str, names: list[str], member: Member | None = None
) -> dict[str, Any]:
    """The kwargs of ``route`` filled with ``world``'s objects.

    A member is the recruiter (``membership_id``); an API key is the acting
    member's own (``api_key_id``, the owner's when nobody acts).
    """
    values: dict[str, Any] = {}
    for name in names:
        if name == "membership_id":
            values[name] = world.members[Role.RECRUITER].membership_id
        elif name == "api_key_id":
            values[name] = (member or world.members[Role.OWNER]).api_key_id
        elif name == "token":
            values[name] = world.kwargs[
                "archive_token" if route.startswith("privacy:") else "export_token"
            ]
        else:
            values[name] = world.kwargs[name]
    return values
