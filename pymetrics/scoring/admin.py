from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pymetrics.scoring.models import (
    FailedScoringJob,
    MetricSet,
    NormTable,
    TraitMapVersion,
    TraitScore,
)
from pymetrics.scoring.tasks import extract_game_session_metrics


@admin.register(MetricSet)
class MetricSetAdmin(admin.ModelAdmin):
    list_display = ("game_session", "game", "extractor_version", "computed_at")
    list_filter = ("game", "extractor_version")
    raw_id_fields = ("game_session",)


@admin.register(FailedScoringJob)
class FailedScoringJobAdmin(admin.ModelAdmin):
    """Every game session whose metrics could not be extracted, and why."""

    list_display = ("pk", "game", "attempt", "scoring_error", "completed_at")
    list_filter = ("game",)
    search_fields = ("scoring_error",)
    readonly_fields = ("attempt", "game", "state", "scoring_error", "event_count", "acked_seq")
    fields = readonly_fields
    actions = ("retry",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry extraction of the selected sessions")
    def retry(self, request: HttpRequest, queryset: QuerySet[FailedScoringJob]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for game_session_id in ids:
            extract_game_session_metrics.delay(game_session_id)
        self.message_user(request, f"{len(ids)} extraction(s) queued.", messages.SUCCESS)


@admin.register(TraitMapVersion)
class TraitMapVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "created_at")
    readonly_fields = ("version", "definition", "created_at")


@admin.register(NormTable)
class NormTableAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "version",
        "population",
        "is_simulated",
        "organization",
        "n_attempts",
        "created_at",
    )
    list_filter = ("population", "is_simulated", "organization")
    readonly_fields = ("data", "reliabilities")


@admin.register(TraitScore)
class TraitScoreAdmin(admin.ModelAdmin):
    list_display = ("attempt", "trait", "scored", "z", "percentile", "norm_table", "computed_at")
    list_filter = ("trait", "scored", "norm_table")
    raw_id_fields = ("attempt",)
