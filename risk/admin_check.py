"""The admin's "check a name" page (SPEC §14): compliance operators screen a name against the
current list, with a birth date and nationality as evidence; nothing is saved.

Registered by BlacklistEntryAdmin.get_urls (`admin:risk_blacklistentry_check_name`); it needs
the `risk.view_blacklistentry` permission (compliance and admin have it, support does not).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from programs.models import Program
from risk.name_check import check_names, clean_query

PERMISSION = "risk.view_blacklistentry"


class CheckNameForm(forms.Form):
    name = forms.CharField(max_length=255, help_text="The full name, in any script.")
    birthday = forms.DateField(required=False, help_text="YYYY-MM-DD: evidence, optional.")
    nationality = forms.CharField(
        max_length=3, required=False, help_text="ISO 3166 alpha-3, e.g. SGP: evidence, optional."
    )
    program = forms.ModelChoiceField(
        queryset=Program.objects.order_by("code"),
        required=False,
        help_text="Empty: global entries and the default threshold.",
    )


def check_name_view(model_admin: ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = CheckNameForm(request.GET or None)
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            query = clean_query(
                name=data["name"],
                birthday=data["birthday"].isoformat() if data["birthday"] else "",
                nationality=data["nationality"] or "",
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field, message)
        else:
            result = check_names(program=data["program"], queries=[query])[0]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Check a name",
        "form": form,
        "result": result,
    }
    return TemplateResponse(request, "admin/risk/blacklistentry/check_name.html", context)
