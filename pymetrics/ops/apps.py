from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "pymetrics.ops"
    label = "ops"

    def ready(self) -> None:
        from pymetrics.ops import checks  # noqa: F401  (registers the system checks)
