"""``/metrics``: every metric with its type, and values that move when things happen."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from celery import shared_task, states
from celery.signals import task_postrun, task_prerun
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client
from django.urls import path
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from pymetrics.analytics import cache as analytics_cache
from pymetrics.analytics.selectors import system
from pymetrics.assessments.models import GameSession, GameSessionState
from pymetrics.common import taskmetrics
from pymetrics.common.telemetry import MULTIPROC_ENV, scrape_registry
from pymetrics.conftest import PlayClient
from pymetrics.ops.metrics import COLLECTOR
from pymetrics.realtime.play import EventStreamConsumer

REPO = Path(__file__).resolve().parents[3]

#: Every metric the platform promises at /metrics, as the parser names its family
#: (a counter's family drops ``_total``), with its type.
EXPECTED = {
    # django-prometheus: requests, responses, database
    "django_http_requests_before_middlewares": "counter",
    "django_http_requests_latency_including_middlewares_seconds": "histogram",
    "django_http_requests_latency_seconds_by_view_method": "histogram",
    "django_http_responses_total_by_status_view_method": "counter",
    "django_http_exceptions_total_by_type": "counter",
    "django_db_new_connections": "counter",
    "django_db_execute": "counter",
    "django_db_query_duration_seconds": "histogram",
    "django_db_errors": "counter",
    # the platform's own
    "pymetrics_events_ingested": "counter",
    "pymetrics_event_batches": "counter",
    "pymetrics_ingest_batch_seconds": "histogram",
    "pymetrics_open_sockets": "gauge",
    "pymetrics_task_duration_seconds": "histogram",
    "pymetrics_task_failures": "counter",
    "pymetrics_queue_depth": "gauge",
    "pymetrics_scoring_lag_p95_seconds": "gauge",
    "pymetrics_scoring_oldest_wait_seconds": "gauge",
    "pymetrics_scoring_waiting_games": "gauge",
    "pymetrics_analytics_cache_hit_ratio": "gauge",
    "pymetrics_cache_reads": "counter",
    "pymetrics_fit_scores": "counter",
    # the process (one process: the embedded default)
    "process_resident_memory_bytes": "gauge",
}


@pytest.fixture(autouse=True)
def _fresh_scrape_figures() -> Iterator[None]:
    """Scrape-time figures are reused for a few seconds: every read here computes them."""
    COLLECTOR.forget()
    yield
    COLLECTOR.forget()


def scrape(client: Client | None = None) -> dict[str, Any]:
    """``/metrics`` parsed: family name -> the family (type, samples)."""
    COLLECTOR.forget()
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def value(families: dict[str, Any], sample: str, **labels: str) -> float | None:
    """The value of one sample (None when it is not there)."""
    family = sample
    for suffix in ("_total", "_count", "_sum", "_bucket"):
        if sample.endswith(suffix) and sample.removesuffix(suffix) in families:
            family = sample.removesuffix(suffix)
    for found in families[family].samples:
        if found.name == sample and found.labels == labels:
            return float(found.value)
    return None


def test_every_metric_is_exposed_with_its_type(db):
    families = scrape()

    assert {name: families[name].type for name in EXPECTED if name in families} == EXPECTED


def test_no_sample_carries_an_unbounded_label(client, play, make_balloon_events):
    # given some traffic: pages, an event batch, a not-found path with a made-up method
    play.send(make_balloon_events([(1, False)]))
    client.generic("BREW", "/no/such/page/4821")

    families = scrape(client)

    # then labels are names from fixed sets: never a path, an id or an invented method
    labels = {
        (key, val)
        for family in families.values()
        for sample in family.samples
        for key, val in sample.labels.items()
    }
    assert not [pair for pair in labels if "4821" in pair[1] or pair[1] == "BREW"]
    methods = {val for key, val in labels if key == "method"}
    assert methods <= {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
        "<invalid method>",
    }
    assert "<invalid method>" in methods


def test_an_event_batch_over_http_is_counted_and_timed(client, play, make_balloon_events):
    before = scrape(client)

    assert play.send(make_balloon_events([(2, False)])).json()["accepted"] == 4

    after = scrape(client)
    assert value(after, "pymetrics_events_ingested_total") == (
        value(before, "pymetrics_events_ingested_total") + 4  # type: ignore[operator]
    )
    assert value(after, "pymetrics_ingest_batch_seconds_count") == (
        value(before, "pymetrics_ingest_batch_seconds_count") + 1  # type: ignore[operator]
    )
    assert value(after, "pymetrics_event_batches_total", outcome="stored") == (
        (value(before, "pymetrics_event_batches_total", outcome="stored") or 0) + 1
    )
    # django-prometheus saw the request, by its URL name and status
    responses = "django_http_responses_total_by_status_view_method_total"
    labels = {"status": "200", "view": "api:play-events", "method": "POST"}
    assert value(after, responses, **labels) == (value(before, responses, **labels) or 0) + 1


@sync_to_async
def _scrape_async() -> dict[str, Any]:
    return scrape()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_is_counted_open_its_batches_timed_and_counted_closed(
    play: PlayClient, make_balloon_events
):
    before = await _scrape_async()
    open_before = value(before, "pymetrics_open_sockets", consumer="play")
    batches_before = value(before, "pymetrics_ingest_batch_seconds_count")

    # when a candidate's socket opens and sends a batch
    application = URLRouter([path("ws/play/<int:game_session_id>/", EventStreamConsumer.as_asgi())])
    communicator = WebsocketCommunicator(
        application, f"/ws/play/{play.game_session_id}/?token={play.session_token}"
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    await communicator.send_json_to({"type": "events", "events": make_balloon_events([(1, False)])})
    ack = await communicator.receive_json_from(timeout=5)
    assert ack["type"] == "ack"

    # then it is open, and its batch went through the same ingestion timing as HTTP
    during = await _scrape_async()
    assert value(during, "pymetrics_open_sockets", consumer="play") == open_before + 1  # type: ignore[operator]
    assert value(during, "pymetrics_ingest_batch_seconds_count") == batches_before + 1  # type: ignore[operator]

    # and once it closes it no longer counts
    await communicator.disconnect()
    after = await _scrape_async()
    assert value(after, "pymetrics_open_sockets", consumer="play") == open_before


@shared_task(name="ops_tests.adds")
def _adds(a: int, b: int) -> int:
    return a + b


@shared_task(name="ops_tests.breaks")
def _breaks() -> None:
    raise RuntimeError("broken on purpose")


def test_a_task_run_is_timed_and_a_failure_counted_by_task_name(db):
    before = scrape()

    # when one task runs to its end and another fails
    assert _adds.delay(2, 3).get() == 5
    with pytest.raises(RuntimeError, match="broken on purpose"):
        _breaks.delay()

    after = scrape()
    runs = "pymetrics_task_duration_seconds_count"
    assert value(after, runs, task="ops_tests.adds") == (
        (value(before, runs, task="ops_tests.adds") or 0) + 1
    )
    assert value(after, runs, task="ops_tests.breaks") == (
        (value(before, runs, task="ops_tests.breaks") or 0) + 1
    )
    failures = "pymetrics_task_failures_total"
    assert value(after, failures, task="ops_tests.breaks") == (
        (value(before, failures, task="ops_tests.breaks") or 0) + 1
    )
    assert value(after, failures, task="ops_tests.adds") == value(
        before, failures, task="ops_tests.adds"
    )


@pytest.mark.parametrize(
    ("state", "failed"),
    [(states.SUCCESS, 0), (states.RETRY, 0), (states.FAILURE, 1), (None, 1)],
)
def test_a_worker_s_run_counts_as_failed_only_when_it_failed(state, failed):
    # what a worker sends around a run: its end state (none: the error went to the caller)
    runs, failures = "pymetrics_task_duration_seconds_count", "pymetrics_task_failures_total"
    before = _families()

    task_prerun.send(sender=_adds, task_id="run-1", task=_adds, args=(), kwargs={})
    task_postrun.send(sender=_adds, task_id="run-1", task=_adds, state=state, retval=None)

    after = _families()
    assert value(after, runs, task="ops_tests.adds") == (
        (value(before, runs, task="ops_tests.adds") or 0) + 1
    )
    assert (value(after, failures, task="ops_tests.adds") or 0) == (
        (value(before, failures, task="ops_tests.adds") or 0) + failed
    )


def _families() -> dict[str, Any]:
    """This process's metrics, straight from the registry (no HTTP request)."""
    return {f.name: f for f in scrape_registry().collect()}


def test_a_worker_serves_its_metrics_on_its_metrics_port():
    from config.celery import app

    # the worker command takes the option
    assert any("--metrics-port" in option.opts for option in app.user_options["worker"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    step = taskmetrics.MetricsServer(None, metrics_port=port)
    step.start(None)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    finally:
        step.stop(None)
    assert "# TYPE pymetrics_task_duration_seconds histogram" in text
    assert "# TYPE pymetrics_task_failures_total counter" in text


def test_a_worker_without_the_option_serves_nothing():
    step = taskmetrics.MetricsServer(None)
    step.start(None)

    assert step.server is None


def test_fit_scores_are_counted_by_job_profile_and_model_version(organization, recruiter):
    from pymetrics.accounts.services import Actor
    from pymetrics.fitmodels.selectors import latest_completed_attempts
    from pymetrics.fitmodels.services import (
        fit_scores_compute,
        incumbents_add,
        job_profile_create,
        training_job_request,
        training_job_run,
    )
    from pymetrics.fitmodels.tests.world import build_role_world

    actor = Actor(user=recruiter, organization=organization, role="admin")
    world = build_role_world(organization)
    profile = job_profile_create(
        actor=actor,
        name="Analyst",
        assessments=[world.applicants],
        baseline_assessment=world.applicants,
    )
    incumbents_add(
        actor=actor, job_profile=profile, candidates=world.incumbent_candidates, successful=True
    )
    job = training_job_request(actor=actor, job_profile=profile, debias_if_needed=True, queue=False)
    version = training_job_run(training_job_id=job.pk)
    assert version is not None
    attempts = latest_completed_attempts(
        candidate_ids=[c.pk for c in world.applicant_candidates[:3]]
    )
    labels = {"job_profile": str(profile.pk), "model_version": str(version.version)}
    before = value(scrape(), "pymetrics_fit_scores_total", **labels) or 0

    assert fit_scores_compute(model_version=version, attempt_ids=list(attempts.values())) == 3

    assert value(scrape(), "pymetrics_fit_scores_total", **labels) == before + 3


def test_queue_depth_is_read_from_the_broker_at_scrape_time(db, monkeypatch):
    # given a broker with two queues, one of them unreadable just now
    monkeypatch.setattr(
        system,
        "broker_queues",
        lambda: {
            "in_process": False,
            "queues": [{"name": "celery", "waiting": 12}, {"name": "exports", "waiting": None}],
        },
    )

    families = scrape()

    assert [(s.labels, s.value) for s in families["pymetrics_queue_depth"].samples] == [
        ({"queue": "celery"}, 12.0)
    ]


def test_in_process_tasks_have_no_queue_to_report(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the embedded default: no broker

    assert scrape()["pymetrics_queue_depth"].samples == []


def test_scoring_lag_and_waiting_games_come_from_the_database(scored_play):
    # given one game scored just now
    families = scrape()
    lag = value(families, "pymetrics_scoring_lag_p95_seconds")
    assert lag is not None
    assert 0 <= lag < 60
    assert value(families, "pymetrics_scoring_waiting_games") == 0
    assert value(families, "pymetrics_scoring_oldest_wait_seconds") == 0

    # when a game has waited two minutes to be scored
    completed = timezone.now() - timedelta(seconds=120)
    GameSession.objects.filter(pk=scored_play.game_session_id).update(
        state=GameSessionState.COMPLETED, completed_at=completed
    )

    families = scrape()
    assert value(families, "pymetrics_scoring_waiting_games") == 1
    assert 119 <= value(families, "pymetrics_scoring_oldest_wait_seconds") < 180  # type: ignore[operator]


def test_the_scoring_gauges_are_reused_for_a_few_seconds(db, monkeypatch):
    calls = []
    real = system.scoring_times

    def counted(now: Any) -> Any:
        calls.append(now)
        return real(now)

    monkeypatch.setattr(system, "scoring_times", counted)
    client = Client()

    client.get("/metrics")
    client.get("/metrics")

    assert len(calls) == 1


def test_a_source_that_fails_leaves_its_gauge_empty_and_the_scrape_answers(db, monkeypatch):
    def broken(now: Any) -> Any:
        raise ConnectionError("database went away")

    monkeypatch.setattr(system, "scoring_times", broken)

    families = scrape()

    assert families["pymetrics_scoring_oldest_wait_seconds"].samples == []
    assert families["pymetrics_scoring_oldest_wait_seconds"].type == "gauge"
    assert families["pymetrics_events_ingested"].samples


def test_the_cache_hit_ratio_is_the_status_page_s(db):
    analytics_cache.TALLY.flush()
    cache.clear()
    # one miss (computed), then one hit
    for _ in range(2):
        analytics_cache.cached("ops-test", ["ops-test"], lambda: 42)

    assert value(scrape(), "pymetrics_analytics_cache_hit_ratio") == 0.5


MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pymetrics.common import telemetry

    def child(events, sockets, wait_fd=None, ready_fd=None):
        telemetry.EVENTS_INGESTED.inc(events)
        telemetry.INGEST_SECONDS.observe(0.02)
        telemetry.OPEN_SOCKETS.labels(consumer="play").inc(sockets)
        if ready_fd is not None:
            os.write(ready_fd, b"x")
            os.read(wait_fd, 1)  # stays alive until the scrape is done
        os._exit(0)

    first = os.fork()
    if first == 0:
        child(3, 1)
    os.waitpid(first, 0)  # this worker has exited
    ready_r, ready_w = os.pipe()
    wait_r, wait_w = os.pipe()
    second = os.fork()
    if second == 0:
        child(4, 2, wait_r, ready_w)
    os.read(ready_r, 1)
    text = telemetry.exposition().decode()
    left = sorted(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    os.write(wait_w, b"x")
    os.waitpid(second, 0)
    print(json.dumps({"text": text, "first": first, "second": second, "files": left}))
    """
)


def test_several_processes_add_up_in_one_scrape(tmp_path):
    # given two worker processes sharing the multi-process directory: one exited
    env = {"PATH": "/usr/bin:/bin", MULTIPROC_ENV: str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(result.stdout)
    families = {f.name: f for f in text_string_to_metric_families(found["text"])}

    # then counters and histograms are the sum over both, the exited one included
    assert value(families, "pymetrics_events_ingested_total") == 7
    assert value(families, "pymetrics_ingest_batch_seconds_count") == 2
    # the live gauge counts the live process only: the exited one's sockets are gone
    assert value(families, "pymetrics_open_sockets", consumer="play") == 2
    assert f"gauge_livesum_{found['first']}.db" not in found["files"]
    assert f"gauge_livesum_{found['second']}.db" in found["files"]
    # and no per-process figure pretends to be the whole server's
    assert "process_resident_memory_bytes" not in families
