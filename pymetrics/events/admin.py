from django.contrib import admin

from pymetrics.common.admin import NoDeleteInAdmin
from pymetrics.events.models import Event


@admin.register(Event)
class EventAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = ("game_session", "seq", "t", "type", "received_at")
    list_filter = ("type",)
    raw_id_fields = ("game_session",)
    show_full_result_count = False  # counting a large event table is slow

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the event store is append-only
