"""The candidate's own feedback report, under ``/play/<invite_token>/report/``
(namespace ``candidate-report``; every view receives ``invite_token``)."""

from django.urls import path

from pymetrics.reports.documents import candidate_views

app_name = "candidate-report"

urlpatterns = [
    path("", candidate_views.feedback_report, name="report"),
    path("pdf/", candidate_views.feedback_report_pdf, name="pdf"),
]
