"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Sockets go through :func:`pymetrics.realtime.routing.websocket_application`: a
request id per socket, the Origin check, the session, the routes.
"""

from __future__ import annotations

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# django.core.asgi.get_asgi_application, split: Sentry and tracing start (when
# configured) after Django is set up and before the handler loads the middleware.
django.setup(set_prefix=False)

from pymetrics.common.observability import init_observability  # noqa: E402

init_observability("web")
django_application = ASGIHandler()

# Channels and the routes need Django set up first.
from channels.routing import ProtocolTypeRouter  # noqa: E402

from pymetrics.common.startup import prepare_server_process  # noqa: E402
from pymetrics.realtime.drain import drain_on_shutdown  # noqa: E402
from pymetrics.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_application, "websocket": websocket_application()})

# Told to stop (SIGTERM), the server first asks every open socket to reconnect
# elsewhere (docs/operations.md, "Graceful shutdown").
application = drain_on_shutdown(application)

# Everything loaded (Django, the apps, every view, numpy, pandas) lives as long as
# the process: keep it out of the collector's full passes, which a socket server
# with thousands of connections would otherwise pay for in pauses of every socket.
prepare_server_process()
