"""Celery task durations and failures, and a worker's own ``/metrics`` port.

Instrumentation hooks on Celery's ``task_prerun`` and ``task_postrun`` signals.
Domain logic never hangs on signals in this codebase (a service calls what follows
it); measuring is not domain logic, and these two are the one hook that sees every
task the same way, in a worker and eagerly (the embedded default), with no task
having to opt in. Not a base class overriding ``Task.__call__``: run eagerly, its
``super()`` call pushes a second request context that hides the task's id and
retries from its body. Not ``task_failure``: it is not sent when eager tasks
propagate their errors; ``task_postrun`` always is (from a ``finally``), with the
state the run ended in, or none when the error propagated to the caller.

A worker process serves no HTTP, so ``celery worker --metrics-port 9808`` serves
the worker's metrics on that port from its main process (prometheus_client's
server, on a thread). With the prefork pool the children run the tasks: set
``PROMETHEUS_MULTIPROC_DIR`` for the worker, as for gunicorn, so the main
process reads what every child wrote (:func:`pymetrics.common.telemetry.scrape_registry`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery, bootsteps, states
from celery.signals import task_postrun, task_prerun
from click import Option
from prometheus_client import start_http_server

from pymetrics.common.telemetry import TASK_FAILURES, TASK_SECONDS, scrape_registry

logger = logging.getLogger(__name__)

_STARTED: dict[str, float] = {}
_LOCK = threading.Lock()


def _name(sender: Any) -> str:
    # registered tasks only ever run: their names are a fixed set
    return str(getattr(sender, "name", None) or "unknown")


def task_started(sender: Any = None, task_id: str | None = None, **_kwargs: Any) -> None:
    if task_id is not None:
        with _LOCK:
            _STARTED[task_id] = time.perf_counter()


def task_finished(
    sender: Any = None, task_id: str | None = None, state: str | None = None, **_kwargs: Any
) -> None:
    if task_id is None:
        return
    with _LOCK:
        started = _STARTED.pop(task_id, None)
    name = _name(sender)
    if started is not None:
        TASK_SECONDS.labels(task=name).observe(time.perf_counter() - started)
    # FAILURE in a worker; no state when the error propagated to an eager caller
    if state in (states.FAILURE, None):
        TASK_FAILURES.labels(task=name).inc()


class MetricsServer(bootsteps.StartStopStep):
    """Serve the worker's metrics on ``--metrics-port`` (off without it)."""

    def __init__(self, parent: Any, metrics_port: int | None = None, **options: Any) -> None:
        super().__init__(parent, **options)
        self.port = metrics_port
        self.server: Any = None

    def start(self, parent: Any) -> None:
        if not self.port:
            return
        self.server, _thread = start_http_server(self.port, registry=scrape_registry())
        logger.info("worker metrics served on port %s", self.port)

    def stop(self, parent: Any) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None


def instrument(app: Celery) -> None:
    """Time and count every task of ``app``; add the worker's ``--metrics-port``."""
    task_prerun.connect(task_started, weak=False, dispatch_uid="pymetrics-task-started")
    task_postrun.connect(task_finished, weak=False, dispatch_uid="pymetrics-task-finished")
    app.user_options["worker"].add(
        Option(
            ["--metrics-port"],
            type=int,
            default=None,
            help="Serve this worker's Prometheus metrics on this port.",
        )
    )
    app.steps["worker"].add(MetricsServer)
