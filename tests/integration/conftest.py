"""The integration tier: real PostgreSQL, Redis, Celery worker, ASGI server, Chromium.

Runs when DATABASE_URL and REDIS_URL are set (``.ci/run`` sets them and also sets
PYMETRICS_REQUIRE_INTEGRATION, which turns a would-be skip into a failure so CI can
never pass without this tier). The server and the worker are real subprocesses
pointed at the test database that pytest-django creates.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from kombu.exceptions import ChannelError

from pymetrics.ops.serving import socket_server_command

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
#: Logs and screenshots of this run; bin/test gives each tier running beside
#: another its own folder.
ARTIFACTS = ROOT / os.environ.get("PYMETRICS_TEST_ARTIFACTS", "test-artifacts")


def _configured() -> bool:
    return bool(os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    tier = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in tier:
        item.add_marker(pytest.mark.integration)
    if not tier or _configured():
        return
    if os.environ.get("PYMETRICS_REQUIRE_INTEGRATION"):
        raise pytest.UsageError(
            "PYMETRICS_REQUIRE_INTEGRATION is set but DATABASE_URL and REDIS_URL are not: "
            "the integration tier must run here"
        )
    for item in tier:
        item.add_marker(pytest.mark.skip(reason="set DATABASE_URL and REDIS_URL to run"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _test_database_url() -> str:
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


@dataclass
class Services:
    base_url: str
    env: dict[str, str]
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


def _wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-4000:]}")


def _wait_for_worker(env: dict[str, str], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited early:\n{log.read_text()[-4000:]}")
        if "ready." in log.read_text():
            return
        time.sleep(0.3)
    raise RuntimeError(f"celery worker not ready within 60s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def services(django_db_setup: None, django_db_blocker: object) -> Iterator[Services]:
    """The socket server and a Celery worker on the test database, for the whole session."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        # Debug pages off is the realistic setting, but cookies must work over http.
        "DJANGO_DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    server_log = ARTIFACTS / "server.log"
    worker_log = ARTIFACTS / "worker.log"
    # the socket server as deployed (it serves the pages and the API too, as in
    # `make run`; in production a proxy sends those to the HTTP server instead)
    server = subprocess.Popen(
        socket_server_command(host="127.0.0.1", port=port, workers=1),
        cwd=ROOT,
        env=env,
        stdout=server_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            str(bin_dir / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=worker_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_http(f"http://127.0.0.1:{port}/healthz", server, server_log, timeout=60)
        _wait_for_worker(env, worker, worker_log)
        yield Services(base_url=f"http://127.0.0.1:{port}", env=env, server=server, worker=worker)
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _worker_is_idle() -> bool:
    """No task queued on the broker, none running or reserved in the worker.

    A solo-pool worker busy with a task does not answer remote control: no answer
    counts as busy.
    """
    from config.celery import app

    with app.connection_for_read() as connection:
        channel: Any = connection.default_channel  # kombu's channels are untyped
        try:
            queued = channel.queue_declare(
                queue=app.conf.task_default_queue, passive=True
            ).message_count
        except ChannelError:  # Redis keeps no empty queue: nothing is waiting
            queued = 0
    if queued:
        return False
    inspector = app.control.inspect(timeout=1.0)
    active, reserved = inspector.active(), inspector.reserved()
    if not active or reserved is None:
        return False
    return not any(active.values()) and not any(reserved.values())


@pytest.fixture(autouse=True)
def _worker_idle_before_the_database_is_emptied(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test with the worker, wait until it has nothing left to do.

    Each stage queues the next (extraction, traits, job fit): a stage still running
    when the test's database is emptied deadlocks with the emptying.
    """
    yield
    if "services" not in request.fixturenames:
        return
    deadline = time.monotonic() + 60
    idle_checks = 0
    while time.monotonic() < deadline:
        idle_checks = idle_checks + 1 if _worker_is_idle() else 0
        if idle_checks >= 2:
            return
        time.sleep(0.2)
    raise RuntimeError("the Celery worker was still busy 60 s after the test")


def wait_until(predicate: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.25) -> T:
    """Poll ``predicate()`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    return path


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test
    # makes between browser steps are ordinary blocking calls, which Django would refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connection (Django's
        # connections are context-local): close it here, or the test database cannot be
        # dropped at the end of the session.
        from django.db import connections

        connections.close_all()


@dataclass
class CandidateRun:
    """A candidate's browser tab inside one game, and the records behind it."""

    page: Any
    game_key: str
    attempt_id: int
    console_errors: list[str]

    def game_session(self) -> Any:
        """The GameSession the page is playing (created when the game page opened)."""
        from pymetrics.assessments.models import GameSession

        return GameSession.objects.current().get(attempt_id=self.attempt_id, game=self.game_key)

    def finish(self, timeout_ms: float = 60_000) -> None:
        """Wait until every event is saved and the game complete, then go back to the lobby."""
        back_to_lobby(self.page, self.game_key, timeout_ms)
        assert self.console_errors == [], self.console_errors

    def stored_and_expected_metrics(self, timeout: float = 60) -> tuple[dict[str, float], Any]:
        """The worker's stored metrics and the pure extractor run on the stored events.

        Returns ``(stored values, ExtractionResult of the extractor on the events)``.
        """
        from pymetrics.events.selectors import events_frame
        from pymetrics.games.registry import get_game
        from pymetrics.scoring.models import MetricSet

        game_session = self.game_session()
        wait_until(
            lambda: MetricSet.objects.filter(game_session=game_session).exists(), timeout=timeout
        )
        stored = MetricSet.objects.get(game_session=game_session)
        game = get_game(self.game_key)
        events = events_frame(game_session_ids=[game_session.pk])
        result = game.extract(game.events_to_trials(events))
        return dict(stored.values), result


def back_to_lobby(page: Any, game_key: str, timeout_ms: float = 60_000) -> None:
    """After a game's last trial: wait until it is saved and completed, then to the lobby.

    A game that says what it measured shows that first (the game's own text,
    checked here) with a button back to the lobby; the others return at once.
    """
    from pymetrics.games.registry import get_game

    lobby = "[data-testid=lobby-finish], [data-testid=lobby-start]"
    shown = page.wait_for_selector(f"[data-testid=game-measured], {lobby}", timeout=timeout_ms)
    assert shown is not None
    if shown.get_attribute("data-testid") == "game-measured":
        assert get_game(game_key).measured in shown.inner_text()
        page.click("[data-testid=game-done]")
        page.wait_for_selector(lobby, timeout=timeout_ms)


def open_game(
    services: Services,
    browser: Any,
    game_key: str,
    *,
    accommodations: dict[str, bool] | None = None,
    viewport: dict[str, int] | None = None,
    has_touch: bool = False,
) -> CandidateRun:
    """Invite a fresh candidate to a one-game assessment and open that game's page.

    The candidate consents and presses Start in the lobby; the page is left on the
    game's first screen (its instructions). Console errors are collected on the run.
    """
    import secrets

    from pymetrics.accounts.services import organization_create
    from pymetrics.assessments.services import assessment_create, candidate_invite

    suffix = secrets.token_hex(4)
    organization = organization_create(name=f"Org {suffix}", slug=f"org-{suffix}")
    assessment = assessment_create(
        organization=organization,
        name=f"{game_key} check",
        games=[game_key],
    )
    invitation = candidate_invite(
        assessment=assessment, name="Robin Bot", email=f"robin-{suffix}@example.org"
    )
    page = browser.new_page(
        viewport=viewport or {"width": 1024, "height": 800}, has_touch=has_touch
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{services.base_url}/play/{invitation.invite_token}/")
    page.click("[data-testid=invite-continue]")
    page.check("#id_consent")
    for name, wanted in (accommodations or {}).items():
        if wanted:
            page.check(f"#id_accommodation_{name}")
    page.click("[data-testid=consent-submit]")
    page.click("[data-testid=lobby-start]")
    return CandidateRun(
        page=page, game_key=game_key, attempt_id=invitation.attempt.pk, console_errors=errors
    )


@dataclass
class SeededDemo:
    """The demo organisation seeded through the real pipeline, with a known staff login."""

    organization: Any
    assessment: Any
    email: str
    password: str


def seed_demo(
    *, candidates: int = 12, norm_players: int = 40, seed: int = 2024, weeks: int = 12
) -> SeededDemo:
    """Run ``seed_demo``: bots played through ingestion, scored in the command's
    process, and the norms, over ``weeks`` of history.

    With seed 2024, ``candidates=10`` gives 6 completed, 1 stopped midway and 3 only
    invited: tests count from the database rather than assume.

    The owner's password is set to a known one for the browser to log in with.
    """
    from django.core.management import call_command

    from pymetrics.accounts.models import Organization, User
    from pymetrics.ops.management.commands.seed_demo import DEMO_ASSESSMENT, DEMO_EMAIL

    call_command(
        "seed_demo",
        "--candidates",
        str(candidates),
        "--norm-players",
        str(norm_players),
        "--seed",
        str(seed),
        "--weeks",
        str(weeks),
        stdout=io.StringIO(),
    )
    password = "correct horse battery staple"
    user = User.objects.get(email=DEMO_EMAIL)
    user.set_password(password)
    user.save(update_fields=["password"])
    organization = Organization.objects.get(slug="demo")
    return SeededDemo(
        organization=organization,
        assessment=organization.assessments.get(name=DEMO_ASSESSMENT),
        email=DEMO_EMAIL,
        password=password,
    )


def staff_page(browser: Any, services: Services, *, email: str, password: str) -> Any:
    """A browser page logged in to the staff pages (laptop-sized); console errors on
    ``page.console_errors``."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    device = two_factor_device(email)
    page.goto(f"{services.base_url}/staff/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")
    if device is not None:
        # the second step: the code the user's authenticator app shows now
        page.wait_for_selector("[data-testid=otp-submit]")
        page.fill("#id_otp_token", totp_code(device))
        page.click("[data-testid=otp-submit]")
    page.wait_for_selector("[data-testid=organization-name]")
    return page


def two_factor_device(email: str) -> Any | None:
    """The confirmed TOTP device the staff user logs in with, if they need one.

    Owners and admins must use two-factor authentication: one is made for them
    (as if they had enrolled) when they have none. Its last accepted step is
    forgotten so that a second log-in within the same 30 seconds works too.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from pymetrics.accounts.models import User
    from pymetrics.accounts.twofactor import DEVICE_NAME, MANDATORY_ROLES

    user = User.objects.get(email__iexact=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        if not user.memberships.filter(role__in=MANDATORY_ROLES).exists():
            return None
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    return device


def totp_code(device: Any) -> str:
    """The device's current code, six digits as the app shows it."""
    from django_otp.oath import TOTP

    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def chart_points(page: Any, chart_id: str, timeout_ms: float = 15_000) -> int:
    """Wait until a chart is drawn; the number of data points it holds."""
    figure = page.wait_for_selector(
        f"[data-testid=chart-{chart_id}][data-chart-ready='1']", timeout=timeout_ms
    )
    assert figure is not None
    return int(figure.get_attribute("data-points") or 0)


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations on the page as it is now.

    axe-core comes from npm (node_modules), injected by the test, never fetched. It
    is evaluated through the DevTools protocol rather than added as a ``<script>``
    element, which the pages' Content-Security-Policy (no inline script) refuses.
    """
    page.evaluate(f"{_axe_source()}\n;undefined")
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA,
    )
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "where": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
