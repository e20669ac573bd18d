"""WSGI entry point: the HTTP server (gunicorn, see pymetrics.ops.serving)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from pymetrics.common.startup import prepare_server_process  # noqa: E402 - needs Django set up

prepare_server_process()
