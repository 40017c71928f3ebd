"""Back-office for personal data (SPEC §15): reveal with a reason, erasure with four eyes.

- Reveal: the user page shows personal data masked to every operator. An operator with
  `privacy.reveal_pii` (the `compliance` group; never `support`) reveals one field of one user
  by giving a reason; the reveal is a `pii_revealed` event in the user's audit trail, and the
  user page lists the reveals (an inline added to `users.admin.USER_PAGE_INLINES`).
- Erasure requests: one operator (`privacy.request_erasure`) asks to erase a closed user, with
  the legal ground; a different operator (`privacy.approve_erasure`) approves it, which erases
  the user — before the retention period ended, as a legal override. Requesting and approving
  by the same operator is refused here and by a database constraint.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from core.admin_utils import GuardedModelAdmin, ReadOnlyInline, ReadOnlyModelAdmin, page_context
from users.admin import USER_PAGE_INLINES
from users.lifecycle import Actor
from users.models import TERMINAL_STATUSES, AccountHolder, Channel, EventType, UserEvent

from .models import Erasure, ErasureRequest, ErasureRequestState
from .services import (
    REVEALABLE,
    ErasureRefused,
    erase_user,
    flush_freed_pages,
    retention_ends,
    reveal,
)

PERM_REVEAL = "privacy.reveal_pii"
PERM_REQUEST = "privacy.request_erasure"
PERM_APPROVE = "privacy.approve_erasure"


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=sorted(REVEALABLE.items()))
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why you need to see it (e.g. the ticket you are working on); recorded.",
    )


class ErasureRequestForm(forms.ModelForm):
    class Meta:
        model = ErasureRequest
        fields = ("user", "reason")

    def clean_user(self) -> AccountHolder:
        user: AccountHolder = self.cleaned_data["user"]
        if Erasure.objects.filter(user=user).exists():
            raise forms.ValidationError("This user is already erased.")
        if user.status not in TERMINAL_STATUSES:
            raise forms.ValidationError(
                f"This user is {user.status}: only a closed user (terminal status) can be "
                "erased; close the account first."
            )
        if ErasureRequest.objects.filter(user=user, state=ErasureRequestState.PENDING).exists():
            raise forms.ValidationError("An erasure request for this user is already pending.")
        return user


@admin.register(ErasureRequest)
class ErasureRequestAdmin(GuardedModelAdmin[ErasureRequest]):
    form = ErasureRequestForm
    list_display = (
        "user",
        "state",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "retention",
    )
    list_filter = ("state",)
    list_select_related = ("user__program", "requested_by", "decided_by")
    raw_id_fields = ("user",)
    actions = ("approve_and_erase", "reject_requests")

    @admin.display(description="retention ends")
    def retention(self, obj: ErasureRequest) -> str:
        return f"{retention_ends(obj.user):%Y-%m-%d}"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("user", "reason")
        return (
            "user",
            "reason",
            "state",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_REQUEST)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided through the actions only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(PERM_REQUEST) or request.user.has_perm(PERM_APPROVE)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_APPROVE)

    def save_model(
        self, request: HttpRequest, obj: ErasureRequest, form: Any, change: bool
    ) -> None:
        obj.requested_by = request.user  # type: ignore[assignment]
        obj.requested_at = timezone.now()
        obj.save()

    @admin.action(permissions=["approve"], description="Approve and erase the users")
    def approve_and_erase(self, request: HttpRequest, queryset: QuerySet) -> None:
        erased = 0
        for pending in queryset.filter(state=ErasureRequestState.PENDING).select_related("user"):
            if pending.requested_by_id == request.user.pk:
                self.message_user(
                    request,
                    f"You requested the erasure of {pending.user.public_id}: another operator "
                    "must approve it.",
                    messages.ERROR,
                )
                continue
            try:
                with transaction.atomic():
                    decided = ErasureRequest.objects.filter(
                        pk=pending.pk, state=ErasureRequestState.PENDING
                    ).update(
                        state=ErasureRequestState.APPROVED,
                        decided_by=request.user,
                        decided_at=timezone.now(),
                    )
                    if not decided:
                        continue  # decided meanwhile by someone else
                    erase_user(
                        user=pending.user,
                        reason=pending.reason,
                        actor=Actor("operator", request.user.get_username()),
                        channel=Channel.ADMIN,
                        legal_override=timezone.now() < retention_ends(pending.user),
                    )
            except (ErasureRefused, IntegrityError) as refused:
                self.message_user(request, f"{pending.user.public_id}: {refused}", messages.ERROR)
                continue
            erased += 1
        flush_freed_pages()
        if erased:
            self.message_user(request, f"Erased {erased} user(s).", messages.SUCCESS)

    @admin.action(permissions=["approve"], description="Reject the requests")
    def reject_requests(self, request: HttpRequest, queryset: QuerySet) -> None:
        rejected = (
            queryset.filter(state=ErasureRequestState.PENDING)
            .exclude(requested_by=request.user)
            .update(
                state=ErasureRequestState.REJECTED,
                decided_by=request.user,
                decided_at=timezone.now(),
            )
        )
        self.message_user(request, f"Rejected {rejected} request(s).", messages.SUCCESS)

    # -- reveal -------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        reveal_url = path(
            "reveal/<int:user_pk>/",
            self.admin_site.admin_view(self.reveal_view),
            name="privacy_reveal",
        )
        return [reveal_url, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, user_pk: int) -> HttpResponse:
        if not request.user.has_perm(PERM_REVEAL):
            raise PermissionDenied("Revealing personal data needs the compliance role.")
        user = get_object_or_404(AccountHolder, pk=user_pk)
        form = RevealForm(request.POST or None)
        values: list[str] | None = None
        if request.method == "POST" and form.is_valid():
            try:
                values = reveal(
                    user=user,
                    field=form.cleaned_data["field"],
                    reason=form.cleaned_data["reason"],
                    operator=request.user,
                )
            except ErasureRefused as refused:
                form.add_error(None, str(refused))
        user_url = reverse("admin:users_accountholder_change", args=[user.pk])
        context = page_context(
            self,
            request,
            title=f"Reveal personal data of {user.public_id}",
            crumbs=[(user.public_id, user_url), ("reveal", "")],
            user_obj=user,
            user_url=user_url,
            form=form,
            values=values,
            field_label=REVEALABLE.get(form.data.get("field", ""), ""),
        )
        response = TemplateResponse(request, "admin/privacy/reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyModelAdmin[Erasure]):
    list_display = ("user", "at", "legal_override", "actor_kind", "actor_id", "documents_deleted")
    list_filter = ("legal_override",)
    list_select_related = ("user",)
    fields = (
        "user",
        "at",
        "reason",
        "legal_override",
        "actor_kind",
        "actor_id",
        "channel",
        "documents_deleted",
    )


class PersonalDataInline(ReadOnlyInline):
    """On the user page: who revealed which field and why, the erasure, and the reveal link."""

    model = UserEvent
    fk_name = "user"
    verbose_name_plural = "personal data: reveals and erasure"
    template = "admin/privacy/personal_data_inline.html"
    fields = ("at", "type", "actor_id", "reason", "revealed_field")
    readonly_fields = fields

    @admin.display(description="field")
    def revealed_field(self, obj: UserEvent) -> str:
        pair = (obj.changes or {}).get("field")
        return str(pair[1]) if isinstance(pair, list) and len(pair) > 1 else ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserEvent]:
        return (
            super()
            .get_queryset(request)
            .filter(type__in=[EventType.PII_REVEALED, EventType.ERASED])
            .order_by("-at", "-id")
        )


USER_PAGE_INLINES.append(PersonalDataInline)
