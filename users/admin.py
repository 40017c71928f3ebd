from django.contrib import admin

from users.models import (
    AccountHolder,
    Address,
    Identification,
    PendingUpdate,
    StatusChange,
    UserEvent,
)


def mask_email(value: str | None) -> str:
    if not value or "@" not in value:
        return "—"
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_tail(value: str | None, keep: int = 4) -> str:
    if not value:
        return "—"
    return "*" * max(len(value) - keep, 0) + value[-keep:]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class IdentificationInline(ReadOnlyInline):
    model = Identification
    fields = (
        "is_primary",
        "id_type",
        "masked_number",
        "issue_date",
        "expiry_date",
        "country_of_issue",
    )
    readonly_fields = fields

    @admin.display(description="number")
    def masked_number(self, obj: Identification) -> str:
        return mask_tail(obj.number)


class AddressInline(ReadOnlyInline):
    model = Address
    fields = ("type", "address_1", "city", "state", "country", "zipcode")
    readonly_fields = fields


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    fields = (
        "at",
        "from_status",
        "to_status",
        "to_sub_status",
        "actor_kind",
        "actor_id",
        "channel",
        "reason",
    )
    readonly_fields = fields


class PendingUpdateInline(ReadOnlyInline):
    model = PendingUpdate
    fields = ("field", "status", "reason", "requested_at", "decided_at")
    readonly_fields = fields


class UserEventInline(ReadOnlyInline):
    model = UserEvent
    fields = ("at", "type", "actor_kind", "actor_id", "channel", "reason", "changes")
    readonly_fields = fields


@admin.register(AccountHolder)
class AccountHolderAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "program",
        "masked_name",
        "masked_email",
        "masked_mobile",
        "status",
        "kyc_status",
        "risk_status",
        "created_at",
    )
    list_filter = ("program", "status", "kyc_status", "risk_status")
    list_select_related = ("program",)
    search_fields = (
        "=public_id",
        "=email",
        "=mobile",
        "=customer_id",
        "=client_ref_id",
        "last_name",
    )
    show_full_result_count = False
    date_hierarchy = None
    readonly_fields = (
        "public_id",
        "program",
        "status",
        "sub_status",
        "kyc_status",
        "kyc_sub_status",
        "risk_status",
        "is_email_verified",
        "is_mobile_verified",
        "created_at",
        "updated_at",
        "row_version",
    )
    exclude = ("password",)
    inlines = [
        IdentificationInline,
        AddressInline,
        StatusChangeInline,
        PendingUpdateInline,
        UserEventInline,
    ]

    @admin.display(description="name")
    def masked_name(self, obj: AccountHolder) -> str:
        first = (obj.first_name or "")[:1]
        return f"{first}. {obj.last_name or ''}".strip() if first else (obj.last_name or "—")

    @admin.display(description="email")
    def masked_email(self, obj: AccountHolder) -> str:
        return mask_email(obj.email)

    @admin.display(description="mobile")
    def masked_mobile(self, obj: AccountHolder) -> str:
        return f"+{obj.mobile_country_code} {mask_tail(obj.mobile)}" if obj.mobile else "—"

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        # users are created through the API, where every rule and screening applies
        return False
