"""Ingestion rules of the event store, called directly (the HTTP contract is in play/tests)."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, attempt_start, candidate_invite
from pymetrics.events.models import Event
from pymetrics.events.services import (
    InvalidEvent,
    events_ingest,
    events_store_trusted,
    game_sessions_lock_for_deletion,
)
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


# --- acked_seq and storage under any order of batches --------------------------------

_examples = itertools.count(1)

_batches = st.lists(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=12),
    min_size=1,
    max_size=8,
)


@given(batches=_batches)
@hyp_settings(
    max_examples=60,
    deadline=None,
    # one game session per example, made inside the test: the fixture only invites
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_order_of_batches_stores_each_event_once_and_acks_the_unbroken_run(
    make_invitation, batches
):
    # given a new game session (one per example)
    # (an address may be invited once per assessment: a new one per example)
    invitation = make_invitation(external_id=None, email=f"cand-{next(_examples)}@example.org")
    attempt = attempt_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=attempt)
    sent: set[int] = set()

    for batch in batches:
        # when a batch of events with these seqs arrives (repeats, gaps, any order)
        result = events_ingest(
            game_session_id=game_session.pk,
            attempt_id=attempt.pk,
            events=[_pumps(seq, 1)[0] for seq in batch],
        )

        # then the events not seen before are stored, each once, and the rest counted
        new = set(batch) - sent
        sent |= new
        assert result.accepted == len(new)
        assert result.duplicates == len(batch) - len(new)
        # and acked_seq is the end of the run 1, 2, ... of stored seqs
        expected_acked = 0
        while expected_acked + 1 in sent:
            expected_acked += 1
        assert result.acked_seq == expected_acked
    game_session.refresh_from_db()
    stored = list(Event.objects.filter(game_session=game_session).values_list("seq", flat=True))
    assert stored == sorted(sent)
    assert (game_session.acked_seq, game_session.event_count) == (expected_acked, len(sent))


def test_server_made_events_must_hold_finite_numbers(game_session):
    events = _pumps(1, 2)
    events[1]["data"]["pumps"] = float("nan")

    with pytest.raises(ValueError, match="server-made events must hold finite numbers"):
        events_store_trusted(game_session_id=game_session.pk, events=events)

    assert not Event.objects.exists()


def test_server_made_events_may_hold_numpy_numbers(game_session):
    # the bots compute with numpy: their numbers are stored as plain JSON numbers
    events = _pumps(1, 1)
    events[0]["t"] = np.float64(12.5)

    events_store_trusted(game_session_id=game_session.pk, events=events)

    assert Event.objects.values_list("t", flat=True).get() == 12.5


@pytest.mark.django_db(transaction=True)
def test_sessions_are_locked_for_deletion_only_inside_a_transaction(game_session):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        game_sessions_lock_for_deletion(GameSession.objects.all())

    with transaction.atomic():
        assert game_sessions_lock_for_deletion(GameSession.objects.all()) == [game_session.pk]


@pytest.mark.django_db(transaction=True)
def test_a_deletion_waits_for_a_batch_being_stored_and_leaves_no_event_behind(game_session):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises whole transactions; row locks are PostgreSQL's")
    stored, release, deleted = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def store_a_batch_and_hold_the_transaction_open() -> None:
        try:
            with transaction.atomic():
                events_ingest(
                    game_session_id=game_session.pk,
                    attempt_id=game_session.attempt_id,
                    events=_pumps(1, 50),
                )
                stored.set()
                release.wait(10)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    def delete_the_session() -> None:
        try:
            with transaction.atomic():
                sessions = GameSession.objects.filter(pk=game_session.pk)
                game_sessions_lock_for_deletion(sessions)
                Event.objects.filter(game_session__in=sessions).delete()
                sessions.delete()
            deleted.set()
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    # given a batch stored but not yet committed
    writer = threading.Thread(target=store_a_batch_and_hold_the_transaction_open)
    writer.start()
    assert stored.wait(10)

    # when the session is deleted meanwhile
    deleter = threading.Thread(target=delete_the_session)
    deleter.start()

    # then the deletion waits for the batch's transaction
    assert not deleted.wait(0.5)
    release.set()
    writer.join(10)
    deleter.join(10)
    assert failures == []
    assert deleted.is_set()
    # and leaves none of its events behind (there is no foreign key to cascade)
    assert not GameSession.objects.filter(pk=game_session.pk).exists()
    assert not Event.objects.filter(game_session_id=game_session.pk).exists()
