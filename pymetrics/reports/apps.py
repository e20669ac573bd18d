from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "pymetrics.reports"
    label = "reports"
    verbose_name = "Candidate and recruiter reports"
