"""Fixtures of the apps' unit tests: Celery in-process, candidate play sessions, event streams.

The unit tests run every Celery task in the test process, also when ``REDIS_URL``
configures a broker (the PostgreSQL run): a unit test checks what a task stores,
not that a worker picks it up (tests/integration does that with a real worker).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.celery import app as celery_app
from pymetrics.assessments.services import Invitation

BalloonPlan = Sequence[tuple[int, bool]]
EventFactory = Callable[..., list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def celery_eager() -> Iterator[None]:
    saved = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Staff users are made in many tests; the production hasher takes ~0.3 s per password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _balloon_events(plan: BalloonPlan, *, step_ms: float = 100.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    def emit(event_type: str, data: dict[str, int]) -> None:
        seq = len(events) + 1
        events.append({"seq": seq, "t": (seq - 1) * step_ms, "type": event_type, "data": data})

    for balloon, (pumps, burst) in enumerate(plan, start=1):
        emit("balloon_start", {"balloon": balloon})
        for pump in range(1, pumps + 1):
            emit("pump", {"balloon": balloon, "pumps": pump})
        emit("burst" if burst else "collect", {"balloon": balloon, "pumps": pumps})
    return events


@pytest.fixture
def make_balloon_events() -> EventFactory:
    """Events the balloons page sends for ``plan``: one ``(pumps, burst)`` per balloon.

    Seqs run 1, 2, 3, ...; ``t`` grows by ``step_ms`` (default 100 ms) per event.
    """
    return _balloon_events


# The small hand-made balloons session used wherever exact metric values are checked.
#   balloon 1: 3 pumps, collected   balloon 2: 2 pumps, burst   balloon 3: 0 pumps, collected
#   events: start,pump,pump,pump,collect | start,pump,pump,burst | start,collect = 11 events
#   adjusted_pumps = kept pumps / kept balloons = (3 + 0) / 2 = 1.5
#   mean_pumps = (3 + 2 + 0) / 3 = 5/3;  bursts = 1;  earnings_cents = 5 * (3 + 0) = 15
#   adjusted_pumps_block_1 = balloons 1-10 = 1.5; blocks 2 and 3 hold no balloon: absent
#   no quality flag: balloons were pumped and collected, t never goes back, no focus events
HAND_PLAN: tuple[tuple[int, bool], ...] = ((3, False), (2, True), (0, False))
HAND_METRICS: dict[str, float] = {
    "adjusted_pumps": 1.5,
    "mean_pumps": 5 / 3,
    "bursts": 1.0,
    "earnings_cents": 15.0,
    "adjusted_pumps_block_1": 1.5,
}


@dataclass(frozen=True)
class PlayClient:
    """A started attempt seen from the candidate's browser."""

    client: APIClient
    invite_token: str
    attempt_id: int
    session_token: str
    game_session_id: int

    @property
    def events_url(self) -> str:
        return reverse("api:play-events", args=[self.game_session_id])

    @property
    def complete_url(self) -> str:
        return reverse("api:play-complete", args=[self.game_session_id])

    def send(self, events: list[dict[str, Any]]) -> Any:
        return self.client.post(self.events_url, {"events": events}, format="json")


def start_play(invitation: Invitation) -> PlayClient:
    """Start an attempt through the candidate API, as the browser does."""
    client = APIClient()
    response = client.post(reverse("api:play-start", args=[invitation.invite_token]))
    assert response.status_code == 200, response.content
    body = response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['session_token']}")
    return PlayClient(
        client=client,
        invite_token=invitation.invite_token,
        attempt_id=body["attempt_id"],
        session_token=body["session_token"],
        game_session_id=body["games"][0]["game_session_id"],
    )


@pytest.fixture
def play(invitation: Invitation) -> PlayClient:
    """The first game session of ``invitation``, started, with a Bearer-authenticated client."""
    return start_play(invitation)


@pytest.fixture
def scored_play(
    play: PlayClient,
    make_balloon_events: EventFactory,
    django_capture_on_commit_callbacks: Any,
) -> PlayClient:
    """``play`` after the hand-made session (HAND_PLAN) was sent, completed and scored."""
    assert play.send(make_balloon_events(HAND_PLAN)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert play.client.post(play.complete_url).status_code == 202
    return play
