"""Staff routes of the reports, under ``/staff/reports/`` (namespace ``reports``)."""

from django.urls import path

from pymetrics.reports.documents import views

app_name = "reports"

urlpatterns = [
    path(
        "candidates/<int:candidate_id>/pdf/",
        views.recruiter_report_pdf,
        name="recruiter-pdf",
    ),
]
