from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "pymetrics.assessments"
    label = "assessments"
