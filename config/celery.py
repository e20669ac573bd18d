"""The Celery application; tasks are discovered in each app's ``tasks`` module."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, setup_logging, worker_init, worker_process_init

from pymetrics.common import observability, requestid
from pymetrics.common.logs import configure_from_settings
from pymetrics.common.taskmetrics import instrument

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pymetrics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# every task timed and its failures counted (Prometheus); `worker --metrics-port`
instrument(app)
# request ids from the queuing request into the worker's log lines
requestid.instrument(app)
# worker and beat log through settings.LOGGING (JSON), not Celery's own format
setup_logging.connect(configure_from_settings, weak=False)
# Sentry and tracing, when configured, in each process that runs tasks, and in beat
worker_init.connect(observability.worker_started, weak=False)
worker_process_init.connect(observability.worker_process_started, weak=False)
beat_init.connect(observability.beat_started, weak=False)
