"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Sockets pass the Origin check (a browser page must come from one of
``ALLOWED_HOSTS``; see :mod:`pymetrics.realtime.origin`), then the session
middleware, so the staff sockets see the logged-in user; the candidate socket
authenticates with its session token instead.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

# Channels and the routes need Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from pymetrics.common.startup import prepare_server_process  # noqa: E402
from pymetrics.realtime.origin import browser_origin_validator  # noqa: E402
from pymetrics.realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": browser_origin_validator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything loaded (Django, the apps, every view, numpy, pandas) lives as long as
# the process: keep it out of the collector's full passes, which a socket server
# with thousands of connections would otherwise pay for in pauses of every socket.
prepare_server_process()
