"""HTTP middleware of the platform itself (not of one bounded context)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from pymetrics.common.opsstats import response_record


class SyncAndAsyncMiddleware:
    """A middleware that runs in WSGI and ASGI chains without an adapter thread.

    Django calls it the way the next middleware runs: a subclass gives
    :meth:`handle` for a sync chain and :meth:`ahandle` for an async one.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.ahandle(request)
        return self.handle(request)

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError  # pragma: no cover - every subclass gives both

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError  # pragma: no cover - every subclass gives both

    async def next_async(self, request: HttpRequest) -> HttpResponseBase:
        """The rest of an async chain's answer."""
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        return await get_response(request)


class OpsCountersMiddleware(SyncAndAsyncMiddleware):
    """Count every HTTP response, and the server errors among them, per minute.

    First in ``MIDDLEWARE``, so it sees every response, including the 500 that
    Django makes of an exception raised below it. Recording is an increment in
    memory (:mod:`pymetrics.common.opsstats` writes it out once a second), a few
    microseconds per request. Works in both WSGI and ASGI chains without an
    adapter thread.
    """

    def handle(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = self.get_response(request)
        response_record(response.status_code)
        return response

    async def ahandle(self, request: HttpRequest) -> HttpResponseBase:
        response = await self.next_async(request)
        response_record(response.status_code)
        return response
