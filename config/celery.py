"""The Celery application; tasks are discovered in each app's ``tasks`` module."""

from __future__ import annotations

import os

from celery import Celery

from pymetrics.common.taskmetrics import instrument

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("pymetrics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# every task timed and its failures counted (Prometheus); `worker --metrics-port`
instrument(app)
