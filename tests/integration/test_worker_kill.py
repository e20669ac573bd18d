"""A Celery worker killed (SIGKILL) in the middle of scoring a game loses nothing.

Tasks are acknowledged late (``CELERY_TASK_ACKS_LATE``): the killed worker never
acknowledged the extraction, so Redis keeps the message among the unacknowledged
ones and hands it out again once the visibility timeout has passed. The scoring
tasks take ids and upsert, so the second run stores exactly what one run would.

The test's workers consume a queue of their own (the session's worker, if one runs,
never sees these tasks) with a visibility timeout of a few seconds, given through
their environment. The moment "mid-task" is made certain, not guessed: the test
holds a lock on the metric sets table, so the worker's extraction blocks on its
write, visible in ``pg_stat_activity``, and is killed there.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import psycopg
import pytest
import redis
from django.conf import settings

from pymetrics.accounts.services import organization_create
from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.assessments.services import assessment_create, candidate_invite
from pymetrics.events.services import events_ingest
from pymetrics.games.registry import get_game
from pymetrics.play.services import play_complete_game_session, play_start
from pymetrics.scoring.models import MetricSet, TraitScore
from pymetrics.scoring.services import norm_table_build
from pymetrics.scoring.tasks import extract_game_session_metrics
from tests.integration.conftest import (
    ARTIFACTS,
    ROOT,
    _test_database_url,
    _wait_for_worker,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

#: the test's workers redeliver a lost task after this many seconds (production: hours)
VISIBILITY_TIMEOUT_S = 3

#: A real ``celery worker`` whose broker visibility timeout and queue come from its
#: environment (the settings fix one visibility timeout for every worker).
WORKER = """
import os
from config.celery import app
app.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ["TEST_VISIBILITY_TIMEOUT_S"]),
    # kombu looks for messages past their visibility timeout every interval x throttle
    # seconds (10 x 10 by default): every second here, or the test would wait minutes
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
app.conf.task_default_queue = os.environ["TEST_QUEUE"]
app.worker_main([
    "worker", "--pool=solo", "--concurrency=1", "--loglevel=INFO", "--without-gossip",
    "--without-mingle", "--without-heartbeat", "-Q", os.environ["TEST_QUEUE"],
])
"""


def _start_worker(queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
        "TEST_QUEUE": queue,
        "TEST_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    _wait_for_worker(env, process, log)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue of this test's own; emptied afterwards (fit scoring may still be queued)."""
    name = f"worker-kill-{secrets.token_hex(4)}"
    yield name
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(name)


def _unacked_payloads(broker: redis.Redis) -> list[bytes]:
    """The messages Redis holds as delivered but not acknowledged (kombu's ``unacked``)."""
    return [value for value in broker.hvals("unacked") if isinstance(value, bytes)]


def _blocked_metric_set_writes(monitor: psycopg.Connection) -> list[int]:
    """Backends waiting for a lock while writing metric sets: the worker mid-extraction.

    ``monitor`` is in autocommit: a transaction would see one snapshot of the activity.
    """
    rows = monitor.execute(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND query LIKE %s AND pid <> pg_backend_pid()",
        (f'INSERT INTO "{MetricSet._meta.db_table}"%',),
    ).fetchall()
    return [int(row[0]) for row in rows]


def test_a_worker_killed_mid_extraction_leaves_the_task_to_be_scored_once(
    queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Given a candidate's finished game, its events stored
    norm_table_build(population="simulated", name="Reference", players=30, seed=3)
    organization = organization_create(name="Kill Org", slug=f"kill-{secrets.token_hex(3)}")
    assessment = assessment_create(organization=organization, name="Kill", games=["balloons"])
    invitation = candidate_invite(assessment=assessment, external_id="kill-1")
    play_start(attempt=invitation.attempt)
    game_session = GameSession.objects.get(attempt=invitation.attempt)
    game = get_game("balloons")
    rng = np.random.default_rng(11)
    events = game.play(game.sample_latent(rng), rng, game_session.config)
    for start in range(0, len(events), 500):
        events_ingest(
            game_session_id=game_session.pk,
            attempt_id=invitation.attempt.pk,
            events=events[start : start + 500],
        )
    # the extraction the completion queues goes to this test's queue
    sent: list[str] = []
    monkeypatch.setattr(
        "pymetrics.play.services.extract_game_session_metrics",
        SimpleNamespace(
            delay=lambda session_id: sent.append(
                extract_game_session_metrics.apply_async((session_id,), queue=queue).id
            )
        ),
    )
    first = _start_worker(queue, ARTIFACTS / "worker-kill-first.log")
    second: subprocess.Popen[bytes] | None = None
    # a lock on the metric sets table holds the extraction at its write
    database = psycopg.connect(_test_database_url())
    monitor = psycopg.connect(_test_database_url(), autocommit=True)
    try:
        database.execute(f'LOCK TABLE "{MetricSet._meta.db_table}" IN SHARE MODE')

        # When the game is completed and the worker is killed in the middle of extracting it
        play_complete_game_session(
            game_session_id=game_session.pk, attempt_id=invitation.attempt.pk
        )
        assert len(sent) == 1
        task_id = sent[0]
        blocked = wait_until(lambda: _blocked_metric_set_writes(monitor), timeout=60)
        assert len(blocked) == 1
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
        database.rollback()  # the lock goes; the dead worker's transaction never commits

        # Then nothing is stored yet and the task waits, unacknowledged, in Redis
        wait_until(lambda: not _blocked_metric_set_writes(monitor), timeout=30)
        assert not MetricSet.objects.filter(game_session=game_session).exists()
        game_session.refresh_from_db()
        assert game_session.state == GameSessionState.COMPLETED
        assert any(task_id.encode() in payload for payload in _unacked_payloads(broker))

        # and a new worker runs it again after the visibility timeout, exactly once
        started = time.monotonic()
        second = _start_worker(queue, ARTIFACTS / "worker-kill-second.log")
        wait_until(
            lambda: TraitScore.objects.filter(attempt=invitation.attempt).exists(), timeout=90
        )
        assert time.monotonic() - started < 90
    finally:
        database.close()
        monitor.close()
        _stop(first)
        if second is not None:
            _stop(second)

    stored = MetricSet.objects.filter(game_session=game_session)
    assert stored.count() == 1
    assert stored.get().extractor_version == game.extractor_version
    assert stored.get().values
    game_session.refresh_from_db()
    assert game_session.state == GameSessionState.SCORED
    scores = list(
        TraitScore.objects.filter(attempt=invitation.attempt).values_list("trait", flat=True)
    )
    assert scores
    assert len(scores) == len(set(scores))  # each trait once
    assert not any(task_id.encode() in payload for payload in _unacked_payloads(broker))
    log = (ARTIFACTS / "worker-kill-second.log").read_text()
    assert task_id in log
