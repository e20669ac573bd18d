"""WebSocket routes (DESIGN.md 4.4), and the stack every socket passes through."""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from pymetrics.common.requestid import bind_socket_request_id
from pymetrics.realtime.origin import browser_origin_validator
from pymetrics.realtime.play import EventStreamConsumer
from pymetrics.realtime.staff import DashboardConsumer, TraitStreamConsumer

websocket_urlpatterns = [
    path("ws/play/<int:game_session_id>/", EventStreamConsumer.as_asgi()),
    path("ws/dashboard/<int:assessment_id>/", DashboardConsumer.as_asgi()),
    path("ws/traits/<int:candidate_id>/", TraitStreamConsumer.as_asgi()),
]


def websocket_application() -> Any:
    """The sockets' ASGI application, outermost first.

    * a request id bound for the socket's whole life, so every log line of it, the
      refusals included, carries one (docs/operations.md, "Logs and traces");
    * the Origin check: a browser page must come from one of ``ALLOWED_HOSTS``;
    * the session, so the staff sockets see the logged-in user (the candidate
      socket authenticates with its session token instead);
    * the routes above.
    """
    return bind_socket_request_id(
        browser_origin_validator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    )
