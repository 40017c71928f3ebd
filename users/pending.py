"""Pending updates (SPEC §5): changes of a verified e-mail or mobile wait for an operator.

On a user whose e-mail (or mobile) is verified, a change of it is not applied; it is held as
a `PendingUpdate` (reason `verification_required`) that the v2 API shows with a required
action `{"property": ..., "action": "verify"}`. An operator approves it (the value is applied
and the flag stays verified) or rejects it. Uniqueness and screening run when the change is
requested (in `user_update`) and again here when it is applied.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import error_codes, identifiers
from core.exceptions import ApiError
from users import audit, screening
from users.lifecycle import Actor
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    Channel,
    EventType,
    Identification,
    PendingUpdate,
    PendingUpdateStatus,
    canonical_contact,
)
from users.uniqueness import unique_guard

EMAIL = "email"
MOBILE = "mobile"
VERIFICATION_REQUIRED = "verification_required"


def pending_values(field: str, value: Any) -> dict[str, Any]:
    """The user fields a pending update of `field` sets."""
    if field == EMAIL:
        return {"email": value}
    return {"mobile_country_code": value["mobile_country_code"], "mobile": value["mobile"]}


def pending_update_request(
    *, user: AccountHolder, field: str, value: Any, actor: Actor, channel: str, current: Any
) -> PendingUpdate:
    """Hold a change of a verified field; a newer request replaces an open older one.

    Called by `user_update` inside its transaction, after validation and screening.
    """
    now = timezone.now()
    pending, _ = PendingUpdate.objects.update_or_create(
        user=user,
        field=field,
        status=PendingUpdateStatus.PENDING,
        defaults={"value": value, "reason": VERIFICATION_REQUIRED, "requested_at": now},
    )
    audit.record_event(
        user=user,
        type=EventType.PENDING_UPDATE_REQUESTED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        reason=VERIFICATION_REQUIRED,
        changes=_field_changes(field, current, value),
        at=now,
    )
    return pending


def _field_changes(field: str, old: Any, new: Any) -> dict[str, tuple[Any, Any]]:
    if field == EMAIL:
        return {"email": (old, new)}
    old = old or {}
    return {
        "mobile_country_code": (old.get("mobile_country_code"), new["mobile_country_code"]),
        "mobile": (old.get("mobile"), new["mobile"]),
    }


def _locked(pending: PendingUpdate) -> PendingUpdate:
    row = (
        PendingUpdate.objects.select_for_update()
        .select_related("user", "user__program")
        .get(pk=pending.pk)
    )
    if row.status != PendingUpdateStatus.PENDING:
        raise ValidationError(
            f"This pending update was already {row.status}.", code="pending_update_decided"
        )
    # lock the user too: the value is re-checked against other users and applied atomically
    AccountHolder.objects.select_for_update().filter(pk=row.user_id).values("pk").get()
    return row


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.", code="reason_required")
    return reason


def _taken(user: AccountHolder, field: str, value: Any) -> str | None:
    """The uniqueness code the value would violate among the program's other live users."""
    others = AccountHolder.objects.filter(program_id=user.program_id).exclude(pk=user.pk)
    live = ~Q(status__in=sorted(TERMINAL_STATUSES))
    if field == EMAIL:
        email_taken = others.filter(live, email_canonical=identifiers.email_key(value)).exists()
        return "resource_user_email_unique" if email_taken else None
    _, e164 = canonical_contact(None, value["mobile_country_code"], value["mobile"])
    mobile_taken = others.filter(live, mobile_e164=e164).exists()
    return "resource_user_mobile_unique" if mobile_taken else None


@transaction.atomic
def pending_update_approve(
    *, pending: PendingUpdate, operator: AbstractBaseUser, reason: str
) -> PendingUpdate:
    """Apply a held change, after checking uniqueness and screening again.

    Raises `ValidationError` (its `code` the contract's code) when the value is now taken
    by another user or a blacklist `block` entry matches; nothing changes then. When the
    screening score reaches the threshold, the user is blacklisted (SPEC §6b, update) and the
    pending update is rejected instead of applied.
    """
    reason = _require_reason(reason)
    row = _locked(pending)
    user = AccountHolder.objects.get(pk=row.user_id)
    user.program = row.user.program
    actor = Actor.operator(operator)
    code = _taken(user, row.field, row.value)
    if code:
        raise ValidationError(error_codes.describe(code), code=code)

    values = pending_values(row.field, row.value)
    subject = AccountHolder(**{**_fields_of(user), **values})
    identifications = list(Identification.objects.filter(user=user))
    decision = screening.screen_write(
        program=user.program, user=subject, identifications=identifications
    )
    if decision.outcome == screening.BLOCK:
        code = error_codes.RISK_BLACKLISTED_UPDATE
        raise ValidationError(error_codes.describe(code), code=code)
    now = timezone.now()
    if decision.outcome == screening.THRESHOLD:
        screening.blacklist_for_threshold(
            user=user,
            decision=decision,
            trigger=screening.TRIGGER_PENDING_UPDATE,
            channel=Channel.ADMIN,
        )
        return _decide(
            row,
            PendingUpdateStatus.REJECTED,
            operator,
            "risk threshold exceeded on approval; user blacklisted",
            now,
        )

    old = {name: getattr(user, name) for name in values}
    risk_status = screening.next_risk_status(decision, current=user.risk_status)
    try:
        with unique_guard():
            AccountHolder.objects.filter(pk=user.pk).update(
                **values,
                risk_status=risk_status,
                updated_at=now,
                row_version=F("row_version") + 1,
            )
    except ApiError as exc:  # lost a race since the check above
        raise ValidationError(exc.description, code=exc.code) from exc
    screening.record_screening(
        user=user, decision=decision, trigger=screening.TRIGGER_PENDING_UPDATE, channel="admin"
    )
    audit.record_event(
        user=user,
        type=EventType.PENDING_UPDATE_APPROVED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=Channel.ADMIN,
        reason=reason,
        changes={name: (old[name], values[name]) for name in values},
        at=now,
    )
    return _decide(row, PendingUpdateStatus.APPROVED, operator, reason, now)


@transaction.atomic
def pending_update_reject(
    *, pending: PendingUpdate, operator: AbstractBaseUser, reason: str
) -> PendingUpdate:
    """Discard a held change; the user keeps its verified value."""
    reason = _require_reason(reason)
    row = _locked(pending)
    actor = Actor.operator(operator)
    now = timezone.now()
    audit.record_event(
        user=row.user,
        type=EventType.PENDING_UPDATE_REJECTED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=Channel.ADMIN,
        reason=reason,
        changes={},
        at=now,
    )
    return _decide(row, PendingUpdateStatus.REJECTED, operator, reason, now)


def _decide(
    row: PendingUpdate, status: str, operator: AbstractBaseUser, reason: str, now: Any
) -> PendingUpdate:
    row.status = status
    row.decided_at = now
    row.decided_by = operator  # type: ignore[assignment]
    row.decision_reason = reason
    row.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    return row


def _fields_of(user: AccountHolder) -> dict[str, Any]:
    return {
        field.attname: getattr(user, field.attname)
        for field in AccountHolder._meta.concrete_fields
        if not field.primary_key
    }
