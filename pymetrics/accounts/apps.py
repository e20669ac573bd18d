from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pymetrics.accounts"
    label = "accounts"

    def ready(self) -> None:
        from pymetrics.accounts import schema  # noqa: F401  (registers the OpenAPI extension)
