"""``requeue_scoring``: the games whose scoring task was lost are queued again."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from pymetrics.assessments.models import GameSession, GameSessionSource, GameSessionState
from pymetrics.scoring import tasks


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """The game session ids whose extraction the command queued."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.extract_game_session_metrics, "delay", ids.append)
    return ids


@pytest.fixture
def games(make_invitation) -> dict[str, int]:
    """One game session per situation, each in an attempt of its own."""
    now = timezone.now()
    situations = {
        "lost an hour ago": (GameSessionState.COMPLETED, GameSessionSource.BROWSER, 60),
        "lost 11 min ago": (GameSessionState.COMPLETED, GameSessionSource.BROWSER, 11),
        "just completed": (GameSessionState.COMPLETED, GameSessionSource.BROWSER, 2),
        "scored": (GameSessionState.SCORED, GameSessionSource.BROWSER, 60),
        "failed": (GameSessionState.FAILED, GameSessionSource.BROWSER, 60),
        "imported": (GameSessionState.COMPLETED, GameSessionSource.IMPORT, 60),
        "still playing": (GameSessionState.IN_PROGRESS, GameSessionSource.BROWSER, None),
    }
    ids = {}
    for index, (name, (state, source, minutes_ago)) in enumerate(situations.items()):
        invitation = make_invitation(external_id=f"cand-{index}", email=f"c{index}@example.org")
        completed_at = None if minutes_ago is None else now - timedelta(minutes=minutes_ago)
        ids[name] = GameSession.objects.create(
            attempt=invitation.attempt,
            game="balloons",
            position=1,
            seed=index,
            state=state,
            source=source,
            completed_at=completed_at,
        ).pk
    return ids


def test_the_games_waiting_past_the_limit_are_queued_oldest_first(games, queued):
    out = io.StringIO()

    call_command("requeue_scoring", stdout=out)

    assert queued == [games["lost an hour ago"], games["lost 11 min ago"]]
    assert out.getvalue() == "queued the scoring of 2 game(s) completed over 10 min ago\n"


def test_the_limit_is_an_option_and_a_dry_run_queues_nothing(games, queued):
    dry = io.StringIO()
    call_command("requeue_scoring", "--waited-min", "1", "--dry-run", stdout=dry)
    assert queued == []
    assert dry.getvalue() == "3 game(s) completed over 1 min ago wait to be scored\n"

    call_command("requeue_scoring", "--waited-min", "30", stdout=io.StringIO())
    assert queued == [games["lost an hour ago"]]


def test_a_negative_limit_is_refused(db, queued):
    with pytest.raises(CommandError, match="--waited-min must be 0 or more"):
        call_command("requeue_scoring", "--waited-min", "-5")
    assert queued == []
