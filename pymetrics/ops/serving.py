"""The production process layout, as commands: one place that says how the app is served.

* **HTTP** (pages and the REST API, event batches included): gunicorn running
  Django's WSGI application with threaded workers. Each request runs on its own
  thread with its own pooled database connection, so while one waits for
  PostgreSQL another uses the CPU; no hop between an event loop and a worker
  thread per request. Measured by ``bench``: ~40% more event batches per second
  than the same workers under uvicorn (ADR 0013).
* **WebSockets** (``/ws/...``): uvicorn running the ASGI application; the
  Channels consumers hold thousands of idle sockets per process.

``make run`` serves both from one uvicorn process: simple, and fast enough for one
laptop. The bench starts the servers with these commands, and the deployment
files (docs/operations.md) use the same arguments.
"""

from __future__ import annotations

import sys

#: threads per gunicorn worker: enough to overlap one request's database waits
#: with another's Python work on a small machine, few enough to keep the GIL calm
HTTP_THREADS = 4


def http_server_command(
    *, host: str, port: int, workers: int, threads: int = HTTP_THREADS
) -> list[str]:
    """gunicorn serving ``config.wsgi`` with ``workers`` processes of ``threads`` threads."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        # a worker finishes its requests in flight on SIGTERM, for up to this long
        "--graceful-timeout",
        "20",
        "--log-level",
        "warning",
    ]


def socket_server_command(*, host: str, port: int, workers: int) -> list[str]:
    """uvicorn serving ``config.asgi`` (WebSockets; it answers HTTP too)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",
        # dashboards get small notices: compressing each one per socket costs more
        # CPU than it saves bytes, and a deflate context per socket costs memory
        "--ws",
        "websockets-sansio",
        "--ws-per-message-deflate",
        "false",
        # after the drain (realtime/drain.py) has asked every socket to reconnect,
        # HTTP requests in flight get this long before their tasks are cancelled
        "--timeout-graceful-shutdown",
        "20",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
