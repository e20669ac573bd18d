from django.apps import AppConfig


class PlayConfig(AppConfig):
    name = "pymetrics.play"
    label = "play"
