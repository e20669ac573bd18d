"""Sentry and OpenTelemetry: on only when configured, and no candidate data sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pymetrics.common.observability import mask_url, scrub_event


def _run(script: str, **variables: str) -> list[str]:
    """``script`` in a fresh interpreter (SDKs install process-wide hooks)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for name in ("SENTRY_DSN", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME"):
        env.pop(name, None)
    env.update(variables)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def test_before_send_drops_bodies_cookies_query_strings_personal_data_and_locals():
    event = {
        "request": {
            "url": "https://app.example.com/play/Invite-Token_123/game/?lang=en&email=a@b.c",
            "method": "POST",
            "data": {"answers": [1, 2, 3]},
            "cookies": {"sessionid": "s3cret"},
            "query_string": "lang=en&email=a@b.c",
            "env": {"REMOTE_ADDR": "203.0.113.9"},
            "headers": {
                "Cookie": "sessionid=s3cret",
                "Authorization": "Api-Key abc",
                "X-Api-Key": "abc",
                "X-Forwarded-For": "203.0.113.9",
                "User-Agent": "Mozilla/5.0",
                "X-Request-ID": "req-1",
            },
        },
        "user": {"id": 42, "email": "jo@example.com", "ip_address": "203.0.113.9"},
        "exception": {
            "values": [
                {"stacktrace": {"frames": [{"function": "score", "vars": {"rt": "[412, 388]"}}]}}
            ]
        },
    }

    scrubbed = scrub_event(event, {})

    assert scrubbed["request"] == {
        "url": "https://app.example.com/play/[Filtered]/game/",
        "method": "POST",
        "headers": {"User-Agent": "Mozilla/5.0", "X-Request-ID": "req-1"},
    }
    assert scrubbed["user"] == {"id": 42}
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "score"}]


def test_before_send_keeps_an_event_without_a_request_as_it_is():
    event = {"message": "beat missed a run", "level": "warning"}

    assert scrub_event(dict(event), None) == event


def test_invite_tokens_are_masked_in_page_and_api_urls_but_not_session_routes():
    assert mask_url("/api/v1/play/AbC-123/start/") == "/api/v1/play/[Filtered]/start/"
    assert (
        mask_url("/api/v1/play/game-sessions/9f1c/events/")
        == "/api/v1/play/game-sessions/9f1c/events/"
    )
    assert mask_url("/staff/assessments/?q=jo") == "/staff/assessments/"


def test_with_the_variables_unset_neither_sdk_is_started_nor_imported():
    lines = _run(
        "import sys\n"
        "import config.wsgi\n"
        "from django.conf import settings\n"
        "ours = ('sentry_sdk', 'opentelemetry.instrumentation', 'opentelemetry.exporter',\n"
        "        'opentelemetry.sdk.trace')\n"
        "print(sorted(m for m in sys.modules if m.startswith(ours)))\n"
        "print(any('opentelemetry' in m for m in settings.MIDDLEWARE))\n"
    )

    # (redis-py imports opentelemetry's metrics API by itself when it is installed)
    assert lines == ["[]", "False"]


_SENTRY = """
import json, django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
from pymetrics.common import observability

sent = []

class FakeTransport(Transport):
    def capture_envelope(self, envelope):
        sent.extend(item.payload.json for item in envelope.items if item.payload.json)

start = observability.init_sentry
observability.init_sentry = lambda dsn, process: start(dsn, process, transport=FakeTransport)
observability.init_observability("worker")
observability.init_observability("worker")  # once per process

def score(answers):
    return 1 / 0

try:
    score([412, 388])
except ZeroDivisionError:
    sentry_sdk.capture_exception()
client = sentry_sdk.get_client()
client.flush()
[event] = [item for item in sent if item.get("exception")]
frames = event["exception"]["values"][0]["stacktrace"]["frames"]
print(json.dumps({
    "dsn": client.options["dsn"],
    "pii": client.options["send_default_pii"],
    "before_send": client.options["before_send"] is observability.scrub_event,
    "integrations": sorted(n for n in client.integrations if n in ("django", "celery", "redis")),
    "server": event["server_name"],
    "vars": any("vars" in frame for frame in frames),
}))
"""


def test_sentry_starts_once_with_its_integrations_when_the_dsn_is_set():
    lines = _run(_SENTRY, SENTRY_DSN="https://public@errors.example.com/7")

    assert json.loads(lines[-1]) == {
        "dsn": "https://public@errors.example.com/7",
        "pii": False,
        "before_send": True,
        "integrations": ["celery", "django", "redis"],
        "server": "worker",
        "vars": False,
    }


_TRACING = """
import json, os, sys
import requests
from pymetrics.common import observability

posted = []

class FakeSession(requests.Session):
    def request(self, method, url, **kwargs):
        posted.append(f"{method} {url}")
        response = requests.Response()
        response.status_code = 200
        return response

start = observability.init_tracing
observability.init_tracing = lambda *args, **kwargs: start(*args, session=FakeSession(), **kwargs)

import config.wsgi  # starts tracing before the handler loads the middleware
from django.conf import settings
from django.test import Client
from opentelemetry import trace

response = Client().get("/healthz")
provider = trace.get_tracer_provider()
provider.force_flush()
print(json.dumps({
    "status": response.status_code,
    "middleware": settings.MIDDLEWARE[0].rsplit(".", 1)[-1],
    "service": provider.resource.attributes["service.name"],
    "posted": sorted(set(posted)),
    "sentry": "sentry_sdk" in sys.modules,
}))
"""


def test_tracing_starts_in_a_web_process_when_the_endpoint_is_set():
    lines = _run(_TRACING, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector.example.com:4318/")

    assert json.loads(lines[-1]) == {
        "status": 200,
        "middleware": "_DjangoMiddleware",
        "service": "pymetrics-web",
        "posted": ["POST http://collector.example.com:4318/v1/traces"],
        "sentry": False,
    }
