"""WebSocket routes (DESIGN.md 4.4)."""

from __future__ import annotations

from django.urls import path

from pymetrics.realtime.play import EventStreamConsumer
from pymetrics.realtime.staff import DashboardConsumer, TraitStreamConsumer

websocket_urlpatterns = [
    path("ws/play/<int:game_session_id>/", EventStreamConsumer.as_asgi()),
    path("ws/dashboard/<int:assessment_id>/", DashboardConsumer.as_asgi()),
    path("ws/traits/<int:candidate_id>/", TraitStreamConsumer.as_asgi()),
]
