from django.contrib import admin

from pymetrics.scoring.models import MetricSet


@admin.register(MetricSet)
class MetricSetAdmin(admin.ModelAdmin):
    list_display = ("game_session", "game", "extractor_version", "computed_at")
    list_filter = ("game", "extractor_version")
    raw_id_fields = ("game_session",)
