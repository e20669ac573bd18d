"""Export routes of the staff API (included in ``/api/v1/``, namespace ``api``)."""

from django.urls import path

from pymetrics.reports.exports import api

urlpatterns = [
    path("exports/", api.ExportListCreateApi.as_view(), name="exports"),
    path("exports/<int:export_job_id>/", api.ExportDetailApi.as_view(), name="export-detail"),
]
