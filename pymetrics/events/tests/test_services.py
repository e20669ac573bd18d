"""Ingestion rules of the event store, called directly (the HTTP contract is in play/tests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, attempt_start, candidate_invite
from pymetrics.events.models import Event
from pymetrics.events.services import InvalidEvent, events_ingest, events_store_trusted
from pymetrics.games import registry
from pymetrics.games.base import EventDataError, reject_unknown_keys
from pymetrics.games.registry import get_game


def _pumps(first_seq: int, count: int) -> list[dict[str, Any]]:
    return [
        {"seq": seq, "t": float(seq), "type": "pump", "data": {"balloon": 1, "pumps": 1}}
        for seq in range(first_seq, first_seq + count)
    ]


@pytest.fixture
def game_session(invitation) -> GameSession:
    attempt = attempt_start(attempt=invitation.attempt)
    return GameSession.objects.get(attempt=attempt)


def test_trusted_events_are_stored_in_batches_of_the_largest_allowed_size(game_session, settings):
    # given more events than one batch may hold
    settings.PYMETRICS_MAX_EVENTS_PER_BATCH = 400
    events = _pumps(1, 1000)

    # when the simulation stores them, twice
    first = events_store_trusted(game_session_id=game_session.pk, events=events)
    again = events_store_trusted(game_session_id=game_session.pk, events=events)

    # then all are stored once, over three batches each time
    assert first.as_dict() == {"acked_seq": 1000, "accepted": 1000, "duplicates": 0}
    assert again.as_dict() == {"acked_seq": 1000, "accepted": 0, "duplicates": 1000}
    assert Event.objects.filter(game_session=game_session).count() == 1000


def test_duplicates_within_one_batch_are_stored_once(game_session):
    events = _pumps(1, 3)

    result = events_ingest(
        game_session_id=game_session.pk,
        attempt_id=game_session.attempt_id,
        events=[events[0], events[1], events[1], events[2], events[0]],
    )

    assert result.as_dict() == {"acked_seq": 3, "accepted": 3, "duplicates": 2}
    assert list(Event.objects.values_list("seq", flat=True)) == [1, 2, 3]


def test_an_integer_t_is_stored_as_a_float(game_session):
    events_ingest(
        game_session_id=game_session.pk,
        attempt_id=game_session.attempt_id,
        events=[{"seq": 1, "t": 250, "type": "balloon_start", "data": {"balloon": 1}}],
    )

    assert Event.objects.values_list("t", flat=True).get() == 250.0


@pytest.fixture
def notes_game(monkeypatch, organization) -> GameSession:
    """A game session of ``notes``, a test game whose one event carries free text."""

    def validate_note(data: Mapping[str, Any]) -> None:
        reject_unknown_keys(data, ("text",))
        if not isinstance(data.get("text"), str):
            raise EventDataError("text", "must be a string")

    balloons = get_game("balloons")
    notes = dataclasses.replace(balloons, key="notes", event_types={"note": validate_note})
    monkeypatch.setattr(registry, "_games", lambda: {"balloons": balloons, "notes": notes})
    assessment = assessment_create(organization=organization, name="Notes", games=["notes"])
    attempt = attempt_start(attempt=candidate_invite(assessment=assessment).attempt)
    return GameSession.objects.get(attempt=attempt)


def test_text_with_a_nul_character_is_an_invalid_event_on_every_database(notes_game):
    # given a note whose text holds a NUL character, after a valid one
    events = [
        {"seq": 1, "t": 0.0, "type": "note", "data": {"text": "fine"}},
        {"seq": 2, "t": 1.0, "type": "note", "data": {"text": "a\u0000b"}},
    ]

    # when it is ingested
    with pytest.raises(InvalidEvent) as raised:
        events_ingest(
            game_session_id=notes_game.pk, attempt_id=notes_game.attempt_id, events=events
        )

    # then it is refused naming the field, and the valid event before it is stored
    assert {key: raised.value.details[key] for key in ("index", "seq", "field")} == {
        "index": 1,
        "seq": 2,
        "field": "data.text",
    }
    assert list(Event.objects.values_list("seq", flat=True)) == [1]
