from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from pymetrics.accounts.models import ApiKey, AuditLog, Membership, Organization, User
from pymetrics.common.admin import NoDeleteInAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(NoDeleteInAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "full_name")
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "prefix",
        "user",
        "organization",
        "name",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    list_filter = ("organization",)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    # ids, not the related rows: a deleted user or organisation stays named in the log
    list_display = (
        "at",
        "organization_id",
        "actor_id",
        "api_key_id",
        "action",
        "object_type",
        "object_id",
        "chain_seq",
    )
    list_filter = ("action", "object_type")
    search_fields = ("object_id",)
    date_hierarchy = "at"
    exclude = ("organization", "actor", "api_key")
    readonly_fields = (
        "organization_id",
        "actor_id",
        "api_key_id",
        "action",
        "object_type",
        "object_id",
        "at",
        "ip_address",
        "details",
        "chain_seq",
        "prev_hash",
        "entry_hash",
    )

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False  # the audit trail is append-only

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False
