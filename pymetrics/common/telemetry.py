"""Prometheus metrics of the platform itself, and what a scrape returns.

Every metric of the project is defined here (the analytics cache's read counter
lives beside its cache) on :data:`REGISTRY`; django-prometheus's request, response
and database metrics live on prometheus_client's default registry. Labels are
bounded: outcomes, consumers, task names, queue names, job profile ids and model
versions; never a candidate, an organisation or a free-form value.

Several processes, one scrape. gunicorn runs several workers, uvicorn and Celery
(prefork) too, and a scrape reaches one process. With ``PROMETHEUS_MULTIPROC_DIR``
set (to an empty directory, one per container, writable by the service), every
process writes its samples to memory-mapped files there and :func:`scrape_registry`
adds them all up: a counter never goes back when a scrape lands on another worker,
and the counts of a worker that exited stay in the sum. Without it (the embedded
default, ``make run``: one process serves everything) the process's own registries
are read directly, process figures (memory, CPU, open files) included. prometheus_client
picks the mode when it is imported, so the variable must be in the process's
environment from its start.

Why files rather than Redis, as :mod:`pymetrics.common.opsstats` does: histograms
and django-prometheus's metrics aggregate correctly through prometheus_client's own
multi-process mode with no round trip on any hot path and no loss when Redis is
down; Prometheus then sums over the containers (``sum by (...)``).
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Iterable

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, multiprocess
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

#: The environment variable of prometheus_client's multi-process mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# no ``*_created`` sample beside every counter and histogram: Prometheus does not
# need them (it detects resets), and they would double the series of every scrape
prometheus_client.disable_created_metrics()

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_INGESTED = Counter(
    "pymetrics_events_ingested_total",
    "Events stored by ingestion (duplicates excluded)",
    registry=REGISTRY,
)
EVENT_BATCHES = Counter(
    "pymetrics_event_batches_total",
    "Event batches received, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "pymetrics_ingest_batch_seconds",
    "Time to validate and store one event batch (HTTP and sockets)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)

#: The socket consumers (pymetrics.realtime), each with a sample from the start.
SOCKET_CONSUMERS = ("play", "dashboard", "traits")
# livesum: the sum over the live processes; an exited process's sockets are gone
OPEN_SOCKETS = Gauge(
    "pymetrics_open_sockets",
    "WebSockets open now, by consumer",
    ["consumer"],
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
for _consumer in SOCKET_CONSUMERS:
    OPEN_SOCKETS.labels(consumer=_consumer)

TASK_SECONDS = Histogram(
    "pymetrics_task_duration_seconds",
    "Time a Celery task ran, every outcome (success, retry, failure), by task name",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
    registry=REGISTRY,
)
TASK_FAILURES = Counter(
    "pymetrics_task_failures_total",
    "Celery task runs that ended in an exception (a retry is not a failure), by task name",
    ["task"],
    registry=REGISTRY,
)

FIT_SCORES = Counter(
    "pymetrics_fit_scores_total",
    "Job-fit scores computed and stored, by job profile id and model version",
    ["job_profile", "model_version"],
    registry=REGISTRY,
)


def multiproc_dir() -> str | None:
    """The multi-process directory when that mode is on, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user
        return True
    return True


def forget_exited_processes(path: str) -> list[int]:
    """Remove the live-gauge files of processes that exited; their pids.

    prometheus_client keeps a ``live*`` gauge's file until told the process is gone
    (gunicorn's ``child_exit`` hook would be one place); doing it at scrape time
    covers every server, uvicorn and Celery included, with no server hook. Pids are
    checked in this container's pid namespace, hence one directory per container.
    """
    forgotten = set()
    for name in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        try:
            pid = int(os.path.basename(name)[: -len(".db")].rsplit("_", 1)[1])
        except ValueError:
            continue
        if pid not in forgotten and not _alive(pid):
            multiprocess.mark_process_dead(pid, path)
            forgotten.add(pid)
    return sorted(forgotten)


def scrape_registry(extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry with what one scrape returns: every process's metrics, then ``extra``.

    ``extra`` are collectors computed at scrape time from shared sources (the
    broker, the database, the cache): the same on every process, so they are added
    as they are, never summed over processes.
    """
    # auto_describe off: these collectors are read as they are, with no name checks
    registry = CollectorRegistry(auto_describe=False)
    path = multiproc_dir()
    if path is not None:
        try:
            forget_exited_processes(path)
        except OSError:  # another scrape removed them first
            logger.debug("could not forget exited processes' gauges", exc_info=True)
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(REGISTRY)
        # django-prometheus's metrics, and this process's memory, CPU and files
        registry.register(prometheus_client.REGISTRY)
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The Prometheus text exposition of :func:`scrape_registry`."""
    return prometheus_client.generate_latest(scrape_registry(extra))
