from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "pymetrics.ops"
    label = "ops"
