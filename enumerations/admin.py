from django.contrib import admin
from django.http import HttpRequest

from enumerations import models as m
from enumerations.registry import MODELS


class EnumerationAdmin(admin.ModelAdmin):
    """Operators add, rename and deactivate values; deleting is not offered (users hold codes)."""

    list_display = ["code", "description", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ("code", "description")
    list_editable = ("is_active",)
    ordering = ("sort_order", "code")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        # the code is what users store: renaming means changing the description
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(m.IdType)
class IdTypeAdmin(EnumerationAdmin):
    list_display = [
        "code",
        "display_name",
        "is_primary",
        "is_secondary",
        "regex_validation",
        "max_duplicate",
        "masking",
        "checksum",
        "is_active",
    ]
    list_filter = ["is_active", "is_primary", "is_secondary", "masking"]


@admin.register(m.Country)
class CountryAdmin(EnumerationAdmin):
    list_display = ["code", "description", "alpha_2", "numeric", "is_active"]


for _model in MODELS:
    if _model not in (m.IdType, m.Country):
        admin.site.register(_model, EnumerationAdmin)
