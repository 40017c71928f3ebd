from django.contrib import admin

from programs.models import ApiClient, Program


class ApiClientInline(admin.TabularInline):
    model = ApiClient
    extra = 0
    fields = ("client_id", "name", "allowed_methods", "allowed_cidrs", "is_active", "last_used_at")
    readonly_fields = ("client_id", "last_used_at")
    show_change_link = True
    can_delete = False


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "country", "min_age", "kyc_required", "is_active", "created_at")
    list_filter = ("is_active", "kyc_required", "country")
    search_fields = ("code", "name")
    readonly_fields = ("created_at", "updated_at")
    inlines = [ApiClientInline]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("client_id", "program", "name", "is_active", "last_used_at", "created_at")
    list_filter = ("is_active", "program")
    list_select_related = ("program",)
    search_fields = ("client_id", "name")
    readonly_fields = ("client_id", "secret_hint", "last_used_at", "created_at", "updated_at")
    exclude = ("secret_hash",)
