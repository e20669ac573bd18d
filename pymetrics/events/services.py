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
from functools import lru_cache
from typing import Any

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import F, QuerySet
from django.utils import timezone

from pymetrics.assessments.models import Attempt, GameSession, GameSessionState
from pymetrics.common import jsonio
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from pymetrics.common.opsstats import ingest_record
from pymetrics.common.telemetry import EVENT_BATCHES, EVENTS_INGESTED, INGEST_SECONDS
from pymetrics.common.versions import bump, candidate_scope
from pymetrics.events.activity import activity_record
from pymetrics.events.models import Event
from pymetrics.games.base import EventDataError, Game
from pymetrics.games.registry import get_game

MAX_EVENT_TYPE_LENGTH = 32
MAX_SEQ = 2**31 - 1
#: Nested objects and arrays an event's ``data`` may hold, itself included: the JSON
#: encoder (orjson) takes at most 254 levels, and the batch and the event take two.
MAX_DATA_DEPTH = 252


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
        elapsed_s = time.perf_counter() - started
        INGEST_SECONDS.observe(elapsed_s)
        if outcome != "rejected":  # system status: batch received -> stored (memory only)
            ingest_record(elapsed_s * 1000)
    activity_record(attempt_id=attempt_id, events=result.accepted)
    if result.accepted:
        _bump_candidate_of(attempt_id)
    return result


@lru_cache(maxsize=65536)
def _candidate_of(attempt_id: int) -> int | None:
    """An attempt's candidate never changes: remember it in the process."""
    return Attempt.objects.filter(pk=attempt_id).values_list("candidate_id", flat=True).first()


def _bump_candidate_of(attempt_id: int) -> None:
    """New events change the candidate's event counts: their cached reads are stale."""
    candidate_id = _candidate_of(attempt_id)
    if candidate_id is not None:
        bump(candidate_scope(candidate_id))


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
        game_session = _lock(game_session_id)
        if game_session is None:
            raise NotFound(f"game session {game_session_id} not found")
        if game_session.attempt_id != attempt_id:
            raise PermissionDenied(
                "this session token does not belong to this game session", code="wrong_session"
            )
        if game_session.state not in (GameSessionState.PENDING, GameSessionState.IN_PROGRESS):
            raise Conflict(
                "this game was interrupted and started again as a new session"
                if game_session.state == GameSessionState.SUPERSEDED
                else "this game session is already complete and takes no more events",
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


@dataclass(frozen=True)
class _LockedSession:
    pk: int
    attempt_id: int
    game: str
    state: str
    acked_seq: int
    started_at: datetime | None


def _lock(game_session_id: int) -> _LockedSession | None:
    """Lock the game session row for this batch; its writers queue behind one another.

    Plain SQL on PostgreSQL, where this runs once per batch on the hot path.
    """
    if connection.vendor == "postgresql":
        with _pg_cursor() as cursor:
            cursor.execute(_PG_LOCK_SQL, [game_session_id])
            row = cursor.fetchone()
    else:
        row = (
            GameSession.objects.select_for_update()
            .filter(pk=game_session_id)
            .values_list("pk", "attempt_id", "game", "state", "acked_seq", "started_at")
            .first()
        )
    return None if row is None else _LockedSession(*row)


_GAME_SESSION_TABLE = GameSession._meta.db_table
_EVENT_TABLE = Event._meta.db_table

_PG_LOCK_SQL = f"""
    SELECT id, attempt_id, game, state, acked_seq, started_at
    FROM "{_GAME_SESSION_TABLE}" WHERE id = %s FOR UPDATE
"""  # noqa: S608 - the table name comes from model metadata; values are parameters  # nosec B608


def _pg_cursor() -> CursorWrapper:
    """A cursor on Django's connection that binds on the server and prepares statements.

    Django's own cursors interpolate parameters in Python (client-side binding);
    for a batch sent as one JSON document of tens of kilobytes that quoting is a
    large part of the cost, and a statement the server never prepares is planned
    on every batch. Wrapped as Django wraps its own, so the queries are logged and
    counted like any other.
    """
    connection.ensure_connection()
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    return wrapper(psycopg.Cursor(connection.connection), connection)


def _encode(events: list[_ValidEvent]) -> str:
    """The batch as one JSON document (orjson: in C, several times faster than json)."""
    return jsonio.dumps(events)


def _refuse_unstorable(
    parsed: list[_ValidEvent], error: dict[str, Any] | None
) -> tuple[list[_ValidEvent], dict[str, Any] | None, str | None]:
    """Stop the batch at the first event whose data no database could store alike.

    A NUL character in a string (PostgreSQL's jsonb refuses it, SQLite would keep
    it), an integer beyond 64 bits, or nesting deeper than MAX_DATA_DEPTH (the
    request parser reads deeper documents than the encoder writes). The batch is
    JSON-encoded once to find out, in C, and that encoding is returned for the
    insert; events are walked one by one only when the encoding shows a problem.
    Non-finite numbers never get here: :func:`pymetrics.common.jsonio.loads` refuses
    them in client input, and :func:`events_store_trusted` in server-made events.
    """
    try:
        encoded = _encode(parsed)
    except TypeError:  # orjson: an integer beyond 64 bits, or not a JSON value at all
        encoded = None
    if encoded is not None and "\\u0000" not in encoded:
        return parsed, error, encoded
    for index, event in enumerate(parsed):
        problem = _unstorable(event["data"], "data")
        if problem is not None:
            field, reason = problem
            return parsed[:index], _envelope_error(index, event, field, reason), None
    if encoded is None:
        raise TypeError("events hold a value that is not JSON; only server code can send one")
    # a false alarm: the text "\\u0000" written out by the client, not a NUL
    return parsed, error, encoded


def _unstorable(value: Any, path: str, depth: int = 1) -> tuple[str, str] | None:
    """(field, reason) of the first value under ``path`` that cannot be stored, or None.

    ``depth`` is the nesting level of ``value`` when it is an object or array.
    """
    if isinstance(value, str):
        return (path, "must not contain a NUL character (\\u0000)") if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -(2**63) <= value < 2**64 else (path, "must fit in 64 bits")
    if isinstance(value, dict | list) and depth > MAX_DATA_DEPTH:
        return path, f"must not nest objects and arrays deeper than {MAX_DATA_DEPTH} levels"
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}"
            if isinstance(key, str) and "\x00" in key:
                return field.replace("\x00", "\\u0000"), "must not contain a NUL character"
            problem = _unstorable(item, field, depth + 1)
            if problem is not None:
                return problem
    elif isinstance(value, list):
        for position, item in enumerate(value):
            problem = _unstorable(item, f"{path}.{position}", depth + 1)
            if problem is not None:
                return problem
    return None


def _store(
    game_session: _LockedSession, parsed: list[_ValidEvent], encoded: str | None
) -> IngestResult:
    """Store the events not stored yet; ``encoded`` is ``parsed`` as JSON, if known."""
    acked = game_session.acked_seq
    fresh = _unseen(parsed, acked)
    if len(fresh) != len(parsed):
        encoded = None
    now = timezone.now()
    if not fresh:
        accepted, new_acked = 0, acked
    elif connection.vendor == "postgresql":
        accepted, new_acked = _store_postgresql(
            game_session.pk, acked, encoded or _encode(fresh), now
        )
    else:
        inserted, stored_above = _insert_portable(game_session.pk, acked, fresh, now)
        accepted = len(inserted)
        new_acked = _contiguous_high_water(
            acked, np.asarray([*stored_above, *inserted], dtype=np.int64)
        )
        if inserted or new_acked != acked:
            GameSession.objects.filter(pk=game_session.pk).update(
                acked_seq=new_acked,
                event_count=F("event_count") + accepted,
                state=GameSessionState.IN_PROGRESS,
                started_at=game_session.started_at or now,
            )
    return IngestResult(acked_seq=new_acked, accepted=accepted, duplicates=len(parsed) - accepted)


def _unseen(parsed: list[_ValidEvent], acked: int) -> list[_ValidEvent]:
    """The events above ``acked``, each seq once (its first occurrence in the batch)."""
    seen: set[int] = set()
    fresh = []
    for event in parsed:
        seq = event["seq"]
        if seq > acked and seq not in seen:
            seen.add(seq)
            fresh.append(event)
    return fresh


def _store_postgresql(
    game_session_id: int, acked: int, encoded: str, now: datetime
) -> tuple[int, int]:
    """Insert a batch and move the session's counters in one statement; (stored, acked_seq).

    ``encoded`` holds events above ``acked`` with distinct seqs. The statement:

    * reads the seqs above ``acked`` that earlier batches stored (one snapshot,
      taken after the session row was locked, so no other writer can add any);
    * inserts the batch's other events, unpacked on the server from one JSON
      document (``jsonb_to_recordset``): no per-row work in Python;
    * computes the new ``acked_seq`` as the length of the run ``acked + 1,
      acked + 2, ...`` among the stored and new seqs (in ascending order,
      ``seq - position`` equals ``acked`` exactly along that run);
    * updates the session row.

    No ``ON CONFLICT``: under the lock a conflict cannot happen, and the unique
    constraint would refuse, loudly, a duplicate that got here anyway. One round
    trip after the lock, bound on the server and prepared after a few batches.
    ADR 0012 explains this path and the measurements behind it.
    """
    with _pg_cursor() as cursor:
        cursor.execute(
            _PG_STORE_SQL,
            {
                "session": game_session_id,
                "now": now,
                "events": encoded,
                "acked": acked,
                "in_progress": GameSessionState.IN_PROGRESS.value,
            },
        )
        row = cursor.fetchone()
    assert row is not None
    accepted, new_acked = row
    return int(accepted), int(new_acked)


_PG_STORE_SQL = f"""
    WITH earlier AS (
        SELECT seq FROM "{_EVENT_TABLE}"
        WHERE game_session_id = %(session)s AND seq > %(acked)s
    ),
    fresh AS (
        INSERT INTO "{_EVENT_TABLE}" (game_session_id, seq, t, type, data, received_at)
        SELECT %(session)s, e.seq, e.t, e.type, e.data, %(now)s
        FROM jsonb_to_recordset(%(events)s::jsonb)
            AS e(seq integer, t double precision, type text, data jsonb)
        WHERE e.seq NOT IN (SELECT seq FROM earlier)
        RETURNING seq
    ),
    counts AS (
        SELECT
            (SELECT count(*) FROM fresh) AS accepted,
            %(acked)s + (
                SELECT count(*) FROM (
                    SELECT seq - row_number() OVER (ORDER BY seq) AS offset_from_run
                    FROM (SELECT seq FROM fresh UNION ALL SELECT seq FROM earlier) AS stored
                ) AS ranked
                WHERE offset_from_run = %(acked)s
            ) AS acked_seq
    ),
    moved AS (
        UPDATE "{_GAME_SESSION_TABLE}" AS game_session SET
            acked_seq = counts.acked_seq,
            event_count = game_session.event_count + counts.accepted,
            state = %(in_progress)s,
            started_at = COALESCE(game_session.started_at, %(now)s)
        FROM counts
        WHERE game_session.id = %(session)s
            AND (counts.accepted > 0 OR counts.acked_seq <> %(acked)s)
    )
    SELECT accepted, acked_seq FROM counts
"""  # noqa: S608 - table names come from model metadata; values are parameters  # nosec B608


def _insert_portable(
    game_session_id: int, acked: int, fresh: list[_ValidEvent], now: datetime
) -> tuple[list[int], list[int]]:
    """Django's bulk insert (SQLite, the embedded default); (seqs inserted, stored before).

    ``fresh`` holds events above ``acked`` with distinct seqs; those an earlier
    batch stored above ``acked`` are left out.
    """
    stored_above = list(
        Event.objects.filter(game_session_id=game_session_id, seq__gt=acked)
        .order_by()
        .values_list("seq", flat=True)
    )
    already = set(stored_above)
    rows = [
        Event(
            game_session_id=game_session_id,
            seq=e["seq"],
            t=e["t"],
            type=e["type"],
            data=e["data"],
            received_at=now,
        )
        for e in fresh
        if e["seq"] not in already
    ]
    Event.objects.bulk_create(rows, batch_size=1000)
    return [row.seq for row in rows], stored_above


def game_sessions_lock_for_deletion(game_sessions: QuerySet[GameSession]) -> list[int]:
    """Lock game sessions in the deleting transaction; call before deleting them or an owner.

    Events have no database-level foreign key (ADR 0012). A batch being stored
    holds its session's row lock until it commits; taking the same locks first
    means every such batch has committed (and its events are seen and deleted),
    and any later batch finds its session gone. Returns the locked sessions' ids.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock game sessions inside the transaction that deletes them")
    return list(
        game_sessions.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True)
    )


def events_store_trusted(*, game_session_id: int, events: list[dict[str, Any]]) -> IngestResult:
    """Ingest server-made events (simulation) through the same rules, in large batches.

    The events go through a JSON round trip first, so they reach ingestion exactly
    as a client's would: plain types only (numpy scalars become numbers), and a
    non-finite number is a ValueError here, as it is a parse error for a client.
    """
    try:
        events = json.loads(json.dumps(events, allow_nan=False))
    except ValueError as error:
        raise ValueError(f"server-made events must hold finite numbers: {error}") from None
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
