"""Writes of the assessments app: assessments, invitations, attempts, game sessions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from pymetrics.accounts.models import AuditLog
from pymetrics.assessments.models import Attempt, Candidate, GameSession
from pymetrics.assessments.services import (
    assessment_create,
    attempt_consent,
    attempt_start,
    candidate_invite,
    game_session_mark_completed,
    hash_invite_token,
)
from pymetrics.common.errors import Conflict, Gone, ValidationFailed
from pymetrics.games import registry
from pymetrics.games.registry import get_game


@pytest.fixture
def two_game_catalogue(monkeypatch):
    """The catalogue plus ``balloons_b``, a second game (balloons under another key).

    The catalogue holds one game so far; an attempt's "last game" needs two.
    """
    balloons = get_game("balloons")
    second = dataclasses.replace(balloons, key="balloons_b", title="Balloons B")
    monkeypatch.setattr(registry, "_games", lambda: {"balloons": balloons, "balloons_b": second})


# --- assessment_create -------------------------------------------------------------------


def test_assessment_create_stores_the_games_in_order_and_audits(organization, recruiter):
    assessment = assessment_create(
        organization=organization,
        name="  Graduates  ",
        games=["balloons"],
        settings_={"short_schedules": True},
    )

    assert (assessment.name, assessment.games, assessment.settings) == (
        "Graduates",
        ["balloons"],
        {"short_schedules": True},
    )
    audit = AuditLog.objects.get(action="assessment.create")
    assert (audit.organization, audit.actor, audit.object_id, audit.details) == (
        organization,
        None,
        str(assessment.pk),
        {"name": "Graduates", "games": ["balloons"]},
    )


@pytest.mark.parametrize(
    ("name", "games", "message", "details"),
    [
        pytest.param(
            "", ["balloons"], "an assessment needs a name", {"name": ["is required"]}, id="no-name"
        ),
        pytest.param(
            "  ",
            ["balloons"],
            "an assessment needs a name",
            {"name": ["is required"]},
            id="blank-name",
        ),
        pytest.param(
            "X",
            [],
            "an assessment needs at least one game",
            {"games": ["must be a non-empty list"]},
            id="no-games",
        ),
        pytest.param(
            "X",
            "balloons",
            "an assessment needs at least one game",
            {"games": ["must be a non-empty list"]},
            id="games-not-a-list",
        ),
        pytest.param(
            "X", [1], "game keys are strings", {"games": ["1"]}, id="game-key-not-a-string"
        ),
        pytest.param(
            "X",
            ["balloons", "tetris"],
            "unknown game 'tetris'; known games: "
            "balloons, cards, stop, arrows, digits, keypresses, easy_or_hard, lengths, tower, "
            "faces, money_exchange_1, money_exchange_2",
            {"games": ["unknown game 'tetris'"]},
            id="unknown-game",
        ),
        pytest.param(
            "X",
            ["balloons", "balloons"],
            "game 'balloons' is listed twice",
            {"games": ["duplicate 'balloons'"]},
            id="duplicate-game",
        ),
    ],
)
def test_assessment_create_refuses_invalid_input(organization, name, games, message, details):
    with pytest.raises(ValidationFailed) as raised:
        assessment_create(organization=organization, name=name, games=games)

    assert (raised.value.message, raised.value.details) == (message, details)
    assert not AuditLog.objects.exists()


def test_assessment_create_refuses_a_duplicate_name(organization, assessment):
    with pytest.raises(Conflict) as raised:
        assessment_create(organization=organization, name="Graduates 2027", games=["balloons"])

    assert raised.value.details == {"name": ["already exists"]}
    assert AuditLog.objects.filter(action="assessment.create").count() == 1


# --- candidate_invite --------------------------------------------------------------------


def _every_stored_value() -> str:
    """Every cell of every table of the database, as one string."""
    cells: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            cells.extend(str(cell) for row in cursor.fetchall() for cell in row)
    return "\n".join(cells)


def test_the_invite_token_is_stored_only_as_its_hash(assessment):
    # when a candidate is invited
    invitation = candidate_invite(assessment=assessment, email="cara@example.org", name="Cara")

    # then the attempt holds the token's SHA-256 and no table holds the token itself
    assert len(invitation.invite_token) >= 40
    attempt = Attempt.objects.get(pk=invitation.attempt.pk)
    assert attempt.invite_token_hash == hash_invite_token(invitation.invite_token)
    stored = _every_stored_value()
    assert attempt.invite_token_hash in stored
    assert invitation.invite_token not in stored


def test_an_invitation_expires_after_the_configured_days(assessment, settings):
    settings.PYMETRICS_INVITE_TTL_DAYS = 3
    before = timezone.now()

    invitation = candidate_invite(assessment=assessment, email="a@example.org")

    expires = invitation.attempt.invite_expires_at
    assert expires is not None
    assert before + timedelta(days=3) <= expires <= timezone.now() + timedelta(days=3)
    assert invitation.attempt.state == "invited"


def test_candidate_invite_reuses_a_candidate_by_external_id(assessment, organization):
    # given a candidate invited to one assessment
    first = candidate_invite(assessment=assessment, email="cara@example.org", external_id="c-1")
    second_assessment = assessment_create(
        organization=organization, name="Second round", games=["balloons"]
    )

    # when the same external id is invited to another assessment
    second = candidate_invite(
        assessment=second_assessment, email="other@example.org", external_id=" c-1 "
    )

    # then it is the same person with two attempts (and their first e-mail kept)
    assert second.candidate.pk == first.candidate.pk
    assert Candidate.objects.count() == 1
    assert Attempt.objects.filter(candidate=first.candidate).count() == 2
    assert Candidate.objects.get().email == "cara@example.org"
    assert second.invite_token != first.invite_token


def test_candidates_without_external_id_are_distinct(assessment):
    first = candidate_invite(assessment=assessment, email="a@example.org", external_id="")
    second = candidate_invite(assessment=assessment, email="b@example.org")

    assert first.candidate.pk != second.candidate.pk
    assert (first.candidate.external_id, second.candidate.external_id) == (None, None)


def test_the_same_external_id_in_another_organisation_is_another_candidate(
    assessment, other_organization
):
    foreign = assessment_create(organization=other_organization, name="G", games=["balloons"])

    ours = candidate_invite(assessment=assessment, external_id="c-1")
    theirs = candidate_invite(assessment=foreign, external_id="c-1")

    assert ours.candidate.pk != theirs.candidate.pk
    assert theirs.candidate.organization == other_organization


def test_inviting_an_already_invited_candidate_is_a_conflict(assessment, invitation):
    with pytest.raises(Conflict) as raised:
        candidate_invite(assessment=assessment, email="x@example.org", external_id="cand-001")

    assert raised.value.message == "candidate 'cand-001' is already invited to 'Graduates 2027'"
    assert Attempt.objects.count() == 1
    assert AuditLog.objects.filter(action="candidate.invite").count() == 1


def test_candidate_email_and_name_are_encrypted_at_rest(assessment):
    # when a candidate is invited
    invitation = candidate_invite(
        assessment=assessment, email="zoe.zhang@example.org", name="Zoë Zhang"
    )

    # then the raw columns hold neither the e-mail nor the name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, name FROM assessments_candidate WHERE id = %s", [invitation.candidate.pk]
        )
        raw_email, raw_name = cursor.fetchone()
    # (searched with characters base64 never produces, so ciphertext cannot match by chance)
    assert "zoe.zhang" not in raw_email
    assert "@example.org" not in raw_email
    assert "Zoë Zhang" not in raw_name
    assert raw_email.startswith("gAAAA")  # a Fernet token
    assert raw_email != raw_name
    # and the model gives the plaintext back
    candidate = Candidate.objects.get(pk=invitation.candidate.pk)
    assert (candidate.email, candidate.name) == ("zoe.zhang@example.org", "Zoë Zhang")


def test_empty_personal_data_is_stored_empty(assessment):
    invitation = candidate_invite(assessment=assessment, external_id="anon-1")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, name FROM assessments_candidate WHERE id = %s", [invitation.candidate.pk]
        )
        assert cursor.fetchone() == ("", "")


# --- attempts ----------------------------------------------------------------------------


def test_attempt_start_makes_seeded_game_sessions_once(two_game_catalogue, organization):
    # given an assessment of two games and an invited candidate
    assessment = assessment_create(
        organization=organization, name="Two games", games=["balloons_b", "balloons"]
    )
    invitation = candidate_invite(assessment=assessment, external_id="two-1")

    # when the attempt is started, then started again
    attempt = attempt_start(attempt=invitation.attempt)
    first = list(
        GameSession.objects.filter(attempt=attempt).values_list(
            "pk", "game", "position", "seed", "config"
        )
    )
    attempt_start(attempt=invitation.attempt)
    second = list(
        GameSession.objects.filter(attempt=attempt).values_list(
            "pk", "game", "position", "seed", "config"
        )
    )

    # then the same sessions, in the assessment's order, each with its seed's schedule
    assert second == first
    assert [(game, position) for _, game, position, _, _ in first] == [
        ("balloons_b", 1),
        ("balloons", 2),
    ]
    for _, game, _, seed, config in first:
        assert config == get_game(game).make_config(seed)
        assert config["seed"] == seed
    assert first[0][3] != first[1][3]
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.state == "started"
    assert stored.started_at is not None
    assert Candidate.objects.get(pk=invitation.candidate.pk).consent_at is not None


def test_attempt_start_keeps_the_first_start_time(invitation):
    attempt_start(attempt=invitation.attempt)
    started_at = Attempt.objects.get(pk=invitation.attempt.pk).started_at

    attempt_start(attempt=invitation.attempt)

    assert Attempt.objects.get(pk=invitation.attempt.pk).started_at == started_at


@pytest.mark.parametrize(
    ("change", "code"),
    [
        pytest.param(
            {"invite_expires_at": timezone.now() - timedelta(days=1)},
            "invite_expired",
            id="expired",
        ),
        pytest.param({"state": "expired"}, "invite_expired", id="marked-expired"),
        pytest.param({"state": "withdrawn"}, "invite_withdrawn", id="withdrawn"),
    ],
)
def test_an_unplayable_attempt_cannot_start_or_consent(invitation, change, code):
    Attempt.objects.filter(pk=invitation.attempt.pk).update(**change)
    attempt = Attempt.objects.get(pk=invitation.attempt.pk)

    with pytest.raises(Gone) as started:
        attempt_start(attempt=attempt)
    with pytest.raises(Gone) as consented:
        attempt_consent(attempt=attempt, accommodations={"extended_time": True})

    assert (started.value.code, consented.value.code) == (code, code)
    assert GameSession.objects.count() == 0
    assert Candidate.objects.get(pk=invitation.candidate.pk).consent_at is None


def test_an_expired_invite_already_started_can_still_be_resumed(invitation):
    attempt_start(attempt=invitation.attempt)
    Attempt.objects.filter(pk=invitation.attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(days=1)
    )

    attempt = attempt_start(attempt=Attempt.objects.get(pk=invitation.attempt.pk))

    assert attempt.state == "started"
    assert GameSession.objects.filter(attempt=attempt).count() == 1


def test_attempt_consent_keeps_the_first_consent_time_and_known_accommodations(invitation):
    attempt_consent(attempt=invitation.attempt, accommodations={"reduced_motion": True})
    first = Candidate.objects.get(pk=invitation.candidate.pk).consent_at

    attempt_consent(
        attempt=invitation.attempt, accommodations={"colour_safe": True, "unknown_key": True}
    )

    assert Candidate.objects.get(pk=invitation.candidate.pk).consent_at == first
    assert Attempt.objects.get(pk=invitation.attempt.pk).accommodations == {
        "extended_time": False,
        "reduced_motion": False,
        "colour_safe": True,
    }


def test_the_attempt_completes_after_its_last_game(two_game_catalogue, organization):
    # given a started attempt of two games
    assessment = assessment_create(
        organization=organization, name="Two games", games=["balloons", "balloons_b"]
    )
    attempt = attempt_start(
        attempt=candidate_invite(assessment=assessment, external_id="t").attempt
    )
    first, last = GameSession.objects.filter(attempt=attempt).order_by("position")

    # when the first game completes, the attempt is still running
    game_session_mark_completed(game_session_id=first.pk)
    assert Attempt.objects.get(pk=attempt.pk).state == "started"
    assert Attempt.objects.get(pk=attempt.pk).completed_at is None

    # when the last one completes, the attempt is completed at that moment
    completed = game_session_mark_completed(game_session_id=last.pk)
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.state == "completed"
    assert stored.completed_at == completed.completed_at
    assert completed.state == "completed"
    assert completed.started_at == completed.completed_at  # no event ever started it


def test_completing_a_finished_game_session_changes_nothing(invitation):
    attempt = attempt_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=attempt)
    first = game_session_mark_completed(game_session_id=game_session.pk)
    GameSession.objects.filter(pk=game_session.pk).update(state="scored")

    again = game_session_mark_completed(game_session_id=game_session.pk)

    assert (again.state, again.completed_at) == ("scored", first.completed_at)
    assert Attempt.objects.get(pk=attempt.pk).completed_at == first.completed_at
