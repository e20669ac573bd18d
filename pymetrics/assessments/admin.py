from typing import Any

from django.contrib import admin

from pymetrics.assessments.models import Assessment, Attempt, Candidate, GameSession
from pymetrics.assessments.services import candidate_email_index
from pymetrics.common.admin import NoDeleteInAdmin


@admin.register(Assessment)
class AssessmentAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = ("name", "organization", "created_at")
    list_filter = ("organization",)
    search_fields = ("name",)


@admin.register(Candidate)
class CandidateAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = ("pk", "external_id", "organization", "is_simulated", "consent_at", "created_at")
    list_filter = ("organization", "is_simulated")
    search_fields = ("external_id",)  # name and e-mail are encrypted: not searchable in SQL
    readonly_fields = ("email_index",)

    def save_model(self, request: Any, obj: Candidate, form: Any, change: bool) -> None:
        # the e-mail's blind index is written with it, or a search would miss the new address
        obj.email_index = candidate_email_index(
            email=obj.email, organization_id=obj.organization_id
        )
        super().save_model(request, obj, form, change)


class GameSessionInline(admin.TabularInline):
    model = GameSession
    extra = 0
    fields = ("game", "position", "state", "acked_seq", "event_count", "completed_at")
    readonly_fields = fields


@admin.register(Attempt)
class AttemptAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = ("pk", "candidate", "assessment", "state", "created_at", "completed_at")
    list_filter = ("state", "assessment__organization")
    readonly_fields = ("invite_token_hash",)
    inlines = [GameSessionInline]


@admin.register(GameSession)
class GameSessionAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = (
        "pk",
        "game",
        "attempt",
        "state",
        "source",
        "acked_seq",
        "event_count",
        "completed_at",
    )
    list_filter = ("game", "state", "source")
    readonly_fields = ("seed", "config", "client_info", "acked_seq", "event_count")
