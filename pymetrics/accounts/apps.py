from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "pymetrics.accounts"
    label = "accounts"
