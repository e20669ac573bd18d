"""Structured log lines, request ids from HTTP into tasks (pymetrics.common.logs, .requestid)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
import structlog
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.http import HttpResponse
from django.test import RequestFactory

from config.celery import app as celery_app
from pymetrics.common import logs, requestid
from pymetrics.common.requestid import RequestIdMiddleware

_SEEN: list[dict[str, Any]] = []


@celery_app.task(name="tests.common.capture_log_context")
def capture_log_context() -> None:
    _SEEN.append(structlog.contextvars.get_contextvars())
    logging.getLogger("pymetrics.tests.task").info("task ran")


@pytest.fixture
def json_lines() -> Any:
    """What the ``pymetrics.tests`` loggers write, rendered as in production."""
    options = logs.formatter("json")
    factory = options.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**options))
    logger = logging.getLogger("pymetrics.tests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _SEEN.clear()
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def _serve(request_id: str | None, view: Any) -> HttpResponse:
    headers = {} if request_id is None else {"X-Request-ID": request_id}
    request = RequestFactory().get("/api/v1/anything/", headers=headers)
    response: HttpResponse = RequestIdMiddleware(view)(request)
    return response


def test_a_log_line_is_one_json_object_with_the_request_id(json_lines):
    def view(request):
        logging.getLogger("pymetrics.tests.view").warning("scored %s attempts", 3)
        return HttpResponse("ok")

    response = _serve("lb-7f3a.42", view)

    [line] = json_lines()
    assert line["event"] == "scored 3 attempts"
    assert line["level"] == "warning"
    assert line["logger"] == "pymetrics.tests.view"
    assert line["request_id"] == "lb-7f3a.42"
    assert line["timestamp"].endswith("Z")  # ISO 8601, UTC
    assert line["timestamp"][10] == "T"
    assert response["X-Request-ID"] == "lb-7f3a.42"
    # bound for the request only
    assert requestid.current_request_id() is None


@pytest.mark.parametrize(
    "given", [None, "", "two words", "x" * 129, "evil\nline", "é-accent", '"quoted"']
)
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_uuid(given):
    response = _serve(given, lambda request: HttpResponse("ok"))

    made = response["X-Request-ID"]
    assert made != given
    assert uuid.UUID(made).version == 4


def test_the_response_of_the_whole_chain_echoes_the_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-0001")
    fresh = client.get("/healthz")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-0001"
    assert uuid.UUID(fresh["X-Request-ID"]).version == 4


def test_the_middleware_comes_right_after_the_ops_counters():
    from django.conf import settings

    assert settings.MIDDLEWARE[:2] == [
        "pymetrics.common.middleware.OpsCountersMiddleware",
        "pymetrics.common.requestid.RequestIdMiddleware",
    ]


def test_a_task_queued_in_a_request_logs_with_its_request_id(json_lines):
    assert celery_app.conf.task_always_eager  # the embedded default: run in-process

    def view(request):
        capture_log_context.delay()
        logging.getLogger("pymetrics.tests.view").info("after the task")
        return HttpResponse("ok")

    _serve("req-123", view)

    [context] = _SEEN
    assert context["request_id"] == "req-123"
    assert context["task_name"] == "tests.common.capture_log_context"
    uuid.UUID(context["task_id"])
    task_line, after = json_lines()
    assert task_line["event"] == "task ran"
    assert task_line["request_id"] == "req-123"
    assert task_line["task_id"] == context["task_id"]
    # the request's context is back as it was once the task is done
    assert after["request_id"] == "req-123"
    assert "task_id" not in after


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_published_task_message_carries_the_request_id_header():
    from celery.signals import before_task_publish

    published: list[dict[str, Any]] = []

    def record(headers=None, **kwargs):
        published.append(dict(headers or {}))

    def publish() -> None:
        # send_task always publishes, eager or not: to an in-memory broker here
        with celery_app.connection_for_write("memory://") as connection:
            celery_app.send_task("tests.common.capture_log_context", connection=connection)

    before_task_publish.connect(record, weak=False)
    try:
        token = requestid.REQUEST_ID.set("req-456")
        try:
            publish()
        finally:
            requestid.REQUEST_ID.reset(token)
        publish()
    finally:
        before_task_publish.disconnect(record)

    assert published[0]["request_id"] == "req-456"
    assert "request_id" not in published[1]  # queued outside of any request


def test_a_worker_binds_the_request_id_from_the_message_headers(json_lines):
    capture_log_context.apply(headers={"request_id": "req-789"})
    capture_log_context.apply(headers={"request_id": "not a token"})

    first, second = _SEEN
    assert first["request_id"] == "req-789"
    assert "request_id" not in second
    assert structlog.contextvars.get_contextvars() == {}  # nothing left behind


def test_the_settings_log_json_for_django_the_audit_logger_and_structlog():
    script = (
        "import django, logging\n"
        "django.setup()\n"
        "from pymetrics.common.logs import get_logger\n"
        "from pymetrics.common.requestid import REQUEST_ID\n"
        "REQUEST_ID.set('req-1')\n"
        "logging.getLogger('pymetrics.audit').info('sealed %d entries', 4)\n"
        "logging.getLogger('django.request').error('failed')\n"
        "get_logger('pymetrics.scoring').info('scored', attempts=2)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["PYMETRICS_LOG_FORMAT"] = "json"

    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )

    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    assert [(line["logger"], line["level"], line["event"]) for line in lines] == [
        ("pymetrics.audit", "info", "sealed 4 entries"),
        ("django.request", "error", "failed"),
        ("pymetrics.scoring", "info", "scored"),
    ]
    assert {line["request_id"] for line in lines} == {"req-1"}
    assert lines[2]["attempts"] == 2


def test_the_console_format_is_the_developer_default():
    from config.env import load

    base = {"DJANGO_SECRET_KEY": "k" * 50, "DJANGO_ALLOWED_HOSTS": "example.com"}
    keys = {"PYMETRICS_ENCRYPTION_KEYS": os.environ["PYMETRICS_ENCRYPTION_KEYS"]}
    from pathlib import Path

    here = Path(".")
    assert load({**base, "DJANGO_DEBUG": "1"}, base_dir=here).log_format == "console"
    assert load({**base, **keys, "DJANGO_DEBUG": "0"}, base_dir=here).log_format == "json"
    assert (
        load(
            {**base, "DJANGO_DEBUG": "1", "PYMETRICS_LOG_FORMAT": " JSON "}, base_dir=here
        ).log_format
        == "json"
    )


def test_an_unknown_log_format_is_refused_naming_the_variable():
    from pathlib import Path

    from config.env import ConfigurationError, load

    with pytest.raises(ConfigurationError) as error:
        load({"DJANGO_DEBUG": "1", "PYMETRICS_LOG_FORMAT": "xml"}, base_dir=Path("."))

    assert str(error.value) == "PYMETRICS_LOG_FORMAT: expected json or console; got 'xml'"


class _LoggingConsumer(AsyncWebsocketConsumer):
    """Logs on connect, in a database thread and on each frame: the three places a
    real consumer logs from."""

    async def connect(self) -> None:
        await self.accept()
        logging.getLogger("pymetrics.tests.socket").info("socket open")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        await database_sync_to_async(self._in_a_thread)()
        await self.send(text_data=requestid.current_request_id() or "")

    def _in_a_thread(self) -> None:
        logging.getLogger("pymetrics.tests.socket").info("stored a frame")


async def _socket_lines(headers: list[tuple[bytes, bytes]]) -> str:
    app = requestid.bind_socket_request_id(_LoggingConsumer.as_asgi())
    communicator = WebsocketCommunicator(app, "/ws/test/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_to(text_data="frame")
    echoed = await communicator.receive_from()
    await communicator.disconnect()
    return str(echoed)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_every_log_line_of_one_socket_carries_one_request_id(json_lines):
    echoed = await _socket_lines([(b"x-request-id", b"edge-91.c")])

    lines = json_lines()
    assert [line["event"] for line in lines] == ["socket open", "stored a frame"]
    assert {line["request_id"] for line in lines} == {"edge-91.c"}
    assert echoed == "edge-91.c"
    assert requestid.current_request_id() is None  # bound for the socket only


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_two_sockets_get_two_new_ids_when_none_or_an_unsafe_one_is_given(json_lines):
    first = await _socket_lines([])
    second = await _socket_lines([(b"x-request-id", b"evil\nline")])

    assert first != second
    assert str(uuid.UUID(first)) == first
    assert str(uuid.UUID(second)) == second
    assert [line["request_id"] for line in json_lines()] == [first, first, second, second]


def test_a_socket_token_in_a_server_log_line_is_masked(json_lines):
    # uvicorn's own line for an accepted socket names the whole path, query included
    logging.getLogger("pymetrics.tests.uvicorn").info(
        '%s - "WebSocket %s" [accepted]', "10.0.0.7:5123", "/ws/play/9/?token=eyJhIjo5fQ:1x:sig"
    )
    logging.getLogger("pymetrics.tests.django").warning("Not Found: %s", "/play/inv-1TaB/lobby/")

    assert [line["event"] for line in json_lines()] == [
        '10.0.0.7:5123 - "WebSocket /ws/play/9/?token=[Filtered]" [accepted]',
        "Not Found: /play/[Filtered]/lobby/",
    ]


def test_the_settings_keep_the_level_uvicorn_gave_its_loggers():
    """dictConfig resets unnamed children of a configured logger: uvicorn's --log-level
    warning would become INFO and log every socket's opening."""
    from django.conf import settings

    error_logger = logging.getLogger("uvicorn.error")
    before = error_logger.level
    try:
        error_logger.setLevel(logging.WARNING)  # what `uvicorn --log-level warning` does
        logging.config.dictConfig(settings.LOGGING)
        assert logging.getLogger("uvicorn.error").getEffectiveLevel() == logging.WARNING
    finally:
        error_logger.setLevel(before)
