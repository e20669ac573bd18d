"""Property tests of event ingestion against hostile envelopes (DESIGN.md 4.3 and 4.5).

Whatever a client sends, a batch either is stored exactly (each new seq once, ``t``
as a float, ``data`` as sent) or is refused with :class:`InvalidEvent` naming the
index and field of its first invalid event, the valid events before that one
stored and nothing of it or after it. No other exception may escape. Inputs go
through the transport's JSON decoder first (``jsonio.loads``, as the HTTP body and
the socket frames do), so values it refuses (NaN, infinities, lone surrogates) are
a parse error there and never reach ingestion.

The expected outcome comes from :func:`_problems`, an independent reading of the
envelope contract, not from the code under test.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import event as label
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pymetrics.assessments.models import GameSession
from pymetrics.assessments.services import assessment_create, attempt_start, candidate_invite
from pymetrics.common import jsonio
from pymetrics.common.errors import ValidationFailed
from pymetrics.events.models import Event
from pymetrics.events.services import (
    MAX_DATA_DEPTH,
    MAX_SEQ,
    IngestResult,
    InvalidEvent,
    events_ingest,
)
from pymetrics.games import registry
from pymetrics.games.base import EventDataError, Game
from pymetrics.games.registry import get_game

# --- strategies -----------------------------------------------------------------------

_EDGE_INTS = st.sampled_from(
    [0, -1, 1, MAX_SEQ, MAX_SEQ + 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63)]
)
_EDGE_FLOATS = st.sampled_from(
    [0.0, -0.0, 1e-320, 1e308, -1e308, math.nan, math.inf, -math.inf, 0.1, 2.0**53]
)
#: any text, also NUL, controls, astral characters and lone surrogates
_TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=8),
    st.sampled_from(
        ["", "\x00", "a\x00b", "\ud800", "\udfff", "\u2028", "\ufeff", "\U0001d52d", "\\u0000"]
    ),
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    _EDGE_INTS,
    st.floats(),
    _EDGE_FLOATS,
    _TEXT,
)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_TEXT, children, max_size=4)
    ),
    max_leaves=12,
)

_BALLOON_TYPES = ("balloon_start", "pump", "collect", "burst", "visibility", "focus")


@st.composite
def _plausible_data(draw: st.DrawFn) -> dict[str, Any]:
    """Data close to a valid balloons or free event: right keys, sometimes wrong values."""
    keys = draw(st.lists(st.sampled_from(["balloon", "pumps", "state", "x"]), max_size=3))
    value = st.one_of(st.integers(min_value=-2, max_value=200), _SCALARS, _JSON)
    return {key: draw(value) for key in keys}


@st.composite
def _envelope(draw: st.DrawFn) -> Any:
    """One event: mostly well-formed, with one or more fields replaced by anything."""
    event: dict[str, Any] = {
        "seq": draw(st.integers(min_value=1, max_value=12)),
        "t": draw(st.floats(min_value=0, max_value=1e6)),
        "type": draw(st.sampled_from([*_BALLOON_TYPES, "blob", "unknown", ""])),
        "data": draw(_plausible_data()),
    }
    for field in draw(st.lists(st.sampled_from(["seq", "t", "type", "data"]), max_size=2)):
        event[field] = draw(_JSON)
    if draw(st.booleans()) and draw(st.booleans()):
        del event[draw(st.sampled_from(["seq", "t", "type", "data"]))]
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        event[draw(_TEXT)] = draw(_SCALARS)
    if draw(st.integers(min_value=0, max_value=14)) == 0:
        return draw(_JSON)  # not an object at all (or an arbitrary one)
    return event


_BATCH = st.lists(_envelope(), max_size=8)


# --- the contract, read independently ---------------------------------------------------


def _storable_problem(value: Any, path: str, depth: int = 1) -> str | None:
    """The path of the first value no database stores alike (NUL, > 64-bit integer,
    containers nested deeper than MAX_DATA_DEPTH)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -(2**63) <= value < 2**64 else path
    if isinstance(value, dict | list) and depth > MAX_DATA_DEPTH:
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return f"{path}.{key}".replace("\x00", "\\u0000")
            found = _storable_problem(item, f"{path}.{key}", depth + 1)
            if found is not None:
                return found
    if isinstance(value, list):
        for position, item in enumerate(value):
            found = _storable_problem(item, f"{path}.{position}", depth + 1)
            if found is not None:
                return found
    return None


def _problems(game: Game, event: Any) -> set[str]:
    """Every field the contract refuses in ``event`` ("" for the event as a whole).

    For data the game's validator decides (refusals name ``data.<key>``, or ``type``
    for an unknown type); the storable check only runs on data the validator took.
    """
    if not isinstance(event, dict):
        return {""}
    bad: set[str] = set()
    seq = event.get("seq")
    if not (type(seq) is int and 1 <= seq <= MAX_SEQ):
        bad.add("seq")
    t = event.get("t")
    finite = type(t) is float and 0 <= t < math.inf
    if not (finite or (type(t) is int and 0 <= t < 2**1024)):
        bad.add("t")
    kind = event.get("type")
    if not (isinstance(kind, str) and kind):
        bad.add("type")
    data = event.get("data", {})
    if not isinstance(data, dict):
        bad.add("data")
    bad.update(key for key in event if key not in ("seq", "t", "type", "data"))
    if isinstance(kind, str) and kind and isinstance(data, dict):
        try:
            game.validate_event(kind, data)
        except EventDataError as error:
            bad.add(f"data.{error.field}" if error.field else "type")
        else:
            unstorable = _storable_problem(data, "data")
            if unstorable is not None:
                bad.add(unstorable)
    return bad


def _row(event: dict[str, Any]) -> tuple[int, float, str, Any]:
    return (event["seq"], float(event["t"]), event["type"], _numbers(event.get("data", {})))


def _numbers(value: Any) -> Any:
    """``value`` with every number as a float: JSON has one number type, and
    PostgreSQL's jsonb gives ``4.0e16`` back as the integer it equals."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


# --- fixtures ---------------------------------------------------------------------------


def _accept_any_blob(data: Mapping[str, Any]) -> None:
    """A free-form event: anything JSON may be stored, so storage is tested on all of it."""


@pytest.fixture
def hostile_game(monkeypatch: pytest.MonkeyPatch, organization: Any) -> Any:
    """Makes new game sessions of ``hostile``: balloons' events plus a free-form ``blob``."""
    balloons = get_game("balloons")
    hostile = dataclasses.replace(
        balloons, key="hostile", event_types={**balloons.event_types, "blob": _accept_any_blob}
    )
    monkeypatch.setattr(registry, "_games", lambda: {"balloons": balloons, "hostile": hostile})
    assessment = assessment_create(organization=organization, name="Hostile", games=["hostile"])

    def new_session() -> GameSession:
        attempt = attempt_start(attempt=candidate_invite(assessment=assessment).attempt)
        return GameSession.objects.get(attempt=attempt)

    return hostile, new_session


def _through_transport(value: Any) -> tuple[bool, Any]:
    """(decoded, value) as the HTTP parser or a socket frame would hand it on."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (UnicodeEncodeError, ValueError):  # pragma: no cover - json.dumps takes all of these
        return False, None
    try:
        encoded = text.encode("utf-8", "surrogatepass")
        return True, jsonio.loads(encoded)
    except jsonio.JSONDecodeError:
        return False, None


def _not_json(value: Any) -> bool:
    """Whether ``value`` holds what strict JSON cannot carry: NaN, infinities, numbers
    beyond a double, lone surrogates."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) >= 2**1024
    if isinstance(value, str):
        return any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    if isinstance(value, dict):
        return any(_not_json(key) or _not_json(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_not_json(item) for item in value)
    return False


# --- properties -------------------------------------------------------------------------


@given(batches=st.lists(_BATCH, min_size=1, max_size=3))
@hyp_settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_batch_is_stored_exactly_or_refused_at_its_first_invalid_event(hostile_game, batches):
    game, new_session = hostile_game
    game_session = new_session()
    expected: dict[int, tuple[int, float, str, Any]] = {}

    for batch in batches:
        decoded, events = _through_transport(batch)
        if not decoded:
            # NaN, infinities, lone surrogates: the transport refuses the whole body (a 400)
            assert _not_json(batch), batch
            continue
        problems = [_problems(game, event) for event in events]
        first_bad = next((index for index, bad in enumerate(problems) if bad), None)
        valid = events if first_bad is None else events[:first_bad]
        fresh = {}
        for event in valid:
            if event["seq"] not in expected and event["seq"] not in fresh:
                fresh[event["seq"]] = _row(event)

        # when the batch is ingested
        outcome: IngestResult | InvalidEvent
        try:
            outcome = events_ingest(
                game_session_id=game_session.pk, attempt_id=game_session.attempt_id, events=events
            )
        except InvalidEvent as raised:
            outcome = raised

        if isinstance(outcome, InvalidEvent):
            # then it is refused at its first invalid event, naming one of its bad fields
            assert first_bad is not None, (events, outcome.details)
            assert outcome.details["index"] == first_bad, (events, outcome.details)
            assert outcome.details["field"] in problems[first_bad], (problems, outcome.details)
            assert outcome.message.startswith(f"event {first_bad}")
            assert outcome.status == 400
            accepted = outcome.result.accepted
            label(f"refused at {outcome.details['field'].split('.')[0] or 'event'}")
        else:
            assert first_bad is None, (events, problems)
            accepted = outcome.accepted
            assert outcome.duplicates == len(events) - accepted
            label("stored")

        # and exactly the valid events before it are stored, each new seq once
        assert accepted == len(fresh)
        expected.update(fresh)
        stored = [
            (seq, t, kind, _numbers(data))
            for seq, t, kind, data in Event.objects.filter(game_session=game_session)
            .order_by("seq")
            .values_list("seq", "t", "type", "data")
        ]
        assert stored == [expected[seq] for seq in sorted(expected)]
        game_session.refresh_from_db()
        run = 0
        while run + 1 in expected:
            run += 1
        assert (game_session.acked_seq, game_session.event_count) == (run, len(expected))


@given(events=st.one_of(_JSON, st.dictionaries(_TEXT, _JSON, max_size=3)))
@hyp_settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_a_batch_that_is_not_a_list_is_refused_whole(hostile_game, events):
    _game, new_session = hostile_game
    game_session = new_session()
    if isinstance(events, list):
        events = {"events": events}

    with pytest.raises(ValidationFailed) as raised:
        events_ingest(
            game_session_id=game_session.pk, attempt_id=game_session.attempt_id, events=events
        )

    assert (raised.value.code, raised.value.details) == ("malformed_batch", {"field": "events"})
    assert not Event.objects.filter(game_session=game_session).exists()


def _nested(levels: int) -> dict[str, Any]:
    """Data of ``levels`` nested objects, the innermost holding a string."""
    data: dict[str, Any] = {"leaf": "\U0001d52d\u2028"}
    for _ in range(levels - 1):
        data = {"next": data}
    return data


def test_data_nested_as_deep_as_allowed_is_stored_exactly_one_more_level_is_refused(
    hostile_game,
):
    # given free-form events as deep as allowed, then one level deeper: both are
    # within what the request parser reads (1024 levels)
    _game, new_session = hostile_game
    game_session = new_session()
    deepest, too_deep = _nested(MAX_DATA_DEPTH), _nested(MAX_DATA_DEPTH + 1)
    body = json.dumps(
        [
            {"seq": 1, "t": 0, "type": "blob", "data": deepest},
            {"seq": 2, "t": 1, "type": "blob", "data": too_deep},
        ]
    )

    # when they arrive in one batch
    with pytest.raises(InvalidEvent) as raised:
        events_ingest(
            game_session_id=game_session.pk,
            attempt_id=game_session.attempt_id,
            events=jsonio.loads(body),
        )

    # then the deeper one is refused naming its innermost object, the other is stored
    assert raised.value.details == {
        "index": 1,
        "seq": 2,
        "field": "data" + ".next" * MAX_DATA_DEPTH,
        "reason": f"must not nest objects and arrays deeper than {MAX_DATA_DEPTH} levels",
        "acked_seq": 1,
        "accepted": 1,
        "duplicates": 0,
    }
    assert Event.objects.get(game_session=game_session).data == deepest


def test_a_batch_too_deep_for_the_decoder_is_a_parse_error():
    nested = "[" * 2000 + "]" * 2000
    with pytest.raises(jsonio.JSONDecodeError):
        jsonio.loads(nested)


def _refusal(game: Game, event_type: str, data: Mapping[str, Any]) -> EventDataError | None:
    """The validator's EventDataError, or None when it takes the data (others escape)."""
    try:
        game.validate_event(event_type, data)
    except EventDataError as error:
        return error
    return None


# --- every game's validator, on its own -------------------------------------------------

_GAMES = sorted(registry.game_keys())


@pytest.mark.parametrize("key", _GAMES)
@given(data=st.one_of(_JSON, st.dictionaries(_TEXT, _JSON, max_size=5)), kind=_TEXT)
@hyp_settings(max_examples=60, deadline=None, derandomize=True)
def test_a_validator_refuses_anything_with_an_event_data_error_naming_a_field(key, data, kind):
    game = get_game(key)
    kinds = [kind, *game.event_types]
    payload = data if isinstance(data, dict) else {"value": data}
    for event_type in kinds:
        error = _refusal(game, event_type, payload)
        if error is not None:
            # the field is a key the client sent or one the spec requires (never an index)
            assert isinstance(error.field, str)
            assert error.message
            named = error.field in payload or error.field.split(".")[0] in payload
            assert error.field == "" or named or error.message == "is required", (
                event_type,
                payload,
                error.field,
                error.message,
            )


@pytest.mark.parametrize("key", _GAMES)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), replacement=_SCALARS, pick=st.data())
@hyp_settings(max_examples=40, deadline=None, derandomize=True)
def test_a_bots_event_with_one_value_replaced_is_valid_or_refused_naming_one_of_its_keys(
    key, seed, replacement, pick
):
    # given an event a real session of this game sends, with one data value replaced
    game = get_game(key)
    rng = np.random.default_rng(seed)
    events = game.play(game.sample_latent(rng), rng, game.make_config(seed, short=True))
    event = events[pick.draw(st.integers(min_value=0, max_value=len(events) - 1))]
    data = dict(event["data"])
    if not data:
        return
    target = pick.draw(st.sampled_from(sorted(data)))
    data[target] = replacement

    # when it is validated, it passes or names a key of the event: the replaced one,
    # or one whose rule involves it ("offer must be <= total" when total shrank)
    error = _refusal(game, event["type"], data)
    if error is not None:
        assert error.field.split(".")[0] in data, (
            event["type"],
            target,
            replacement,
            error.field,
            error.message,
        )
