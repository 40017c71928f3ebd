"""Risk exemptions: an operator lets a flagged user be re-activated until a date.

The `RiskExemption` rows live in the risk app (string foreign key to the user); granting,
revoking and ending them is the users app's business, with an event in the user's trail.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from risk.models import ExemptionEnd, RiskExemption
from users import audit
from users.models import AccountHolder, ActorKind, Channel, EventType


def operator_id(operator: User | None) -> str:
    return operator.get_username() if operator is not None else ""


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.")
    return reason


def locked(user: AccountHolder) -> AccountHolder:
    return AccountHolder.objects.select_for_update().get(pk=user.pk)


def has_active_exemption(user: AccountHolder) -> bool:
    """Whether an operator's exemption holds now (not ended, not expired)."""
    return RiskExemption.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


@transaction.atomic
def end_exemptions(user: AccountHolder, reason: str) -> int:
    """End the user's open exemptions because its name or id data changed; how many ended."""
    return RiskExemption.objects.filter(user=user, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_cause=ExemptionEnd.DATA_CHANGED, ended_reason=reason
    )


@transaction.atomic
def exemption_grant(
    *,
    user: AccountHolder,
    reason: str,
    expires_at: datetime,
    granted_by: User | None,
    api_client_id: str = "",
) -> RiskExemption:
    """Let a flagged user be re-activated until `expires_at`; replaces an open exemption.

    An operator grants it (`granted_by`), or an API client with the `risk_exceptions`
    permission (`api_client_id`, SPEC §11), recorded as that client over v1."""
    reason = require_reason(reason)
    now = timezone.now()
    if timezone.is_naive(expires_at):
        raise ValidationError("The expiry needs a time zone.")
    if expires_at <= now:
        raise ValidationError("The expiry must be in the future.")
    row = locked(user)  # serialises grants for one user
    RiskExemption.objects.filter(user=row, ended_at__isnull=True).update(
        ended_at=now,
        ended_by=granted_by,
        end_cause=ExemptionEnd.SUPERSEDED,
        ended_reason="replaced by a new exemption",
    )
    exemption = RiskExemption.objects.create(
        user=row,
        reason=reason,
        granted_by=granted_by,
        granted_at=now,
        expires_at=expires_at,
    )
    audit.record_event(
        user=row,
        type=EventType.REVIEWED,
        actor_kind=ActorKind.API_CLIENT if api_client_id else ActorKind.OPERATOR,
        actor_id=api_client_id or operator_id(granted_by),
        channel=Channel.API_V1 if api_client_id else Channel.ADMIN,
        reason=reason,
        changes={"risk_exemption": (None, f"until {expires_at:%Y-%m-%dT%H:%M:%SZ}")},
        at=now,
    )
    return exemption


@transaction.atomic
def exemption_revoke(*, exemption: RiskExemption, by: User | None, reason: str) -> None:
    """End an open exemption now."""
    reason = require_reason(reason)
    now = timezone.now()
    updated = RiskExemption.objects.filter(pk=exemption.pk, ended_at__isnull=True).update(
        ended_at=now, ended_by=by, end_cause=ExemptionEnd.REVOKED, ended_reason=reason
    )
    if not updated:
        raise ValidationError("This exemption has already ended.")
    audit.record_event(
        user=exemption.user,
        type=EventType.REVIEWED,
        actor_kind=ActorKind.OPERATOR,
        actor_id=operator_id(by),
        channel=Channel.ADMIN,
        reason=reason,
        changes={"risk_exemption": ("granted", "revoked")},
        at=now,
    )
    exemption.refresh_from_db()
