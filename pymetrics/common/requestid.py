"""A request id on every log line, carried from the HTTP request into its tasks.

:class:`RequestIdMiddleware` takes the caller's ``X-Request-ID`` when it is a sane
token (a load balancer's or a client's, so one id follows a request through every
hop), else makes one, binds it to structlog's context for the request, and returns
it in the response's ``X-Request-ID``. A task queued while the request is served
carries the id in its message headers (:func:`add_request_id_header`); the worker
binds it, with the task's id and name, while the task runs (:func:`bind_task`).
A WebSocket gets one id for its whole life (:func:`bind_socket_request_id`).

Instrumentation hooks on Celery's signals, as in :mod:`pymetrics.common.taskmetrics`:
they see every task the same way, in a worker and run eagerly, and hold no domain
logic.
"""

from __future__ import annotations

import contextvars
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import structlog
from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponseBase

from pymetrics.common.middleware import SyncAndAsyncMiddleware

#: the response header, and the request's as Django's META names it
HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
#: the task message header carrying the id to the worker
TASK_HEADER = "request_id"
#: letters, digits and ``. _ : -``, 1 to 128 of them: safe in a header and a log
#: line (no spaces, quotes or control characters a client could forge lines with)
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# structlog keeps one ContextVar per bound key, named with its prefix; this one is
# shared with it (bind_contextvars(request_id=...) sets the same variable), and
# setting it directly costs the request one set and one reset, no mapping.
_VAR_NAME = structlog.contextvars.STRUCTLOG_KEY_PREFIX + "request_id"
REQUEST_ID: contextvars.ContextVar[Any] = structlog.contextvars._CONTEXT_VARS.setdefault(
    _VAR_NAME, contextvars.ContextVar(_VAR_NAME, default=Ellipsis)
)


def incoming_request_id(request: HttpRequest) -> str:
    """The caller's id when it is a sane token, else a new one (uuid4)."""
    given = request.META.get(_META_KEY)
    if given and _SANE.fullmatch(given):
        return str(given)
    return str(uuid.uuid4())


def current_request_id() -> str | None:
    """The id of the request (or task) being served, None outside of one."""
    value = REQUEST_ID.get()
    return None if value is Ellipsis else str(value)


class RequestIdMiddleware(SyncAndAsyncMiddleware):
    """Bind ``request_id`` for the request's log lines and echo it in the response.

    Placed right after ``OpsCountersMiddleware``, so everything below it, Django's
    own error logging of a 500 included, logs with the id. Works in WSGI and ASGI
    chains without an adapter thread.
    """

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        request_id = incoming_request_id(request)
        token = REQUEST_ID.set(request_id)
        try:
            response: HttpResponseBase = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        request_id = incoming_request_id(request)
        token = REQUEST_ID.set(request_id)
        try:
            response = await self.next_async(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = request_id
        return response


# --- WebSockets ---

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]


def socket_request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The handshake's ``X-Request-ID`` when it is a sane token, else a new one."""
    for name, value in headers:
        if name.lower() == b"x-request-id":
            given = value.decode("latin-1")
            if _SANE.fullmatch(given):
                return given
            break
    return str(uuid.uuid4())


def bind_socket_request_id(application: Application) -> Application:
    """``application`` with a request id bound for each socket's whole life.

    A socket is one HTTP request upgraded, so it gets one id like any request: every
    log line of that connection carries it (its consumer runs in the connection's
    own task, and ``database_sync_to_async`` copies the context), and so does every
    task the socket queues. Other scope types pass through untouched.
    """

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await application(scope, receive, send)
            return
        token = REQUEST_ID.set(socket_request_id(scope.get("headers", ())))
        try:
            await application(scope, receive, send)
        finally:
            REQUEST_ID.reset(token)

    return app


# --- Celery ---

_TOKENS: dict[str, Any] = {}
_LOCK = threading.Lock()


def add_request_id_header(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    """``before_task_publish``: a task queued within a request carries its id."""
    request_id = current_request_id()
    if headers is not None and request_id is not None:
        headers.setdefault(TASK_HEADER, request_id)


def bind_task(
    sender: Any = None, task_id: str | None = None, task: Any = None, **_kwargs: Any
) -> None:
    """``task_prerun``: the task's id and name, and the request id it came with."""
    if task_id is None:
        return
    context: dict[str, Any] = {"task_id": task_id, "task_name": getattr(task, "name", None)}
    request_id = _message_request_id(getattr(task, "request", None))
    if request_id is not None:
        context["request_id"] = request_id
    # else run eagerly within the request: its id is bound already
    tokens = structlog.contextvars.bind_contextvars(**context)
    with _LOCK:
        _TOKENS[task_id] = tokens


def _message_request_id(request: Any) -> str | None:
    # a worker merges a message's custom headers into the task's request; a task
    # applied with headers= keeps them in request.headers
    value = getattr(request, TASK_HEADER, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    if isinstance(value, str) and _SANE.fullmatch(value):
        return value
    return None


def unbind_task(sender: Any = None, task_id: str | None = None, **_kwargs: Any) -> None:
    """``task_postrun``: restore the context as it was before the task (an eager
    task's caller keeps its request id; a worker's next task starts clean)."""
    if task_id is None:
        return
    with _LOCK:
        tokens = _TOKENS.pop(task_id, None)
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens)


def instrument(app: Celery) -> None:
    """Carry request ids through ``app``'s task messages and into its workers' logs."""
    del app  # the signals are Celery-wide; the argument mirrors taskmetrics.instrument
    before_task_publish.connect(
        add_request_id_header, weak=False, dispatch_uid="pymetrics-request-id-header"
    )
    task_prerun.connect(bind_task, weak=False, dispatch_uid="pymetrics-bind-task")
    task_postrun.connect(unbind_task, weak=False, dispatch_uid="pymetrics-unbind-task")
