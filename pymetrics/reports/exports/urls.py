"""Staff pages of exports, at ``/staff/exports/`` (namespace ``exports``)."""

from django.urls import path

from pymetrics.reports.exports import views

app_name = "exports"

urlpatterns = [
    path("", views.list_page, name="list"),
    path("<int:export_job_id>/data/", views.job_data, name="job-data"),
    path("download/<str:token>/", views.download, name="download"),
]
