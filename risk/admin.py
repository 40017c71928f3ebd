"""Back-office for the risk app (SPEC §8): blacklist, risk settings, screenings (exemptions
and the effect preview act on users: users/risk_admin.py).

Every write goes through `risk.services` (validation shared with `import_blacklist`, list
version bumps, fuzzy index upkeep); listed values are PII, so lists show them masked and the
search compares normalized keys on an index instead of scanning with LIKE.
"""

from __future__ import annotations

import io
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
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
    EstimatedCountPaginator,
    GuardedModelAdmin,
    ReadOnlyModelAdmin,
    badge,
    page_context,
    refusal_text,
    shown,
)
from core.masking import mask_date, mask_email, mask_full_name, mask_number
from programs.models import Program
from risk.admin_check import check_name_view
from risk.entries import clean_entry
from risk.importing import ImportReport, export_csv, import_rows, read_csv
from risk.models import (
    BlacklistEntry,
    EntityAttribute,
    RiskSettings,
    Screening,
    ScreeningOutcome,
)
from risk.normalize import canonical, fold, folded
from risk.services import (
    DUPLICATE_ENTRY,
    blacklist_entries_set_active,
    blacklist_entry_is_duplicate,
    blacklist_entry_save,
)

MAX_IMPORT_BYTES = 50 * 1024 * 1024


def masked_value(attribute: str, value: str) -> str:
    """A listed value as lists show it: enough to tell entries apart, not to read the PII."""
    if attribute == EntityAttribute.EMAIL:
        return shown(mask_email(value))
    if attribute in (EntityAttribute.MOBILE, EntityAttribute.ID_NUMBER):
        return shown(mask_number(value))
    if attribute == EntityAttribute.BIRTHDAY:
        return shown(mask_date(value))
    if attribute == EntityAttribute.NATIONALITY:
        return value  # a country code is not personal on its own
    return shown(mask_full_name(value))


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
        candidate = BlacklistEntry(
            pk=self.instance.pk,
            entity_attribute=entry.entity_attribute,
            match=entry.match,
            value_normalized=entry.key,
            program=data.get("program"),
        )
        if data.get("is_active", True) and blacklist_entry_is_duplicate(candidate):
            raise ValidationError(DUPLICATE_ENTRY)
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
class BlacklistEntryAdmin(GuardedModelAdmin[BlacklistEntry]):
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
    # `preview_effect` reads users: users/risk_admin.py registers it (a site-wide action,
    # disabled everywhere but here), so the risk app imports nothing of users
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
        context = page_context(
            self, request, title="Import blacklist entries", form=form, report=report
        )
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
class RiskSettingsAdmin(GuardedModelAdmin[RiskSettings]):
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


# --- screenings -----------------------------------------------------------------------------

OUTCOME_COLOURS = {
    ScreeningOutcome.BLOCK: "red",
    ScreeningOutcome.THRESHOLD: "red",
    ScreeningOutcome.FLAG: "amber",
    ScreeningOutcome.CLEAR: "green",
    ScreeningOutcome.DISABLED: "grey",
}


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyModelAdmin[Screening]):
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
