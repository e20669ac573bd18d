"""System status: the platform's operational figures and how they stand.

Read by the staff system page (and its JSON). Everything here is platform-wide and
the same for every staff member who looks: service probes, workers, queues,
ingestion and scoring times, server errors, open sockets, the cache's hit rate and
the answering process. Counts and times only: no organisation, candidate or
assessment is named or identified, and nothing is filtered by organisation
because nothing belongs to one.

Sources: :func:`pymetrics.common.probes.run_probes` (each service, now), Celery's
``ping`` (workers answering within :data:`WORKER_PING_TIMEOUT_S`), the broker's
queues (Redis list lengths), :mod:`pymetrics.common.opsstats` (responses, server
errors, ingestion times, sockets: every process, per minute), the database (game
sessions' ``completed_at`` against their metric sets' ``computed_at``) and
:func:`pymetrics.analytics.cache.hit_rate`. The slower ones (worker ping, queues,
the scoring query) are computed at most once per :data:`SHARED_TTL_S` for all
viewers. :mod:`pymetrics.analytics.stats.thresholds` turns figures into levels.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import django
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pymetrics.analytics.cache import hit_rate
from pymetrics.analytics.stats import thresholds
from pymetrics.analytics.stats.thresholds import AMBER, INFO, OK, RED
from pymetrics.assessments.models import GameSession, GameSessionSource, GameSessionState
from pymetrics.common import opsstats
from pymetrics.common.probes import run_probes

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: Minutes of the lag rows (p50/p95) and of the short error window.
LAG_WINDOW_MIN = 15
ERROR_WINDOWS_MIN = (5, 60)
#: Minutes the charts cover, one point per minute.
CHART_MINUTES = 60
#: How long workers get to answer a ping; a worker busy in a task may not answer
#: with the ``solo`` pool (prefork answers from its main process).
WORKER_PING_TIMEOUT_S = 1.0
#: The worker ping, the queue lengths and the scoring query are shared by every
#: viewer for this long: ten people polling do not ping the workers ten times.
SHARED_TTL_S = 10

_STATES_SCORED_OR_WAITING = (
    GameSessionState.COMPLETED,
    GameSessionState.SCORED,
    GameSessionState.FAILED,
)


# --- formatting -------------------------------------------------------------------------


def _number(value: float, decimals: int = 0) -> str:
    # rounded here: Django's number_format truncates the decimals of a float
    return str(formats.number_format(round(value, decimals), decimals, force_grouping=True))


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return _("%(ms)s ms") % {"ms": _number(value, 1 if value < 100 else 0)}


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return _("%(s)s s") % {"s": _number(value, 1)}
    return _("%(min)s min") % {"min": _number(value / 60, 1)}


def _percent(share: float | None) -> str:
    if share is None:
        return "—"
    return _("%(pct)s%%") % {"pct": _number(share * 100, 1)}


def _error_text(error: object) -> str:
    return str(error)[:300]


# --- shared, short-lived values ---------------------------------------------------------


def _shared(name: str, compute: Callable[[], T]) -> T:
    """``compute()``, shared by every viewer for SHARED_TTL_S; computed here if the cache fails.

    Plain cache calls, not :func:`pymetrics.analytics.cache.cached`: these reads
    would otherwise count in the hit rate this page reports.
    """
    key = f"system-status:{name}"
    try:
        found = cache.get(key)
    except Exception:  # the cache row reports the outage
        found = None
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, timeout=SHARED_TTL_S)
    except Exception:
        logger.debug("could not share %s", name, exc_info=True)
    return value


def _in_process_tasks() -> bool:
    return bool(settings.CELERY_TASK_ALWAYS_EAGER)


# --- figures ----------------------------------------------------------------------------


def celery_workers() -> dict[str, Any]:
    """Workers answering a ping now: ``{"in_process", "answering", "error"}``."""
    if _in_process_tasks():
        return {"in_process": True, "answering": None, "error": None}
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_S, connection=conn)
    except Exception as error:  # the broker is down: the broker row says why
        return {"in_process": False, "answering": None, "error": _error_text(error)}
    return {"in_process": False, "answering": len(replies or []), "error": None}


def broker_queues() -> dict[str, Any]:
    """Messages waiting in each of the broker's queues, and those taken but not acknowledged.

    With Redis as the broker a queue is a list per priority (Celery's default
    steps 0, 3, 6, 9): waiting is the sum of their lengths (``LLEN``), and taken is
    the length of the transport's hash of unacknowledged messages (``HLEN``), shared
    by all queues. With RabbitMQ, waiting is the queue's ready message count.
    """
    if _in_process_tasks():
        return {"in_process": True, "transport": None, "queues": [], "taken": None, "error": None}
    from config.celery import app

    names = sorted(app.amqp.queues.keys()) or [app.conf.task_default_queue]
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = str(conn.transport_cls)
            channel: Any = conn.default_channel  # the transport's own channel class
            taken: int | None = None
            if hasattr(channel, "_q_for_pri") and hasattr(channel, "client"):
                client = channel.client
                pipe = client.pipeline()
                layout = []
                for name in names:
                    keys = sorted({channel._q_for_pri(name, pri) for pri in channel.priority_steps})
                    layout.append((name, len(keys)))
                    for key in keys:
                        pipe.llen(key)
                lengths = iter(pipe.execute())
                queues = [
                    {"name": name, "waiting": sum(next(lengths) for _step in range(count))}
                    for name, count in layout
                ]
                taken = int(client.hlen(channel.unacked_key))
            else:
                queues = [
                    {
                        "name": name,
                        "waiting": int(
                            channel.queue_declare(queue=name, passive=True).message_count
                        ),
                    }
                    for name in names
                ]
    except Exception as error:
        return {
            "in_process": False,
            "transport": None,
            "queues": [{"name": name, "waiting": None} for name in names],
            "taken": None,
            "error": _error_text(error),
        }
    return {
        "in_process": False,
        "transport": transport,
        "queues": queues,
        "taken": taken,
        "error": None,
    }


def scoring_times(now: datetime) -> dict[str, Any]:
    """Game completed -> metrics stored, for games completed in the last CHART_MINUTES.

    Each game's lag is its first metric set's ``computed_at`` minus its
    ``completed_at``; a game still waiting counts with its wait so far (a stuck
    queue shows, not hides). Imported games are scored as they are stored and left
    out. Also: every game waiting now, whatever its age, and the oldest wait.
    """
    since = now - timedelta(minutes=CHART_MINUTES)
    rows = (
        GameSession.objects.filter(completed_at__gte=since, state__in=_STATES_SCORED_OR_WAITING)
        .exclude(source=GameSessionSource.IMPORT)
        .order_by()
        .annotate(scored_at=Min("metric_sets__computed_at"))
        .values_list("completed_at", "state", "scored_at")
    )
    games = []
    failed = 0
    for completed_at, state, scored_at in rows:
        if completed_at is None:  # excluded by the filter; for the type checker
            continue
        if state == GameSessionState.FAILED:
            failed += 1
            continue
        waiting = scored_at is None
        end = now if waiting else scored_at
        lag = max(0.0, (end - completed_at).total_seconds())
        games.append({"completed": completed_at.timestamp(), "lag_s": lag, "waiting": waiting})
    backlog = (
        GameSession.objects.filter(state=GameSessionState.COMPLETED)
        .exclude(source=GameSessionSource.IMPORT)
        .order_by()
        .aggregate(count=Count("pk"), oldest=Min("completed_at"))
    )
    oldest = backlog["oldest"]
    return {
        "games": games,
        "failed": failed,
        "waiting": int(backlog["count"] or 0),
        "oldest_wait_s": None if oldest is None else max(0.0, (now - oldest).total_seconds()),
    }


_STARTED_AT: float | None = None
_STARTED_LOCK = threading.Lock()


def _process_started_at() -> float | None:
    """When this process started (Linux ``/proc``), else None."""
    global _STARTED_AT
    with _STARTED_LOCK:
        if _STARTED_AT is None:
            try:
                with open("/proc/self/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open("/proc/stat") as system:
                    boot = next(
                        int(line.split()[1]) for line in system if line.startswith("btime ")
                    )
                _STARTED_AT = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
            except (OSError, ValueError, IndexError, StopIteration):
                return None
        return _STARTED_AT


def _resident_mb() -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def process_figures(now: datetime) -> dict[str, Any]:
    """The process that answered: its age, memory and threads, and how the platform is set up."""
    started = _process_started_at()
    cache_backend = str(settings.CACHES["default"]["BACKEND"])
    return {
        "pid": os.getpid(),
        "uptime_s": None if started is None else max(0.0, now.timestamp() - started),
        "resident_mb": _resident_mb(),
        "threads": threading.active_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": connection.vendor,
        "cache": "redis" if "redis" in cache_backend.lower() else "local memory",
        "tasks": "in-process" if _in_process_tasks() else "celery workers",
        "embedded": bool(getattr(settings, "EMBEDDED", False)),
    }


# --- rows -------------------------------------------------------------------------------


def level_text(level: str) -> str:
    """A level in words, so it is never told by colour alone."""
    return {OK: _("OK"), AMBER: _("Warning"), RED: _("Failing"), INFO: _("Info")}[level]


@dataclass
class Row:
    key: str
    label: str
    level: str
    value: str
    measured: str
    limits: str
    detail: str = ""
    #: the plain-words reason shown in the alert list when the level is amber or red
    problem: str = ""

    def as_dict(self, figures: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "level": self.level,
            "level_text": level_text(self.level),
            "value": self.value,
            "detail": self.detail,
            "measured": self.measured,
            "limits": self.limits,
            "figures": figures,
        }


def _probe_rows(results: dict[str, dict[str, Any]]) -> list[tuple[Row, dict[str, Any]]]:
    labels = {
        "database": (_("Database"), _("SELECT 1 on the default database")),
        "cache": (_("Cache"), _("a value written to the default cache and read back")),
        "channel_layer": (
            _("Live notices (channel layer)"),
            _("a notice published and received back (Redis pub/sub; in-process without Redis)"),
        ),
        "broker": (
            _("Task broker"),
            _("a connection to the Celery broker (none when tasks run in-process)"),
        ),
    }
    limit = _("amber above %(ms)s ms; red when it fails") % {
        "ms": _number(thresholds.PROBE_MS.amber)
    }
    rows = []
    for key, result in results.items():
        label, measured = labels.get(key, (key, key))
        ok = bool(result.get("ok"))
        ms = result.get("ms")
        level = thresholds.probe_level(ok=ok, ms=ms)
        if not ok:
            value = _("failing")
            detail = str(result.get("error", ""))
            problem = _("the probe failed: %(error)s") % {"error": detail}
        else:
            value = _ms(ms)
            detail = ""
            problem = _("answered in %(ms)s") % {"ms": _ms(ms)}
            if key == "broker" and _in_process_tasks():
                value = _("not used")
                detail = _("tasks run in the web process (embedded default)")
        row = Row(f"probe:{key}", label, level, value, measured, limit, detail, problem)
        rows.append((row, {"ok": ok, "ms": ms, "error": result.get("error")}))
    return rows


def _workers_row(workers: dict[str, Any]) -> tuple[Row, dict[str, Any]]:
    level = thresholds.workers_level(
        answering=workers["answering"], in_process=workers["in_process"]
    )
    measured = _("Celery workers answering a ping within %(s)s s") % {
        "s": _number(WORKER_PING_TIMEOUT_S, 1)
    }
    limits = _("red when no worker answers")
    if workers["in_process"]:
        value = _("in-process")
        detail = _("tasks run in the web process (embedded default): there are no workers")
        problem = ""
    elif workers["answering"] is None:
        value = _("unknown")
        detail = workers["error"] or ""
        problem = _("the workers could not be asked: %(error)s") % {"error": detail}
    else:
        count = int(workers["answering"])
        value = ngettext("%(n)s worker", "%(n)s workers", count) % {"n": _number(count)}
        detail = (
            "" if count else _("a worker busy in a long task may not answer with the solo pool")
        )
        problem = _("no worker answered: games are not being scored")
    return Row("workers", _("Celery workers"), level, value, measured, limits, detail, problem), {
        **workers
    }


def _queue_rows(queues: dict[str, Any]) -> list[tuple[Row, dict[str, Any]]]:
    limits = _("amber above %(amber)s waiting; red above %(red)s") % {
        "amber": _number(thresholds.QUEUE_WAITING.amber),
        "red": _number(thresholds.QUEUE_WAITING.red),
    }
    if queues["in_process"]:
        row = Row(
            "queue",
            _("Task queue"),
            OK,
            _("none"),
            _("tasks run in the web process (embedded default): nothing waits in a queue"),
            limits,
        )
        return [(row, {"in_process": True})]
    transport = queues.get("transport") or ""
    if transport.startswith("redis"):
        measured = _(
            "messages waiting in the broker's Redis lists (LLEN, every priority); "
            "taken = delivered to a worker and not yet acknowledged (HLEN of the unacked hash)"
        )
    else:
        measured = _("messages ready in the broker's queue")
    rows = []
    for queue in queues["queues"]:
        waiting = queue["waiting"]
        label = _("Queue “%(name)s”") % {"name": queue["name"]}
        if waiting is None:
            error = queues.get("error") or ""
            row = Row(
                f"queue:{queue['name']}",
                label,
                RED,
                _("unknown"),
                measured,
                limits,
                error,
                _("its length could not be read: %(error)s") % {"error": error},
            )
        else:
            level = thresholds.QUEUE_WAITING.level(waiting)
            value = ngettext("%(n)s waiting", "%(n)s waiting", waiting) % {"n": _number(waiting)}
            detail = ""
            if queues.get("taken") is not None:
                detail = _("%(n)s taken by workers (all queues)") % {"n": _number(queues["taken"])}
            row = Row(
                f"queue:{queue['name']}",
                label,
                level,
                value,
                measured,
                limits,
                detail,
                _("%(n)s tasks waiting") % {"n": _number(waiting)},
            )
        rows.append((row, {"name": queue["name"], "waiting": waiting, "taken": queues["taken"]}))
    return rows


def _ingest_row(minutes: list[opsstats.MinuteCounts]) -> tuple[Row, dict[str, Any]]:
    recent = minutes[-LAG_WINDOW_MIN:]
    histogram = thresholds.merge_histograms((m.ingest for m in recent), opsstats.INGEST_BUCKETS)
    bounds = opsstats.INGEST_BOUNDS_MS
    batches = sum(histogram)
    p50 = thresholds.histogram_quantile(bounds, histogram, 0.5)
    p95 = thresholds.histogram_quantile(bounds, histogram, 0.95)
    level = thresholds.INGEST_P95_MS.level(p95)
    if batches:
        value = _("p50 %(p50)s · p95 %(p95)s") % {"p50": _ms(p50), "p95": _ms(p95)}
        detail = ngettext(
            "%(n)s batch in the last %(min)s minutes",
            "%(n)s batches in the last %(min)s minutes",
            batches,
        ) % {"n": _number(batches), "min": LAG_WINDOW_MIN}
    else:
        value = "—"
        detail = _("no event batches in the last %(min)s minutes") % {"min": LAG_WINDOW_MIN}
    row = Row(
        "ingest_lag",
        _("Event ingestion (batch received → stored)"),
        level,
        value,
        _(
            "time from receiving an event batch to having it stored, every process, "
            "last %(min)s minutes (histogram, interpolated within its bucket)"
        )
        % {"min": LAG_WINDOW_MIN},
        _("amber when p95 is above %(amber)s ms; red above %(red)s ms")
        % {
            "amber": _number(thresholds.INGEST_P95_MS.amber),
            "red": _number(thresholds.INGEST_P95_MS.red),
        },
        detail,
        _("p95 is %(p95)s") % {"p95": _ms(p95)},
    )
    return row, {"batches": batches, "p50_ms": p50, "p95_ms": p95}


def _scoring_row(scoring: dict[str, Any], now: datetime) -> tuple[Row, dict[str, Any]]:
    cutoff = now.timestamp() - LAG_WINDOW_MIN * 60
    lags = [game["lag_s"] for game in scoring["games"] if game["completed"] >= cutoff]
    p50 = thresholds.sample_quantile(lags, 0.5)
    p95 = thresholds.sample_quantile(lags, 0.95)
    oldest = scoring["oldest_wait_s"]
    level = thresholds.worst(
        [thresholds.SCORING_P95_S.level(p95), thresholds.SCORING_P95_S.level(oldest)]
    )
    value = _("p50 %(p50)s · p95 %(p95)s") % {"p50": _seconds(p50), "p95": _seconds(p95)}
    if not lags:
        value = "—"
    parts = [
        ngettext(
            "%(n)s game completed in the last %(min)s minutes",
            "%(n)s games completed in the last %(min)s minutes",
            len(lags),
        )
        % {"n": _number(len(lags)), "min": LAG_WINDOW_MIN}
    ]
    if scoring["waiting"]:
        parts.append(
            _("%(n)s waiting now, the oldest for %(wait)s")
            % {"n": _number(scoring["waiting"]), "wait": _seconds(oldest)}
        )
    if scoring["failed"]:
        parts.append(
            ngettext(
                "%(n)s failed in the last hour", "%(n)s failed in the last hour", scoring["failed"]
            )
            % {"n": _number(scoring["failed"])}
        )
    if oldest is not None and thresholds.SCORING_P95_S.level(oldest) != OK:
        problem = _("a game has waited %(wait)s to be scored") % {"wait": _seconds(oldest)}
    else:
        problem = _("p95 is %(p95)s") % {"p95": _seconds(p95)}
    row = Row(
        "scoring_lag",
        _("Scoring (game completed → scored)"),
        level,
        value,
        _(
            "from the database: a game's completion time to its metrics' computation time, "
            "games completed in the last %(min)s minutes (those still waiting count with "
            "their wait so far)"
        )
        % {"min": LAG_WINDOW_MIN},
        _("amber when p95 or the oldest wait is above %(amber)s s; red above %(red)s s")
        % {
            "amber": _number(thresholds.SCORING_P95_S.amber),
            "red": _number(thresholds.SCORING_P95_S.red),
        },
        "; ".join(parts),
        problem,
    )
    figures = {
        "games": len(lags),
        "p50_s": p50,
        "p95_s": p95,
        "waiting": scoring["waiting"],
        "oldest_wait_s": oldest,
        "failed_last_hour": scoring["failed"],
    }
    return row, figures


@dataclass(frozen=True)
class _ErrorWindow:
    minutes: int
    responses: int
    server_errors: int

    @property
    def share(self) -> float | None:
        return thresholds.error_share(errors=self.server_errors, responses=self.responses)

    @property
    def level(self) -> str:
        return thresholds.error_level(errors=self.server_errors, responses=self.responses)

    def as_dict(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "responses": self.responses,
            "server_errors": self.server_errors,
            "share": self.share,
            "level": self.level,
        }


def _errors_row(minutes: list[opsstats.MinuteCounts]) -> tuple[Row, dict[str, Any]]:
    windows = [
        _ErrorWindow(
            minutes=size,
            responses=sum(m.responses for m in minutes[-size:]),
            server_errors=sum(m.server_errors for m in minutes[-size:]),
        )
        for size in ERROR_WINDOWS_MIN
    ]
    level = thresholds.worst(window.level for window in windows)
    value = " · ".join(
        (
            _("%(share)s of %(n)s (%(min)s min)")
            % {"share": _percent(w.share), "n": _number(w.responses), "min": w.minutes}
            if w.responses
            else _("no responses (%(min)s min)") % {"min": w.minutes}
        )
        for w in windows
    )
    detail = " · ".join(
        ngettext(
            "%(n)s server error in %(min)s min",
            "%(n)s server errors in %(min)s min",
            w.server_errors,
        )
        % {"n": _number(w.server_errors), "min": w.minutes}
        for w in windows
    )
    # the alert names the window that set the level (the shorter one when both did)
    worst_window = next(w for w in windows if w.level == level)
    problem = _("%(n)s server errors in the last %(min)s minutes (%(share)s of responses)") % {
        "n": _number(worst_window.server_errors),
        "min": worst_window.minutes,
        "share": _percent(worst_window.share),
    }
    row = Row(
        "error_rate",
        _("Server errors (5xx share of responses)"),
        level,
        value,
        _("HTTP responses with status 500-599 among all responses, every process"),
        _(
            "amber above %(amber)s; red above %(red)s; with fewer than %(n)s responses, "
            "amber when there is any"
        )
        % {
            "amber": _percent(thresholds.ERROR_SHARE.amber),
            "red": _percent(thresholds.ERROR_SHARE.red),
            "n": thresholds.MIN_RESPONSES,
        },
        detail,
        problem,
    )
    return row, {"windows": [window.as_dict() for window in windows]}


def _sockets_row(sockets: opsstats.OpenSockets) -> tuple[Row, dict[str, Any]]:
    names = {"play": _("play"), "dashboard": _("dashboard"), "traits": _("traits")}
    value = " · ".join(
        f"{names.get(name, name)} {_number(count)}" for name, count in sockets.by_consumer.items()
    )
    row = Row(
        "sockets",
        _("Open sockets"),
        INFO,
        value,
        _(
            "WebSockets open now by consumer, summed over every socket server process "
            "(each writes its counts on every change and every %(s)s s)"
        )
        % {"s": _number(opsstats.SOCKETS_REFRESH_S)},
        _("not judged"),
        ngettext(
            "%(n)s process with open sockets",
            "%(n)s processes with open sockets",
            sockets.processes,
        )
        % {"n": _number(sockets.processes)},
    )
    return row, {"by_consumer": dict(sockets.by_consumer), "processes": sockets.processes}


def _hit_rate_row(hits: int, misses: int) -> tuple[Row, dict[str, Any]]:
    reads = hits + misses
    share = hits / reads if reads else None
    row = Row(
        "cache_hit_rate",
        _("Analytics cache hit rate"),
        INFO,
        _percent(share),
        _("cached dashboard reads served from the cache, every process, since the cache started"),
        _("not judged"),
        _("%(hits)s hits, %(misses)s misses") % {"hits": _number(hits), "misses": _number(misses)},
    )
    return row, {"hits": hits, "misses": misses, "share": share}


# --- the series of the charts -----------------------------------------------------------


def _series(minutes: list[opsstats.MinuteCounts], scoring: dict[str, Any]) -> dict[str, Any]:
    by_minute: dict[int, list[float]] = {}
    waiting: dict[int, int] = {}
    for game in scoring["games"]:
        minute = int(game["completed"] // 60)
        by_minute.setdefault(minute, []).append(game["lag_s"])
        waiting[minute] = waiting.get(minute, 0) + int(game["waiting"])
    bounds = opsstats.INGEST_BOUNDS_MS
    series: dict[str, Any] = {
        "minutes": [],
        "ingest": {"batches": [], "p50_ms": [], "p95_ms": []},
        "scoring": {"games": [], "waiting": [], "p50_s": [], "p95_s": []},
        "responses": {"responses": [], "server_errors": []},
    }
    for counts in minutes:
        series["minutes"].append(datetime.fromtimestamp(counts.minute * 60, tz=UTC).isoformat())
        series["ingest"]["batches"].append(counts.batches)
        series["ingest"]["p50_ms"].append(thresholds.histogram_quantile(bounds, counts.ingest, 0.5))
        series["ingest"]["p95_ms"].append(
            thresholds.histogram_quantile(bounds, counts.ingest, 0.95)
        )
        lags = by_minute.get(counts.minute, [])
        series["scoring"]["games"].append(len(lags))
        series["scoring"]["waiting"].append(waiting.get(counts.minute, 0))
        series["scoring"]["p50_s"].append(thresholds.sample_quantile(lags, 0.5))
        series["scoring"]["p95_s"].append(thresholds.sample_quantile(lags, 0.95))
        series["responses"]["responses"].append(counts.responses)
        series["responses"]["server_errors"].append(counts.server_errors)
    return series


# --- the whole page ---------------------------------------------------------------------


def system_status(*, now: datetime | None = None) -> dict[str, Any]:
    """Every row of the system status page with its level, the alerts, the charts' series.

    Rows: each probe, the workers, each queue, ingestion and scoring times, server
    errors, open sockets, the cache hit rate. ``alerts`` names, in plain words,
    each row that is amber or red (red first). Also ``process``: the answering
    process's own figures. JSON-able, no NaN.
    """
    now = now or timezone.now()
    probe_results, _failed = run_probes()
    workers = _shared("workers", celery_workers)
    queues = _shared("queues", broker_queues)
    scoring = _shared("scoring", lambda: scoring_times(now))
    counters_error = None
    try:
        minutes = opsstats.minutes_read(last=CHART_MINUTES, now=now.timestamp())
        sockets = opsstats.open_sockets()
    except Exception as error:  # the cache row reports why; these rows say they are unknown
        counters_error = _error_text(error)
        minutes = [
            opsstats.MinuteCounts(
                minute=m, responses=0, server_errors=0, ingest=(0,) * opsstats.INGEST_BUCKETS
            )
            for m in range(
                int(now.timestamp() // 60) - CHART_MINUTES + 1, int(now.timestamp() // 60) + 1
            )
        ]
        sockets = opsstats.OpenSockets(
            by_consumer=dict.fromkeys(opsstats.CONSUMERS, 0), processes=0
        )
    try:
        hits, misses = hit_rate()
    except Exception:
        hits, misses = 0, 0

    pairs = [
        *_probe_rows(probe_results),
        _workers_row(workers),
        *_queue_rows(queues),
        _ingest_row(minutes),
        _scoring_row(scoring, now),
        _errors_row(minutes),
        _sockets_row(sockets),
        _hit_rate_row(hits, misses),
    ]
    if counters_error is not None:
        for row, _figures in pairs:
            if row.key in ("ingest_lag", "error_rate", "sockets"):
                row.level = AMBER
                row.value = _("unknown")
                row.detail = counters_error
                row.problem = _("the shared counters could not be read: %(error)s") % {
                    "error": counters_error
                }
    rows = [row.as_dict(figures) for row, figures in pairs]
    alerts = [
        {
            "key": row.key,
            "level": row.level,
            "level_text": level_text(row.level),
            "text": f"{row.label}: {row.problem}",
        }
        for row, _figures in sorted(pairs, key=lambda pair: pair[0].level != RED)
        if row.level in (AMBER, RED)
    ]
    return {
        "generated_at": now.isoformat(),
        "level": thresholds.worst(row["level"] for row in rows),
        "alerts": alerts,
        "rows": rows,
        "series": _series(minutes, scoring),
        "process": process_figures(now),
    }
