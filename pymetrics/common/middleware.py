"""HTTP middleware of the platform itself (not of one bounded context)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from pymetrics.common.opsstats import response_record


class OpsCountersMiddleware:
    """Count every HTTP response, and the server errors among them, per minute.

    First in ``MIDDLEWARE``, so it sees every response, including the 500 that
    Django makes of an exception raised below it. Recording is an increment in
    memory (:mod:`pymetrics.common.opsstats` writes it out once a second), a few
    microseconds per request. Works in both WSGI and ASGI chains without an
    adapter thread.
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
            return self.__acall__(request)
        response: HttpResponseBase = self.get_response(request)
        response_record(response.status_code)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        response_record(response.status_code)
        return response
