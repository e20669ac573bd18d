from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "pymetrics.analytics"
    label = "analytics"
    verbose_name = "Analytics"
