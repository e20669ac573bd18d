from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "pymetrics.privacy"
    label = "privacy"
    verbose_name = "Candidates' data rights"
