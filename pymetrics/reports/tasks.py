"""Celery tasks of reports (discovered here by Celery): the exports' tasks."""

from pymetrics.reports.exports.tasks import export_run, purge_expired_exports

__all__ = ["export_run", "purge_expired_exports"]
