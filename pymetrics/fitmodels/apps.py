from django.apps import AppConfig


class FitModelsConfig(AppConfig):
    name = "pymetrics.fitmodels"
    label = "fitmodels"
    verbose_name = "Job-fit models"
