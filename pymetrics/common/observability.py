"""Error reports (Sentry) and traces (OpenTelemetry), each on when its variable is set.

``SENTRY_DSN`` switches Sentry on, ``OTEL_EXPORTER_OTLP_ENDPOINT`` the OTLP trace
exporter; config.env validates both. With neither set nothing here imports either
SDK, so a process pays nothing for them. :func:`init_observability` runs once per
process: in a web process before Django loads its middleware (config.wsgi,
config.asgi: the Django instrumentation adds one), in a worker in each pool process
(config.celery, ``worker_process_init``), in beat at its start.

Candidate data never leaves: Sentry gets no request bodies, cookies, query strings,
frame locals or personal data (:func:`scrub_event`), invite tokens are masked out of
URLs, and the trace instrumentations record no bodies or query parameters.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from pymetrics.common.redact import mask_url

if TYPE_CHECKING:  # config imports this module (config.celery): no cycle at run time
    from config.env import Environment

_LOCK = threading.Lock()
_STARTED: set[str] = set()

#: request headers an error report may keep; every other one (Cookie,
#: Authorization, X-Api-Key, forwarded addresses) is dropped
_SAFE_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "content-length",
        "content-type",
        "host",
        "user-agent",
        "x-request-id",
    }
)


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's ``before_send``: strip everything that could hold candidate data."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in _SAFE_HEADERS
            }
        if isinstance(request.get("url"), str):
            request["url"] = mask_url(request["url"])
    user = event.get("user")
    if isinstance(user, dict):
        # an id to group by, nothing that names or locates a person
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    return event


def init_sentry(dsn: str, process: str, **options: Any) -> None:
    """Sentry with the Django, Celery and Redis integrations (``options``: tests' transport)."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.redis import RedisIntegration

    # typed for sentry's Event TypedDict; the function reads events as the dicts they are
    before_send: Any = scrub_event
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
        send_default_pii=False,
        # frame locals would hold event payloads and answers
        include_local_variables=False,
        max_request_body_size="never",
        before_send=before_send,
        # traces go to OpenTelemetry when it is configured; Sentry reports errors
        traces_sample_rate=0.0,
        environment=os.environ.get("SENTRY_ENVIRONMENT") or None,
        server_name=process,
        **options,
    )


def init_tracing(endpoint: str, process: str, *, instrument_django: bool, **options: Any) -> Any:
    """Spans exported over OTLP/HTTP; Django, Celery, psycopg and Redis instrumented.

    ``options`` go to the exporter (tests pass a session). Returns the tracer provider.
    """
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {"pymetrics.process": process}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = f"pymetrics-{process}"
    provider = TracerProvider(resource=Resource.create(attributes))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces", **options)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if instrument_django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        # adds its middleware to settings.MIDDLEWARE: before the handler loads it
        DjangoInstrumentor().instrument(tracer_provider=provider)
    CeleryInstrumentor().instrument(tracer_provider=provider)
    PsycopgInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    return provider


def init_observability(process: str, env: Environment | None = None) -> None:
    """Sentry and tracing as configured, once per process (``web``, ``worker``, ``beat``)."""
    if env is None:
        from django.conf import settings

        env = settings.ENV
    if env.sentry_dsn is None and env.otel_endpoint is None:
        return
    with _LOCK:
        if _STARTED:
            return
        _STARTED.add(process)
    if env.sentry_dsn is not None:
        init_sentry(env.sentry_dsn, process)
    if env.otel_endpoint is not None:
        init_tracing(env.otel_endpoint, process, instrument_django=process == "web")


def worker_started(sender: Any = None, **_kwargs: Any) -> None:
    """Celery's ``worker_init``: a pool that runs tasks in this process starts now;
    a prefork pool's children start in ``worker_process_init`` (nothing may be
    started before the fork: the exporter's thread would not survive it)."""
    pool = getattr(sender, "pool_cls", "")
    if "prefork" in str(pool) or pool == "processes":
        return
    init_observability("worker")


def worker_process_started(**_kwargs: Any) -> None:
    """Celery's ``worker_process_init``: a prefork pool's child process."""
    init_observability("worker")


def beat_started(**_kwargs: Any) -> None:
    """Celery's ``beat_init``."""
    init_observability("beat")
