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

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
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


@dataclass(frozen=True)
class _ParsedEvent:
    seq: int
    t: float
    type: str
    data: dict[str, Any]


def _envelope_error(index: int, event: Any, field: str, reason: str) -> dict[str, Any]:
    seq = event.get("seq") if isinstance(event, dict) else None
    return {
        "index": index,
        "seq": seq if isinstance(seq, int) else None,
        "field": field,
        "reason": reason,
    }


def _parse(game: Game, events: list[Any]) -> tuple[list[_ParsedEvent], dict[str, Any] | None]:
    """Parse events in order until the first invalid one (returned as an error dict)."""
    parsed: list[_ParsedEvent] = []
    validate = game.validate_event
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            return parsed, _envelope_error(index, event, "", "an event must be a JSON object")
        seq = event.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
            return parsed, _envelope_error(index, event, "seq", "must be an integer >= 1")
        t = event.get("t")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
            return parsed, _envelope_error(index, event, "t", "must be a finite number of ms >= 0")
        event_type = event.get("type")
        if not isinstance(event_type, str) or not event_type:
            return parsed, _envelope_error(index, event, "type", "must be a non-empty string")
        data = event.get("data", {})
        if not isinstance(data, dict):
            return parsed, _envelope_error(index, event, "data", "must be a JSON object")
        extra = set(event) - {"seq", "t", "type", "data"}
        if extra:
            return parsed, _envelope_error(
                index, event, sorted(extra)[0], "is not an envelope field"
            )
        try:
            validate(event_type, data)
        except EventDataError as error:
            field = f"data.{error.field}" if error.field else "type"
            return parsed, _envelope_error(index, event, field, error.message)
        parsed.append(_ParsedEvent(seq=seq, t=float(t), type=event_type, data=data))
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
    of another attempt cannot write into this game session.
    """
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
        result = _store(game_session, parsed)
    if error is not None:
        where = f"event {error['index']}" + (f" (seq {error['seq']})" if error["seq"] else "")
        raise InvalidEvent(
            f"{where}: {error['field'] or 'event'} {error['reason']}", details=error, result=result
        )
    return result


def _store(game_session: GameSession, parsed: list[_ParsedEvent]) -> IngestResult:
    acked = game_session.acked_seq
    if not parsed:
        return IngestResult(acked_seq=acked, accepted=0, duplicates=0)
    stored_above = np.fromiter(
        Event.objects.filter(game_session_id=game_session.pk, seq__gt=acked).values_list(
            "seq", flat=True
        ),
        dtype=np.int64,
    )
    already = set(stored_above.tolist())
    now = timezone.now()
    fresh: list[Event] = []
    fresh_seqs: list[int] = []
    duplicates = 0
    for event in parsed:
        if event.seq <= acked or event.seq in already:
            duplicates += 1
            continue
        already.add(event.seq)
        fresh_seqs.append(event.seq)
        fresh.append(
            Event(
                game_session_id=game_session.pk,
                seq=event.seq,
                t=event.t,
                type=event.type,
                data=event.data,
                received_at=now,
            )
        )
    if fresh:
        Event.objects.bulk_create(fresh, batch_size=1000)
    new_acked = _contiguous_high_water(
        acked, np.concatenate([stored_above, np.asarray(fresh_seqs, dtype=np.int64)])
    )
    if fresh or new_acked != acked:
        GameSession.objects.filter(pk=game_session.pk).update(
            acked_seq=new_acked,
            event_count=F("event_count") + len(fresh),
            state=GameSessionState.IN_PROGRESS,
            started_at=game_session.started_at or now,
        )
    return IngestResult(acked_seq=new_acked, accepted=len(fresh), duplicates=duplicates)


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
