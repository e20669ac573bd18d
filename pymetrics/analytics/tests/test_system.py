"""The system status read: each row's figure and level, the alerts, the charts' series."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from pymetrics.analytics.selectors import system
from pymetrics.analytics.selectors.system import system_status
from pymetrics.assessments.models import GameSession, GameSessionSource, GameSessionState
from pymetrics.common import opsstats, probes
from pymetrics.common.opsstats import ingest_record, response_record, socket_closed, socket_opened
from pymetrics.scoring.models import MetricSet

REAL_CELERY_WORKERS = system.celery_workers
REAL_BROKER_QUEUES = system.broker_queues
WORKERS_UP = {"in_process": False, "answering": 2, "error": None}
QUEUES_EMPTY = {
    "in_process": False,
    "transport": "redis",
    "queues": [{"name": "celery", "waiting": 0}],
    "taken": 0,
    "error": None,
}


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    """A clean cache and counters; workers and queues answer as told (no broker here)."""
    cache.clear()
    opsstats.opsstats_clear()
    monkeypatch.setattr(system, "celery_workers", lambda: dict(WORKERS_UP))
    monkeypatch.setattr(system, "broker_queues", lambda: dict(QUEUES_EMPTY))
    monkeypatch.setattr(system, "hit_rate", lambda: (0, 0))
    yield
    cache.clear()
    opsstats.opsstats_clear()


def _fast_probes(**overrides):
    results = {
        name: {"ok": True, "ms": 2.0} for name in ("database", "cache", "channel_layer", "broker")
    }
    results.update(overrides)
    return results, [name for name, result in results.items() if not result["ok"]]


def _row(status, key):
    return next(row for row in status["rows"] if row["key"] == key)


def test_every_row_is_green_when_everything_answers(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)

    status = system_status()

    assert status["level"] == "ok"
    assert status["alerts"] == []
    assert [row["key"] for row in status["rows"]] == [
        "probe:database",
        "probe:cache",
        "probe:channel_layer",
        "probe:broker",
        "workers",
        "queue:celery",
        "ingest_lag",
        "scoring_lag",
        "error_rate",
        "sockets",
        "cache_hit_rate",
    ]
    assert {row["level"] for row in status["rows"]} == {"ok", "info"}
    assert _row(status, "probe:database")["value"] == "2.0 ms"
    assert _row(status, "workers")["value"] == "2 workers"
    assert _row(status, "queue:celery")["value"] == "0 waiting"
    assert _row(status, "queue:celery")["detail"] == "0 taken by workers (all queues)"


def test_a_failing_probe_turns_its_row_red_and_is_named_in_the_alerts(db, monkeypatch):
    def broken_cache() -> None:
        raise ConnectionError("Error 111 connecting to cache:6379. Connection refused.")

    # the real probe runner, pointed at a broken cache; the other services answer at
    # once (a loaded test machine must not make them slow, hence amber)
    for name in probes.CHECKS:
        monkeypatch.setitem(probes.CHECKS, name, lambda: None)
    monkeypatch.setitem(probes.CHECKS, "cache", broken_cache)

    status = system_status()

    row = _row(status, "probe:cache")
    assert row["level"] == "red"
    assert row["level_text"] == "Failing"
    assert row["value"] == "failing"
    assert (
        row["detail"] == "ConnectionError: Error 111 connecting to cache:6379. Connection refused."
    )
    assert _row(status, "probe:database")["level"] == "ok"
    assert status["level"] == "red"
    assert status["alerts"] == [
        {
            "key": "probe:cache",
            "level": "red",
            "level_text": "Failing",
            "text": "Cache: the probe failed: ConnectionError: Error 111 connecting to "
            "cache:6379. Connection refused.",
        }
    ]


def test_a_slow_probe_is_amber(db, monkeypatch):
    monkeypatch.setattr(
        system, "run_probes", lambda: _fast_probes(database={"ok": True, "ms": 150.0})
    )
    status = system_status()
    assert _row(status, "probe:database")["level"] == "amber"
    assert status["alerts"][0]["text"] == "Database: answered in 150 ms"


def test_no_worker_is_red(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    monkeypatch.setattr(
        system, "celery_workers", lambda: {"in_process": False, "answering": 0, "error": None}
    )
    status = system_status()
    assert _row(status, "workers")["level"] == "red"
    assert _row(status, "workers")["value"] == "0 workers"
    assert status["alerts"][0]["text"] == (
        "Celery workers: no worker answered: games are not being scored"
    )


def test_tasks_run_in_process_say_so_instead_of_no_worker(db, monkeypatch, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    # the real figures: no ping, no queue when tasks run in the web process
    monkeypatch.setattr(system, "celery_workers", REAL_CELERY_WORKERS)
    monkeypatch.setattr(system, "broker_queues", REAL_BROKER_QUEUES)

    status = system_status()

    workers = _row(status, "workers")
    assert (workers["level"], workers["value"]) == ("ok", "in-process")
    assert "no workers" in workers["detail"]
    queue = _row(status, "queue")
    assert (queue["level"], queue["value"]) == ("ok", "none")


@pytest.mark.parametrize(
    ("waiting", "level"),
    [
        pytest.param(100, "ok", id="100"),
        pytest.param(101, "amber", id="101"),
        pytest.param(1001, "red", id="1001"),
    ],
)
def test_queue_lengths_turn_amber_then_red(db, monkeypatch, waiting, level):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    monkeypatch.setattr(
        system,
        "broker_queues",
        lambda: {**QUEUES_EMPTY, "queues": [{"name": "celery", "waiting": waiting}], "taken": 3},
    )
    row = _row(system_status(), "queue:celery")
    assert row["level"] == level
    assert row["figures"] == {"name": "celery", "waiting": waiting, "taken": 3}


def test_a_queue_that_cannot_be_read_is_red(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    monkeypatch.setattr(
        system,
        "broker_queues",
        lambda: {
            "in_process": False,
            "transport": None,
            "queues": [{"name": "celery", "waiting": None}],
            "taken": None,
            "error": "OperationalError: refused",
        },
    )
    status = system_status()
    assert _row(status, "queue:celery")["level"] == "red"
    assert status["alerts"][0]["text"] == (
        "Queue “celery”: its length could not be read: OperationalError: refused"
    )


def _game_session(attempt, position, *, completed_at, state, scored_after_s=None, source=None):
    game_session = GameSession.objects.create(
        attempt=attempt,
        game="balloons",
        position=position,
        seed=position,
        state=state,
        completed_at=completed_at,
        source=source or GameSessionSource.BROWSER,
    )
    if scored_after_s is not None:
        MetricSet.objects.create(
            game_session=game_session,
            game="balloons",
            extractor_version=1,
            computed_at=completed_at + timedelta(seconds=scored_after_s),
        )
    return game_session


def test_scoring_lag_comes_from_completion_and_computation_times(db, monkeypatch, invitation):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    now = timezone.now()
    attempt = invitation.attempt
    scored, waiting = GameSessionState.SCORED, GameSessionState.COMPLETED
    minute = timedelta(minutes=1)
    # within the last 15 minutes: scored after 2, 4 and 12 s, and one waiting for 90 s
    _game_session(attempt, 1, completed_at=now - 10 * minute, state=scored, scored_after_s=2)
    _game_session(attempt, 2, completed_at=now - 5 * minute, state=scored, scored_after_s=4)
    _game_session(attempt, 3, completed_at=now - 3 * minute, state=scored, scored_after_s=12)
    _game_session(attempt, 4, completed_at=now - timedelta(seconds=90), state=waiting)
    # within the hour but not the 15 minutes: charted, not in the row
    _game_session(attempt, 5, completed_at=now - 30 * minute, state=scored, scored_after_s=100)
    # left out: older than an hour; imported (scored as stored); failed (counted apart)
    _game_session(attempt, 6, completed_at=now - 120 * minute, state=scored, scored_after_s=5)
    _game_session(
        attempt,
        7,
        completed_at=now - 2 * minute,
        state=scored,
        scored_after_s=0,
        source=GameSessionSource.IMPORT,
    )
    _game_session(attempt, 8, completed_at=now - 4 * minute, state=GameSessionState.FAILED)

    status = system_status(now=now)

    row = _row(status, "scoring_lag")
    # lags 2, 4, 12, 90 s: median (4 + 12) / 2 = 8; p95 at position 2.85: 12 + 0.85 * 78 = 78.3
    assert row["figures"]["games"] == 4
    assert row["figures"]["p50_s"] == pytest.approx(8.0)
    assert row["figures"]["p95_s"] == pytest.approx(78.3)
    assert row["figures"]["waiting"] == 1
    assert row["figures"]["oldest_wait_s"] == pytest.approx(90.0)
    assert row["figures"]["failed_last_hour"] == 1
    assert row["value"] == "p50 8.0 s · p95 78.3 s"
    assert row["detail"] == (
        "4 games completed in the last 15 minutes; 1 waiting now, the oldest for 90.0 s; "
        "1 failed in the last hour"
    )
    # above 60 s (amber), not above 300 s (red)
    assert row["level"] == "amber"
    assert {"key": "scoring_lag", "level": "amber"}.items() <= status["alerts"][0].items()
    assert status["alerts"][0]["text"] == (
        "Scoring (game completed → scored): a game has waited 90.0 s to be scored"
    )
    # the chart: one point per minute of completion, games and their lags
    scoring = status["series"]["scoring"]
    assert len(scoring["games"]) == 60
    assert sum(scoring["games"]) == 5
    assert sum(scoring["waiting"]) == 1
    thirty_ago = scoring["games"].index(1)  # the oldest charted minute holding a game
    assert scoring["p50_s"][thirty_ago] == pytest.approx(100.0)
    assert scoring["p50_s"][-1] in (None, pytest.approx(90.0))


def test_a_game_waiting_too_long_turns_scoring_red_even_with_no_recent_games(
    db, monkeypatch, invitation
):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    now = timezone.now()
    # completed three hours ago and never scored (e.g. every worker was down)
    _game_session(invitation.attempt, 1, completed_at=now - timedelta(hours=3), state="completed")
    row = _row(system_status(now=now), "scoring_lag")
    assert row["figures"]["games"] == 0
    assert row["figures"]["oldest_wait_s"] == pytest.approx(3 * 3600)
    assert row["level"] == "red"


def test_the_scoring_figure_is_shared_for_a_few_seconds_then_read_again(
    db, monkeypatch, invitation, django_assert_num_queries
):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    now = timezone.now()
    with django_assert_num_queries(2):  # the games of the hour, the backlog
        first = _row(system_status(now=now), "scoring_lag")
    assert first["figures"]["games"] == 0
    # a new score: within SHARED_TTL_S every viewer gets the shared figure, no query
    _game_session(
        invitation.attempt,
        1,
        completed_at=now - timedelta(minutes=1),
        state="scored",
        scored_after_s=3,
    )
    with django_assert_num_queries(0):
        assert _row(system_status(now=now), "scoring_lag")["figures"]["games"] == 0
    # once it expires the next read sees the new score
    cache.delete("system-status:scoring")
    again = _row(system_status(now=now), "scoring_lag")
    assert again["figures"]["games"] == 1
    assert again["figures"]["p95_s"] == pytest.approx(3.0)


def test_ingestion_times_come_from_the_shared_histograms(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    now = timezone.now()
    # ten batches in the last 15 minutes: eight took 3 ms, two 300 ms; one an hour ago
    for _ in range(8):
        ingest_record(3.0, now=now.timestamp() - 120)
    for _ in range(2):
        ingest_record(300.0, now=now.timestamp())
    ingest_record(9000.0, now=now.timestamp() - 30 * 60)

    status = system_status(now=now)

    row = _row(status, "ingest_lag")
    # p50: rank 5 of 10, 5th of 8 in (2, 5] ms: 2 + 3 * 5/8 = 3.875
    # p95: rank 9.5, 1.5th of 2 in (250, 500] ms: 250 + 250 * 1.5/2 = 437.5
    assert row["figures"] == {"batches": 10, "p50_ms": 3.875, "p95_ms": 437.5}
    assert row["value"] == "p50 3.9 ms · p95 438 ms"
    assert row["level"] == "amber"
    assert status["alerts"][0]["text"] == (
        "Event ingestion (batch received → stored): p95 is 438 ms"
    )
    ingest = status["series"]["ingest"]
    assert ingest["batches"][-1] == 2
    assert ingest["batches"][-3] == 8
    assert ingest["batches"][-31] == 1
    # the minute of the slow batch: both in (250, 500] ms -> p50 at 250 + 250 * 1/2
    assert ingest["p50_ms"][-1] == pytest.approx(375.0)
    assert ingest["p50_ms"][-2] is None


def test_the_error_rate_is_judged_on_five_and_sixty_minutes(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    now = timezone.now()
    stamp = now.timestamp()
    # last 5 minutes: 100 responses, 2 of them 5xx (2%: amber)
    for index in range(100):
        response_record(500 if index < 2 else 200, now=stamp - 60)
    # 40 minutes ago: 900 more, all fine (60 minutes: 2 of 1,000 = 0.2%: ok)
    for _ in range(900):
        response_record(200, now=stamp - 40 * 60)

    status = system_status(now=now)

    row = _row(status, "error_rate")
    assert [
        (w["minutes"], w["responses"], w["server_errors"], w["level"])
        for w in row["figures"]["windows"]
    ] == [(5, 100, 2, "amber"), (60, 1000, 2, "ok")]
    assert row["figures"]["windows"][0]["share"] == pytest.approx(0.02)
    assert row["value"] == "2.0% of 100 (5 min) · 0.2% of 1,000 (60 min)"
    assert row["level"] == "amber"
    assert status["alerts"][0]["text"] == (
        "Server errors (5xx share of responses): 2 server errors in the last 5 minutes "
        "(2.0% of responses)"
    )
    responses = status["series"]["responses"]
    assert responses["responses"][-2] == 100
    assert responses["server_errors"][-2] == 2
    assert responses["responses"][-41] == 900


def test_open_sockets_and_the_cache_hit_rate_are_shown_not_judged(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)
    monkeypatch.setattr(system, "hit_rate", lambda: (3, 1))
    # sockets other tests of this process left open count too: compare with them
    before = opsstats.RECORDER.local_sockets()
    socket_opened("dashboard")
    socket_opened("dashboard")
    socket_opened("traits")
    try:
        status = system_status()
    finally:
        socket_closed("dashboard")
        socket_closed("dashboard")
        socket_closed("traits")
    sockets = _row(status, "sockets")
    assert sockets["level"] == "info"
    play, dashboard, traits = before["play"], before["dashboard"] + 2, before["traits"] + 1
    assert sockets["value"] == f"play {play} · dashboard {dashboard} · traits {traits}"
    assert sockets["figures"] == {
        "by_consumer": {"play": play, "dashboard": dashboard, "traits": traits},
        "processes": 1,
    }
    hits = _row(status, "cache_hit_rate")
    assert (hits["level"], hits["value"]) == ("info", "75.0%")
    assert hits["figures"] == {"hits": 3, "misses": 1, "share": 0.75}


def test_unreadable_counters_make_their_rows_unknown_not_zero(db, monkeypatch):
    monkeypatch.setattr(system, "run_probes", _fast_probes)

    def unreachable(**kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(opsstats, "minutes_read", unreachable)
    status = system_status()
    for key in ("ingest_lag", "error_rate", "sockets"):
        row = _row(status, key)
        assert (row["level"], row["value"]) == ("amber", "unknown")
        assert row["detail"] == "Redis is down"


def test_red_alerts_come_before_amber_ones(db, monkeypatch):
    monkeypatch.setattr(
        system,
        "run_probes",
        lambda: _fast_probes(
            database={"ok": True, "ms": 180.0}, broker={"ok": False, "error": "Refused"}
        ),
    )
    status = system_status()
    assert [(a["key"], a["level"]) for a in status["alerts"]] == [
        ("probe:broker", "red"),
        ("probe:database", "amber"),
    ]


def test_the_process_figures_are_this_process(db, monkeypatch):
    import os

    monkeypatch.setattr(system, "run_probes", _fast_probes)
    process = system_status()["process"]
    assert process["pid"] == os.getpid()
    assert process["threads"] >= 1
    assert process["uptime_s"] is None or process["uptime_s"] > 0
