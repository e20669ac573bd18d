from django.apps import AppConfig


class PlayConfig(AppConfig):
    name = "pymetrics.play"
    label = "play"

    def ready(self) -> None:
        from pymetrics.play import schema  # noqa: F401  (registers the OpenAPI extension)
