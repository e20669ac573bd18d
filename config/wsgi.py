"""WSGI entry point: the HTTP server (gunicorn, see pymetrics.ops.serving)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Keep what start-up loaded out of the collector's full passes (see config.asgi).
gc.freeze()
