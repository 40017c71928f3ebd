"""Back-office for the risk app (SPEC §8): blacklist, risk settings, exemptions, screenings.

Every write goes through `risk.services` (validation shared with `import_blacklist`, list
version bumps, fuzzy index upkeep); listed values are PII, so lists show them masked and the
search compares normalized keys on an index instead of scanning with LIKE.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin_utils import (
    EMPTY,
    BulkOutcome,
    EstimatedCountPaginator,
    ReasonForm,
    badge,
    mask_email,
    mask_tail,
    mask_word,
    refusal_text,
)
from programs.models import Program
from risk.admin_check import check_name_view
from risk.importing import ImportReport, clean_entry, export_csv, import_rows, read_csv
from risk.models import (
    BlacklistEntry,
    EntityAttribute,
    RiskExemption,
    RiskSettings,
    Screening,
    ScreeningOutcome,
)
from risk.normalize import canonical, fold, folded
from risk.selectors import MAX_PREVIEW_ENTRIES, effect_preview
from risk.services import (
    blacklist_entries_set_active,
    blacklist_entry_save,
    exemption_grant,
    exemption_revoke,
)

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def masked_value(attribute: str, value: str) -> str:
    """A listed value as lists show it: enough to tell entries apart, not to read the PII."""
    if attribute == EntityAttribute.EMAIL:
        return mask_email(value)
    if attribute in (EntityAttribute.MOBILE, EntityAttribute.ID_NUMBER):
        return mask_tail(value)
    if attribute == EntityAttribute.BIRTHDAY:
        return "****-**-**"
    if attribute == EntityAttribute.NATIONALITY:
        return value  # a country code is not personal on its own
    return " ".join(mask_word(word) for word in value.split()) or EMPTY


class ScopeFilter(admin.SimpleListFilter):
    title = "scope"
    parameter_name = "scope"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        programs = Program.objects.order_by("code").values_list("pk", "code")
        return [("global", "global (all programs)")] + [(str(pk), code) for pk, code in programs]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "global":
            return queryset.filter(program__isnull=True)
        if value and value.isdigit():
            return queryset.filter(program_id=int(value))
        return queryset


# --- blacklist entries ----------------------------------------------------------------------


class BlacklistEntryForm(forms.ModelForm):
    """Validates like an import row (risk.importing.clean_entry) and refuses duplicates."""

    class Meta:
        model = BlacklistEntry
        fields = (
            "entity_attribute",
            "value",
            "match",
            "program",
            "action",
            "weight",
            "reason",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            entry = clean_entry(
                entity_attribute=data.get("entity_attribute"),
                value=data.get("value"),
                match=data.get("match"),
                action=data.get("action"),
                weight=data.get("weight"),
                reason=data.get("reason"),
            )
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                if name in self.fields and name not in self.errors:
                    self.add_error(name, problems)
            return data
        if data.get("is_active", True):
            duplicate = BlacklistEntry.objects.filter(
                is_active=True,
                entity_attribute=entry.entity_attribute,
                match=entry.match,
                value_normalized=entry.key,
                program=data.get("program"),
            )
            if self.instance.pk:
                duplicate = duplicate.exclude(pk=self.instance.pk)
            if duplicate.exists():
                raise ValidationError(
                    "An active entry with this attribute, match, value and scope exists."
                )
        return data


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV: entity_attribute,value,match,action,weight,reason")
    program = forms.ModelChoiceField(
        Program.objects.order_by("code"),
        required=False,
        empty_label="global (all programs)",
        help_text="The entries apply to this program only.",
    )


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(admin.ModelAdmin):
    form = BlacklistEntryForm
    list_display = (
        "id",
        "entity_attribute",
        "listed_value",
        "match",
        "action_badge",
        "weight",
        "scope",
        "is_active",
        "version",
        "added",
        "created_at",
    )
    list_filter = ("entity_attribute", "match", "action", "is_active", ScopeFilter)
    list_select_related = ("program", "added_by")
    # the box is drawn when search_fields is set; get_search_results compares normalized keys
    search_fields = ("=value_normalized",)
    search_help_text = (
        "A value as written (any case, accents or punctuation): exact and normalized keys, "
        "or the start of a normalized key."
    )
    sortable_by = ("id", "created_at")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = (
        "value_normalized",
        "version",
        "added_by",
        "added_by_label",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("entity_attribute", "value", "match", "program", "is_active")}),
        ("Effect", {"fields": ("action", "weight", "reason")}),
        (
            "Record",
            {
                "fields": (
                    "value_normalized",
                    "version",
                    "added_by",
                    "added_by_label",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    actions = ("preview_effect", "deactivate_entries", "activate_entries", "export_selected")
    change_list_template = "admin/risk/blacklistentry/change_list.html"

    # -- display

    @admin.display(description="value")
    def listed_value(self, obj: BlacklistEntry) -> str:
        return masked_value(obj.entity_attribute, obj.value)

    @admin.display(description="action", ordering="action")
    def action_badge(self, obj: BlacklistEntry) -> SafeString:
        return badge(obj.action, "red" if obj.action == "block" else "amber")

    @admin.display(description="scope")
    def scope(self, obj: BlacklistEntry) -> str:
        return obj.program.code if obj.program else "global"

    @admin.display(description="added by")
    def added(self, obj: BlacklistEntry) -> str:
        return obj.added_by.get_username() if obj.added_by else (obj.added_by_label or EMPTY)

    # -- search and permissions

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
        if not term:
            return queryset, False
        keys = {canonical(attribute, term) for attribute in EntityAttribute.values}
        keys |= {folded(attribute, term) for attribute in EntityAttribute.values}
        keys.discard("")
        condition = Q(value_normalized__in=sorted(keys))
        prefix = fold(term)
        if len(prefix) >= 3:
            condition |= Q(value_normalized__startswith=prefix)
        return queryset.filter(condition), False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # screenings refer to entries: deactivate instead of deleting
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            for name in ("deactivate_entries", "activate_entries"):
                actions.pop(name, None)
        return actions

    # -- saving

    def save_model(
        self, request: HttpRequest, obj: BlacklistEntry, form: Any, change: bool
    ) -> None:
        try:
            blacklist_entry_save(entry=obj, by=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            # only a concurrent duplicate gets here (the form checked everything else)
            messages.error(request, refusal_text(exc))

    # -- actions

    @admin.action(description="Preview effect on existing users", permissions=["view"])
    def preview_effect(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        entries = list(queryset.select_related("program")[: MAX_PREVIEW_ENTRIES + 1])
        if len(entries) > MAX_PREVIEW_ENTRIES:
            self.message_user(
                request,
                f"Select at most {MAX_PREVIEW_ENTRIES} entries to preview.",
                messages.WARNING,
            )
            return None
        previews = effect_preview(entries)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
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

    @admin.action(description="Deactivate selected entries", permissions=["change"])
    def deactivate_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = blacklist_entries_set_active(entries=list(queryset), active=False)
        self.message_user(request, f"{changed} entries deactivated.", messages.SUCCESS)

    @admin.action(description="Activate selected entries", permissions=["change"])
    def activate_entries(self, request: HttpRequest, queryset: QuerySet) -> None:
        try:
            changed = blacklist_entries_set_active(entries=list(queryset), active=True)
        except ValidationError as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return
        self.message_user(request, f"{changed} entries activated.", messages.SUCCESS)

    @admin.action(description="Export selected entries as CSV", permissions=["view"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        return self._csv_response(queryset.order_by("id"))

    # -- import and export pages

    def get_urls(self) -> list[Any]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "check-name/",
                self.admin_site.admin_view(partial(check_name_view, self)),
                name="{}_{}_check_name".format(*info),
            ),
            *super().get_urls(),
        ]

    def _csv_response(self, entries: QuerySet) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            export_csv(entries.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="blacklist-{stamp}.csv"'
        return response

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """Every entry of the list as the changelist's filters narrow it, in import format."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return self._csv_response(changelist.get_queryset(request).order_by("id"))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        report: ImportReport | None = None
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_IMPORT_BYTES:
                form.add_error("file", "Files over 50 MiB: use the import_blacklist command.")
            else:
                try:
                    stream = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
                    report = import_rows(
                        rows=read_csv(stream),
                        program=form.cleaned_data["program"],
                        added_by=request.user,  # type: ignore[arg-type]
                    )
                except ValidationError as exc:
                    form.add_error("file", exc.messages)
                except UnicodeDecodeError:
                    form.add_error("file", "The file is not UTF-8 text.")
            if report is not None:
                level = messages.WARNING if report.rejected else messages.SUCCESS
                self.message_user(request, report.summary(), level)
                if not report.rejected:
                    return HttpResponseRedirect(reverse("admin:risk_blacklistentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import blacklist entries",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/risk/blacklistentry/import.html", context)


# --- risk settings --------------------------------------------------------------------------


class RiskSettingsForm(forms.ModelForm):
    class Meta:
        model = RiskSettings
        fields = ("program", "threshold", "enabled")

    def clean_threshold(self) -> int:
        threshold = self.cleaned_data.get("threshold")
        if threshold is None or threshold <= 0:
            # the screening would answer 500 resource_risk_service_config_error to every write
            raise ValidationError("The threshold must be a positive number.")
        return int(threshold)


@admin.register(RiskSettings)
class RiskSettingsAdmin(admin.ModelAdmin):
    form = RiskSettingsForm
    list_display = ("program", "threshold", "enabled", "evaluable", "updated_at")
    list_filter = ("enabled",)
    list_select_related = ("program",)
    search_fields = ("=program__code",)
    readonly_fields = ("updated_at",)

    @admin.display(description="can be evaluated", boolean=True)
    def evaluable(self, obj: RiskSettings) -> bool:
        return obj.can_evaluate or not obj.enabled

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("program", "updated_at") if obj else ("updated_at",)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "program":
            # a program has one settings row: offer only programs without one
            kwargs["queryset"] = Program.objects.filter(risk_settings__isnull=True).order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # without settings every write of the program answers 500: switch screening off instead
        return False


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
class RiskExemptionAdmin(admin.ModelAdmin):
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
        selected = list(queryset.select_related("user"))
        form = ReasonForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if not form.is_bound or not form.is_valid():
            return _confirmation_page(
                self,
                request,
                action="revoke_exemptions",
                title="Revoke risk exemptions",
                form=form,
                rows=[
                    (
                        e.pk,
                        e.user.public_id,
                        f"{e.expires_at:%Y-%m-%d %H:%M}",
                        e.end_cause or "open",
                    )
                    for e in selected
                ],
                headers=("user", "expires", "state"),
            )
        outcome = BulkOutcome(verb="revoked")
        for exemption in selected:
            try:
                exemption_revoke(
                    exemption=exemption,
                    by=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                )
                outcome.done.append(exemption.user.public_id)
            except ValidationError as exc:
                outcome.unchanged.append((exemption.user.public_id, refusal_text(exc)))
        outcome.report(request)
        return None


def _state(exemption: RiskExemption) -> str:
    if exemption.ended_at is not None:
        return f"ended ({exemption.end_cause})"
    return "expired" if exemption.expires_at <= timezone.now() else "active"


def _confirmation_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    action: str,
    title: str,
    form: forms.Form,
    rows: Iterable[tuple[Any, ...]],
    headers: tuple[str, ...],
) -> TemplateResponse:
    rows = list(rows)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "action": action,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "rows": [row[1:] for row in rows],
        "selected": [row[0] for row in rows],
        "headers": headers,
        "form": form,
    }
    return TemplateResponse(request, "admin/backoffice/bulk_action_confirmation.html", context)


# --- screenings -----------------------------------------------------------------------------

OUTCOME_COLOURS = {
    ScreeningOutcome.BLOCK: "red",
    ScreeningOutcome.THRESHOLD: "red",
    ScreeningOutcome.FLAG: "amber",
    ScreeningOutcome.CLEAR: "green",
    ScreeningOutcome.DISABLED: "grey",
}


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    """Read-only: what each screening saw and decided."""

    list_display = (
        "created_at",
        "user_id_public",
        "program",
        "trigger",
        "outcome_badge",
        "score_of_threshold",
        "list_version",
    )
    list_filter = ("outcome", "trigger", "program")
    list_select_related = ("user", "program")
    search_fields = ("=user__public_id",)
    sortable_by = ("created_at",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    fields = (
        "user",
        "program",
        "trigger",
        "outcome",
        "score",
        "threshold",
        "heaviest_attribute",
        "matched_entries",
        "list_version",
        "matcher_version",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="user", ordering="user__public_id")
    def user_id_public(self, obj: Screening) -> str:
        return obj.user.public_id

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, obj: Screening) -> SafeString:
        return badge(obj.outcome, OUTCOME_COLOURS.get(obj.outcome, "grey"))  # type: ignore[call-overload]

    @admin.display(description="score")
    def score_of_threshold(self, obj: Screening) -> str:
        return f"{obj.score} / {obj.threshold if obj.threshold is not None else EMPTY}"

    @admin.display(description="matched entries")
    def matched_entries(self, obj: Screening) -> SafeString:
        if not obj.matches:
            return format_html("{}", "none")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    reverse("admin:risk_blacklistentry_change", args=[m.get("entry_id")]),
                    m.get("entry_id"),
                    m.get("entity_attribute", ""),
                    m.get("match", ""),
                    m.get("matcher", ""),
                    m.get("similarity", ""),
                    m.get("action", ""),
                    m.get("weight") if m.get("weight") is not None else EMPTY,
                    m.get("matched_name") or EMPTY,
                    ", ".join(m.get("evidence") or ()) or EMPTY,
                )
                for m in obj.matches
            ),
        )
        return format_html(
            "<table><thead><tr><th>entry</th><th>attribute</th><th>match</th><th>matcher</th>"
            "<th>similarity</th><th>action</th><th>weight</th><th>matched name</th>"
            "<th>evidence</th></tr></thead><tbody>{}</tbody>"
            "</table>",
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
