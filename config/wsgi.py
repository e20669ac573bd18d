"""WSGI entry point: the HTTP server (gunicorn, see pymetrics.ops.serving)."""

import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# django.core.wsgi.get_wsgi_application, split: Sentry and tracing start (when
# configured) after Django is set up and before the handler loads the middleware.
django.setup(set_prefix=False)

from pymetrics.common.observability import init_observability  # noqa: E402

init_observability("web")
application = WSGIHandler()

from pymetrics.common.startup import prepare_server_process  # noqa: E402 - needs Django set up

prepare_server_process()
