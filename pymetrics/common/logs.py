"""Structured logs: one JSON object per line, or readable lines for a developer.

structlog renders every record, the standard library's too (Django, Celery,
``logging.getLogger(__name__)``, ``pymetrics.audit``), through one
``ProcessorFormatter`` on the root handler, so each line carries the same keys:
``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``event`` and the context
bound for the request or task being served (``request_id``, ``task_id``,
``task_name``; :mod:`pymetrics.common.requestid`).

``PYMETRICS_LOG_FORMAT`` chooses ``json`` (the default with DEBUG off: what a log
collector reads) or ``console`` (the default with DEBUG on: ``make run``, tests).
"""

from __future__ import annotations

import logging.config
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from pymetrics.common.redact import redact_text

#: the formats PYMETRICS_LOG_FORMAT accepts
FORMATS = ("json", "console")

#: Run on every record, structlog's own and the standard library's ("foreign") alike.
SHARED_PROCESSORS: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    # logger.info("...", extra={...}) keeps its fields
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def redact_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Mask URL secrets (invite links, socket tokens, signed downloads) in the message.

    Run at rendering, on every line of every logger: uvicorn names a socket's path,
    query string and all, and Django names the path of a 404.
    """
    event = event_dict.get("event")
    if isinstance(event, str):
        event_dict["event"] = redact_text(event)
    return event_dict


def _renderers(log_format: str) -> list[Processor]:
    if log_format == "json":
        return [
            redact_event,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # a traceback as one string field: the line stays one JSON object
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(sort_keys=False),
        ]
    return [
        redact_event,
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
    ]


def formatter(log_format: str) -> dict[str, Any]:
    """The ``LOGGING['formatters']`` entry rendering records in ``log_format``."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {log_format!r}")
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": _renderers(log_format),
        "foreign_pre_chain": SHARED_PROCESSORS,
    }


def configure_structlog() -> None:
    """Send structlog's loggers through the standard library (its handlers, levels)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_from_settings(**_kwargs: Any) -> None:
    """Apply ``settings.LOGGING`` (Celery's ``setup_logging`` signal).

    Connected, it keeps Celery's worker and beat from installing their own root
    handler and format: they log through the same JSON handler as the web.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    configure_structlog()


def get_logger(name: str | None = None) -> Any:
    """A structlog logger (``logger.info("event", key=value)``)."""
    return structlog.stdlib.get_logger(name)
