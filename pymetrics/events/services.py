"""Event ingestion: validate, dedupe by (game_session, seq), store in one batch, ack.

The same function serves the HTTP batch endpoint, WebSocket clients, simulations
and imports, so every path follows the same idempotency rules:

* an event whose seq is already stored is a duplicate: counted, not stored again;
* the first invalid event stops the batch with an error naming it and its field,
  while the valid events before it are stored;
* ``acked_seq`` is the highest seq up to which every event is stored, so a gap in
  the sequence holds it back until the missing events arrive.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pymetrics.common.telemetry import EVENT_BATCHES, EVENTS_INGESTED, INGEST_SECONDS
from pymetrics.events.activity import activity_record
from pymetrics.events.models import Event
from pymetrics.games.base import EventDataError, Game
from pymetrics.games.registry import get_game

MAX_EVENT_TYPE_LENGTH = 32
MAX_SEQ = 2**31 - 1


@dataclass(frozen=True)
class IngestResult:
    acked_seq: int
    accepted: int
    duplicates: int

    def as_dict(self) -> dict[str, int]:
        return {
            "acked_seq": self.acked_seq,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
        }


class InvalidEvent(ValidationFailed):
    """An event of a batch is not valid; ``result`` says what of the batch was stored."""

    code = "invalid_event"

    def __init__(self, message: str, *, details: dict[str, Any], result: IngestResult) -> None:
        super().__init__(message, details={**details, **result.as_dict()})
        self.result = result


#: A validated event: exactly the envelope fields, ``t`` a float, ``data`` present.
#: The client's own dict when it already has that shape (the usual case), so a
#: batch is not copied event by event on the hot path.
_ValidEvent = dict[str, Any]

_ENVELOPE_FIELDS = frozenset({"seq", "t", "type", "data"})


def _envelope_error(index: int, event: Any, field: str, reason: str) -> dict[str, Any]:
    seq = event.get("seq") if isinstance(event, dict) else None
    return {
        "index": index,
        "seq": seq if isinstance(seq, int) else None,
        "field": field,
        "reason": reason,
    }


def _parse(game: Game, events: list[Any]) -> tuple[list[_ValidEvent], dict[str, Any] | None]:
    """Validate events in order until the first invalid one (returned as an error dict)."""
    parsed: list[_ValidEvent] = []
    validate = game.validate_event
    isfinite = math.isfinite
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            return parsed, _envelope_error(index, event, "", "an event must be a JSON object")
        seq = event.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
            return parsed, _envelope_error(index, event, "seq", "must be an integer >= 1")
        t = event.get("t")
        if type(t) is not float:
            # ints are fine if a float can hold them (a huge int cannot: OverflowError)
            try:
                t = float(t) if isinstance(t, int) and not isinstance(t, bool) else None
            except OverflowError:
                t = None
        if t is None or not isfinite(t) or t < 0:
            return parsed, _envelope_error(index, event, "t", "must be a finite number of ms >= 0")
        event_type = event.get("type")
        if not isinstance(event_type, str) or not event_type:
            return parsed, _envelope_error(index, event, "type", "must be a non-empty string")
        data = event.get("data", {})
        if not isinstance(data, dict):
            return parsed, _envelope_error(index, event, "data", "must be a JSON object")
        if not event.keys() <= _ENVELOPE_FIELDS:
            extra = sorted(set(event) - _ENVELOPE_FIELDS)
            return parsed, _envelope_error(index, event, extra[0], "is not an envelope field")
        try:
            validate(event_type, data)
        except EventDataError as error:
            field = f"data.{error.field}" if error.field else "type"
            return parsed, _envelope_error(index, event, field, error.message)
        if t is not event["t"] or "data" not in event:
            event = {"seq": seq, "t": t, "type": event_type, "data": data}
        parsed.append(event)
    return parsed, None


def _contiguous_high_water(acked_seq: int, stored_above: np.ndarray) -> int:
    """Highest seq such that every seq up to it is stored, given those above acked_seq."""
    if stored_above.size == 0:
        return acked_seq
    ordered = np.unique(stored_above)
    expected = np.arange(acked_seq + 1, acked_seq + 1 + ordered.size)
    mismatch = np.flatnonzero(ordered != expected)
    run = ordered.size if mismatch.size == 0 else int(mismatch[0])
    return acked_seq + run


def events_ingest(*, game_session_id: int, attempt_id: int, events: Any) -> IngestResult:
    """Store a batch of events of one game session and acknowledge them.

    ``attempt_id`` is the attempt the caller's session token was issued for: a token
    of another attempt cannot write into this game session. Every batch is counted
    and timed in :mod:`pymetrics.common.telemetry` (outcome ``stored``, ``invalid``
    when an invalid event stopped it, ``rejected`` when nothing was looked at).
    """
    started = time.perf_counter()
    outcome = "rejected"
    try:
        result = _ingest(game_session_id=game_session_id, attempt_id=attempt_id, events=events)
    except InvalidEvent as error:
        outcome = "invalid"
        EVENTS_INGESTED.inc(error.result.accepted)
        activity_record(attempt_id=attempt_id, events=error.result.accepted)
        raise
    else:
        outcome = "stored"
        EVENTS_INGESTED.inc(result.accepted)
    finally:
        EVENT_BATCHES.labels(outcome=outcome).inc()
        INGEST_SECONDS.observe(time.perf_counter() - started)
    activity_record(attempt_id=attempt_id, events=result.accepted)
    return result


def _ingest(*, game_session_id: int, attempt_id: int, events: Any) -> IngestResult:
    if not isinstance(events, list):
        raise ValidationFailed(
            "'events' must be a list of events", code="malformed_batch", details={"field": "events"}
        )
    limit = settings.PYMETRICS_MAX_EVENTS_PER_BATCH
    if len(events) > limit:
        raise ValidationFailed(
            f"a batch may hold at most {limit} events, this one has {len(events)}",
            code="batch_too_large",
            details={"max_events": limit, "events": len(events)},
        )
    with transaction.atomic():
        game_session = (
            GameSession.objects.select_for_update()
            .only("id", "attempt_id", "game", "state", "acked_seq", "started_at")
            .filter(pk=game_session_id)
            .first()
        )
        if game_session is None:
            raise NotFound(f"game session {game_session_id} not found")
        if game_session.attempt_id != attempt_id:
            raise PermissionDenied(
                "this session token does not belong to this game session", code="wrong_session"
            )
        if game_session.state not in (GameSessionState.PENDING, GameSessionState.IN_PROGRESS):
            raise Conflict(
                "this game session is already complete and takes no more events",
                code="session_closed",
                details={"acked_seq": game_session.acked_seq},
            )
        parsed, error = _parse(get_game(game_session.game), events)
        parsed, error, encoded = _refuse_unstorable(parsed, error)
        result = _store(game_session, parsed, encoded)
    if error is not None:
        where = f"event {error['index']}" + (f" (seq {error['seq']})" if error["seq"] else "")
        raise InvalidEvent(
            f"{where}: {error['field'] or 'event'} {error['reason']}", details=error, result=result
        )
    return result


def _encode(events: list[_ValidEvent]) -> str:
    return json.dumps(events, separators=(",", ":"), allow_nan=False)


def _refuse_unstorable(
    parsed: list[_ValidEvent], error: dict[str, Any] | None
) -> tuple[list[_ValidEvent], dict[str, Any] | None, str | None]:
    """Stop the batch at the first event whose data no database could store alike.

    A NUL character in a string (PostgreSQL's jsonb refuses it, SQLite would keep
    it) or a non-finite number (not JSON; only trusted callers can send one). The
    batch is JSON-encoded once to find out, in C, and that encoding is returned for
    the insert; events are walked one by one only when the encoding shows a problem.
    """
    try:
        encoded = _encode(parsed)
    except ValueError:
        encoded = None
    if encoded is not None and "\\u0000" not in encoded:
        return parsed, error, encoded
    for index, event in enumerate(parsed):
        problem = _unstorable(event["data"], "data")
        if problem is not None:
            field, reason = problem
            return parsed[:index], _envelope_error(index, event, field, reason), None
    # a false alarm: the text "\\u0000" written out by the client, not a NUL
    return parsed, error, encoded


def _unstorable(value: Any, path: str) -> tuple[str, str] | None:
    """(field, reason) of the first value under ``path`` that cannot be stored, or None."""
    if isinstance(value, str):
        return (path, "must not contain a NUL character (\\u0000)") if "\x00" in value else None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "must be a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}"
            if isinstance(key, str) and "\x00" in key:
                return field.replace("\x00", "\\u0000"), "must not contain a NUL character"
            problem = _unstorable(item, field)
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for position, item in enumerate(value):
            problem = _unstorable(item, f"{path}.{position}")
            if problem is not None:
                return problem
    return None


def _store(
    game_session: GameSession, parsed: list[_ValidEvent], encoded: str | None
) -> IngestResult:
    """Store the events not stored yet; ``encoded`` is ``parsed`` as JSON, if known."""
    acked = game_session.acked_seq
    if not parsed:
        return IngestResult(acked_seq=acked, accepted=0, duplicates=0)
    stored_above = list(
        Event.objects.filter(game_session_id=game_session.pk, seq__gt=acked)
        .order_by()
        .values_list("seq", flat=True)
    )
    already = set(stored_above)
    fresh: list[_ValidEvent] = []
    for event in parsed:
        seq = event["seq"]
        if seq <= acked or seq in already:
            continue
        already.add(seq)
        fresh.append(event)
    now = timezone.now()
    if len(fresh) != len(parsed):
        encoded = None
    inserted = _insert_events(game_session.pk, fresh, now, encoded) if fresh else []
    new_acked = _contiguous_high_water(
        acked, np.asarray([*stored_above, *inserted], dtype=np.int64)
    )
    if inserted or new_acked != acked:
        GameSession.objects.filter(pk=game_session.pk).update(
            acked_seq=new_acked,
            event_count=F("event_count") + len(inserted),
            state=GameSessionState.IN_PROGRESS,
            started_at=game_session.started_at or now,
        )
    return IngestResult(
        acked_seq=new_acked, accepted=len(inserted), duplicates=len(parsed) - len(inserted)
    )


def _insert_events(
    game_session_id: int, events: list[_ValidEvent], now: datetime, encoded: str | None
) -> list[int]:
    """Insert events (no duplicates among them) and return the seqs actually stored.

    PostgreSQL gets the whole batch as one JSON document unpacked by the server
    (``jsonb_to_recordset``): one statement, no per-row work in Python beyond one
    ``json.dumps``, several times faster than building and binding model instances.
    ``ON CONFLICT DO NOTHING ... RETURNING`` keeps the count exact should a row
    appear between the read under the session lock and the insert. Other databases
    take Django's bulk insert, whose statements the unique constraint still guards.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_INSERT_SQL, [game_session_id, now, encoded or _encode(events)])
            return [seq for (seq,) in cursor.fetchall()]
    Event.objects.bulk_create(
        [
            Event(
                game_session_id=game_session_id,
                seq=e["seq"],
                t=e["t"],
                type=e["type"],
                data=e["data"],
                received_at=now,
            )
            for e in events
        ],
        batch_size=1000,
    )
    return [e["seq"] for e in events]


_PG_INSERT_SQL = f"""
    INSERT INTO "{Event._meta.db_table}" (game_session_id, seq, t, type, data, received_at)
    SELECT %s, e.seq, e.t, e.type, e.data, %s
    FROM jsonb_to_recordset(%s::jsonb) AS e(seq integer, t double precision, type text, data jsonb)
    ON CONFLICT (game_session_id, seq) DO NOTHING
    RETURNING seq
"""  # noqa: S608 - the table name comes from model metadata; values are parameters


def events_store_trusted(*, game_session_id: int, events: list[dict[str, Any]]) -> IngestResult:
    """Ingest server-made events (simulation) through the same rules, in large batches."""
    game_session = GameSession.objects.only("attempt_id").get(pk=game_session_id)
    limit = settings.PYMETRICS_MAX_EVENTS_PER_BATCH
    accepted = duplicates = 0
    acked = 0
    for start in range(0, len(events), limit):
        result = events_ingest(
            game_session_id=game_session_id,
            attempt_id=game_session.attempt_id,
            events=events[start : start + limit],
        )
        accepted += result.accepted
        duplicates += result.duplicates
        acked = result.acked_seq
    return IngestResult(acked_seq=acked, accepted=accepted, duplicates=duplicates)
