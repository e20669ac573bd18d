"""The candidate API contract (DESIGN.md 4.3): start, events, complete."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from pymetrics.assessments.models import Attempt, GameSession
from pymetrics.conftest import HAND_METRICS, HAND_PLAN, PlayClient, start_play
from pymetrics.events.models import Event
from pymetrics.games.balloons.bot import Latent
from pymetrics.games.balloons.bot import play as bot_play
from pymetrics.play.tokens import session_token_issue
from pymetrics.scoring.models import MetricSet


def _error(response) -> dict:
    """The error object of a response, after checking the one error shape of the API."""
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def _stored(game_session_id: int) -> list[tuple[int, float, str, dict]]:
    return list(
        Event.objects.filter(game_session_id=game_session_id)
        .order_by("seq")
        .values_list("seq", "t", "type", "data")
    )


def _rows(events: list[dict]) -> list[tuple[int, float, str, dict]]:
    return [(e["seq"], float(e["t"]), e["type"], e["data"]) for e in events]


def _bot_events(play: PlayClient, seed: int = 7) -> list[dict]:
    """A real balloons session: the bot plays the game session's own seeded schedule."""
    config = GameSession.objects.get(pk=play.game_session_id).config
    latent = Latent(target_pumps=30.0, pump_sd=6.0, pump_interval_ms=300.0)
    return bot_play(latent, np.random.default_rng(seed), config)


# --- start -------------------------------------------------------------------------------


def test_start_returns_the_attempt_a_session_token_and_its_games(invitation):
    # given an invited candidate
    client = APIClient()

    # when the browser starts the attempt
    response = client.post(reverse("api:play-start", args=[invitation.invite_token]))

    # then the attempt, a token and one pending game session per game come back
    assert response.status_code == 200
    body = response.json()
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    assert body == {
        "attempt_id": invitation.attempt.pk,
        "session_token": body["session_token"],
        "games": [{"game": "balloons", "game_session_id": game_session.pk, "status": "pending"}],
    }
    assert len(body["session_token"]) > 20
    assert Attempt.objects.get(pk=invitation.attempt.pk).state == "started"


def test_start_again_resumes_the_same_game_sessions(play, make_balloon_events):
    # given a started attempt whose game already has events
    assert play.send(make_balloon_events([(1, False)])).status_code == 200

    # when start is called again (a reload, another tab)
    response = APIClient().post(reverse("api:play-start", args=[play.invite_token]))

    # then it resumes: the same attempt and game session, now in progress
    assert response.status_code == 200
    body = response.json()
    assert body["attempt_id"] == play.attempt_id
    assert body["games"] == [
        {"game": "balloons", "game_session_id": play.game_session_id, "status": "in_progress"}
    ]
    assert GameSession.objects.filter(attempt_id=play.attempt_id).count() == 1


def test_start_with_an_unknown_invite_token_is_404(db):
    response = APIClient().post(reverse("api:play-start", args=["no-such-invite"]))

    assert response.status_code == 404
    assert _error(response) == {
        "code": "invite_not_found",
        "message": "this invitation link is not valid",
        "details": {},
    }


def test_start_with_an_expired_invite_is_410(invitation):
    # given an invite whose expiry has passed
    Attempt.objects.filter(pk=invitation.attempt.pk).update(
        invite_expires_at=timezone.now() - timedelta(minutes=1)
    )

    # when the browser starts it
    response = APIClient().post(reverse("api:play-start", args=[invitation.invite_token]))

    # then it is gone and no game session was made
    assert response.status_code == 410
    assert _error(response)["code"] == "invite_expired"
    assert GameSession.objects.count() == 0


# --- events: storing and acknowledging ---------------------------------------------------


def test_a_batch_is_stored_and_acknowledged(play, make_balloon_events):
    # given the 11 events of the hand-made session
    events = make_balloon_events(HAND_PLAN)

    # when they are sent in one batch
    response = play.send(events)

    # then all are stored as sent and acknowledged up to the last seq
    assert response.status_code == 200
    assert response.json() == {"acked_seq": 11, "accepted": 11, "duplicates": 0}
    assert _stored(play.game_session_id) == _rows(events)
    game_session = GameSession.objects.get(pk=play.game_session_id)
    assert (game_session.state, game_session.acked_seq, game_session.event_count) == (
        "in_progress",
        11,
        11,
    )


def test_the_same_batch_sent_twice_is_stored_once(play):
    # given a real session's events, stored once
    events = _bot_events(play)
    first = play.send(events)
    assert first.json() == {"acked_seq": len(events), "accepted": len(events), "duplicates": 0}

    # when the browser re-sends the same batch (its ack was lost)
    again = play.send(events)

    # then every event is a duplicate and nothing new is stored
    assert again.status_code == 200
    assert again.json() == {"acked_seq": len(events), "accepted": 0, "duplicates": len(events)}
    assert Event.objects.filter(game_session_id=play.game_session_id).count() == len(events)
    assert GameSession.objects.get(pk=play.game_session_id).event_count == len(events)


def test_an_overlapping_batch_stores_only_the_new_events(play, make_balloon_events):
    events = make_balloon_events(HAND_PLAN)
    assert play.send(events[:5]).json() == {"acked_seq": 5, "accepted": 5, "duplicates": 0}

    response = play.send(events[3:8])

    assert response.json() == {"acked_seq": 8, "accepted": 3, "duplicates": 2}
    assert _stored(play.game_session_id) == _rows(events[:8])


def test_a_gap_holds_acked_seq_back_until_the_missing_event_arrives(play, make_balloon_events):
    # given seqs 1, 2, 4, 5 (3 was lost on the way)
    events = make_balloon_events(HAND_PLAN)[:5]
    with_gap = [events[0], events[1], events[3], events[4]]

    # when they are sent
    response = play.send(with_gap)

    # then all four are stored but only 1..2 is acknowledged
    assert response.json() == {"acked_seq": 2, "accepted": 4, "duplicates": 0}
    assert [row[0] for row in _stored(play.game_session_id)] == [1, 2, 4, 5]
    assert GameSession.objects.get(pk=play.game_session_id).acked_seq == 2

    # when the missing event arrives
    response = play.send([events[2]])

    # then the acknowledgement jumps to the end of the run
    assert response.json() == {"acked_seq": 5, "accepted": 1, "duplicates": 0}
    assert _stored(play.game_session_id) == _rows(events)


def test_a_real_session_sent_out_of_order_with_resends_is_stored_exactly_once(play):
    # given a real session cut into batches sent shuffled, some twice (flaky network)
    events = _bot_events(play, seed=11)
    batches = [events[start : start + 40] for start in range(0, len(events), 40)]
    sends = batches + batches[::3]
    random.Random(5).shuffle(sends)

    # when every batch is sent
    acks = [play.send(batch).json() for batch in sends]

    # then every event is stored once and the last ack covers the whole stream
    assert acks[-1]["acked_seq"] == len(events)
    assert sum(ack["accepted"] for ack in acks) == len(events)
    assert sum(ack["duplicates"] for ack in acks) == sum(len(b) for b in batches[::3])
    assert _stored(play.game_session_id) == _rows(events)


# --- events: refusing bad input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param("{not json", "malformed_request", id="not-json"),
        pytest.param('{"events": [', "malformed_request", id="truncated-json"),
        pytest.param("[1, 2]", "malformed_batch", id="array-body"),
        pytest.param("{}", "malformed_batch", id="no-events-key"),
        pytest.param('{"events": 3}', "malformed_batch", id="events-not-a-list"),
        pytest.param('{"events": {"seq": 1}}', "malformed_batch", id="events-an-object"),
        # not JSON, though Python's own json module would read them
        pytest.param(
            '{"events": [{"seq": 1, "t": NaN, "type": "pump", "data": {}}]}',
            "malformed_request",
            id="nan",
        ),
        pytest.param(
            '{"events": [{"seq": 1, "t": 1e999, "type": "pump", "data": {}}]}',
            "malformed_request",
            id="infinite-number",
        ),
    ],
)
def test_a_malformed_body_is_a_400_json_error(play, body, code):
    response = play.client.post(play.events_url, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert _error(response)["code"] == code
    if code == "malformed_request":
        assert _error(response)["message"].startswith("JSON parse error - ")
    assert Event.objects.count() == 0


VALID_PREFIX = [
    {"seq": 1, "t": 0.0, "type": "balloon_start", "data": {"balloon": 1}},
    {"seq": 2, "t": 100.0, "type": "pump", "data": {"balloon": 1, "pumps": 1}},
    {"seq": 3, "t": 200.0, "type": "pump", "data": {"balloon": 1, "pumps": 2}},
]
AFTER_THE_BAD_ONE = {"seq": 5, "t": 400.0, "type": "collect", "data": {"balloon": 1, "pumps": 2}}


@pytest.mark.parametrize(
    ("bad_event", "seq", "field", "reason"),
    [
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "explode", "data": {"balloon": 1}},
            4,
            "type",
            "unknown event type 'explode' for game 'balloons'",
            id="unknown-type",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": "3"}},
            4,
            "data.pumps",
            "must be an integer, got str",
            id="data-field-of-wrong-type",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "pump", "data": {"balloon": 1}},
            4,
            "data.pumps",
            "is required",
            id="data-field-missing",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": 3, "x": 1}},
            4,
            "data.x",
            "is not a field of this event",
            id="data-field-unknown",
        ),
        pytest.param(
            {"t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": 3}},
            None,
            "seq",
            "must be an integer >= 1",
            id="missing-seq",
        ),
        pytest.param(
            {"seq": "4", "t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": 3}},
            None,
            "seq",
            "must be an integer >= 1",
            id="seq-a-string",
        ),
        pytest.param(
            {"seq": 0, "t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": 3}},
            0,
            "seq",
            "must be an integer >= 1",
            id="seq-zero",
        ),
        pytest.param(
            {"seq": 4, "t": -1.0, "type": "pump", "data": {"balloon": 1, "pumps": 3}},
            4,
            "t",
            "must be a finite number of ms >= 0",
            id="negative-t",
        ),
        pytest.param(
            {"seq": 4, "type": "pump", "data": {"balloon": 1, "pumps": 3}},
            4,
            "t",
            "must be a finite number of ms >= 0",
            id="missing-t",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "pump", "data": [1, 3]},
            4,
            "data",
            "must be a JSON object",
            id="data-not-an-object",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "data": {"balloon": 1, "pumps": 3}},
            4,
            "type",
            "must be a non-empty string",
            id="missing-type",
        ),
        pytest.param(
            {
                "seq": 4,
                "t": 300.0,
                "type": "visibility",
                "data": {"state": "hidden", "x": "\u0000"},
            },
            4,
            "data.x",
            "is not a field of this event",
            id="common-event-with-an-unknown-field",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "focus", "data": {"state": "away"}},
            4,
            "data.state",
            "must be 'blur' or 'focus'",
            id="common-event-with-a-bad-state",
        ),
        pytest.param(
            {"seq": 4, "t": 300.0, "type": "pump", "data": {"balloon": 1, "pumps": 3}, "x": 1},
            4,
            "x",
            "is not an envelope field",
            id="unknown-envelope-field",
        ),
        pytest.param(
            [4, 300.0, "pump"],
            None,
            "",
            "an event must be a JSON object",
            id="event-not-an-object",
        ),
    ],
)
def test_an_invalid_event_is_named_and_the_valid_events_before_it_are_stored(
    play, bad_event, seq, field, reason
):
    # given three valid events, then a bad one, then a valid one
    batch = [*VALID_PREFIX, bad_event, AFTER_THE_BAD_ONE]

    # when the batch is sent
    response = play.send(batch)

    # then the error names the event and its field, and acks the valid events before it
    assert response.status_code == 400
    where = "event 3" + (f" (seq {seq})" if seq else "")
    assert _error(response) == {
        "code": "invalid_event",
        "message": f"{where}: {field or 'event'} {reason}",
        "details": {
            "index": 3,
            "seq": seq,
            "field": field,
            "reason": reason,
            "acked_seq": 3,
            "accepted": 3,
            "duplicates": 0,
        },
    }
    # and exactly the three events before the bad one are stored
    assert _stored(play.game_session_id) == _rows(VALID_PREFIX)
    assert GameSession.objects.get(pk=play.game_session_id).acked_seq == 3


def test_a_batch_over_the_limit_is_refused_whole(play):
    # given one event more than a batch may hold
    limit = settings.PYMETRICS_MAX_EVENTS_PER_BATCH
    events = [
        {"seq": seq, "t": float(seq), "type": "balloon_start", "data": {"balloon": 1}}
        for seq in range(1, limit + 2)
    ]

    # when it is sent
    response = play.send(events)

    # then nothing is stored
    assert response.status_code == 400
    assert _error(response) == {
        "code": "batch_too_large",
        "message": f"a batch may hold at most {limit} events, this one has {limit + 1}",
        "details": {"max_events": limit, "events": limit + 1},
    }
    assert Event.objects.count() == 0


def test_a_body_over_one_mib_is_refused_without_reading_it(play):
    # given a body just over 1 MiB
    padding = "x" * (1024 * 1024)
    body = '{"events": [], "padding": "' + padding + '"}'

    # when it is sent
    response = play.client.post(play.events_url, data=body, content_type="application/json")

    # then the answer is "too large" in the error shape, and nothing is stored
    assert response.status_code == 413
    assert _error(response) == {
        "code": "payload_too_large",
        "message": f"the request body is {len(body)} bytes; at most {1024 * 1024} are accepted",
        "details": {"max_bytes": 1024 * 1024},
    }
    assert Event.objects.count() == 0


def test_another_attempts_session_token_is_403_and_nothing_is_stored(
    play, make_invitation, make_balloon_events
):
    # given a second candidate with their own session token
    intruder = start_play(make_invitation(email="ivan@example.org", external_id="cand-002"))

    # when they send events into the first candidate's game session
    response = intruder.client.post(
        play.events_url, {"events": make_balloon_events(HAND_PLAN)}, format="json"
    )

    # then they are refused and nothing is stored
    assert response.status_code == 403
    assert _error(response)["code"] == "wrong_session"
    assert Event.objects.count() == 0


def test_another_attempts_session_token_cannot_complete_the_game(play, make_invitation):
    intruder = start_play(make_invitation(email="ivan@example.org", external_id="cand-002"))

    response = intruder.client.post(play.complete_url)

    assert response.status_code == 403
    assert _error(response)["code"] == "wrong_session"
    assert GameSession.objects.get(pk=play.game_session_id).state == "pending"


def _tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        pytest.param(
            None,
            "send 'Authorization: Bearer <session_token>' from the start endpoint",
            id="no-header",
        ),
        pytest.param(
            "Bearer ",
            "send 'Authorization: Bearer <session_token>' from the start endpoint",
            id="empty-bearer",
        ),
        pytest.param("Bearer garbage", "the session token is not valid", id="garbage"),
        pytest.param("Bearer TAMPERED", "the session token is not valid", id="tampered"),
        pytest.param(
            "Token pmk_abc_def",
            "send 'Authorization: Bearer <session_token>' from the start endpoint",
            id="staff-scheme",
        ),
    ],
)
@pytest.mark.parametrize("endpoint", ["api:play-events", "api:play-complete"])
def test_without_a_valid_session_token_the_answer_is_401(play, endpoint, authorization, message):
    # given a client with a missing or bad token
    client = APIClient()
    if authorization == "Bearer TAMPERED":
        authorization = f"Bearer {_tampered(play.session_token)}"
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    # when it posts to a candidate endpoint
    response = client.post(
        reverse(endpoint, args=[play.game_session_id]), {"events": []}, format="json"
    )

    # then it is not authenticated and nothing changes
    assert response.status_code == 401
    assert _error(response) == {"code": "not_authenticated", "message": message, "details": {}}
    assert response["WWW-Authenticate"] == "Bearer"
    assert GameSession.objects.get(pk=play.game_session_id).state == "pending"


def test_an_expired_session_token_is_401(play, settings):
    # given tokens that expire at once
    settings.PYMETRICS_PLAY_SESSION_MAX_AGE_S = -1

    response = play.send(VALID_PREFIX)

    assert response.status_code == 401
    assert _error(response)["message"] == (
        "the session token has expired; reopen your invitation link"
    )
    assert Event.objects.count() == 0


@pytest.mark.parametrize("endpoint", ["api:play-events", "api:play-complete"])
def test_an_unknown_game_session_is_404(play, endpoint):
    missing = play.game_session_id + 1000

    response = play.client.post(reverse(endpoint, args=[missing]), {"events": []}, format="json")

    assert response.status_code == 404
    assert _error(response) == {
        "code": "not_found",
        "message": f"game session {missing} not found",
        "details": {},
    }


def test_a_token_for_an_attempt_that_does_not_exist_cannot_write(play):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {session_token_issue(attempt_id=10**9)}")

    response = client.post(play.events_url, {"events": VALID_PREFIX}, format="json")

    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_events_after_complete_are_409(scored_play, make_balloon_events):
    # given a completed game whose 11 events are stored
    late = [{"seq": 12, "t": 2000.0, "type": "balloon_start", "data": {"balloon": 4}}]

    # when more events arrive
    response = scored_play.send(late)

    # then they are refused and the store is unchanged
    assert response.status_code == 409
    assert _error(response) == {
        "code": "session_closed",
        "message": "this game session is already complete and takes no more events",
        "details": {"acked_seq": 11},
    }
    assert Event.objects.filter(game_session_id=scored_play.game_session_id).count() == 11


# --- complete ----------------------------------------------------------------------------


def test_complete_scores_the_game_and_completes_the_attempt(
    play, make_balloon_events, django_capture_on_commit_callbacks
):
    # given the hand-made session, stored
    assert play.send(make_balloon_events(HAND_PLAN)).status_code == 200

    # when the browser completes the game
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = play.client.post(play.complete_url)

    # then the answer is 202 and scoring was queued once, after commit
    assert response.status_code == 202
    assert response.json() == {"game_session_id": play.game_session_id, "status": "completed"}
    # (the other callbacks bump the versions of cached reads)
    queued = [c for c in callbacks if not c.__qualname__.startswith("bump.")]
    assert len(queued) == 1
    # and the metrics are the ones worked out by hand (pymetrics/conftest.py, HAND_PLAN)
    metric_set = MetricSet.objects.get(game_session_id=play.game_session_id)
    assert metric_set.game == "balloons"
    assert metric_set.extractor_version == 1
    assert metric_set.values == HAND_METRICS
    assert metric_set.quality_flags == []
    game_session = GameSession.objects.get(pk=play.game_session_id)
    assert (game_session.state, game_session.scoring_error) == ("scored", "")
    attempt = Attempt.objects.get(pk=play.attempt_id)
    assert attempt.state == "completed"
    assert attempt.completed_at == game_session.completed_at


def test_complete_twice_is_idempotent(scored_play, django_capture_on_commit_callbacks):
    # given a completed, scored game
    before = MetricSet.objects.get(game_session_id=scored_play.game_session_id)

    # when the browser completes it again (a retried request)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = scored_play.client.post(scored_play.complete_url)

    # then it answers 202 again, queues nothing and changes nothing
    assert response.status_code == 202
    assert response.json() == {"game_session_id": scored_play.game_session_id, "status": "scored"}
    assert callbacks == []
    after = MetricSet.objects.get(game_session_id=scored_play.game_session_id)
    assert (after.pk, after.values, after.computed_at) == (
        before.pk,
        before.values,
        before.computed_at,
    )
    assert Attempt.objects.get(pk=scored_play.attempt_id).state == "completed"


def test_a_real_session_is_scored_like_its_balloons_say(play, django_capture_on_commit_callbacks):
    # given a real bot session, stored
    events = _bot_events(play, seed=23)
    assert play.send(events).json()["acked_seq"] == len(events)
    # the metrics, recomputed here from the ending event of every balloon
    ends = [(e["data"]["pumps"], e["type"]) for e in events if e["type"] in ("collect", "burst")]
    kept = [pumps for pumps, how in ends if how == "collect"]
    assert len(ends) == 30
    assert 0 < len(kept) < 30

    # when the game is completed
    with django_capture_on_commit_callbacks(execute=True):
        assert play.client.post(play.complete_url).status_code == 202

    # then the stored metrics match
    values = MetricSet.objects.get(game_session_id=play.game_session_id).values
    assert values["adjusted_pumps"] == pytest.approx(sum(kept) / len(kept), rel=1e-12)
    assert values["mean_pumps"] == pytest.approx(sum(pumps for pumps, _ in ends) / 30, rel=1e-12)
    assert values["bursts"] == 30 - len(kept)
    assert values["earnings_cents"] == 5 * sum(kept)


# --- the hot path's cost -----------------------------------------------------------------

EVENT_INSERT = 'INSERT INTO "events_event" '


def _ingest_queries(play: PlayClient, events: list[dict]) -> tuple[list[str], int]:
    """The queries one batch costs: (every query but the event inserts, event inserts).

    On PostgreSQL the insert is one statement that also moves the session's
    counters (``WITH fresh AS (INSERT ...) ... UPDATE``).
    """
    with CaptureQueriesContext(connection) as captured:
        response = play.send(events)
    assert response.status_code == 200
    assert response.json()["accepted"] == len(events)
    sqls = [query["sql"].strip() for query in captured.captured_queries]
    inserts = [sql for sql in sqls if EVENT_INSERT in sql]
    return [sql for sql in sqls if EVENT_INSERT not in sql], len(inserts)


def _insert_statements(events: int) -> int:
    """The most INSERTs a bulk insert of ``events`` rows may need on this database.

    One on PostgreSQL; SQLite caps the parameters of one statement (999 in Django's
    SQLite backend), so 6 columns x 500 rows take several statements there.
    """
    fields = [field for field in Event._meta.concrete_fields if not field.primary_key]
    rows_per_insert = min(1000, connection.ops.bulk_batch_size(fields, [None] * events))
    return math.ceil(events / rows_per_insert)


def _pumps(first_seq: int, count: int) -> list[dict]:
    return [
        {"seq": seq, "t": float(seq), "type": "pump", "data": {"balloon": 1, "pumps": 1}}
        for seq in range(first_seq, first_seq + count)
    ]


def test_the_events_endpoint_costs_a_constant_small_number_of_queries(
    play, django_assert_max_num_queries
):
    # given a game session that already holds a 5-event batch (and a process that
    # has looked up, once, which assessment the attempt's live activity counts for
    # and which candidate's cached reads its events change)
    from pymetrics.events.activity import _assessment_of
    from pymetrics.events.services import _candidate_of

    for lookup in (_assessment_of, _candidate_of):
        lookup.cache_clear()
        lookup(play.attempt_id)
    small_others, small_inserts = _ingest_queries(play, _pumps(1, 5))

    # when a 500-event batch arrives
    with django_assert_max_num_queries(5 + _insert_statements(500)):
        large_others, large_inserts = _ingest_queries(play, _pumps(6, 500))

    # then it costs the same queries as the small one, apart from the rows the
    # database takes per INSERT statement: no query per event
    assert len(large_others) == len(small_others) <= 5
    # and no query joins other tables (default orderings must not pull them in)
    assert [sql for sql in large_others if " JOIN " in sql] == []
    assert small_inserts == 1
    assert 1 <= large_inserts <= _insert_statements(500)
    assert Event.objects.filter(game_session_id=play.game_session_id).count() == 505
