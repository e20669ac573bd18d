from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "pymetrics.common"
    label = "common"
