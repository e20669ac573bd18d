"""``bench``: the performance scenarios run end to end on the test database.

Tiny sizes: these check that every scenario runs, verifies what it stored and
cleans up after itself, not how fast anything is. They commit for real
(transactional_db) because the HTTP scenario's server reads the same database
from another thread or process.
"""

from __future__ import annotations

import io
import json
import math

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from pymetrics.accounts.audit_chain import audit_log_seal, audit_log_verify
from pymetrics.accounts.models import AuditLog, Organization, User
from pymetrics.assessments.models import Assessment, Candidate, GameSession
from pymetrics.events.models import Event
from pymetrics.ops import bench
from pymetrics.ops.management.commands import bench as bench_command
from pymetrics.scoring.models import MetricSet, NormTable, TraitScore

pytestmark = pytest.mark.django_db(transaction=True)

TINY = bench.Sizes(
    ingest_sessions=3,
    ingest_clients=2,
    ingest_batch=500,
    server_workers=1,
    extract_sessions=5,
    extract_batch=2,
    stream_pool=2,
    ws_sessions=3,
    ws_live_sessions=2,
    ws_live_frames_per_socket=4,
    ws_frame=250,
    infer_attempts=5,
    infer_population=12,
    ws_hold=5,
    ws_broadcast_sockets=3,
    ws_broadcasts=2,
    api_candidates=4,
    api_clients=2,
    api_rate=40,
    api_seconds=0.5,
    api_saturation_seconds=0.5,
)

FIGURES = {
    "ingest_http_events_per_s": "events/s",
    "ingest_http_events_per_s_peak_rss_mb": "MB",
    "ingest_ws_events_per_s": "events/s",
    "ingest_ws_events_per_s_peak_rss_mb": "MB",
    "ingest_ws_live_frames_per_s": "frames/s",
    "ingest_ws_live_events_per_s": "events/s",
    "ingest_ws_live_frames_per_s_peak_rss_mb": "MB",
    "ws_connections": "sockets",
    "ws_connections_rss_mb": "MB",
    "ws_connections_kib_per_socket": "KiB",
    "ws_broadcast_p99_ms": "ms",
    "ws_broadcast_all_p50_ms": "ms",
    "extract_sessions_per_min": "sessions/min",
    "extract_sessions_per_min_peak_rss_mb": "MB",
    "infer_sessions_per_min": "attempts/min",
    "infer_sessions_per_min_peak_rss_mb": "MB",
    "api_p50_ms": "ms",
    "api_p99_ms": "ms",
    "api_paced_requests_per_s": "requests/s",
    "api_requests_per_s": "requests/s",
    "api_uncached_requests_per_s": "requests/s",
    "api_client_cpu_percent": "%",
    "api_peak_rss_mb": "MB",
}


def test_bench_prints_and_writes_every_figure_and_leaves_nothing_behind(tmp_path, monkeypatch):
    # given the quick sizes shrunk to a few sessions
    monkeypatch.setattr(bench_command, "QUICK", TINY)
    path = tmp_path / "bench.json"
    stdout = io.StringIO()

    # when the bench runs
    call_command("bench", "--quick", "--json", str(path), stdout=stdout, stderr=io.StringIO())

    # then the JSON holds every figure, each positive
    figures = json.loads(path.read_text())
    assert set(figures) == set(FIGURES)
    # every figure positive, but the memory per socket: five sockets may move the
    # server's RSS by less than a page either way, so it is only a finite number here
    delta = "ws_connections_kib_per_socket"
    assert {name: v for name, v in figures.items() if not v > 0 and name != delta} == {}
    assert math.isfinite(figures[delta])
    # and stdout has one "name value unit" line per figure, in registration order
    lines = [line.split() for line in stdout.getvalue().splitlines()]
    assert [(name, unit) for name, _, unit in lines] == list(FIGURES.items())
    assert all(float(value) > 0 or name == delta for name, value, _ in lines)
    # and the scratch organisation is gone with everything under it
    assert not Organization.objects.filter(slug=bench.BENCH_ORG_SLUG).exists()
    assert Assessment.objects.count() == Candidate.objects.count() == 0
    assert not User.objects.filter(email=bench.BENCH_USER_EMAIL).exists()
    assert GameSession.objects.count() == Event.objects.count() == MetricSet.objects.count() == 0
    assert NormTable.objects.count() == TraitScore.objects.count() == 0
    _only_the_scratch_organisation_s_audit_entries_remain()


def _only_the_scratch_organisation_s_audit_entries_remain() -> None:
    """The API scenario's reads were audited like any other, and the append-only log
    keeps them: all of the deleted scratch organisation, and the chain intact."""
    organizations = set(AuditLog.objects.values_list("organization_id", flat=True))
    assert len(organizations) == 1
    assert not Organization.objects.filter(pk__in=organizations).exists()
    assert AuditLog.objects.filter(action="candidate.read").exists()
    audit_log_seal()
    assert audit_log_verify().ok


def test_bench_runs_only_the_scenarios_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_command, "QUICK", TINY)
    path = tmp_path / "bench.json"

    call_command(
        "bench",
        "--quick",
        "--only",
        "extract_sessions_per_min",
        "--json",
        str(path),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert set(json.loads(path.read_text())) == {
        "extract_sessions_per_min",
        "extract_sessions_per_min_peak_rss_mb",
    }


def test_a_name_that_is_no_scenario_picks_the_scenarios_it_begins(tmp_path, monkeypatch):
    # given the API scenario, registered under its headline figure api_p50_ms
    monkeypatch.setattr(bench_command, "QUICK", TINY)
    path = tmp_path / "bench.json"
    stderr = io.StringIO()

    # when the bench is asked for "api"
    call_command(
        "bench",
        "--quick",
        "--only",
        "api",
        "--json",
        str(path),
        stdout=io.StringIO(),
        stderr=stderr,
    )

    # then that scenario ran, alone, and every read it made was answered and audited
    assert set(json.loads(path.read_text())) == {n for n in FIGURES if n.startswith("api_")}
    assert "api paced:" in stderr.getvalue()
    _only_the_scratch_organisation_s_audit_entries_remain()


def test_an_unknown_scenario_is_refused_by_name():
    with pytest.raises(CommandError, match="unknown scenario 'ingest_wss'"):
        call_command("bench", "--quick", "--only", "ingest_wss", stdout=io.StringIO())


def test_the_bench_refuses_an_organisation_bench_it_did_not_make(monkeypatch):
    # given a real organisation that happens to use the slug "bench"
    monkeypatch.setattr(bench_command, "QUICK", TINY)
    Organization.objects.create(slug=bench.BENCH_ORG_SLUG, name="Bench Street Bakery")

    # when the bench runs, then it stops before writing anything
    with pytest.raises(CommandError, match="was not made by the bench"):
        call_command("bench", "--quick", stdout=io.StringIO(), stderr=io.StringIO())
    assert Organization.objects.get(slug=bench.BENCH_ORG_SLUG).name == "Bench Street Bakery"
    assert Candidate.objects.count() == 0


def test_scratch_data_of_an_interrupted_run_is_deleted_first(monkeypatch):
    # given the scratch organisation of a run that never cleaned up
    monkeypatch.setattr(bench_command, "QUICK", TINY)
    leftover = Organization.objects.create(slug=bench.BENCH_ORG_SLUG, name=bench.BENCH_ORG_NAME)
    Assessment.objects.create(organization=leftover, name="Bench", games=["balloons"])
    stderr = io.StringIO()

    # when the bench runs again
    call_command(
        "bench",
        "--quick",
        "--only",
        "extract_sessions_per_min",
        stdout=io.StringIO(),
        stderr=stderr,
    )

    # then it said so, and nothing of either run is left
    assert "interrupted bench run" in stderr.getvalue()
    assert not Organization.objects.filter(slug=bench.BENCH_ORG_SLUG).exists()
    assert Assessment.objects.count() == 0


def test_scenarios_are_a_registry_of_named_functions():
    assert list(bench.SCENARIOS) == [
        "ingest_http_events_per_s",
        "ingest_ws_events_per_s",
        "ingest_ws_live_frames_per_s",
        "ws_connections",
        "extract_sessions_per_min",
        "infer_sessions_per_min",
        "api_p50_ms",
    ]
    with pytest.raises(ValueError, match="registered twice"):
        bench.scenario("extract_sessions_per_min")(lambda context: [])
