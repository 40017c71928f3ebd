"""Operator accounts and groups under the project's one admin base (`GuardedModelAdmin`).

Django's own `UserAdmin` and `GroupAdmin` are re-registered on `GuardedAdminMixin`, so their
changelists accept only their declared filters, and the password hash never reaches a page:
it is deferred out of the queries and has no form field. The change page links to Django's
password-change form instead of showing the hash's algorithm, salt and prefix. django-axes'
login-attempt pages (the admin login throttle) get the same base.
"""

from __future__ import annotations

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin_utils import GuardedAdminMixin


class OperatorChangeForm(UserChangeForm):
    password = None  # type: ignore[assignment]  # no field for the hash, not even read-only


class OperatorAdmin(GuardedAdminMixin, UserAdmin):
    secret_fields = ("password",)
    form = OperatorChangeForm
    fieldsets = (
        (None, {"fields": ("username", "password_change")}),
        *(UserAdmin.fieldsets or ())[1:],
    )
    readonly_fields = ("password_change",)

    @admin.display(description="password")
    def password_change(self, obj: User) -> SafeString | str:
        if obj.pk is None:
            return ""
        url = reverse("admin:auth_user_password_change", args=[obj.pk])
        return format_html('<a href="{}">Set a new password</a>', url)


class OperatorGroupAdmin(GuardedAdminMixin, GroupAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, OperatorAdmin)
admin.site.unregister(Group)
admin.site.register(Group, OperatorGroupAdmin)


class AccessAttemptAdmin(GuardedAdminMixin, axes_admin.AccessAttemptAdmin):
    pass


class AccessLogAdmin(GuardedAdminMixin, axes_admin.AccessLogAdmin):
    pass


class AccessFailureLogAdmin(GuardedAdminMixin, axes_admin.AccessFailureLogAdmin):
    pass


for _model, _admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
