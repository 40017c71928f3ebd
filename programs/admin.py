"""Back-office for programs (tenants) and their API clients (SPEC §8).

- A program is created through `program_create` (base required fields, default risk settings);
  its required fields are a multi-select of the names a program may require, and its
  enumeration restrictions one comma-separated list of codes per kind, checked against the
  catalog. The code never changes once partners use it in their URLs.
- An API client's secret exists in clear only in the response that issues it: the page shown
  after creating a client or rotating its secret (`Cache-Control: no-store`). It is stored as a
  keyed hash; no form ever shows it again. Clients are deactivated, not deleted.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pycountry
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from core.admin_utils import GuardedModelAdmin, page_context
from enumerations.catalog import get_catalog
from enumerations.registry import KINDS
from programs.models import (
    BASE_REQUIRED_FIELDS,
    CLIENT_PERMISSIONS,
    OPTIONAL_REQUIRABLE_FIELDS,
    ApiClient,
    Program,
)
from programs.services import (
    api_client_create,
    api_client_rotate_secret,
    api_client_set_active,
    program_create,
)

RESTRICTION_PREFIX = "restrict_"


def _restriction_field(kind: str) -> str:
    return f"{RESTRICTION_PREFIX}{kind}"


class ProgramForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        choices=[(name, name) for name in OPTIONAL_REQUIRABLE_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Required on top of the base set: " + ", ".join(BASE_REQUIRED_FIELDS) + ".",
    )

    class Meta:
        model = Program
        fields = (
            "code",
            "name",
            "country",
            "min_age",
            "kyc_required",
            "write_rate_limit",
            "read_rate_limit",
            "is_active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        restrictions = self.instance.restrictions or {}
        self.initial["required_fields"] = list(self.instance.required_fields or [])
        for kind in KINDS:
            self.initial[_restriction_field(kind)] = ", ".join(restrictions.get(kind, []))

    def clean_country(self) -> str:
        value = str(self.cleaned_data["country"]).strip().upper()
        if pycountry.countries.get(alpha_3=value) is None:
            raise ValidationError("An ISO 3166 alpha-3 country code, e.g. SGP.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        catalog = get_catalog()
        restrictions: dict[str, list[str]] = {}
        for kind in KINDS:
            raw = str(data.get(_restriction_field(kind)) or "")
            codes: list[str] = []
            for code in (c.strip() for c in raw.split(",")):
                if not code:
                    continue
                entry = catalog.get_any(kind, code)
                if entry is None:
                    self.add_error(_restriction_field(kind), f"Unknown {kind} code: {code}")
                elif entry.code not in codes:
                    codes.append(entry.code)
            if codes:
                restrictions[kind] = codes
        data["restrictions"] = restrictions
        return data

    def save(self, commit: bool = True) -> Program:
        program = super().save(commit=False)
        program.required_fields = list(self.cleaned_data.get("required_fields") or [])
        program.restrictions = self.cleaned_data.get("restrictions") or {}
        if commit:
            program.save()
        return program


# One text field per enumeration kind, declared on the class so the admin's fieldsets see them.
for _kind in KINDS:
    ProgramForm.base_fields[_restriction_field(_kind)] = ProgramForm.declared_fields[
        _restriction_field(_kind)
    ] = forms.CharField(
        label=_kind.replace("_", " "),
        required=False,
        help_text="Comma-separated codes; empty allows every active value.",
    )


class ApiClientInline(admin.TabularInline):
    """The program's clients, for orientation; each is managed on its own page."""

    model = ApiClient
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("client_id", "name", "secret_hint", "methods", "is_active", "last_used_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiClient]:
        # the secret's hash never leaves the database for an admin page
        return super().get_queryset(request).defer("secret_hash")

    @admin.display(description="methods")
    def methods(self, obj: ApiClient) -> str:
        return ", ".join(obj.allowed_methods) or "all"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(GuardedModelAdmin[Program]):
    form = ProgramForm
    list_display = (
        "code",
        "name",
        "country",
        "min_age",
        "kyc_required",
        "extra_required",
        "is_active",
        "created_at",
    )
    list_filter = ("is_active", "kyc_required", "country")
    search_fields = ("code", "name")
    readonly_fields = ("created_at", "updated_at")
    inlines = (ApiClientInline,)

    @admin.display(description="required (extra)")
    def extra_required(self, obj: Program) -> str:
        return ", ".join(obj.required_fields) or "—"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            (None, {"fields": ("code", "name", "country", "min_age", "kyc_required", "is_active")}),
            ("Required fields", {"fields": ("required_fields",)}),
            (
                "Enumeration restrictions",
                {
                    "classes": ("collapse",),
                    "fields": tuple(_restriction_field(kind) for kind in KINDS),
                },
            ),
            (
                "Rate limits (per API client, per minute)",
                {"fields": ("write_rate_limit", "read_rate_limit")},
            ),
            ("Dates", {"fields": ("created_at", "updated_at")}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # partners put the code in every URL: it is fixed once the program exists
        return ("code", *self.readonly_fields) if obj is not None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # users belong to programs; a program is deactivated, never deleted
        return False

    def save_model(self, request: HttpRequest, obj: Program, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        created = program_create(
            code=data["code"],
            name=data["name"],
            country=data["country"],
            min_age=data["min_age"],
            required_fields=data["required_fields"],
            kyc_required=data["kyc_required"],
            restrictions=data["restrictions"],
        )
        # the admin goes on with `obj` (logging, redirect): make it the created row, then store
        # what program_create does not take
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj.required_fields, obj._state.adding = created.required_fields, False
        obj.save(update_fields=["write_rate_limit", "read_rate_limit", "is_active"])


# ---------------------------------------------------------------------------------------------
# API clients
# ---------------------------------------------------------------------------------------------


class ApiClientCreateForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.filter(is_active=True))
    name = forms.CharField(max_length=100, required=False)
    read_only = forms.BooleanField(required=False, help_text="GET only.")
    permissions = forms.MultipleChoiceField(
        choices=[(p, p) for p in CLIENT_PERMISSIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Partner permissions beyond users CRUD (default none).",
    )
    allowed_cidrs = forms.CharField(
        label="IP allowlist",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text="One CIDR per line (e.g. 203.0.113.0/24); empty allows any address.",
    )

    def clean_allowed_cidrs(self) -> list[str]:
        cidrs = []
        for line in str(self.cleaned_data["allowed_cidrs"]).split():
            try:
                cidrs.append(str(ipaddress.ip_network(line, strict=False)))
            except ValueError as exc:
                raise ValidationError(f"Not a CIDR: {line}") from exc
        return cidrs


class ApiClientChangeForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        choices=[(p, p) for p in CLIENT_PERMISSIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="risk_exceptions: may grant risk exemptions (v1 POST /users/risk/exceptions); "
        "kyc_decisions: may record its own KYC decisions (v1 PUT /users/authentications/statuses).",
    )

    class Meta:
        model = ApiClient
        fields = ("name", "allowed_methods", "allowed_cidrs", "permissions")


@admin.register(ApiClient)
class ApiClientAdmin(GuardedModelAdmin[ApiClient]):
    secret_fields = ("secret_hash",)
    form = ApiClientChangeForm
    list_display = (
        "client_id",
        "program",
        "name",
        "secret_hint",
        "methods",
        "active_badge",
        "last_used_at",
        "created_at",
    )
    list_filter = ("is_active", "program")
    list_select_related = ("program",)
    search_fields = ("=client_id", "name", "=program__code")
    readonly_fields = (
        "client_id",
        "program",
        "secret_hint",
        "is_active",
        "last_used_at",
        "created_at",
        "updated_at",
    )
    fields = (
        "client_id",
        "program",
        "name",
        "secret_hint",
        "allowed_methods",
        "allowed_cidrs",
        "permissions",
        "is_active",
        "last_used_at",
        "created_at",
        "updated_at",
    )
    actions = ("deactivate_clients", "activate_clients")

    @admin.display(description="methods")
    def methods(self, obj: ApiClient) -> str:
        return ", ".join(obj.allowed_methods) or "all"

    @admin.display(description="active", ordering="is_active")
    def active_badge(self, obj: ApiClient) -> str:
        return format_html(
            '<span style="color:{}">{}</span>',
            "#1e7b34" if obj.is_active else "#a11d1d",
            "active" if obj.is_active else "deactivated",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # deactivate instead: the audit trail names clients by id
        return False

    # -- issuing: the secret is shown once, in the response ----------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"program": request.GET.get("program")} if request.GET.get("program") else None
        form = ApiClientCreateForm(
            request.POST if request.method == "POST" else None, initial=initial
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            client, secret = api_client_create(
                program=data["program"],
                name=data["name"],
                read_only=data["read_only"],
                allowed_cidrs=data["allowed_cidrs"],
                permissions=data["permissions"],
            )
            self.log_addition(request, client, [{"added": {}}])
            return self._secret_page(request, client, secret, issued="issued")
        context = page_context(
            self,
            request,
            title="Issue an API client",
            form=form,
            intro="The secret is shown once, on the next page; only its hash is stored.",
            cancel_url=reverse("admin:programs_apiclient_changelist"),
        )
        return TemplateResponse(request, "admin/programs/apiclient/issue.html", context)

    def _secret_page(
        self, request: HttpRequest, client: ApiClient, secret: str, *, issued: str
    ) -> HttpResponse:
        change_url = reverse("admin:programs_apiclient_change", args=[client.pk])
        context = page_context(
            self,
            request,
            title=f"Client secret {issued}: copy it now",
            trail=[(client.client_id, change_url)],
            client=client,
            secret=secret,
            change_url=change_url,
        )
        response = TemplateResponse(request, "admin/programs/apiclient/secret_once.html", context)
        # never kept by the browser or a proxy: the one copy of the secret is this response
        response["Cache-Control"] = "no-store"
        return response

    # -- rotate and deactivate ---------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def view(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(func)

        return [
            path(
                "<path:object_id>/rotate-secret/",
                view(self.rotate_view),
                name="programs_apiclient_rotate",
            ),
            path(
                "<path:object_id>/set-active/",
                view(self.set_active_view),
                name="programs_apiclient_set_active",
            ),
            *super().get_urls(),
        ]

    def _client_or_404(self, request: HttpRequest, object_id: str) -> ApiClient:
        client = self.get_object(request, unquote(object_id))
        if client is None:
            raise Http404("No such API client.")
        return client

    def rotate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        client = self._client_or_404(request, object_id)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        if request.method == "POST":
            secret = api_client_rotate_secret(client=client)
            self.log_change(request, client, [{"changed": {"fields": ["secret"]}}])
            return self._secret_page(request, client, secret, issued="rotated")
        return self._confirm_page(
            request,
            client,
            title="Rotate the client secret",
            text="A new secret is issued and shown once; the current secret stops working at "
            "once, so the partner must switch to the new one.",
            button="Rotate secret",
        )

    def set_active_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        client = self._client_or_404(request, object_id)
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        activate = not client.is_active
        if request.method == "POST":
            api_client_set_active(client=client, active=activate)
            self.log_change(request, client, [{"changed": {"fields": ["is_active"]}}])
            self.message_user(
                request,
                f"{client.client_id} {'re-activated' if activate else 'deactivated'}.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse("admin:programs_apiclient_change", args=[client.pk])
            )
        return self._confirm_page(
            request,
            client,
            title="Re-activate the client" if activate else "Deactivate the client",
            text="Its requests are accepted again."
            if activate
            else "Its requests answer 401 invalid_credentials from now on.",
            button="Re-activate" if activate else "Deactivate",
        )

    def _confirm_page(
        self, request: HttpRequest, client: ApiClient, *, title: str, text: str, button: str
    ) -> TemplateResponse:
        change_url = reverse("admin:programs_apiclient_change", args=[client.pk])
        context = page_context(
            self,
            request,
            title=title,
            trail=[(client.client_id, change_url)],
            client=client,
            text=text,
            button=button,
            change_url=change_url,
        )
        return TemplateResponse(request, "admin/programs/apiclient/confirm.html", context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ApiClient | None = None,
    ) -> HttpResponse:
        if obj is not None and self.has_change_permission(request, obj):
            context["client_tools"] = [
                ("Rotate secret", reverse("admin:programs_apiclient_rotate", args=[obj.pk])),
                (
                    "Deactivate" if obj.is_active else "Re-activate",
                    reverse("admin:programs_apiclient_set_active", args=[obj.pk]),
                ),
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(permissions=["change"], description="Deactivate selected API clients")
    def deactivate_clients(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(permissions=["change"], description="Re-activate selected API clients")
    def activate_clients(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=True)

    def _set_active(self, request: HttpRequest, queryset: QuerySet, *, active: bool) -> None:
        changed = 0
        for client in queryset:
            if client.is_active != active:
                api_client_set_active(client=client, active=active)
                self.log_change(request, client, [{"changed": {"fields": ["is_active"]}}])
                changed += 1
        verb = "re-activated" if active else "deactivated"
        self.message_user(request, f"{changed} {verb}.", messages.SUCCESS)
