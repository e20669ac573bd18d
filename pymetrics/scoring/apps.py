from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "pymetrics.scoring"
    label = "scoring"
