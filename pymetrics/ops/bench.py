"""Performance scenarios behind ``manage.py bench`` (DESIGN.md section 6).

A scenario is a function registered with :func:`scenario` under the name of its
headline figure; it receives a :class:`BenchContext` (sizes, a scratch organisation,
a logger) and returns :class:`Figure` values. :func:`run_scenarios` runs them in
registration order against whatever database Django is configured with and
deletes everything it made, so the bench can run against a real deployment's
database without leaving anything behind.

Every scenario also reports the peak resident memory of the process that did the
work (``<name>_peak_rss_mb``): the server's worker processes for HTTP ingestion
(``VmHWM`` of each, the largest), the bench process itself for in-process work (its
``VmHWM``, reset before the timed part where Linux allows it).

The bench's data lives in the organisation ``bench`` (name :data:`BENCH_ORG_NAME`).
An organisation with that slug and another name belongs to someone else: the bench
refuses to run rather than touch it.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import http.client
import json
import logging
import os
import queue
import random
import resource
import signal
import socket
import subprocess  # runs the servers under test  # nosec B404
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from pymetrics.accounts.models import AuditLog, Organization, User
from pymetrics.accounts.services import api_key_create, user_create
from pymetrics.assessments.models import (
    Assessment,
    Attempt,
    AttemptState,
    Candidate,
    GameSession,
    GameSessionSource,
    GameSessionState,
)
from pymetrics.assessments.services import candidate_email_index
from pymetrics.common.live import live_publish
from pymetrics.events.models import Event
from pymetrics.events.services import game_sessions_lock_for_deletion
from pymetrics.games.registry import all_games, game_keys
from pymetrics.ops.serving import http_server_command, socket_server_command
from pymetrics.play.tokens import session_token_issue
from pymetrics.scoring.models import MetricSet, NormPopulation, NormTable, TraitScore
from pymetrics.scoring.services import (
    metric_sets_extract,
    norm_table_build,
    simulated_population,
    traits_infer,
)

BENCH_ORG_SLUG = "bench"
BENCH_ORG_NAME = "Benchmark scratch data (deleted after every bench run)"
#: the staff user whose API key the dashboard clients use (deleted with the rest)
BENCH_USER_EMAIL = "bench-staff@bench.invalid"


class BenchError(RuntimeError):
    """A scenario could not run, or its result failed verification."""


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str

    def line(self) -> str:
        return f"{self.name} {self.value:.1f} {self.unit}"


@dataclass(frozen=True)
class Sizes:
    """How much work each scenario does; ``--quick`` and the full run differ only here."""

    #: game sessions whose bot events are posted through HTTP (~1,000 events each)
    ingest_sessions: int
    #: concurrent HTTP clients, each posting its own sessions' batches in order
    ingest_clients: int
    #: events per HTTP request (DESIGN.md section 6: 500)
    ingest_batch: int
    #: uvicorn worker processes serving the bench (0 = one per CPU core)
    server_workers: int
    #: completed game sessions whose metrics are extracted
    extract_sessions: int
    #: sessions per metric_sets_extract call, as a batch re-extraction would send
    extract_batch: int
    #: distinct bot event streams generated and reused across sessions
    stream_pool: int
    #: concurrent sockets, one game session each, in the WebSocket ingestion scenario
    ws_sessions: int = 200
    #: events per socket frame (a browser client batches its events)
    ws_frame: int = 250
    #: the live-play socket scenario: sockets, events per frame (a game makes ~1.3 per
    #: 250 ms flush: docs/operations.md, "Capacity plan"), frames each socket sends,
    #: and the most frames per second one socket sends (under the server's
    #: per-socket limit of 20/s, as a page is)
    ws_live_sessions: int = 100
    ws_live_frame: int = 1
    ws_live_frames_per_socket: int = 100
    ws_live_socket_rate: float = 15.0
    #: attempts (each with every game's metrics) whose traits are inferred
    infer_attempts: int = 5000
    #: simulated players per game behind the bench's norm table and metric values
    infer_population: int = 300
    #: dashboard sockets held open at once by the socket server
    ws_hold: int = 2000
    #: of those, the sockets of the one assessment every broadcast goes to
    ws_broadcast_sockets: int = 2000
    #: broadcasts timed (after a few untimed ones)
    ws_broadcasts: int = 30
    #: candidates (every game scored, nine traits) whose details the API clients read
    api_candidates: int = 1000
    #: concurrent keep-alive API clients
    api_clients: int = 50
    #: requests per second the clients offer together while latency is timed
    api_rate: int = 1000
    #: seconds latency is timed at ``api_rate`` (after every candidate was read once)
    api_seconds: float = 5.0
    #: seconds the clients then send as fast as answers come (throughput)
    api_saturation_seconds: float = 3.0


QUICK = Sizes(
    ingest_sessions=200,
    ingest_clients=8,
    ingest_batch=500,
    server_workers=0,
    extract_sessions=2000,
    extract_batch=500,
    stream_pool=24,
)
FULL = Sizes(
    ingest_sessions=600,
    ingest_clients=8,
    ingest_batch=500,
    server_workers=0,
    extract_sessions=6000,
    extract_batch=500,
    stream_pool=64,
    ws_sessions=500,
    ws_live_sessions=200,
    ws_live_frames_per_socket=150,
    infer_attempts=20000,
    infer_population=1000,
    ws_hold=10000,
    ws_broadcast_sockets=2000,
    ws_broadcasts=100,
    api_candidates=10000,
    api_seconds=20.0,
    api_saturation_seconds=10.0,
)


@dataclass(frozen=True)
class BenchContext:
    sizes: Sizes
    organization: Organization
    assessment: Assessment
    log: Callable[[str], None]
    seed: int = 20240601


ScenarioFunction = Callable[[BenchContext], list[Figure]]
T = TypeVar("T")
SCENARIOS: dict[str, ScenarioFunction] = {}


def scenario(name: str) -> Callable[[ScenarioFunction], ScenarioFunction]:
    """Register a scenario under the name of its headline figure."""

    def register(function: ScenarioFunction) -> ScenarioFunction:
        if name in SCENARIOS:
            raise ValueError(f"scenario {name!r} is registered twice")
        SCENARIOS[name] = function
        return function

    return register


def run_scenarios(
    *,
    sizes: Sizes,
    names: Sequence[str] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> list[Figure]:
    """Run the chosen scenarios (all by default) and return their figures, in order."""
    chosen = list(SCENARIOS) if names is None else _scenario_names(names)
    figures: list[Figure] = []
    # httpx logs every request at INFO: thousands of lines that would drown the figures
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with _bench_database(log), _scratch_organization(log) as organization:
        assessment = Assessment.objects.create(
            organization=organization, name="Bench", games=game_keys()
        )
        context = BenchContext(
            sizes=sizes, organization=organization, assessment=assessment, log=log
        )
        for name in chosen:
            log(f"running {name}")
            figures.extend(SCENARIOS[name](context))
    return figures


def _scenario_names(names: Sequence[str]) -> list[str]:
    """Scenarios by name; a name that is none picks those it prefixes (``api``, ``ingest``)."""
    chosen: list[str] = []
    for name in names:
        matches = (
            [name]
            if name in SCENARIOS
            else [known for known in SCENARIOS if known.startswith(f"{name}_")]
        )
        if not matches:
            raise BenchError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
        chosen.extend(match for match in matches if match not in chosen)
    return chosen


def figures_as_dict(figures: Sequence[Figure]) -> dict[str, float]:
    return {figure.name: round(figure.value, 3) for figure in figures}


# --- where the bench writes ---------------------------------------------------------


@contextmanager
def _bench_database(log: Callable[[str], None]) -> Iterator[None]:
    """On a SQLite file, switch to a fresh temporary one for the run; elsewhere do nothing.

    A SQLite file never shrinks after rows are deleted (only a VACUUM that rewrites
    the whole file does), so benching in the user's file would leave it hundreds of
    megabytes larger. A new file, migrated in about a second and deleted afterwards,
    leaves the user's untouched. PostgreSQL reuses the space (see :func:`_vacuum`);
    an in-memory SQLite database is a test database already.
    """
    if connection.vendor != "sqlite" or connection.creation.is_in_memory_db(  # type: ignore[attr-defined]
        connection.settings_dict["NAME"]
    ):
        yield
        return
    from django.core.management import call_command

    original = connection.settings_dict["NAME"]
    with tempfile.TemporaryDirectory(prefix="pymetrics-bench-") as directory:
        connection.close()
        connection.settings_dict["NAME"] = str(Path(directory) / "bench.sqlite3")
        try:
            log(f"SQLite: benching in a temporary database in {directory}")
            call_command("migrate", verbosity=0, interactive=False)
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = original


# --- the scratch organisation -------------------------------------------------------


@contextmanager
def _scratch_organization(log: Callable[[str], None]) -> Iterator[Organization]:
    existing = Organization.objects.filter(slug=BENCH_ORG_SLUG).first()
    if existing is not None:
        if existing.name != BENCH_ORG_NAME:
            raise BenchError(
                f"an organisation with slug {BENCH_ORG_SLUG!r} ({existing.name!r}) exists and "
                "was not made by the bench; refusing to write into it"
            )
        log("deleting the scratch data of an interrupted bench run")
        _delete_scratch(existing)
        _vacuum()
    organization = Organization.objects.create(slug=BENCH_ORG_SLUG, name=BENCH_ORG_NAME)
    try:
        yield organization
    finally:
        _delete_scratch(organization)
        _vacuum()


def _delete_scratch(organization: Organization) -> None:
    """Delete the bench organisation and everything under it, biggest tables first."""
    sessions = GameSession.objects.filter(attempt__assessment__organization=organization)
    with transaction.atomic():
        game_sessions_lock_for_deletion(sessions)
        Event.objects.filter(game_session__in=sessions).delete()
        TraitScore.objects.filter(attempt__assessment__organization=organization).delete()
        MetricSet.objects.filter(game_session__in=sessions).delete()
        NormTable.objects.filter(organization=organization).delete()
        # the API scenario's reads were audited like any other (tens of thousands of
        # entries): they stay, as the audit log is append-only (docs/security.md)
        organization.delete()
        User.objects.filter(email=BENCH_USER_EMAIL).delete()


# --- set-up helpers -----------------------------------------------------------------


def _bench_api_key(context: BenchContext) -> str:
    """A new API key of the bench's staff user (made on first use, deleted with the rest)."""
    user = User.objects.filter(email=BENCH_USER_EMAIL).first()
    if user is None:
        user = user_create(email=BENCH_USER_EMAIL, password=None, organization=context.organization)
    # the bench only reads (candidates, dashboards, live updates)
    return api_key_create(user=user, organization=context.organization, scopes=["read"]).plaintext


@dataclass(frozen=True)
class _Stream:
    """One bot's session: the game, its seeded schedule and the events played on it."""

    game: str
    seed: int
    config: dict[str, Any]
    events: list[dict[str, Any]]


def _event_streams(context: BenchContext) -> list[_Stream]:
    """Realistic event streams from the games' bots; session ``i`` replays stream ``i % n``.

    Stream ``k`` is a player of game ``k % (number of games)``, so the sessions are a
    mix of the whole battery, as in a real assessment.
    """
    games = all_games()
    rng = np.random.default_rng(context.seed)
    streams = []
    for index in range(context.sizes.stream_pool):
        game = games[index % len(games)]
        seed = context.seed + index
        config = game.make_config(seed)
        events = game.play(game.sample_latent(rng), rng, config)
        streams.append(_Stream(game.key, seed, config, events))
    return streams


def _create_sessions(
    context: BenchContext,
    count: int,
    streams: Sequence[_Stream],
    *,
    state: str,
    label: str,
    events_stored: bool = False,
) -> list[GameSession]:
    """``count`` candidates with one started attempt and one game session each, in bulk.

    Session ``i`` gets the schedule of ``streams[i % len(streams)]``; with
    ``events_stored`` its counters say that stream is already stored. Bulk inserts
    instead of the invite/start services: set-up is not what is measured, and the
    services' audit-log rows would outlive the scratch organisation.
    """
    now = timezone.now()
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                organization=context.organization,
                external_id=f"bench-{label}-{index:06d}",
                is_simulated=True,
                consent_at=now,
            )
            for index in range(count)
        ],
        batch_size=1000,
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=context.assessment,
                state=AttemptState.STARTED,
                invite_expires_at=now + timedelta(days=1),
                started_at=now,
            )
            for candidate in candidates
        ],
        batch_size=1000,
    )
    sessions = []
    for index, attempt in enumerate(attempts):
        stream = streams[index % len(streams)]
        stored = len(stream.events) if events_stored else 0
        sessions.append(
            GameSession(
                attempt=attempt,
                game=stream.game,
                position=1,
                seed=stream.seed,
                config=stream.config,
                source=GameSessionSource.SIMULATED,
                state=state,
                started_at=now if state != GameSessionState.PENDING else None,
                completed_at=now if state == GameSessionState.COMPLETED else None,
                acked_seq=stored,
                event_count=stored,
            )
        )
    return GameSession.objects.bulk_create(sessions, batch_size=1000)


def _load_events(sessions: Sequence[GameSession], streams: Sequence[_Stream]) -> int:
    """Store session ``i`` with the events of ``streams[i % len(streams)]``; set-up only.

    PostgreSQL gets one COPY fed with text rows formatted once per stream; other
    databases a plain executemany. Nothing is validated or acknowledged here, which
    is why this is not an ingestion path.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    columns = "game_session_id, seq, t, type, data, received_at"
    now = timezone.now()
    stored = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            stamp = now.isoformat()
            tails = [
                [
                    "\t".join(
                        _copy_text(value)
                        for value in (e["seq"], float(e["t"]), e["type"], json.dumps(e["data"]))
                    )
                    + f"\t{stamp}\n"
                    for e in stream.events
                ]
                for stream in streams
            ]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for index, game_session in enumerate(sessions):
                    prefix = f"{game_session.pk}\t"
                    lines = tails[index % len(tails)]
                    copy.write("".join([prefix + line for line in lines]))
                    stored += len(lines)
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608  # nosec B608
            received_at = Event._meta.get_field("received_at").get_db_prep_save(now, connection)
            rows = [
                [(e["seq"], float(e["t"]), e["type"], json.dumps(e["data"])) for e in stream.events]
                for stream in streams
            ]
            for index, game_session in enumerate(sessions):
                chunk = [(game_session.pk, *row, received_at) for row in rows[index % len(rows)]]
                cursor.executemany(sql, chunk)
                stored += len(chunk)
    return stored


def _copy_text(value: object) -> str:
    """A value in PostgreSQL's COPY text format."""
    text = str(value)
    if any(char in text for char in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


_BENCH_TABLES = (Event, MetricSet, TraitScore, GameSession, Attempt, Candidate, AuditLog)


def _analyze() -> None:
    """Refresh planner statistics after a bulk load, as autovacuum would in production."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in _BENCH_TABLES)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")


def _vacuum() -> None:
    """Reclaim the rows the bench deleted (PostgreSQL), so runs do not degrade the next.

    Deleted rows stay in the table until a VACUUM; with autovacuum off or slow they
    would make every later scan, and every later bench run, slower. Skipped inside
    a transaction (VACUUM cannot run there), as in tests that wrap each test in one.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in _BENCH_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {tables}")


# --- peak memory --------------------------------------------------------------------


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def _reset_peak_rss() -> bool:
    """Start a new peak for this process (Linux >= 4.0); False where unsupported.

    Memory that earlier scenarios freed is first handed back to the system, so the
    new peak is this scenario's, over what the process really still holds.
    """
    gc.collect()
    with suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)  # glibc only
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _own_peak_rss_mb() -> float:
    peak = _status_kib("self", "VmHWM")
    if peak is not None:
        return peak / 1024
    # ru_maxrss is KiB on Linux, bytes on macOS
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return pids
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            pids.extend(_process_tree(int(child)))
    return pids


# --- the HTTP server under test -----------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db["HOST"] or ""  # empty: libpq's default (a local socket), as configured
        if ":" in host:
            host = f"[{host}]"
        port = f":{db['PORT']}" if db["PORT"] else ""
        url = f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
        sslmode = (db.get("OPTIONS") or {}).get("sslmode")
        return url + (f"?sslmode={sslmode}" if sslmode else "")
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(str(db["NAME"])).resolve())
    raise BenchError(f"the bench does not know how to share a {connection.vendor} database")


class _Server(ABC):
    """The ASGI app served by uvicorn on a free local port."""

    url: str
    #: concurrent requests the database behind it can take (None: no limit)
    max_clients: int | None = None

    @abstractmethod
    def peak_rss_mb(self) -> float: ...

    def rss_mb(self) -> float:
        """Resident memory of the server now (every process of it)."""
        return self.peak_rss_mb()

    @abstractmethod
    def stop(self) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what stop() left for inspection (the server's log)."""


class _SubprocessServer(_Server):
    """The HTTP (gunicorn) or WebSocket (uvicorn) server as a child process, as deployed.

    It gets this process's environment, with ``DATABASE_URL`` pointing at the
    database this process actually uses (the test database under pytest) and the
    same ``DJANGO_DEBUG``, so both sides read and write the same rows.
    """

    def __init__(self, kind: ServerKind, workers: int) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        environment = dict(os.environ)
        environment["DATABASE_URL"] = _database_url()
        environment["DJANGO_DEBUG"] = "1" if settings.DEBUG else "0"
        environment.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        make_command = http_server_command if kind == "http" else socket_server_command
        command = make_command(host="127.0.0.1", port=port, workers=workers)
        # a file, not a pipe: nobody reads the server's log while it runs
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments  # nosec B603
            command,
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._peak_kib = 0
        try:
            _wait_healthy(self.url, alive=lambda: self.process.poll() is None)
        except BenchError as error:
            self.stop()
            raise BenchError(f"{error}; its output ends with:\n{self.log_tail()}") from None

    def log_tail(self, size: int = 2000) -> str:
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - size))
        return self._log.read().decode(errors="replace")

    def sample_peak(self) -> None:
        """Remember the largest VmHWM of any server process (call before stopping)."""
        for pid in _process_tree(self.process.pid):
            self._peak_kib = max(self._peak_kib, _status_kib(pid, "VmHWM") or 0)

    def peak_rss_mb(self) -> float:
        self.sample_peak()
        return self._peak_kib / 1024

    def rss_mb(self) -> float:
        pids = _process_tree(self.process.pid)
        return sum(_status_kib(pid, "VmRSS") or 0 for pid in pids) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.sample_peak()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        self._log.close()


class _ThreadServer(_Server):
    """uvicorn in a thread of this process: only for in-memory SQLite (tests).

    A child process cannot open another process's in-memory database; a thread can.
    Such a database is shared between connections in "shared cache" mode, which
    fails a write that meets another instead of waiting, so clients take turns.
    """

    max_clients = 1

    def __init__(self) -> None:
        import uvicorn

        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            "config.asgi:application",
            host="127.0.0.1",
            port=port,
            lifespan="off",
            access_log=False,
            log_level="warning",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="bench-uvicorn", daemon=True)
        self._thread.start()
        _wait_healthy(self.url, alive=self._thread.is_alive)

    def peak_rss_mb(self) -> float:
        return _own_peak_rss_mb()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)


def _wait_healthy(url: str, *, alive: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not alive():
                raise BenchError("the bench's uvicorn server exited during start-up")
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise BenchError(f"the bench's server did not answer {url}/healthz in {timeout_s} s")


ServerKind = Literal["http", "sockets"]


def _start_server(kind: ServerKind, workers: int) -> _Server:
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(  # type: ignore[attr-defined]
        connection.settings_dict["NAME"]
    ):
        return _ThreadServer()
    return _SubprocessServer(kind, workers)


# --- scenarios ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    game_session_id: int
    body: bytes
    events: int


def _post_batches(
    url: str, token_by_session: dict[int, str], work: queue.Queue[list[_Batch] | None]
) -> tuple[int, list[str]]:
    """One client: post each session's batches in order; (events accepted, errors)."""
    accepted = 0
    errors: list[str] = []
    address = urlsplit(url)
    # http.client, not httpx: the load generator shares the machine with the
    # server, and this costs it a fraction of the CPU per request
    client = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=60)
    try:
        while (batches := work.get()) is not None:
            for batch in batches:
                client.request(
                    "POST",
                    f"/api/v1/play/game-sessions/{batch.game_session_id}/events/",
                    body=batch.body,
                    headers={
                        "Authorization": f"Bearer {token_by_session[batch.game_session_id]}",
                        "Content-Type": "application/json",
                    },
                )
                response = client.getresponse()
                body = response.read()
                if response.status != 200:
                    errors.append(f"{response.status} {body[:300].decode(errors='replace')}")
                    break
                accepted += int(json.loads(body)["accepted"])
    finally:
        client.close()
    return accepted, errors


def _session_batches(
    sessions: Sequence[GameSession], streams: Sequence[_Stream], batch_size: int
) -> dict[int, list[_Batch]]:
    """Each session's stream as JSON request bodies, encoded before the clock starts."""
    batches: dict[int, list[_Batch]] = {}
    for index, game_session in enumerate(sessions):
        stream = streams[index % len(streams)].events
        batches[game_session.pk] = [
            _Batch(
                game_session_id=game_session.pk,
                body=json.dumps({"events": stream[start : start + batch_size]}).encode(),
                events=len(stream[start : start + batch_size]),
            )
            for start in range(0, len(stream), batch_size)
        ]
    return batches


def _run_clients(
    url: str,
    token_by_session: dict[int, str],
    batches_by_session: dict[int, list[_Batch]],
    clients: int,
) -> tuple[float, int]:
    """Post every session's batches from ``clients`` threads; (seconds, events accepted)."""
    work: queue.Queue[list[_Batch] | None] = queue.Queue()
    for batches in batches_by_session.values():
        work.put(batches)
    for _ in range(clients):
        work.put(None)
    results: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            outcome = _post_batches(url, token_by_session, work)
        except Exception as error:  # reported below, after every thread finished
            outcome = (0, [f"{type(error).__name__}: {error}"])
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    errors = [error for _, errs in results for error in errs]
    if errors:
        raise BenchError(f"{len(errors)} event batches failed; first: {errors[0]}")
    return elapsed, sum(accepted for accepted, _ in results)


@scenario("ingest_http_events_per_s")
def ingest_http(context: BenchContext) -> list[Figure]:
    """Events/s stored through POST .../events/ by concurrent clients, 500 per request.

    Each client thread plays whole sessions (its batches in seq order, as a browser
    sends them); sessions are handed out from a queue. A short warm-up on separate
    sessions loads every server worker first. The figure counts stored events only,
    checked in the database afterwards.
    """
    sizes = context.sizes
    streams = _event_streams(context)
    workers = sizes.server_workers or (os.cpu_count() or 1)
    warmup_count = max(2, 2 * workers)
    warmup = _create_sessions(
        context, warmup_count, streams, state=GameSessionState.PENDING, label="warm"
    )
    sessions = _create_sessions(
        context, sizes.ingest_sessions, streams, state=GameSessionState.PENDING, label="ingest"
    )
    tokens = {gs.pk: session_token_issue(attempt_id=gs.attempt_id) for gs in [*warmup, *sessions]}
    warmup_batches = {
        pk: batches[:1]
        for pk, batches in _session_batches(warmup, streams, sizes.ingest_batch).items()
    }
    batches = _session_batches(sessions, streams, sizes.ingest_batch)
    sent = sum(batch.events for session_batches in batches.values() for batch in session_batches)

    server = _start_server("http", workers)
    clients = min(sizes.ingest_clients, server.max_clients or sizes.ingest_clients)
    try:
        _run_clients(server.url, tokens, warmup_batches, min(clients, warmup_count))
        elapsed, accepted = _run_clients(server.url, tokens, batches, clients)
        peak_mb = server.peak_rss_mb()
    finally:
        server.stop()
        server.close()

    ids = [gs.pk for gs in sessions]
    stored = Event.objects.filter(game_session_id__in=ids).count()
    if stored != sent or accepted != sent:
        raise BenchError(f"sent {sent} events, server accepted {accepted}, database has {stored}")
    fully_acked = GameSession.objects.filter(pk__in=ids, acked_seq__gt=0).values_list(
        "pk", "acked_seq"
    )
    expected_acked = {
        gs.pk: len(streams[index % len(streams)].events) for index, gs in enumerate(sessions)
    }
    if dict(fully_acked) != expected_acked:
        raise BenchError("some sessions' acked_seq does not cover every event sent")
    context.log(
        f"ingest: {stored} events in {len(ids)} sessions, {elapsed:.2f} s, "
        f"{clients} clients, {workers} server workers, {connection.vendor}"
    )
    name = "ingest_http_events_per_s"
    return [
        Figure(name, stored / elapsed, "events/s"),
        Figure(f"{name}_peak_rss_mb", peak_mb, "MB"),
    ]


@scenario("ingest_ws_events_per_s")
def ingest_ws(context: BenchContext) -> list[Figure]:
    """Events/s acknowledged over WebSockets from many concurrent sockets.

    ``ws_sessions`` sockets open at once (one game session each, its bot's stream cut
    into ``ws_frame``-event frames, encoded before the clock starts) and each sends
    its frames in order, one in flight at a time, as the browser client does. The
    clock runs from the first connection to the last ack; afterwards every event
    must be stored once and every session's ``acked_seq`` must cover its stream.
    """
    run = _socket_ingestion(context, context.sizes.ws_sessions, context.sizes.ws_frame, "ws")
    name = "ingest_ws_events_per_s"
    return [
        Figure(name, run.events / run.elapsed, "events/s"),
        Figure(f"{name}_peak_rss_mb", run.peak_mb, "MB"),
    ]


@scenario("ingest_ws_live_frames_per_s")
def ingest_ws_live(context: BenchContext) -> list[Figure]:
    """Frames/s acknowledged when each frame is as small as live play makes it.

    A playing candidate's page flushes every 250 ms, and a game makes a few events a
    second, so its frames hold ``ws_live_frame`` events rather than hundreds: the
    cost per frame (one transaction, one acknowledgement) is what sizes the socket
    servers for many candidates (docs/operations.md, "Capacity plan"). The same
    run as ``ingest_ws_events_per_s`` otherwise.
    """
    sizes = context.sizes
    run = _socket_ingestion(
        context,
        sizes.ws_live_sessions,
        sizes.ws_live_frame,
        "ws-live",
        events_per_socket=sizes.ws_live_frame * sizes.ws_live_frames_per_socket,
        socket_rate=sizes.ws_live_socket_rate,
    )
    name = "ingest_ws_live_frames_per_s"
    return [
        Figure(name, run.frames / run.elapsed, "frames/s"),
        Figure("ingest_ws_live_events_per_s", run.events / run.elapsed, "events/s"),
        Figure(f"{name}_peak_rss_mb", run.peak_mb, "MB"),
    ]


@dataclass(frozen=True)
class _SocketRun:
    events: int
    frames: int
    elapsed: float
    peak_mb: float


def _socket_ingestion(
    context: BenchContext,
    session_count: int,
    frame_size: int,
    label: str,
    *,
    events_per_socket: int | None = None,
    socket_rate: float | None = None,
) -> _SocketRun:
    """``session_count`` sockets send their bot streams in ``frame_size``-event frames.

    ``events_per_socket`` cuts each stream to its beginning; ``socket_rate`` is the
    most frames per second one socket sends.
    """
    sizes = context.sizes
    streams = _event_streams(context)
    sessions = _create_sessions(
        context, session_count, streams, state=GameSessionState.PENDING, label=label
    )
    frames: dict[int, list[str]] = {}
    expected: dict[int, int] = {}
    for index, game_session in enumerate(sessions):
        stream = streams[index % len(streams)].events[:events_per_socket]
        expected[game_session.pk] = len(stream)
        frames[game_session.pk] = [
            json.dumps({"type": "events", "events": stream[start : start + frame_size]})
            for start in range(0, len(stream), frame_size)
        ]
    tokens = {gs.pk: session_token_issue(attempt_id=gs.attempt_id) for gs in sessions}
    workers = sizes.server_workers or (os.cpu_count() or 1)
    server = _start_server("sockets", workers)
    interval_s = 1 / socket_rate if socket_rate else 0.0
    parallel = min(len(sessions), server.max_clients or len(sessions))

    def server_pids() -> Sequence[int]:
        if isinstance(server, _SubprocessServer):
            return _process_tree(server.process.pid)
        return []

    usage = _CpuUsage(server_pids)
    try:
        base = server.url.replace("http://", "ws://")
        before = usage.sample()
        elapsed, accepted, errors = asyncio.run(
            _ws_clients(base, tokens, frames, parallel, interval_s=interval_s)
        )
        cpu_s = _CpuUsage.spent(before, usage.sample())
        peak_mb = server.peak_rss_mb()
        server_log = server.log_tail() if errors and hasattr(server, "log_tail") else ""
    finally:
        server.stop()
        server.close()
    if errors:
        raise BenchError(
            f"{len(errors)} socket clients failed, first: {errors[0]}\nserver log:\n{server_log}"
        )
    sent = sum(expected.values())
    stored = Event.objects.filter(game_session_id__in=list(expected)).count()
    acked = dict(GameSession.objects.filter(pk__in=list(expected)).values_list("pk", "acked_seq"))
    if stored != sent or accepted != sent or acked != expected:
        raise BenchError(f"sent {sent} events, acknowledged {accepted}, database has {stored}")
    frame_count = sum(len(session_frames) for session_frames in frames.values())
    per_frame = 1000 / max(1, frame_count)
    parties = {name: cpu_s[name] for name in _CpuUsage.PARTIES}
    parties["anything else"] = cpu_s["machine"] - sum(parties.values())
    cpu = ", ".join(f"{name} {value * per_frame:.2f} ms" for name, value in parties.items())
    busy = cpu_s["machine"] / elapsed / (os.cpu_count() or 1) * 100
    context.log(
        f"{label}: {stored} events in {frame_count} frames from {len(sessions)} sockets "
        f"({parallel} at once), {elapsed:.2f} s, frames of {frame_size}, {workers} server "
        f"workers; CPU per frame: {cpu}; machine busy {busy:.0f}%"
    )
    return _SocketRun(
        events=stored,
        frames=frame_count,
        elapsed=elapsed,
        peak_mb=peak_mb,
    )


async def _ws_clients(
    base: str,
    tokens: dict[int, str],
    frames: dict[int, list[str]],
    parallel: int,
    *,
    interval_s: float = 0.0,
) -> tuple[float, int, list[str]]:
    """Every session's frames over its own socket, ``parallel`` sockets at a time,
    each frame at least ``interval_s`` after the one before."""
    import websockets

    gate = asyncio.Semaphore(parallel)
    errors: list[str] = []

    async def one(game_session_id: int) -> int:
        accepted = 0
        async with gate:
            url = f"{base}/ws/play/{game_session_id}/?token={tokens[game_session_id]}"
            try:
                async with websockets.connect(url, max_size=None, open_timeout=60) as socket:
                    hello = json.loads(await socket.recv())
                    if hello.get("type") != "hello":
                        raise BenchError(f"expected hello, got {hello}")
                    for frame in frames[game_session_id]:
                        sent_at = time.perf_counter()
                        await socket.send(frame)
                        ack = json.loads(await socket.recv())
                        while ack.get("type") == "ping":  # answered, as the page does
                            await socket.send('{"type": "pong"}')
                            ack = json.loads(await socket.recv())
                        if ack.get("type") != "ack":
                            raise BenchError(f"expected ack, got {ack}")
                        accepted += int(ack["accepted"])
                        wait_s = interval_s - (time.perf_counter() - sent_at)
                        if wait_s > 0:
                            await asyncio.sleep(wait_s)
            except Exception as error:  # reported after every client finished
                errors.append(f"{type(error).__name__}: {error}")
        return accepted

    started = time.perf_counter()
    counts = await asyncio.gather(*(one(pk) for pk in frames))
    return time.perf_counter() - started, sum(counts), errors


@dataclass
class _Broadcasts:
    """What the dashboard clients saw: arrival times of each numbered update."""

    sockets: int
    arrivals: list[list[float]]
    sent_at: list[float]
    open_after: int
    connect_s: float
    rss_before_mb: float
    rss_held_mb: float


@scenario("ws_connections")
def ws_connections(context: BenchContext) -> list[Figure]:
    """Dashboard sockets held by one socket server, and one update's fan-out to them.

    ``ws_hold`` staff clients open ``/ws/dashboard/<id>/`` (API key), answer the
    server's heartbeat pings, and stay; ``ws_broadcast_sockets`` of them watch the
    assessment that every update goes to, the others a second one. Each update is a
    ``scores.updated`` notice published as the scoring tasks publish theirs
    (:func:`pymetrics.common.live.live_publish`), numbered by its ``count``; a
    client notes when its copy arrives. The load generator runs on the same machine.

    Figures: sockets still open at the end; the server's memory with all of them
    open (and per socket, over the idle server); the 99th percentile over every
    (update, socket) of the time from publishing to arrival; and the median over
    updates of the time until the last socket had it.
    """
    sizes = context.sizes
    key = _bench_api_key(context)
    target = context.assessment
    other = Assessment.objects.create(organization=context.organization, name="Bench, idle")
    _raise_open_files_limit(sizes.ws_hold + 1000)
    workers = sizes.server_workers or (os.cpu_count() or 1)
    server = _start_server("sockets", workers)
    try:
        base = server.url.replace("http://", "ws://")
        seen = _run_fast(
            _dashboard_clients(
                base,
                key,
                server,
                target_id=target.pk,
                other_id=other.pk,
                sockets=sizes.ws_hold,
                watching=min(sizes.ws_broadcast_sockets, sizes.ws_hold),
                broadcasts=sizes.ws_broadcasts,
                log=context.log,
            )
        )
        server_log = server.log_tail() if hasattr(server, "log_tail") else ""
    finally:
        server.stop()
        server.close()
    watching = min(sizes.ws_broadcast_sockets, sizes.ws_hold)
    missing = [k for k, times in enumerate(seen.arrivals) if len(times) != watching]
    if missing or seen.open_after != seen.sockets:
        raise BenchError(
            f"{seen.open_after} of {seen.sockets} sockets open at the end; updates "
            f"{missing[:5]} did not reach all {watching}\nserver log:\n{server_log}"
        )
    delays = np.concatenate(
        [np.asarray(times) - sent for times, sent in zip(seen.arrivals, seen.sent_at, strict=True)]
    )
    last = np.asarray(
        [max(times) - sent for times, sent in zip(seen.arrivals, seen.sent_at, strict=True)]
    )
    per_socket_kib = (seen.rss_held_mb - seen.rss_before_mb) * 1024 / seen.sockets
    context.log(
        f"ws_connections: {seen.sockets} dashboard sockets opened in {seen.connect_s:.1f} s "
        f"({workers} server workers); {len(seen.arrivals)} updates to {watching} of them; "
        f"median {np.median(delays) * 1000:.1f} ms, slowest update reached all in "
        f"{last.max() * 1000:.1f} ms"
    )
    return [
        Figure("ws_connections", float(seen.open_after), "sockets"),
        Figure("ws_connections_rss_mb", seen.rss_held_mb, "MB"),
        Figure("ws_connections_kib_per_socket", per_socket_kib, "KiB"),
        Figure("ws_broadcast_p99_ms", float(np.percentile(delays, 99)) * 1000, "ms"),
        Figure("ws_broadcast_all_p50_ms", float(np.median(last)) * 1000, "ms"),
    ]


def _run_fast(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop (the event loop in C that uvicorn uses too) when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def _raise_open_files_limit(needed: int) -> None:
    """One file descriptor per client socket here (and per server socket in the server)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise BenchError(
            f"{needed} sockets need {needed} open files; the limit here is {hard} "
            "(raise it with ulimit -n, or bench fewer sockets)"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


_PONG = json.dumps({"type": "pong"})
#: updates published before the timed ones (connections warm up, code paths load)
_UNTIMED_BROADCASTS = 3


async def _dashboard_clients(
    base: str,
    key: str,
    server: _Server,
    *,
    target_id: int,
    other_id: int,
    sockets: int,
    watching: int,
    broadcasts: int,
    log: Callable[[str], None],
) -> _Broadcasts:
    """Open the sockets, time the updates, close; aiohttp (its frame reader is in C).

    The load generator shares the machine with the server: a client that parses
    frames in Python would take longer to read 2,000 copies than the server to
    write them, and its own delay would be measured as the server's.
    """
    import aiohttp

    total = _UNTIMED_BROADCASTS + broadcasts
    arrivals: list[list[float]] = [[] for _ in range(total)]
    complete = [asyncio.Event() for _ in range(total)]
    gate = asyncio.Semaphore(max(1, min(200, server.max_clients or 200)))
    headers = {"Authorization": f"Token {key}"}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, connect=120, sock_connect=120)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        listeners: list[asyncio.Task[None]] = []

        async def open_one(index: int) -> aiohttp.ClientWebSocketResponse:
            assessment_id = target_id if index < watching else other_id
            async with gate:
                socket = await http.ws_connect(
                    f"{base}/ws/dashboard/{assessment_id}/",
                    headers=headers,
                    compress=0,
                    autoping=True,
                    heartbeat=None,
                    max_msg_size=0,
                )
                hello = await socket.receive_json(timeout=60)
                if hello.get("type") != "hello":
                    raise BenchError(f"expected hello, got {hello}")
            # listening at once: the server's heartbeat pings must be answered
            # while the other sockets are still being opened
            listeners.append(asyncio.create_task(listen(socket)))
            if len(listeners) % 1000 == 0:
                log(f"ws_connections: {len(listeners)} of {sockets} sockets open")
            return socket

        async def listen(socket: aiohttp.ClientWebSocketResponse) -> None:
            async for frame in socket:
                now = time.monotonic()
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    break
                message = json.loads(frame.data)
                kind = message.get("type")
                if kind == "scores.updated":
                    times = arrivals[message["count"]]
                    times.append(now)
                    if len(times) == watching:
                        complete[message["count"]].set()
                elif kind == "ping":
                    await socket.send_str(_PONG)

        rss_before = server.rss_mb()
        started = time.monotonic()
        opened = await asyncio.gather(*(open_one(i) for i in range(sockets)))
        connect_s = time.monotonic() - started
        await asyncio.sleep(1.0)  # the server settles (and frees what the handshakes used)
        rss_held = server.rss_mb()

        sent_at: list[float] = []
        # the load generator's own garbage collector would pause every client at
        # once now and then: pauses of the generator, not of the server
        gc.collect()
        gc.freeze()
        gc.disable()
        for number in range(total):
            notice = {
                "type": "scores.updated",
                "assessment_id": target_id,
                "count": number,
                "attempt_ids": [],
            }
            sent = time.monotonic()
            if not live_publish(f"dashboard.{target_id}", notice):
                raise BenchError("the update could not be published (see the log)")
            sent_at.append(sent)
            try:
                await asyncio.wait_for(complete[number].wait(), timeout=10)
            except TimeoutError:
                log(
                    f"ws_connections: update {number} reached {len(arrivals[number])} "
                    f"of {watching} sockets in 10 s"
                )
                break
            await asyncio.sleep(0.05)

        gc.enable()
        gc.unfreeze()
        open_after = sum(not socket.closed for socket in opened)
        for task in listeners:
            task.cancel()
        await asyncio.gather(*(socket.close() for socket in opened), return_exceptions=True)
    return _Broadcasts(
        sockets=sockets,
        arrivals=arrivals[_UNTIMED_BROADCASTS:],
        sent_at=sent_at[_UNTIMED_BROADCASTS:],
        open_after=open_after,
        connect_s=connect_s,
        rss_before_mb=rss_before,
        rss_held_mb=rss_held,
    )


@scenario("extract_sessions_per_min")
def extract_sessions(context: BenchContext) -> list[Figure]:
    """Completed sessions whose metrics are extracted and stored, events already stored.

    Sessions are extracted ``extract_batch`` at a time through metric_sets_extract,
    the path a batch re-extraction takes; the figure is sessions/min over all of them.
    """
    sizes = context.sizes
    streams = _event_streams(context)
    started = time.perf_counter()
    sessions = _create_sessions(
        context,
        sizes.extract_sessions,
        streams,
        state=GameSessionState.COMPLETED,
        label="extract",
        events_stored=True,
    )
    loaded = _load_events(sessions, streams)
    _analyze()
    context.log(
        f"extract: set-up stored {loaded} events for {len(sessions)} sessions "
        f"in {time.perf_counter() - started:.1f} s"
    )

    ids = [gs.pk for gs in sessions]
    memory_reset = _reset_peak_rss()
    started = time.perf_counter()
    for start in range(0, len(ids), sizes.extract_batch):
        metric_sets_extract(game_session_ids=ids[start : start + sizes.extract_batch])
    elapsed = time.perf_counter() - started
    peak_mb = _own_peak_rss_mb()

    stored = MetricSet.objects.filter(game_session_id__in=ids).count()
    scored = GameSession.objects.filter(pk__in=ids, state=GameSessionState.SCORED).count()
    if stored != len(ids) or scored != len(ids):
        raise BenchError(f"{len(ids)} sessions extracted, {stored} metric sets, {scored} scored")
    context.log(
        f"extract: {len(ids)} sessions in {elapsed:.2f} s, batches of {sizes.extract_batch}"
        + ("" if memory_reset else " (peak memory includes set-up)")
    )
    name = "extract_sessions_per_min"
    return [
        Figure(name, len(ids) / elapsed * 60, "sessions/min"),
        Figure(f"{name}_peak_rss_mb", peak_mb, "MB"),
    ]


def _attempts_with_metrics(
    context: BenchContext,
    metrics: pd.DataFrame,
    *,
    count: int,
    label: str,
    assessment: Assessment | None = None,
    contact: bool = False,
) -> list[int]:
    """``count`` completed attempts, each with every game's scored session and metrics.

    One new candidate per attempt (external id ``bench-<label>-<i>``; with
    ``contact`` also an encrypted name and e-mail, as a real candidate has), in
    ``assessment`` (the bench's by default). Attempt ``i`` gets the metrics of
    simulated person ``i % len(metrics)``. Bulk inserts instead of the services:
    set-up is not what is measured.
    """
    now = timezone.now()
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                organization=context.organization,
                external_id=f"bench-{label}-{index:06d}",
                name=f"Bench Candidate {index}" if contact else "",
                email=f"candidate-{index}@bench.invalid" if contact else "",
                email_index=candidate_email_index(
                    email=f"candidate-{index}@bench.invalid",
                    organization_id=context.organization.pk,
                )
                if contact
                else "",
                is_simulated=True,
                consent_at=now,
            )
            for index in range(count)
        ],
        batch_size=2000,
    )
    attempts = Attempt.objects.bulk_create(
        [
            Attempt(
                candidate=candidate,
                assessment=assessment or context.assessment,
                state=AttemptState.COMPLETED,
                invite_expires_at=now + timedelta(days=1),
                started_at=now,
                completed_at=now,
            )
            for candidate in candidates
        ],
        batch_size=2000,
    )
    games = all_games()
    sessions = GameSession.objects.bulk_create(
        [
            GameSession(
                attempt=attempt,
                game=game.key,
                position=position,
                seed=index,
                config={},
                source=GameSessionSource.SIMULATED,
                state=GameSessionState.SCORED,
                started_at=now,
                completed_at=now,
            )
            for index, attempt in enumerate(attempts)
            for position, game in enumerate(games, start=1)
        ],
        batch_size=5000,
    )
    rows = metrics.to_dict("records")
    metric_sets = []
    for index, session in enumerate(sessions):
        person = rows[(index // len(games)) % len(rows)]
        prefix = f"{session.game}."
        values = {
            str(key)[len(prefix) :]: float(value)
            for key, value in person.items()
            if str(key).startswith(prefix) and not pd.isna(value)
        }
        metric_sets.append(
            MetricSet(
                game_session=session,
                game=session.game,
                extractor_version=games[index % len(games)].extractor_version,
                values=values,
                computed_at=now,
            )
        )
    MetricSet.objects.bulk_create(metric_sets, batch_size=5000)
    return [attempt.pk for attempt in attempts]


@scenario("infer_sessions_per_min")
def infer_sessions(context: BenchContext) -> list[Figure]:
    """Attempts whose traits are inferred and stored, metrics already stored.

    A simulated norm table of the bench organisation applies; every attempt has all
    seven games' metrics (taken from the same simulated players), so each is scored
    on every trait the catalogue's games can reach. The figure is attempts/min.
    """
    sizes = context.sizes
    started = time.perf_counter()
    table = norm_table_build(
        population=NormPopulation.SIMULATED,
        name="Bench norms",
        organization=context.organization,
        players=sizes.infer_population,
        seed=context.seed,
    )
    population = simulated_population(players=sizes.infer_population, seed=context.seed + 1)
    attempt_ids = _attempts_with_metrics(
        context, population.metrics, count=sizes.infer_attempts, label="infer"
    )
    _analyze()
    context.log(
        f"infer: set-up made a norm table and {len(attempt_ids)} attempts with metrics "
        f"in {time.perf_counter() - started:.1f} s"
    )

    memory_reset = _reset_peak_rss()
    started = time.perf_counter()
    summary = traits_infer(attempt_ids=attempt_ids)
    elapsed = time.perf_counter() - started
    peak_mb = _own_peak_rss_mb()

    stored = TraitScore.objects.filter(norm_table=table).count()
    expected = len(attempt_ids) * len(table.trait_map.definition["traits"])
    if summary.attempts != len(attempt_ids) or stored != expected:
        raise BenchError(
            f"{len(attempt_ids)} attempts inferred, {summary.attempts} reported, "
            f"{stored} trait scores stored (expected {expected})"
        )
    context.log(
        f"infer: {len(attempt_ids)} attempts in {elapsed:.2f} s "
        f"({summary.scored_traits} traits scored, {summary.unscored_traits} not scorable)"
        + ("" if memory_reset else " (peak memory includes set-up)")
    )
    name = "infer_sessions_per_min"
    return [
        Figure(name, len(attempt_ids) / elapsed * 60, "attempts/min"),
        Figure(f"{name}_peak_rss_mb", peak_mb, "MB"),
    ]


# --- API reads ----------------------------------------------------------------------

#: share of the API clients' requests that read the dashboard summary (the rest: a
#: random candidate's detail)
_API_DASHBOARD_SHARE = 0.2
#: where the throughput measured is below ``api_rate``, latency is timed at this share
#: of it: a load the server answers with room to spare, as one would run it
_API_PACED_SHARE = 0.5


@dataclass
class _ApiPhase:
    """What the API clients measured in one phase of the scenario."""

    latencies_s: list[float]
    dashboard_latencies_s: list[float]
    candidate_reads: int
    dashboard_reads: int
    errors: list[str]
    wall_s: float
    #: CPU seconds spent during the phase, by party (see :class:`_CpuUsage`)
    cpu_s: dict[str, float]

    @property
    def requests(self) -> int:
        return len(self.latencies_s)

    def percentile_ms(self, q: float, *, dashboards: bool = False) -> float:
        latencies = self.dashboard_latencies_s if dashboards else self.latencies_s
        return float(np.percentile(latencies, q)) * 1000 if latencies else 0.0

    def describe(self) -> str:
        """Rate, latencies and where the CPU went, per request."""
        per_request = 1000 / max(1, self.requests)
        parties = {name: self.cpu_s[name] for name in _CpuUsage.PARTIES}
        parties["anything else on the machine"] = self.cpu_s["machine"] - sum(parties.values())
        cpu = ", ".join(f"{name} {value * per_request:.2f} ms" for name, value in parties.items())
        busy = self.cpu_s["machine"] / self.wall_s / (os.cpu_count() or 1) * 100
        return (
            f"{self.requests} requests in {self.wall_s:.1f} s = "
            f"{self.requests / self.wall_s:.0f}/s; p50 {self.percentile_ms(50):.1f} ms, "
            f"p90 {self.percentile_ms(90):.1f} ms, p99 {self.percentile_ms(99):.1f} ms, "
            f"max {self.percentile_ms(100):.1f} ms (dashboard summaries: p50 "
            f"{self.percentile_ms(50, dashboards=True):.1f} ms, p99 "
            f"{self.percentile_ms(99, dashboards=True):.1f} ms); CPU per request: {cpu}; "
            f"machine busy {busy:.0f}%"
        )


def _clock_ticks() -> int:
    return int(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100


def _processes_cpu_s(pids: Sequence[int]) -> float:
    """User plus system CPU seconds of these processes so far (0 where unreadable)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / _clock_ticks()


def _machine_cpu_s() -> float:
    """CPU seconds every core spent busy since boot (0 where /proc/stat is missing)."""
    try:
        line = Path("/proc/stat").read_text().splitlines()[0]
    except (OSError, IndexError):
        return 0.0
    values = [int(value) for value in line.split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle, iowait
    return (sum(values[:8]) - idle) / _clock_ticks()


class _CpuUsage:
    """CPU seconds used so far by each party to an API phase, read before and after it.

    The server's processes and the database's backends of this database (PostgreSQL
    on this machine: their ``/proc`` entries) and the cache server (Redis's own
    ``INFO cpu``), the load generator (this process), and the whole machine, so
    that what other programs took is visible too. A party that cannot be read
    counts 0.
    """

    PARTIES = ("server", "database", "cache", "load generator")

    def __init__(self, server_pids: Callable[[], Sequence[int]]) -> None:
        self._server_pids = server_pids

    def sample(self) -> dict[str, Any]:
        return {
            "server": _processes_cpu_s(self._server_pids()),
            "database": {pid: _processes_cpu_s([pid]) for pid in _database_backends()},
            "cache": _cache_server_cpu_s(),
            "load generator": time.process_time(),
            "machine": _machine_cpu_s(),
        }

    @staticmethod
    def spent(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        spent = {name: after[name] - before[name] for name in after if name != "database"}
        # a backend the server's pool opened during the phase counts from zero
        spent["database"] = sum(
            cpu - before["database"].get(pid, 0.0) for pid, cpu in after["database"].items()
        )
        return spent


def _database_backends() -> list[int]:
    """Process ids of the PostgreSQL backends serving this database, but this process's."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(pid) for (pid,) in cursor.fetchall()]


def _cache_server_cpu_s() -> float:
    """CPU seconds the Redis server behind the cache has used, or 0 without one."""
    try:
        from django_redis import get_redis_connection

        info = get_redis_connection("default").info("cpu")
    except Exception:  # not Redis (the embedded default), or not reachable
        return 0.0
    return float(info.get("used_cpu_user", 0.0)) + float(info.get("used_cpu_sys", 0.0))


class _KeepAliveClient:
    """One HTTP/1.1 keep-alive connection sending pre-encoded GET requests.

    Raw asyncio streams instead of an HTTP client library: the load generator
    shares the two cores with the server, and this costs it a few microseconds per
    request. Answers must carry a Content-Length (Django's do). A connection the
    server closed while idle (gunicorn keeps one open for 2 s) is opened again and
    the request sent again, as HTTP clients do with idempotent requests.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._address = (host, port)

    @classmethod
    async def connect(cls, host: str, port: int) -> _KeepAliveClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host, port)

    async def get(self, request: bytes) -> tuple[int, bytes]:
        self._writer.write(request)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                raise
            self._writer.close()
            self._reader, self._writer = await asyncio.open_connection(*self._address)
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        start = head.lower().find(b"\r\ncontent-length:")
        if start < 0:
            raise BenchError(f"an answer without Content-Length: {head[:200]!r}")
        end = head.index(b"\r\n", start + 2)
        body = await self._reader.readexactly(int(head[start + 17 : end]))
        return status, body

    async def close(self) -> None:
        self._writer.close()
        with suppress(OSError):
            await self._writer.wait_closed()


@dataclass(frozen=True)
class _ApiRequests:
    """The requests of the API clients, encoded once: one per candidate and dashboard."""

    host: str
    port: int
    candidates: list[tuple[int, bytes]]
    dashboards: list[bytes]

    @classmethod
    def build(
        cls, url: str, key: str, candidate_ids: Sequence[int], dashboard_paths: Sequence[str]
    ) -> _ApiRequests:
        address = urlsplit(url)
        host, port = address.hostname or "127.0.0.1", address.port or 80

        def request(path: str) -> bytes:
            return (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Token {key}\r\nAccept: application/json\r\n\r\n"
            ).encode()

        return cls(
            host=host,
            port=port,
            candidates=[(pk, request(f"/api/v1/candidates/{pk}/")) for pk in candidate_ids],
            dashboards=[request(path) for path in dashboard_paths],
        )


class _ApiTally:
    """Latencies and answers of one phase, across its clients."""

    def __init__(self) -> None:
        self.latencies_s: list[float] = []
        #: the dashboard summaries' share of ``latencies_s``
        self.dashboard_latencies_s: list[float] = []
        self.candidate_reads = 0
        self.dashboard_reads = 0
        self.errors: list[str] = []

    def record(self, latency_s: float, candidate_id: int | None) -> None:
        self.latencies_s.append(latency_s)
        if candidate_id is None:
            self.dashboard_latencies_s.append(latency_s)

    async def send(
        self, client: _KeepAliveClient, request: bytes, candidate_id: int | None
    ) -> None:
        status, body = await client.get(request)
        if status != 200:
            self.errors.append(f"{status} {body[:300].decode(errors='replace')}")
        elif candidate_id is None:
            self.dashboard_reads += 1
        elif body.startswith(b'{"id":%d,' % candidate_id):
            self.candidate_reads += 1
        else:
            self.errors.append(f"candidate {candidate_id}: unexpected {body[:120]!r}")


#: one API client's part in a phase: (its index, its connection, the shared tally)
_ApiClientRun = Callable[[int, _KeepAliveClient, _ApiTally], Coroutine[Any, Any, None]]


async def _api_clients(
    requests: _ApiRequests, clients: int, run: _ApiClientRun
) -> tuple[_ApiTally, float]:
    """Open ``clients`` connections and run ``run(index, client, tally)`` on each; (tally, s)."""
    connections = [
        await _KeepAliveClient.connect(requests.host, requests.port) for _ in range(clients)
    ]
    tally = _ApiTally()
    started = time.perf_counter()
    try:
        await asyncio.gather(*(run(i, c, tally) for i, c in enumerate(connections)))
    finally:
        wall = time.perf_counter() - started
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    return tally, wall


def _api_phase(
    requests: _ApiRequests, clients: int, run: _ApiClientRun, usage: _CpuUsage
) -> _ApiPhase:
    """One phase of the API clients, with the CPU every party spent meanwhile."""
    before = usage.sample()
    # the generator's own collector would pause every client at once now and then
    gc.collect()
    gc.disable()
    try:
        tally, wall = _run_fast(_api_clients(requests, clients, run))
    finally:
        gc.enable()
    after = usage.sample()
    return _ApiPhase(
        latencies_s=tally.latencies_s,
        dashboard_latencies_s=tally.dashboard_latencies_s,
        candidate_reads=tally.candidate_reads,
        dashboard_reads=tally.dashboard_reads,
        errors=tally.errors,
        wall_s=wall,
        cpu_s=_CpuUsage.spent(before, after),
    )


def _api_warm_up(requests: _ApiRequests) -> _ApiClientRun:
    """Every dashboard, then every candidate, read once, by whichever client is free."""
    work = iter(
        [(None, request) for request in requests.dashboards]
        + [(pk, request) for pk, request in requests.candidates]
    )

    async def run(index: int, client: _KeepAliveClient, tally: _ApiTally) -> None:
        for candidate_id, request in work:
            started = time.perf_counter()
            await tally.send(client, request, candidate_id)
            tally.record(time.perf_counter() - started, candidate_id)

    return run


def _api_pick(requests: _ApiRequests, rng: random.Random) -> tuple[int | None, bytes]:
    if requests.dashboards and rng.random() < _API_DASHBOARD_SHARE:
        return None, requests.dashboards[rng.randrange(len(requests.dashboards))]
    return requests.candidates[rng.randrange(len(requests.candidates))]


def _api_paced(
    requests: _ApiRequests, *, clients: int, rate: float, seconds: float, seed: int
) -> _ApiClientRun:
    """Each client sends one request every ``clients / rate`` s, staggered, for ``seconds``.

    A request's latency runs from when it was due if the answer to the one before
    came after that (the server's delay counts: no coordinated omission), else from
    when it was sent (a late wake-up of the client is the generator's delay).
    """
    period = clients / rate
    clock: dict[str, float] = {}

    async def run(index: int, client: _KeepAliveClient, tally: _ApiTally) -> None:
        opened = clock.setdefault("opened", time.perf_counter() + 0.05)
        rng = random.Random(seed + index)  # simulated load, not a secret  # nosec B311
        due = opened + period * index / clients
        end = opened + seconds
        answered = 0.0
        # requests still due when the time is up are not sent: the rate achieved shows it
        while due < end and time.perf_counter() < end:
            late = answered > due
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            sent = time.perf_counter()
            candidate_id, request = _api_pick(requests, rng)
            await tally.send(client, request, candidate_id)
            answered = time.perf_counter()
            tally.record(answered - (due if late else sent), candidate_id)
            due += period

    return run


def _api_saturated(requests: _ApiRequests, *, seconds: float, seed: int) -> _ApiClientRun:
    """Each client sends its next request as soon as the answer to the last arrives."""
    clock: dict[str, float] = {}

    async def run(index: int, client: _KeepAliveClient, tally: _ApiTally) -> None:
        end = clock.setdefault("end", time.perf_counter() + seconds)
        rng = random.Random(seed + 1000 + index)  # simulated load, not a secret  # nosec B311
        while time.perf_counter() < end:
            candidate_id, request = _api_pick(requests, rng)
            started = time.perf_counter()
            await tally.send(client, request, candidate_id)
            tally.record(time.perf_counter() - started, candidate_id)

    return run


@scenario("api_p50_ms")
def api_reads(context: BenchContext) -> list[Figure]:
    """Latency and throughput of staff API reads: candidate details and dashboard summaries.

    Set-up (not timed): ``api_candidates`` candidates of one assessment, each with an
    encrypted name and e-mail and a completed attempt whose every game is scored
    (metric sets) and whose nine traits are inferred against the organisation's
    simulated norm table, as the pipeline leaves a real one; a staff API key.
    The HTTP server starts as deployed (gunicorn, one process per core).

    ``api_clients`` keep-alive clients (raw HTTP/1.1 on asyncio, in this process)
    then: read every dashboard and every candidate once (the warm-up: first reads,
    uncached); send as fast as answers come for ``api_saturation_seconds`` (the
    throughput figure); and send ``api_rate`` requests/s together for
    ``api_seconds`` (the latency figures, from when each request was due), or half
    the throughput just measured where that is less: near what the server can
    answer at most, a queue grows without bound and its latency says little about
    the server. Each request is a random candidate's detail or, one in five, the
    dashboard summary. Every answer must be 200 and the right candidate's, and the
    audit log must hold exactly one ``candidate.read`` per candidate answer sent.
    """
    sizes = context.sizes
    started = time.perf_counter()
    assessment = Assessment.objects.create(
        organization=context.organization, name="Bench, API reads", games=game_keys()
    )
    # the norms' size does not change what a read costs; fewer bots set up faster
    players = min(sizes.infer_population, 100)
    norm_table_build(
        population=NormPopulation.SIMULATED,
        name="Bench API norms",
        organization=context.organization,
        players=players,
        seed=context.seed,
    )
    population = simulated_population(players=players, seed=context.seed + 2)
    attempt_ids = _attempts_with_metrics(
        context,
        population.metrics,
        count=sizes.api_candidates,
        label="api",
        assessment=assessment,
        contact=True,
    )
    traits_infer(attempt_ids=attempt_ids)
    candidate_ids = list(
        Attempt.objects.filter(pk__in=attempt_ids)
        .order_by("pk")
        .values_list("candidate_id", flat=True)
    )
    _analyze()
    key = _bench_api_key(context)
    context.log(
        f"api: set-up made {len(candidate_ids)} scored candidates with traits "
        f"in {time.perf_counter() - started:.1f} s"
    )
    dashboard_paths = [reverse("api:assessment-dashboard", args=[assessment.pk])]
    audited_before = AuditLog.objects.filter(
        organization=context.organization, action="candidate.read"
    ).count()

    workers = sizes.server_workers or (os.cpu_count() or 1)
    server = _start_server("http", workers)
    clients = min(sizes.api_clients, server.max_clients or sizes.api_clients)

    def server_pids() -> Sequence[int]:
        if isinstance(server, _SubprocessServer):
            return _process_tree(server.process.pid)
        return []

    usage = _CpuUsage(server_pids)
    requests = _ApiRequests.build(server.url, key, candidate_ids, dashboard_paths)
    try:
        warm = _api_phase(requests, clients, _api_warm_up(requests), usage)
        saturated = _api_phase(
            requests,
            clients,
            _api_saturated(requests, seconds=sizes.api_saturation_seconds, seed=context.seed),
            usage,
        )
        capacity = saturated.requests / saturated.wall_s
        rate = min(float(sizes.api_rate), _API_PACED_SHARE * capacity)
        if rate < sizes.api_rate:
            context.log(
                f"api: {capacity:.0f} requests/s at most here; latency is timed at half of "
                f"that, {rate:.0f}/s, not at the {sizes.api_rate}/s asked for"
            )
        paced = _api_phase(
            requests,
            clients,
            _api_paced(
                requests, clients=clients, rate=rate, seconds=sizes.api_seconds, seed=context.seed
            ),
            usage,
        )
        peak_mb = server.peak_rss_mb()
        server_log = server.log_tail() if isinstance(server, _SubprocessServer) else ""
    finally:
        server.stop()
        server.close()

    phases = {"warm-up": warm, "saturated": saturated, "paced": paced}
    errors = [f"{name}: {error}" for name, phase in phases.items() for error in phase.errors]
    if errors:
        raise BenchError(f"{len(errors)} API reads failed; first: {errors[0]}\n{server_log}")
    sent = sum(phase.candidate_reads for phase in phases.values())
    audited = (
        AuditLog.objects.filter(organization=context.organization, action="candidate.read").count()
        - audited_before
    )
    if audited != sent:
        raise BenchError(f"{sent} candidate details read, {audited} reads in the audit log")
    context.log(
        f"api: {len(candidate_ids)} candidates, {len(dashboard_paths)} dashboard(s), "
        f"{clients} clients, {workers} server workers, {connection.vendor}"
    )
    for name, phase in phases.items():
        context.log(f"api {name}: {phase.describe()}")
    cores = os.cpu_count() or 1
    return [
        Figure("api_p50_ms", paced.percentile_ms(50), "ms"),
        Figure("api_p99_ms", paced.percentile_ms(99), "ms"),
        Figure("api_paced_requests_per_s", paced.requests / sizes.api_seconds, "requests/s"),
        Figure("api_requests_per_s", capacity, "requests/s"),
        Figure("api_uncached_requests_per_s", warm.requests / warm.wall_s, "requests/s"),
        Figure(
            "api_client_cpu_percent",
            saturated.cpu_s["load generator"] / saturated.wall_s / cores * 100,
            "%",
        ),
        Figure("api_peak_rss_mb", peak_mb, "MB"),
    ]
