"""Back-office pages of the risk app's rows that act on users: exemptions and the blacklist's
effect preview. They live here because the risk app imports nothing of users.

`RiskExemption` rows are granted and revoked through users/exemptions.py; the "Preview effect
on existing users" action of the blacklist list (risk/admin.py names it) is registered here as
a site-wide action disabled everywhere else (Django's documented opt-in by name).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.safestring import SafeString

from core.admin_utils import (
    EstimatedCountPaginator,
    GuardedModelAdmin,
    badge,
    reasoned_bulk_action,
    refusal_text,
)
from risk.admin import masked_value
from risk.models import RiskExemption
from users.blacklist_preview import MAX_PREVIEW_ENTRIES, effect_preview
from users.exemptions import exemption_grant, exemption_revoke

# --- blacklist effect preview ---------------------------------------------------------------


@admin.action(description="Preview effect on existing users", permissions=["view"])
def preview_effect(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet
) -> HttpResponse | None:
    entries = list(queryset.select_related("program")[: MAX_PREVIEW_ENTRIES + 1])
    if len(entries) > MAX_PREVIEW_ENTRIES:
        modeladmin.message_user(
            request,
            f"Select at most {MAX_PREVIEW_ENTRIES} entries to preview.",
            messages.WARNING,
        )
        return None
    previews = effect_preview(entries)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.opts,
        "title": "Effect preview",
        "rows": [
            {
                "entry": p.entry,
                "value": masked_value(p.entry.entity_attribute, p.entry.value),
                "scope": p.entry.program.code if p.entry.program else "global",
                "total": p.total,
                "by_program": sorted(p.by_program.items()),
                "scanned": p.scanned,
            }
            for p in previews
        ],
    }
    return TemplateResponse(request, "admin/risk/blacklistentry/preview.html", context)


admin.site.add_action(preview_effect, "preview_effect")
admin.site.disable_action("preview_effect")  # offered only where a ModelAdmin names it


# --- exemptions -----------------------------------------------------------------------------


class ExemptionGrantForm(forms.ModelForm):
    expires_at = forms.SplitDateTimeField(
        widget=AdminSplitDateTime,
        help_text="Until when a flagged user may be re-activated.",
    )

    class Meta:
        model = RiskExemption
        fields = ("user", "reason", "expires_at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("expires_at", timezone.now() + timedelta(days=30))

    def _get_validation_exclusions(self) -> set[str]:
        # the model's "one open exemption" constraint would refuse a second grant; the
        # service ends the open one first (in the same transaction, under a row lock)
        return {*super()._get_validation_exclusions(), "user"}  # type: ignore[misc]

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data["expires_at"]
        if expires_at <= timezone.now():
            raise ValidationError("The expiry must be in the future.")
        return expires_at


@admin.register(RiskExemption)
class RiskExemptionAdmin(GuardedModelAdmin[RiskExemption]):
    list_display = (
        "user_id_public",
        "program",
        "state",
        "granted_at",
        "granted_by",
        "expires_at",
        "end_cause",
    )
    list_filter = ("end_cause",)
    list_select_related = ("user__program", "granted_by")
    search_fields = ("=user__public_id",)
    raw_id_fields = ("user",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ("revoke_exemptions",)
    readonly_fields = (
        "user",
        "reason",
        "granted_by",
        "granted_at",
        "expires_at",
        "ended_at",
        "ended_by",
        "end_cause",
        "ended_reason",
    )

    @admin.display(description="user", ordering="user__public_id")
    def user_id_public(self, obj: RiskExemption) -> str:
        return obj.user.public_id

    @admin.display(description="program")
    def program(self, obj: RiskExemption) -> str:
        return obj.user.program.code

    @admin.display(description="state")
    def state(self, obj: RiskExemption) -> SafeString:
        text = _state(obj)
        return badge(text, "green" if text == "active" else "grey")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ExemptionGrantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.readonly_fields if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj else ("user", "reason", "expires_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # an exemption is never edited: it is revoked (and a new one granted)
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RiskExemption, form: Any, change: bool) -> None:
        granted = exemption_grant(
            user=form.cleaned_data["user"],
            reason=form.cleaned_data["reason"],
            expires_at=form.cleaned_data["expires_at"],
            granted_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = granted.pk
        obj.granted_at = granted.granted_at

    @admin.action(description="Revoke selected exemptions", permissions=["change"])
    def revoke_exemptions(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        def apply(exemption: RiskExemption, reason: str) -> str | None:
            try:
                exemption_revoke(exemption=exemption, by=request.user, reason=reason)  # type: ignore[arg-type]
            except ValidationError as exc:
                return refusal_text(exc)  # already ended: unchanged
            return None

        return reasoned_bulk_action(
            self,
            request,
            queryset.select_related("user"),
            action="revoke_exemptions",
            title="Revoke risk exemptions",
            verb="revoked",
            headers=("user", "expires", "state"),
            row=lambda e: (
                e.pk,
                e.user.public_id,
                f"{e.expires_at:%Y-%m-%d %H:%M}",
                e.end_cause or "open",
            ),
            ident=lambda e: e.user.public_id,
            apply=apply,
        )


def _state(exemption: RiskExemption) -> str:
    if exemption.ended_at is not None:
        return f"ended ({exemption.end_cause})"
    return "expired" if exemption.expires_at <= timezone.now() else "active"
