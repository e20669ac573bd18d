"""Operators' view of export jobs: what was exported, by whom, and how it went (read only)."""

from django.contrib import admin
from django.http import HttpRequest

from pymetrics.reports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "organization", "dataset", "format", "state", "rows", "created_at")
    list_filter = ("state", "dataset", "format")
    readonly_fields = (
        "organization",
        "requested_by",
        "dataset",
        "format",
        "scope",
        "state",
        "progress",
        "total",
        "rows",
        "file_name",
        "size",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
