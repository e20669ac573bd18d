from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "pymetrics.events"
    label = "events"
