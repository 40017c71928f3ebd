from typing import TypeVar

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.admin_utils import GuardedModelAdmin
from enumerations import models as m
from enumerations.catalog import bump_version
from enumerations.registry import MODELS

_EnumerationT = TypeVar("_EnumerationT", bound=m.Enumeration)


class EnumerationAdmin(GuardedModelAdmin[_EnumerationT]):
    """Operators add, rename and deactivate values; deleting is not offered (users hold codes)."""

    list_display = ["code", "description", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ("code", "description")
    list_editable = ("is_active",)
    ordering = ("sort_order", "code")
    readonly_fields = ("created_at", "updated_at")
    actions = ("activate_values", "deactivate_values")

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        # the code is what users store: renaming means changing the description
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(permissions=["change"], description="Activate selected values")
    def activate_values(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=True)

    @admin.action(permissions=["change"], description="Deactivate selected values")
    def deactivate_values(self, request: HttpRequest, queryset: QuerySet) -> None:
        # users keep the codes they hold; new input is refused (see enumerations.models)
        self._set_active(request, queryset, active=False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet, *, active: bool) -> None:
        with transaction.atomic():
            changed = queryset.exclude(is_active=active).update(
                is_active=active, updated_at=timezone.now()
            )
            # update() sends no post_save: make every server's snapshot stale explicitly
            bump_version()
        verb = "activated" if active else "deactivated"
        self.message_user(request, f"{changed} {verb}.", messages.SUCCESS)


@admin.register(m.IdType)
class IdTypeAdmin(EnumerationAdmin[m.IdType]):
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
class CountryAdmin(EnumerationAdmin[m.Country]):
    list_display = ["code", "description", "alpha_2", "numeric", "is_active"]


for _model in MODELS:
    if _model not in (m.IdType, m.Country):
        admin.site.register(_model, EnumerationAdmin)
