"""The users services' one door to the risk engine (SPEC §6b).

The services call `screen_write` after validation and before saving, `record` once the user
row exists, and the exemption helpers for re-activation and name/id changes. Everything the
risk app decides stays in `risk.services`; this module only adapts the users' objects to its
interface, so the services read as the SPEC's table and tests can replace one function.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from programs.models import Program
from risk import services as risk
from risk.models import ScreeningOutcome, ScreeningTrigger
from risk.screening import ScreeningDecision
from users.models import AccountHolder

BLOCK = ScreeningOutcome.BLOCK
THRESHOLD = ScreeningOutcome.THRESHOLD

TRIGGER_CREATE = ScreeningTrigger.CREATE
TRIGGER_UPDATE = ScreeningTrigger.UPDATE
TRIGGER_PENDING_UPDATE = ScreeningTrigger.PENDING_UPDATE


def screen_write(
    *, program: Program, user: AccountHolder, identifications: Iterable[Any]
) -> ScreeningDecision:
    """Screen the values the write would leave on `user` (unsaved or saved).

    Raises `ApiError` 500 `resource_risk_service_config_error` for settings that cannot be
    evaluated and 403 `risk_management_engine_error` when the engine fails; the write's
    transaction rolls back with it.
    """
    values = risk.screening_values_for(user, list(identifications))
    return risk.screen_user_write(program=program, values=values)


def record(
    *,
    user: AccountHolder,
    decision: ScreeningDecision,
    trigger: str,
    channel: str,
    risk_change: tuple[str, str] | None = None,
) -> None:
    risk.record_screening(
        user=user, decision=decision, trigger=trigger, channel=channel, risk_change=risk_change
    )


def screening_rows(
    *, user: AccountHolder, decision: ScreeningDecision, trigger: str, channel: str
) -> tuple[Any, Any]:
    """The unsaved screening row and `screened` event that `record` would insert."""
    return risk.screening_rows(user=user, decision=decision, trigger=trigger, channel=channel)


def next_risk_status(decision: ScreeningDecision, *, current: str | None) -> str | None:
    return risk.next_risk_status(decision=decision, current=current)


def has_active_exemption(user: AccountHolder) -> bool:
    return risk.has_active_exemption(user)


def end_exemptions(user: AccountHolder, reason: str) -> int:
    return risk.end_exemptions(user=user, reason=reason)


def blacklist_for_threshold(
    *, user: AccountHolder, decision: ScreeningDecision, trigger: str, channel: str
) -> None:
    """SPEC §6b, update over the threshold: the user is blacklisted by the risk engine and
    its `risk_status` becomes REJECTED; the requested change is not applied.

    Runs in its own transaction and is committed before the caller answers 403, because the
    refusal of the change must not roll the blacklisting back.
    """
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from users.lifecycle import Actor, is_allowed, user_change_status
    from users.models import ActorKind, RiskStatus, Status

    with transaction.atomic():
        if is_allowed(user.status, Status.BLACKLISTED, ActorKind.SYSTEM):
            user_change_status(
                user=user,
                to_status=Status.BLACKLISTED,
                actor=Actor.system(risk.RISK_ACTOR_ID),
                channel=channel,
                reason=f"risk threshold exceeded on {trigger} (score {decision.score})",
            )
        AccountHolder.objects.filter(pk=user.pk).update(
            risk_status=RiskStatus.REJECTED,
            updated_at=timezone.now(),
            row_version=F("row_version") + 1,
        )
        user.risk_status = RiskStatus.REJECTED
        user.row_version += 1
        record(user=user, decision=decision, trigger=trigger, channel=channel)
