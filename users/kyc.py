"""Operator review decisions on a user: KYC, contact verification, wallet creation.

The admin calls these; each locks the user's row, refuses what does not apply with a
`ValidationError` (nothing saved), bumps `row_version` (the v2 ETag) and records a `reviewed`
event in the audit trail with the operator as actor. Status moves go through the lifecycle
service, never around it.

KYC decisions:
- approve → `kyc_status` `completed`, `kyc_sub_status` `approved`, `kyc_processed_at` now. When
  the program needs KYC and the user is still in a pending status, the user moves on through
  the lifecycle: to `active`, or to `verification_completed` while the user is risk-flagged
  (`risk_status` `PENDING`/`REJECTED`) so activation waits for the risk review.
- reject → `kyc_status` `completed`, `kyc_sub_status` `rejected`; the account status is left
  alone (the partner may resubmit documents; closing the account is a separate, explicit
  status change with its own reason).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from users import audit
from users.lifecycle import Actor, user_change_status
from users.models import (
    PENDING_STATUSES,
    AccountHolder,
    ActorKind,
    Channel,
    EventType,
    KycStatus,
    KycSubStatus,
    RiskStatus,
    Status,
    UserNote,
)

FLAGGED_RISK: frozenset[str] = frozenset({RiskStatus.PENDING, RiskStatus.REJECTED})


def _lock(user: AccountHolder) -> AccountHolder:
    """The user's row, locked for this transaction, with the program for its rules."""
    locked = AccountHolder.objects.select_for_update().select_related("program").get(pk=user.pk)
    if locked.is_terminal:
        raise ValidationError(
            f"The user is {locked.status}; a closed account takes no further decisions."
        )
    return locked


def _save(
    user: AccountHolder, changes: dict[str, tuple[Any, Any]], *, operator: str, reason: str
) -> None:
    """Write the changed fields (already set on `user`) and the audit event, with the operator."""
    now = timezone.now()
    user.updated_at = now
    AccountHolder.objects.filter(pk=user.pk).update(
        **{name: getattr(user, name) for name in changes},
        updated_at=now,
        row_version=F("row_version") + 1,
    )
    user.refresh_from_db(fields=["row_version"])
    audit.record_event(
        user=user,
        type=EventType.REVIEWED,
        actor_kind=ActorKind.OPERATOR,
        actor_id=operator,
        channel=Channel.ADMIN,
        reason=reason,
        changes=changes,
        at=now,
    )


def _record_kyc_decision(
    user: AccountHolder, sub_status: str, verb: str, *, operator: str, reason: str
) -> AccountHolder:
    """Lock the user and record a completed KYC decision (caller holds the transaction)."""
    locked = _lock(user)
    if locked.kyc_sub_status == sub_status:
        raise ValidationError(f"KYC is already {verb}.")
    now = timezone.now()
    changes = {
        "kyc_status": (locked.kyc_status, KycStatus.COMPLETED.value),
        "kyc_sub_status": (locked.kyc_sub_status, sub_status),
        "kyc_processed_at": (locked.kyc_processed_at, now),
    }
    locked.kyc_status = KycStatus.COMPLETED
    locked.kyc_sub_status = sub_status
    locked.kyc_processed_at = now
    _save(locked, changes, operator=operator, reason=reason)
    return locked


@transaction.atomic
def kyc_approve(*, user: AccountHolder, operator: str, reason: str) -> AccountHolder:
    """Approve the user's KYC; moves a pending user of a KYC program on (see module doc)."""
    locked = _record_kyc_decision(
        user, KycSubStatus.APPROVED, "approved", operator=operator, reason=reason
    )

    if locked.program.kyc_required and locked.status in PENDING_STATUSES:
        target = (
            Status.VERIFICATION_COMPLETED if locked.risk_status in FLAGGED_RISK else Status.ACTIVE
        )
        if target != locked.status:
            locked = user_change_status(
                user=locked,
                to_status=target,
                actor=Actor(ActorKind.OPERATOR, operator),
                channel=Channel.ADMIN,
                reason=f"KYC approved: {reason}",
            )
    return locked


@transaction.atomic
def kyc_reject(*, user: AccountHolder, operator: str, reason: str) -> AccountHolder:
    """Reject the user's KYC; the account status is left to an explicit status change."""
    return _record_kyc_decision(
        user, KycSubStatus.REJECTED, "rejected", operator=operator, reason=reason
    )


@transaction.atomic
def contact_mark_verified(
    *, user: AccountHolder, operator: str, reason: str, email: bool = False, mobile: bool = False
) -> AccountHolder:
    """Record that the operator verified the user's email and/or mobile (SPEC §5)."""
    if not (email or mobile):
        raise ValidationError("Choose the email, the mobile or both.")
    locked = _lock(user)
    changes: dict[str, tuple[Any, Any]] = {}
    if email:
        if not locked.email:
            raise ValidationError("The user has no email to verify.")
        if locked.is_email_verified:
            raise ValidationError("The email is already verified.")
        changes["is_email_verified"] = (False, True)
        locked.is_email_verified = True
    if mobile:
        if not locked.mobile:
            raise ValidationError("The user has no mobile to verify.")
        if locked.is_mobile_verified:
            raise ValidationError("The mobile is already verified.")
        changes["is_mobile_verified"] = (False, True)
        locked.is_mobile_verified = True
    _save(locked, changes, operator=operator, reason=reason)
    return locked


@transaction.atomic
def wallet_created_set(
    *, user: AccountHolder, operator: str, reason: str, at: datetime | None = None
) -> AccountHolder:
    """Record that a wallet or card exists: the user's names are frozen from then on."""
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        raise ValidationError("The wallet creation time needs a time zone.")
    if at > now:
        raise ValidationError("The wallet creation time cannot be in the future.")
    locked = _lock(user)
    if locked.wallet_created_at is not None:
        raise ValidationError("The user already has a wallet; its creation time is fixed.")
    changes = {"wallet_created_at": (None, at)}
    locked.wallet_created_at = at
    _save(locked, changes, operator=operator, reason=reason)
    return locked


@transaction.atomic
def user_note_add(*, user: AccountHolder, author: Any, text: str) -> UserNote:
    """An operator's note on a user (support and compliance leave them; nobody edits them)."""
    text = text.strip()
    if not text:
        raise ValidationError("A note needs text.")
    return UserNote.objects.create(user=user, author=author, text=text)
