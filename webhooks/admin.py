"""Back-office for webhooks (SPEC §13): endpoints per program, the delivery log, redeliver.

Operators create endpoints (the signing secret is shown once, in the confirmation message),
enable or disable them, rotate their secret and send test events; the delivery log shows
every attempt with its request headers and the first 4 KB of the answer. The admin index
shows the queue depth, the oldest undelivered event's age and the disabled endpoints.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django_tasks.backends.database.admin import DBTaskResultAdmin
from django_tasks.backends.database.models import DBTaskResult

from core.admin_utils import GuardedAdminMixin, GuardedModelAdmin
from core.exceptions import ApiError
from webhooks import events as catalogue
from webhooks import services
from webhooks.models import Attempt, Delivery, Endpoint

admin.site.index_template = "admin/webhooks/index.html"

_EVENT_CHOICES = [("*", "all events"), *[(k.type, k.type) for k in catalogue.CATALOGUE]]


class EndpointForm(forms.ModelForm):
    url = forms.CharField(max_length=2000, help_text="https URL of the receiver.")
    events = forms.MultipleChoiceField(choices=_EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Endpoint
        fields = ("program", "url", "events", "description")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            if "url" in data:
                data["url"] = services.clean_url(data["url"])
            if "events" in data:
                data["events"] = services.clean_events(list(data["events"]))
        except ApiError as exc:
            field = exc.errors[0].field if exc.errors else None
            self.add_error(field if field in self.fields else None, exc.description)
        return data


@admin.register(Endpoint)
class EndpointAdmin(GuardedModelAdmin[Endpoint]):
    form = EndpointForm
    list_display = ("url", "program", "active", "disabled_reason", "failing_since", "created_at")
    list_filter = ("active", "disabled_reason", "program")
    search_fields = ("url", "public_id")
    readonly_fields = (
        "public_id",
        "active",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "created_at",
        "updated_at",
    )
    actions = ("enable", "disable", "rotate_secret", "send_test")

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        if change:
            services.endpoint_update(
                obj,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data.get("description", ""),
            )
            return
        created, secret = services.endpoint_create(
            program=form.cleaned_data["program"],
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data.get("description", ""),
        )
        obj.pk = created.pk
        messages.warning(request, f"Signing secret (shown once, give it to the receiver): {secret}")

    @admin.action(description="Enable the selected endpoints (resumes waiting deliveries)")
    def enable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_set_active(endpoint, True)
        messages.success(request, f"{queryset.count()} endpoint(s) enabled.")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            services.endpoint_set_active(endpoint, False)
        messages.success(request, f"{queryset.count()} endpoint(s) disabled.")

    @admin.action(description="Rotate the signing secret (the old one signs for 24 h more)")
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            secret = services.endpoint_rotate_secret(endpoint)
            messages.warning(request, f"New secret of {endpoint.url} (shown once): {secret}")

    @admin.action(description="Send a webhook.test event")
    def send_test(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        for endpoint in queryset:
            services.send_test(endpoint)
        messages.success(request, f"Test event queued for {queryset.count()} endpoint(s).")


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    max_num = 0
    can_delete = False
    fields = (
        "number",
        "at",
        "status_code",
        "duration_ms",
        "error",
        "request_headers",
        "response_body",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(GuardedModelAdmin[Delivery]):
    list_display = (
        "event_type",
        "message_id",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    search_fields = ("message_id", "public_id")
    list_select_related = ("endpoint",)
    readonly_fields = (
        "public_id",
        "endpoint",
        "event",
        "user",
        "sequence",
        "message_id",
        "event_type",
        "body",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "created_at",
        "finished_at",
        "last_status_code",
        "last_error",
    )
    fields = readonly_fields
    inlines = (AttemptInline,)
    actions = ("redeliver",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Redeliver the selected events (same webhook-id)")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        for delivery in queryset.select_related("endpoint"):
            services.redeliver(delivery)
        messages.success(request, f"{queryset.count()} delivery(ies) queued again.")


class TaskResultAdmin(GuardedAdminMixin, DBTaskResultAdmin):
    """django-tasks' queue rows, under the project's guarded admin base."""


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskResultAdmin)
