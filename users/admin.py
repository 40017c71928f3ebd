"""Back-office for users (SPEC §8): find, inspect, and act on account holders.

Design decisions:
- User data is read-only here. Partners own their customers' data and change it through the API,
  where every validation rule and the risk screening apply; an operator editing a name in a form
  would bypass both. Operators act only through explicit workflows, each a service call with a
  reason, declared in one table (`WORKFLOWS`) served by one view: status changes (the lifecycle
  service), risk reviews and exemptions, contact verification, wallet creation, notes; and the
  pending-update decisions as bulk actions. KYC is decided on the documents app's review page,
  on a submitted submission only (its link is added to the user page's tools).
- Every workflow is guarded server-side by a permission (see `backoffice.groups`), not only by
  hiding its button: bulk actions declare `permissions=[...]`, and each per-user view checks
  again before calling the service.
- Built for a million rows: no `COUNT(*)` of the table (`EstimatedCountPaginator`), filters only
  on indexed columns, search routed to one index per kind of term, and a constant number of
  queries per page (`list_select_related`, inlines with `select_related` and a row cap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

import users.risk_admin  # noqa: F401  (registers the exemption admin and the preview action)
from backoffice.groups import PERM_CHANGE_STATUS, PERM_LOCK, PERM_REVIEW
from core.admin_utils import (
    EMPTY,
    MAX_BULK,
    EstimatedCountPaginator,
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ReasonForm,
    SearchOrderingChangeList,
    badge,
    page_context,
    reasoned_bulk_action,
    refusal_text,
    shown,
)
from core.exceptions import ApiError
from core.masking import (
    mask_address_line,
    mask_date,
    mask_email,
    mask_full_name,
    mask_mobile,
    mask_number,
)
from risk.models import RiskExemption, Screening
from users import kyc
from users.exemptions import exemption_grant, exemption_revoke
from users.lifecycle import Actor, allowed_targets, user_change_status, user_reactivate
from users.models import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    AccountHolder,
    ActorKind,
    Address,
    Channel,
    Identification,
    KycSubStatus,
    PendingUpdate,
    PendingUpdateStatus,
    RiskStatus,
    Status,
    StatusChange,
    SubStatus,
    TaxResidency,
    UserEvent,
    UserNote,
)
from users.pending import pending_update_approve, pending_update_reject
from users.screening import risk_review
from users.selectors import search_users

PERM_ADD_NOTE = "users.add_usernote"

BULK_TITLES = {
    "lock_users": "Lock users",
    "suspend_users": "Suspend users",
    "block_users": "Block users",
    "reactivate_users": "Re-activate users",
}


def operator_of(request: HttpRequest) -> User:
    """The signed-in operator (every admin view requires a staff login)."""
    return cast(User, request.user)


# ---------------------------------------------------------------------------------------------
# Who may move a user from which status to which
# ---------------------------------------------------------------------------------------------

# Support's lock permission covers exactly locking an active user and unlocking a locked one.
LOCK_TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {(Status.ACTIVE, Status.LOCKED), (Status.LOCKED, Status.ACTIVE)}
)


def operator_may_move(operator: User, from_status: str, to_status: str) -> bool:
    """Whether this operator's permissions cover the transition (the lifecycle decides legality)."""
    if operator.has_perm(PERM_CHANGE_STATUS):
        return True
    return operator.has_perm(PERM_LOCK) and (from_status, to_status) in LOCK_TRANSITIONS


def operator_targets(operator: User, user: AccountHolder) -> list[str]:
    """The statuses this operator may move the user to: legal for an operator, and permitted."""
    legal = set(allowed_targets(user.status, ActorKind.OPERATOR))
    return [
        s
        for s in Status.values
        if s in legal and s != user.status and operator_may_move(operator, user.status, s)
    ]


def operator_status_change(
    *,
    user: AccountHolder,
    to_status: str,
    operator: User,
    reason: str,
    sub_status: str | None = None,
) -> AccountHolder:
    """Apply one operator status change: the role's permission here, every rule of the
    transition in the lifecycle service (`active` is its re-activation, as for the API)."""
    if not operator_may_move(operator, user.status, to_status):
        raise PermissionDenied(f"Your role may not move a user from {user.status} to {to_status}.")
    actor = Actor(ActorKind.OPERATOR, operator.get_username())
    if to_status == Status.ACTIVE:
        return user_reactivate(user=user, actor=actor, channel=Channel.ADMIN, reason=reason)
    return user_change_status(
        user=user,
        to_status=to_status,
        actor=actor,
        channel=Channel.ADMIN,
        reason=reason,
        sub_status=sub_status,
    )


# ---------------------------------------------------------------------------------------------
# Search: each kind of term goes to its own index
# ---------------------------------------------------------------------------------------------

SEARCH_HELP = (
    "Exact match: user id, email (any case), mobile (with or without country code), "
    "first or last name or “first last”, client reference or customer id. "
    "Narrow with a prefix: id:, email:, mobile:, name:, ref:, customer:."
)


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


class CreatedWithinFilter(admin.SimpleListFilter):
    """Creation date as ranges on the indexed `created_at` (no date hierarchy: it scans)."""

    title = "created"
    parameter_name = "created"
    RANGES: dict[str, tuple[str, timedelta]] = {
        "24h": ("Last 24 hours", timedelta(hours=24)),
        "7d": ("Last 7 days", timedelta(days=7)),
        "30d": ("Last 30 days", timedelta(days=30)),
        "90d": ("Last 90 days", timedelta(days=90)),
    }
    OLDER = "older"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(k, label) for k, (label, _) in self.RANGES.items()] + [
            (self.OLDER, "More than 90 days ago")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        value = self.value()
        now = timezone.now()
        if value in self.RANGES:
            return queryset.filter(created_at__gte=now - self.RANGES[value][1])
        if value == self.OLDER:
            return queryset.filter(created_at__lt=now - self.RANGES["90d"][1])
        return queryset


# ---------------------------------------------------------------------------------------------
# Badges
# ---------------------------------------------------------------------------------------------

STATUS_COLOURS: dict[str, str] = {
    Status.ACTIVE: "green",
    Status.LOCKED: "amber",
    Status.SUSPENDED: "amber",
    **{s: "blue" for s in PENDING_STATUSES},
    **{s: "red" for s in TERMINAL_STATUSES},
}
RISK_COLOURS: dict[str, str] = {
    RiskStatus.CLEARED: "green",
    RiskStatus.PENDING: "amber",
    RiskStatus.REJECTED: "red",
    RiskStatus.UNKNOWN: "grey",
}
KYC_COLOURS: dict[str, str] = {KycSubStatus.APPROVED: "green", KycSubStatus.REJECTED: "red"}


def breakable(value: str) -> SafeString:
    """`pending_document_submission` that may wrap after its underscores (narrow columns)."""
    return mark_safe("_<wbr>".join(escape(part) for part in value.split("_")))  # noqa: S308


def masked_name(user: AccountHolder) -> str:
    return shown(mask_full_name(user.first_name, user.last_name))


def status_badge(user: AccountHolder) -> SafeString:
    return badge(breakable(user.status), STATUS_COLOURS.get(user.status, "grey"))


def kyc_badge(user: AccountHolder) -> SafeString:
    return badge(breakable(user.kyc_sub_status), KYC_COLOURS.get(user.kyc_sub_status, "blue"))


def risk_badge(user: AccountHolder) -> SafeString:
    return badge(user.risk_status, RISK_COLOURS.get(user.risk_status, "grey"))


def mask_value(field: str, value: Any) -> str:
    """A pending update's requested value, masked like the lists mask PII."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {mask_value(k, v)}" for k, v in value.items())
    text = "" if value is None else str(value)
    if "email" in field or "@" in text:
        return shown(mask_email(text))
    return shown(mask_number(text))


# ---------------------------------------------------------------------------------------------
# Read-only inlines on the user page
# ---------------------------------------------------------------------------------------------


class IdentificationInline(ReadOnlyInline):
    model = Identification
    verbose_name_plural = "identification documents"
    fields = (
        "is_primary",
        "id_type",
        "masked_number",
        "issue_date",
        "expiry_date",
        "country_of_issue",
    )

    @admin.display(description="number")
    def masked_number(self, obj: Identification) -> str:
        return shown(mask_number(obj.number))


class AddressInline(ReadOnlyInline):
    model = Address
    fields = ("type", "masked_lines", "city", "state", "country", "masked_zipcode")

    @admin.display(description="address lines")
    def masked_lines(self, obj: Address) -> str:
        lines = (obj.address_1, obj.address_2, obj.address_3, obj.address_4)
        return " / ".join(mask_address_line(line) for line in lines if line) or EMPTY

    @admin.display(description="zipcode")
    def masked_zipcode(self, obj: Address) -> str:
        return shown(mask_address_line(obj.zipcode))


class TaxResidencyInline(ReadOnlyInline):
    model = TaxResidency
    fields = ("country", "masked_tin")

    @admin.display(description="TIN")
    def masked_tin(self, obj: TaxResidency) -> str:
        return shown(mask_number(obj.tin))


# Inlines that apps above `users` add to the user page (the documents app's KYC evidence).
USER_PAGE_INLINES: list[type[InlineModelAdmin]] = []


class StatusChangeInline(ReadOnlyInline):
    model = StatusChange
    verbose_name_plural = "status history (latest 50)"
    fields = (
        "at",
        "from_status",
        "to_status",
        "from_sub_status",
        "to_sub_status",
        "actor_kind",
        "actor_id",
        "channel",
        "reason",
    )


class PendingUpdateInline(ReadOnlyInline):
    model = PendingUpdate
    verbose_name_plural = "pending updates (latest 50)"
    fields = (
        "field",
        "requested_value",
        "status",
        "reason",
        "requested_at",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
    select_related = ("decided_by",)
    show_change_link = True

    @admin.display(description="value")
    def requested_value(self, obj: PendingUpdate) -> str:
        return mask_value(obj.field, obj.value)


class UserEventInline(ReadOnlyInline):
    model = UserEvent
    verbose_name_plural = "audit trail (latest 50)"
    # topic / sequence: the partner event the write published (webhooks, SPEC §13)
    fields = ("at", "type", "actor_kind", "actor_id", "channel", "reason", "change_list", "topic", "sequence")  # noqa: E501  # fmt: skip

    @admin.display(description="changes")
    def change_list(self, obj: UserEvent) -> SafeString | str:
        if not obj.changes:
            return EMPTY
        # values in `changes` are masked by the service that recorded them
        return format_html_join(
            "",
            "<div><code>{}</code>: {} → {}</div>",
            (
                (name, _short(pair, 0), _short(pair, 1))
                for name, pair in sorted(obj.changes.items())
            ),
        )


def _short(pair: Any, index: int) -> str:
    if isinstance(pair, list | tuple) and len(pair) > index:
        value = pair[index]
    else:
        value = pair if index == 1 else None
    text = EMPTY if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


class ScreeningInline(ReadOnlyInline):
    model = Screening
    verbose_name_plural = "screenings (latest 50)"
    fields = (
        "created_at",
        "trigger",
        "outcome",
        "score",
        "threshold",
        "heaviest_attribute",
        "matched_entries",
    )

    @admin.display(description="matched entries")
    def matched_entries(self, obj: Screening) -> SafeString | str:
        # one line per entry: id, attribute, how it matched and with what similarity, effect
        rows = [m for m in obj.matches or [] if isinstance(m, dict)]
        if not rows:
            return EMPTY
        return format_html_join(
            "",
            "<div>entry #{} <code>{}</code> {} match via {} ({}%) → {}{}</div>",
            (
                (
                    m.get("entry_id", "?"),
                    m.get("entity_attribute", ""),
                    m.get("match", ""),
                    m.get("matcher", ""),
                    _percent(m.get("similarity")),
                    m.get("action", ""),
                    f" +{m['weight']}" if m.get("weight") else "",
                )
                for m in rows
            ),
        )


def _percent(value: Any) -> str:
    try:
        return f"{float(value):.0f}"
    except (TypeError, ValueError):
        return "?"


class RiskExemptionInline(ReadOnlyInline):
    model = RiskExemption
    verbose_name_plural = "risk exemptions (latest 50)"
    fields = (
        "granted_at",
        "granted_by",
        "expires_at",
        "reason",
        "ended_at",
        "ended_by",
        "end_cause",
        "ended_reason",
    )
    select_related = ("granted_by", "ended_by")


class UserNoteInline(ReadOnlyInline):
    model = UserNote
    verbose_name_plural = "notes (latest 50)"
    fields = ("at", "author", "text")
    select_related = ("author",)


# ---------------------------------------------------------------------------------------------
# Operator forms
# ---------------------------------------------------------------------------------------------


class StatusChangeForm(ReasonForm):
    to_status = forms.ChoiceField(label="New status")
    sub_status = forms.ChoiceField(
        label="Sub-status",
        required=False,
        help_text="Leave empty for the sub-status the lifecycle gives the new status.",
    )
    field_order = ("to_status", "sub_status", "reason")

    def __init__(self, *args: Any, targets: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["to_status"]).choices = [(t, t) for t in targets]
        cast(forms.ChoiceField, self.fields["sub_status"]).choices = [
            ("", "—"),
            *SubStatus.choices,
        ]


class RiskReviewForm(ReasonForm):
    outcome = forms.ChoiceField(
        choices=[
            (RiskStatus.CLEARED, "Clear (CLEARED)"),
            (RiskStatus.REJECTED, "Reject (REJECTED)"),
        ],
        widget=forms.RadioSelect,
    )
    field_order = ("outcome", "reason")


class ExemptionForm(ReasonForm):
    decision = forms.ChoiceField(
        choices=[("grant", "Grant an exemption"), ("revoke", "Revoke the active exemption")],
        widget=forms.RadioSelect,
    )
    expires_at = forms.DateTimeField(
        required=False,
        help_text="Needed to grant: when the exemption ends (YYYY-MM-DD HH:MM, UTC).",
    )
    field_order = ("decision", "expires_at", "reason")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "grant":
            expires_at = data.get("expires_at")
            if expires_at is None:
                self.add_error("expires_at", "An exemption needs an expiry.")
            elif expires_at <= timezone.now():
                self.add_error("expires_at", "The expiry must be in the future.")
        return data


class VerifyContactForm(ReasonForm):
    email = forms.BooleanField(required=False, label="Email verified")
    mobile = forms.BooleanField(required=False, label="Mobile verified")
    field_order = ("email", "mobile", "reason")


class WalletForm(ReasonForm):
    at = forms.DateTimeField(
        label="Wallet created at",
        required=False,
        help_text="Empty for now. The user's names are frozen from then on.",
    )
    field_order = ("at", "reason")


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=5000)

    def clean_text(self) -> str:
        text = str(self.cleaned_data["text"]).strip()
        if not text:
            raise ValidationError("Write a note.")
        return text


# ---------------------------------------------------------------------------------------------
# Per-user workflows: one table, one view (`AccountHolderAdmin.workflow_view`)
# ---------------------------------------------------------------------------------------------

FormData = QueryDict | None
FormBuilder = Callable[[HttpRequest, AccountHolder, FormData], forms.Form]
Perform = Callable[[HttpRequest, AccountHolder, dict[str, Any]], str]


def _form(form_class: type[forms.Form]) -> FormBuilder:
    def build(request: HttpRequest, user: AccountHolder, data: FormData) -> forms.Form:
        return form_class(data)

    return build


def _always(request: HttpRequest, user: AccountHolder) -> bool:
    return True


@dataclass(frozen=True)
class Workflow:
    """One operator workflow on one user: a form page whose valid POST is one service call.

    - `name`: the URL (`<user>/<name>/`, URL name `users_accountholder_<name>`);
    - `permission`: the admin's `has_<permission>_permission`, checked before the page is
      shown and before the service is called (a hidden button is not a guard);
    - `form(request, user, data)`: the form; it may refuse (`PermissionDenied`) when the
      operator has nothing to do on this user (no status they may move the user to);
    - `perform(request, user, cleaned_data)`: the service call; returns the success message,
      a refusal (`ApiError`, `ValidationError`, `PermissionDenied`) is shown on the form;
    - `offered(request, user)`: whether the user page lists the workflow (the service's own
      rules still decide: a page opened by hand answers with the service's refusal).
    """

    name: str
    tool: str
    title: str
    permission: str
    form: FormBuilder
    perform: Perform
    offered: Callable[[HttpRequest, AccountHolder], bool] = _always
    intro: str = ""


def _status_form(request: HttpRequest, user: AccountHolder, data: FormData) -> forms.Form:
    targets = operator_targets(operator_of(request), user)
    if not targets:
        raise PermissionDenied
    return StatusChangeForm(data, targets=targets)


def _status_change(request: HttpRequest, user: AccountHolder, data: dict[str, Any]) -> str:
    operator = operator_of(request)
    before = user.status
    if data["to_status"] not in operator_targets(operator, user):
        raise ValidationError(f"{before} → {data['to_status']} is not offered.")
    operator_status_change(
        user=user,
        to_status=data["to_status"],
        operator=operator,
        reason=data["reason"],
        sub_status=data["sub_status"] or None,
    )
    return f"{user.public_id}: status changed from {before} to {data['to_status']}."


def _risk_review(request: HttpRequest, user: AccountHolder, data: dict[str, Any]) -> str:
    risk_review(
        user=user, outcome=data["outcome"], operator=operator_of(request), reason=data["reason"]
    )
    return f"{user.public_id}: risk review {data['outcome']}."


def _exemption(request: HttpRequest, user: AccountHolder, data: dict[str, Any]) -> str:
    operator = operator_of(request)
    if data["decision"] == "grant":
        exemption_grant(
            user=user, reason=data["reason"], expires_at=data["expires_at"], granted_by=operator
        )
        return (
            f"{user.public_id}: risk exemption granted until {data['expires_at']:%Y-%m-%d %H:%M}."
        )
    exemption = RiskExemption.objects.filter(user=user, ended_at__isnull=True).first()
    if exemption is None:
        raise ValidationError("The user has no open exemption to revoke.")
    exemption_revoke(exemption=exemption, by=operator, reason=data["reason"])
    return f"{user.public_id}: risk exemption revoked."


def _review(
    service: Callable[..., Any], *keys: str, done: Callable[[AccountHolder, dict[str, Any]], str]
) -> Perform:
    """A `users.kyc` review service, called with the operator's name, the reason and the
    form's `keys`; `done` words the success message."""

    def perform(request: HttpRequest, user: AccountHolder, data: dict[str, Any]) -> str:
        operator = operator_of(request).get_username()
        service(user=user, operator=operator, reason=data["reason"], **{k: data[k] for k in keys})
        return done(user, data)

    return perform


def _verified(user: AccountHolder, data: dict[str, Any]) -> str:
    which = " and ".join(k for k in ("email", "mobile") if data[k])
    return f"{user.public_id}: {which} marked verified."


def _note(request: HttpRequest, user: AccountHolder, data: dict[str, Any]) -> str:
    kyc.user_note_add(user=user, author=operator_of(request), text=data["text"])
    return f"{user.public_id}: note added."


def _open(request: HttpRequest, user: AccountHolder) -> bool:
    return not user.is_terminal


# KYC is decided on a submitted submission only (SPEC §12): the documents app's review page,
# which it lists on the user page through `USER_PAGE_TOOLS`; there is no KYC workflow here.
WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        name="status",
        tool="Change status",
        title="Change status",
        permission="lock",
        form=_status_form,
        perform=_status_change,
        offered=lambda request, user: bool(operator_targets(operator_of(request), user)),
        intro="Only the transitions the lifecycle allows from the current status, "
        "and that your role covers, are offered.",
    ),
    Workflow(
        name="risk",
        tool="Risk review",
        title="Risk review",
        permission="review",
        form=_form(RiskReviewForm),
        perform=_risk_review,
        offered=lambda request, user: (
            _open(request, user) and user.risk_status == RiskStatus.PENDING
        ),
        intro="Clears or rejects a user the risk engine flagged for review (PENDING).",
    ),
    Workflow(
        name="exemption",
        tool="Risk exemption",
        title="Risk exemption",
        permission="review",
        form=_form(ExemptionForm),
        perform=_exemption,
        offered=_open,
        intro="While an unexpired exemption holds, a risk-flagged user may be re-activated. "
        "Granting replaces an open exemption.",
    ),
    Workflow(
        name="verify",
        tool="Mark verified",
        title="Mark contact details verified",
        permission="review",
        form=_form(VerifyContactForm),
        perform=_review(kyc.contact_mark_verified, "email", "mobile", done=_verified),
        offered=lambda request, user: (
            _open(request, user) and not (user.is_email_verified and user.is_mobile_verified)
        ),
    ),
    Workflow(
        name="wallet",
        tool="Wallet created",
        title="Record wallet creation",
        permission="review",
        form=_form(WalletForm),
        perform=_review(
            kyc.wallet_created_set,
            "at",
            done=lambda user, data: (
                f"{user.public_id}: wallet creation recorded; names are now frozen."
            ),
        ),
        offered=lambda request, user: _open(request, user) and user.wallet_created_at is None,
    ),
    Workflow(
        name="note",
        tool="Add note",
        title="Add a note",
        permission="add_note",
        form=_form(NoteForm),
        perform=_note,
    ),
)

# Tools that apps above `users` add to the user page: `(request, user) → (label, url) | None`
# (the documents app's KYC review).
UserPageTool = Callable[[HttpRequest, AccountHolder], tuple[str, str] | None]
USER_PAGE_TOOLS: list[UserPageTool] = []


# ---------------------------------------------------------------------------------------------
# The users admin
# ---------------------------------------------------------------------------------------------


@admin.register(AccountHolder)
class AccountHolderAdmin(ReadOnlyModelAdmin[AccountHolder]):
    # Read-only (see the module docstring): users are created through the API, where every
    # rule and the screening apply, and changed only through the workflows.
    secret_fields = ("password",)
    list_display = (
        "public_id",
        "program",
        "name",
        "email_masked",
        "mobile_masked",
        "status_badge",
        "kyc_badge",
        "risk_badge",
        "created_at",
    )
    list_filter = ("program", "status", "kyc_status", "risk_status", CreatedWithinFilter)
    list_select_related = ("program",)
    list_per_page = 50
    # The box is drawn when search_fields is set; `get_search_results` does the routing.
    search_fields = ("=public_id",)
    search_help_text = SEARCH_HELP
    sortable_by = ("public_id", "created_at")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = ("lock_users", "suspend_users", "block_users", "reactivate_users")

    fieldsets = (
        (
            None,
            {"fields": ("public_id", "program", "type", "created_at", "updated_at", "row_version")},
        ),
        (
            "Status, KYC and risk (changed only through the workflows above)",
            {
                "fields": (
                    ("status", "sub_status"),
                    ("kyc_status", "kyc_sub_status", "kyc_processed_at"),
                    "risk_status",
                    ("is_email_verified", "is_mobile_verified"),
                    "wallet_created_at",
                    ("transaction_status", "transaction_sub_status"),
                )
            },
        ),
        (
            "Identity",
            {
                "fields": (
                    ("salutation", "title"),
                    ("first_name", "middle_name", "last_name"),
                    ("maiden_name", "preferred_name"),
                    ("gender", "marital_status", "nationality"),
                    ("birth_date_masked", "birth_place", "birth_country"),
                )
            },
        ),
        # masked for every operator; compliance reveals a field with a reason (privacy app)
        ("Contact", {"fields": ("email_masked", "mobile_masked")}),
        (
            "Parents",
            {
                "fields": (
                    (
                        "mothers_first_name",
                        "mothers_middle_name",
                        "mothers_last_name",
                        "mothers_maiden_name",
                    ),
                    ("fathers_first_name", "fathers_middle_name", "fathers_last_name"),
                )
            },
        ),
        (
            "Employer and finances",
            {
                "fields": (
                    ("employment_type", "occupation", "job_title"),
                    ("employer_name", "employer_nature_of_business"),
                    ("volume_of_assets", "main_income_source", "annual_income"),
                    ("social_professional_category", "purpose_of_account"),
                    "country_of_residence",
                )
            },
        ),
        (
            "Tax and regulatory",
            {
                "fields": (
                    ("fatca_crs_relevant", "fatca_crs_confirmation_date"),
                    "pep",
                    "data_terms_signed_date",
                )
            },
        ),
        (
            "Partner references",
            {"fields": (("client_ref_id", "customer_id"), ("partner_id", "agent_id"))},
        ),
        (
            "Licensing provider",
            {
                "fields": (
                    "provider_reference_id",
                    "provider_account_number",
                    "provider_posting_status",
                )
            },
        ),
        ("Metadata", {"classes": ("collapse",), "fields": ("metadata", "created_by")}),
    )
    inlines = (
        IdentificationInline,
        AddressInline,
        TaxResidencyInline,
        StatusChangeInline,
        ScreeningInline,
        RiskExemptionInline,
        PendingUpdateInline,
        UserEventInline,
        UserNoteInline,
    )

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return (*super().get_inlines(request, obj), *USER_PAGE_INLINES)

    # -- list columns -------------------------------------------------------------------------

    @admin.display(description="name")
    def name(self, obj: AccountHolder) -> str:
        return masked_name(obj)

    @admin.display(description="birth date")
    def birth_date_masked(self, obj: AccountHolder) -> str:
        return shown(mask_date(obj.birth_date))

    @admin.display(description="email")
    def email_masked(self, obj: AccountHolder) -> str:
        return shown(mask_email(obj.email))

    @admin.display(description="mobile")
    def mobile_masked(self, obj: AccountHolder) -> str:
        return shown(mask_mobile(obj.mobile, obj.mobile_country_code))

    @admin.display(description="status")
    def status_badge(self, obj: AccountHolder) -> SafeString:
        return status_badge(obj)

    @admin.display(description="KYC")
    def kyc_badge(self, obj: AccountHolder) -> SafeString:
        return kyc_badge(obj)

    @admin.display(description="risk")
    def risk_badge(self, obj: AccountHolder) -> SafeString:
        return risk_badge(obj)

    # -- queries ------------------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[SearchOrderingChangeList]:
        return SearchOrderingChangeList

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccountHolder]:
        return super().get_queryset(request).select_related("program")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # PostgreSQL text cannot hold NUL: such a term matches nothing rather than erroring
        search_term = search_term.replace("\x00", "")
        if not search_term.strip():
            return queryset, False
        return search_users(queryset, search_term), False

    # -- permissions --------------------------------------------------------------------------

    def has_lock_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_LOCK) or request.user.has_perm(PERM_CHANGE_STATUS)

    def has_change_status_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_CHANGE_STATUS)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_REVIEW)

    def has_add_note_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_ADD_NOTE)

    # -- bulk status actions ------------------------------------------------------------------

    @admin.action(permissions=["lock"], description="Lock selected users")
    def lock_users(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._bulk_status(request, queryset, "lock_users", Status.LOCKED, "locked")

    @admin.action(permissions=["change_status"], description="Suspend selected users")
    def suspend_users(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._bulk_status(request, queryset, "suspend_users", Status.SUSPENDED, "suspended")

    @admin.action(permissions=["change_status"], description="Block selected users")
    def block_users(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._bulk_status(request, queryset, "block_users", Status.BLOCKED, "blocked")

    @admin.action(permissions=["lock"], description="Re-activate (unlock) selected users")
    def reactivate_users(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return self._bulk_status(
            request, queryset, "reactivate_users", Status.ACTIVE, "re-activated"
        )

    def _bulk_status(
        self,
        request: HttpRequest,
        queryset: QuerySet[AccountHolder],
        action: str,
        to_status: str,
        verb: str,
    ) -> HttpResponse | None:
        operator = operator_of(request)

        def apply(user: AccountHolder, reason: str) -> str | None:
            if user.status == to_status:
                return f"already {to_status}"
            operator_status_change(user=user, to_status=to_status, operator=operator, reason=reason)
            return None

        return reasoned_bulk_action(
            self,
            request,
            queryset.select_related("program"),
            action=action,
            title=f"{BULK_TITLES[action]}: give a reason",
            verb=verb,
            headers=("user", "name", "current status"),
            row=lambda u: (
                u.pk,
                u.public_id,
                shown(mask_full_name(u.first_name, u.last_name)),
                u.status,
            ),
            ident=lambda u: u.public_id,
            apply=apply,
            max_rows=MAX_BULK,
            noun="users",
        )

    # -- per-user workflows (the `WORKFLOWS` table) -------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            *(
                path(
                    f"<path:object_id>/{workflow.name}/",
                    self.admin_site.admin_view(self._workflow_view(workflow)),
                    name=f"{prefix}_{workflow.name}",
                )
                for workflow in WORKFLOWS
            ),
            *super().get_urls(),
        ]

    def _workflow_view(self, workflow: Workflow) -> Callable[..., HttpResponse]:
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return self.workflow_view(request, object_id, workflow)

        view.__name__ = f"{workflow.name}_view"
        return view

    def may(self, request: HttpRequest, permission: str) -> bool:
        """The admin's `has_<permission>_permission` (the names `@admin.action` uses)."""
        return bool(getattr(self, f"has_{permission}_permission")(request))

    def operator_tools(self, request: HttpRequest, user: AccountHolder) -> list[tuple[str, str]]:
        """(label, url) of the workflows this operator may start on this user."""
        tools = [
            (w.tool, reverse(f"admin:users_accountholder_{w.name}", args=[user.pk]))
            for w in WORKFLOWS
            if self.may(request, w.permission) and w.offered(request, user)
        ]
        for tool in USER_PAGE_TOOLS:
            offered = tool(request, user)
            if offered is not None:
                tools.append(offered)
        return tools

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: AccountHolder | None = None,
    ) -> HttpResponse:
        # here rather than in change_view: the user is already loaded, no second query
        if obj is not None:
            context["operator_tools"] = self.operator_tools(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _user_or_404(self, request: HttpRequest, object_id: str) -> AccountHolder:
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404("No such user.")
        return user

    def workflow_view(
        self, request: HttpRequest, object_id: str, workflow: Workflow
    ) -> HttpResponse:
        """A form page for one user: check the permission, run the service, report."""
        if not self.may(request, workflow.permission):
            raise PermissionDenied
        user = self._user_or_404(request, object_id)
        data = request.POST if request.method == "POST" else None
        form = workflow.form(request, user, data)
        change_url = reverse("admin:users_accountholder_change", args=[user.pk])
        if data is not None and form.is_valid():
            try:
                done = workflow.perform(request, user, form.cleaned_data)
            except (ApiError, ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        context = page_context(
            self,
            request,
            title=workflow.title,
            trail=[(user.public_id, change_url)],
            subject=user,
            subject_summary=[
                ("user", user.public_id),
                ("program", user.program.code),
                ("name", masked_name(user)),
                ("status", status_badge(user)),
                ("KYC", kyc_badge(user)),
                ("risk", risk_badge(user)),
            ],
            intro=workflow.intro,
            form=form,
            change_url=change_url,
        )
        return TemplateResponse(request, "admin/backoffice/operator_form.html", context)


# ---------------------------------------------------------------------------------------------
# Pending updates: the review queue of verified email / mobile changes
# ---------------------------------------------------------------------------------------------


@admin.register(PendingUpdate)
class PendingUpdateAdmin(ReadOnlyModelAdmin[PendingUpdate]):
    list_display = (
        "public_id",
        "user_link",
        "field",
        "requested_value",
        "status",
        "requested_at",
        "decided_at",
        "decided_by",
    )
    list_filter = ("status", "field")
    list_select_related = ("user", "decided_by")
    search_fields = ("=public_id", "=user__public_id")
    search_help_text = "Exact pending-update id or user id."
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    sortable_by = ("requested_at",)
    actions = ("approve_pending_updates", "reject_pending_updates")
    fields = (
        "public_id",
        "user_link",
        "field",
        "requested_value",
        "reason",
        "status",
        "requested_at",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
    readonly_fields = fields

    @admin.display(description="user")
    def user_link(self, obj: PendingUpdate) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:users_accountholder_change", args=[obj.user_id]),
            obj.user.public_id,
        )

    @admin.display(description="value")
    def requested_value(self, obj: PendingUpdate) -> str:
        return mask_value(obj.field, obj.value)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PendingUpdate]:
        return super().get_queryset(request).select_related("user", "decided_by")

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_REVIEW)

    @admin.action(permissions=["review"], description="Approve selected pending updates")
    def approve_pending_updates(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._decide(request, queryset, "approve_pending_updates", approve=True)

    @admin.action(permissions=["review"], description="Reject selected pending updates")
    def reject_pending_updates(
        self, request: HttpRequest, queryset: QuerySet
    ) -> HttpResponse | None:
        return self._decide(request, queryset, "reject_pending_updates", approve=False)

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[PendingUpdate], action: str, *, approve: bool
    ) -> HttpResponse | None:
        decide = pending_update_approve if approve else pending_update_reject
        operator = operator_of(request)

        def apply(pending: PendingUpdate, reason: str) -> str | None:
            if pending.status != PendingUpdateStatus.PENDING:
                return f"already {pending.status}"
            decide(pending=pending, operator=operator, reason=reason)
            return None

        return reasoned_bulk_action(
            self,
            request,
            queryset.select_related("user"),
            action=action,
            title=("Approve" if approve else "Reject") + " pending updates: give a reason",
            verb="approved" if approve else "rejected",
            headers=("pending update", "user", "field", "value", "status"),
            row=lambda p: (
                p.pk,
                p.public_id,
                p.user.public_id,
                p.field,
                mask_value(p.field, p.value),
                p.status,
            ),
            ident=lambda p: p.public_id,
            apply=apply,
            max_rows=MAX_BULK,
        )
