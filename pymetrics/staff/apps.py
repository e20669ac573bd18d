from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "pymetrics.staff"
    label = "staff"
