"""Screening a user against the risk engine, and what the users app does with the verdict.

The risk app is the engine (normalize, match, decide, list entries, import) and knows nothing
of users; this module turns a user into the values the engine screens, records each screening
with its `screened` event, sets the user's risk status (SPEC §6b) and re-screens users after
list changes. The users services call `screen_write` inside the write's transaction, after §6
validation and before saving, then map the decision to the SPEC §6b answers:

- `block`: create → 400 `resource_risk_service_blacklisted_error`; update → 400
  `resource_risk_service_blacklisted_update_error`; nothing saved.
- `threshold`: create → 403 `enity_blocked_risk_threshold_exceeded` naming
  `heaviest_attribute`, nothing saved; update → the user is blacklisted by `system`
  (`blacklist_for_threshold`), its `risk_status` REJECTED, the change not applied, 403
  `user_blocked_risk_threshold_exceeded`.
- `flag`: saved, `risk_status` PENDING (flagged for review).
- `clear`: saved; CLEARED on create, kept on update (see `next_risk_status`).
- `disabled`: the program's screening is off; saved, `risk_status` unchanged.

and `record_screening` once the user row exists. Errors: `resource_risk_service_config_error`
(500) for settings that cannot be evaluated, `risk_management_engine_error` (403) when the
matcher fails; both are raised as `ApiError` so the write's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from programs.models import Program
from risk.models import Screening, ScreeningOutcome, ScreeningTrigger
from risk.normalize import canonical_phone
from risk.screening import ScreeningDecision, screen_many
from risk.services import screen_user_write
from users import audit
from users.exemptions import locked, operator_id, require_reason
from users.lifecycle import Actor, is_allowed, user_change_status
from users.models import AccountHolder, ActorKind, Channel, EventType, RiskStatus, Status, UserEvent

__all__ = [
    "BLOCK",
    "RISK_ACTOR_ID",
    "THRESHOLD",
    "RescreenCounts",
    "ScreeningDecision",
    "blacklist_for_threshold",
    "next_risk_status",
    "record_screening",
    "rescreen_batch",
    "rescreen_status",
    "risk_review",
    "screen_write",
    "screening_rows",
    "screening_values_for",
]

RISK_ACTOR_ID = "risk-engine"

# the outcomes and triggers the users services branch on
BLOCK = ScreeningOutcome.BLOCK
THRESHOLD = ScreeningOutcome.THRESHOLD
TRIGGER_CREATE = ScreeningTrigger.CREATE
TRIGGER_UPDATE = ScreeningTrigger.UPDATE
TRIGGER_PENDING_UPDATE = ScreeningTrigger.PENDING_UPDATE


# --- screening ----------------------------------------------------------------------------


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def screening_values_for(
    user: AccountHolder, identifications: Iterable[Any] = ()
) -> dict[str, list[str]]:
    """The screened attributes of a user (saved or not) and its identification documents.

    `identifications` are `Identification` objects or dicts with a `number` key (the
    canonical write form's items); each document's number is screened.
    """
    values: dict[str, list[str]] = {}

    def add(attribute: str, raw: object) -> None:
        text = _text(raw)
        if text is not None and text not in values.get(attribute, []):
            values.setdefault(attribute, []).append(text)

    add("customer.first_name", user.first_name)
    add("customer.middle_name", user.middle_name)
    add("customer.last_name", user.last_name)
    add("customer.preferred_name", user.preferred_name)
    add("customer.maiden_name", user.maiden_name)
    # the full name as a whole (SPEC §14); preferred and maiden names stand alone
    full = " ".join(
        filter(None, (_text(user.first_name), _text(user.middle_name), _text(user.last_name)))
    )
    add("customer.name", full)
    if user.last_name and user.maiden_name:
        add("customer.name", f"{user.first_name or ''} {user.maiden_name}")
    add("customer.name", user.preferred_name)
    add("customer.email", user.email)
    if user.mobile_country_code and user.mobile:
        add("customer.mobile", canonical_phone(f"{user.mobile_country_code}{user.mobile}"))
    for document in identifications:
        if document is None:
            continue
        number = document.get("number") if isinstance(document, dict) else document.number
        add("customer.id_number", number)
    add("customer.nationality", user.nationality)
    add("customer.birthday", user.birth_date)
    return values


def screen_write(
    *, program: Program, user: AccountHolder, identifications: Iterable[Any]
) -> ScreeningDecision:
    """Screen the values the write would leave on `user` (unsaved or saved).

    Raises `ApiError` 500 `resource_risk_service_config_error` for settings that cannot be
    evaluated and 403 `risk_management_engine_error` when the engine fails; the write's
    transaction rolls back with it.
    """
    values = screening_values_for(user, list(identifications))
    return screen_user_write(program=program, values=values)


@transaction.atomic
def record_screening(
    *,
    user: AccountHolder,
    decision: ScreeningDecision,
    trigger: str,
    channel: str = Channel.SYSTEM,
    risk_change: tuple[str, str] | None = None,
) -> Screening:
    """Persist a screening of a saved user and add a `screened` event to its audit trail.

    `risk_change` (old, new) is the risk status the caller moved on this screening's decision:
    recorded on the event, which then publishes `user.risk_status_changed`.
    """
    screening, event = screening_rows(
        user=user, decision=decision, trigger=trigger, channel=channel, risk_change=risk_change
    )
    screening.save(force_insert=True)
    audit.insert_events([event])
    return screening


def screening_rows(
    *,
    user: AccountHolder,
    decision: ScreeningDecision,
    trigger: str,
    channel: str = Channel.SYSTEM,
    risk_change: tuple[str, str] | None = None,
) -> tuple[Screening, UserEvent]:
    """The unsaved rows `record_screening` inserts: the screening and its `screened` event.

    For a caller that inserts the event together with its own events in one statement
    (`audit.insert_events`).
    """
    if trigger not in ScreeningTrigger.values:
        raise ValueError(f"unknown screening trigger {trigger!r}")
    now = timezone.now()
    return _screening(user, user.program_id, decision, trigger, now), _screened_event(
        user,
        decision,
        trigger,
        channel,
        now,
        changes={"risk_status": risk_change} if risk_change else {},
    )


def _screening(
    user: AccountHolder, program_id: int, decision: ScreeningDecision, trigger: str, now: datetime
) -> Screening:
    return Screening(
        user=user,
        program_id=program_id,
        trigger=trigger,
        outcome=decision.outcome,
        score=decision.score,
        threshold=decision.threshold,
        matches=decision.matches_as_json(),
        heaviest_attribute=decision.heaviest_attribute or "",
        list_version=int(decision.list_version),
        matcher_version=decision.matcher_version,
        created_at=now,
    )


def _screened_event(
    user: AccountHolder,
    decision: ScreeningDecision,
    trigger: str,
    channel: str,
    now: datetime,
    changes: dict[str, tuple[str, str]],
) -> UserEvent:
    return audit.build_event(
        user=user,
        type=EventType.SCREENED,
        actor_kind=ActorKind.SYSTEM,
        actor_id=RISK_ACTOR_ID,
        channel=channel,
        reason=_screening_summary(decision, trigger),
        changes=changes,
        at=now,
    )


def _screening_summary(decision: ScreeningDecision, trigger: str) -> str:
    matched = len(decision.matches)
    return (
        f"{trigger}: {decision.outcome}, score {decision.score}/{decision.threshold}, "
        f"{matched} match{'es' if matched != 1 else ''}, list v{decision.list_version}"
    )


def next_risk_status(decision: ScreeningDecision, *, current: str | None) -> str | None:
    """The user's `risk_status` after a saved write (None on create = a new user).

    `flag` → PENDING; `clear` → CLEARED on create, and on update only for a user never
    screened (UNKNOWN) — a PENDING or REJECTED status is kept until a review clears it;
    `disabled` → unchanged (UNKNOWN for a new user); `threshold` → REJECTED (update only: on
    create nothing is saved). Refusing outcomes (`block`) never reach a save.
    """
    outcome = decision.outcome
    if outcome == ScreeningOutcome.FLAG:
        return RiskStatus.PENDING
    if outcome == ScreeningOutcome.THRESHOLD:
        return RiskStatus.REJECTED
    if outcome == ScreeningOutcome.CLEAR:
        if current is None or current == RiskStatus.UNKNOWN:
            return RiskStatus.CLEARED
        return current
    return current if current is not None else RiskStatus.UNKNOWN


def blacklist_for_threshold(
    *, user: AccountHolder, decision: ScreeningDecision, trigger: str, channel: str
) -> None:
    """SPEC §6b, update over the threshold: the user is blacklisted by the risk engine and
    its `risk_status` becomes REJECTED; the requested change is not applied.

    Runs in its own transaction and is committed before the caller answers 403, because the
    refusal of the change must not roll the blacklisting back.
    """
    with transaction.atomic():
        if is_allowed(user.status, Status.BLACKLISTED, ActorKind.SYSTEM):
            user_change_status(
                user=user,
                to_status=Status.BLACKLISTED,
                actor=Actor.system(RISK_ACTOR_ID),
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
        record_screening(user=user, decision=decision, trigger=trigger, channel=channel)


# --- reviews ------------------------------------------------------------------------------


@transaction.atomic
def risk_review(*, user: AccountHolder, outcome: str, operator: User, reason: str) -> None:
    """An operator's review of a flagged user: PENDING → CLEARED or REJECTED.

    Only the risk status changes; blacklisting or rejecting the account is a separate status
    change through the lifecycle service.
    """
    if outcome not in (RiskStatus.CLEARED, RiskStatus.REJECTED):
        raise ValidationError("A review outcome is CLEARED or REJECTED.")
    reason = require_reason(reason)
    row = locked(user)
    if row.risk_status != RiskStatus.PENDING:
        raise ValidationError(
            f"Only users pending risk review can be reviewed (risk status {row.risk_status})."
        )
    now = timezone.now()
    AccountHolder.objects.filter(pk=row.pk).update(
        risk_status=outcome, updated_at=now, row_version=F("row_version") + 1
    )
    audit.record_event(
        user=row,
        type=EventType.REVIEWED,
        actor_kind=ActorKind.OPERATOR,
        actor_id=operator_id(operator),
        channel=Channel.ADMIN,
        reason=reason,
        changes={"risk_status": (RiskStatus.PENDING, outcome)},
        at=now,
    )
    user.risk_status = outcome
    user.updated_at = now
    user.refresh_from_db(fields=["row_version"])


# --- re-screening -------------------------------------------------------------------------


@dataclass
class RescreenCounts:
    screened: int = 0
    flagged: int = 0  # newly PENDING: needs an operator's review
    cleared: int = 0  # never screened before (UNKNOWN) and nothing matched
    unchanged: int = 0

    def add(self, other: RescreenCounts) -> None:
        self.screened += other.screened
        self.flagged += other.flagged
        self.cleared += other.cleared
        self.unchanged += other.unchanged


def rescreen_status(*, decision: ScreeningDecision, current: str) -> str:
    """The risk status after a re-screening: flag for review, never block.

    Any match (block, threshold or score entries) makes the user PENDING for an operator's
    review, except a REJECTED user, who stays REJECTED; no match clears only a user never
    screened (UNKNOWN). The account status is never touched.
    """
    if decision.outcome in (
        ScreeningOutcome.BLOCK,
        ScreeningOutcome.THRESHOLD,
        ScreeningOutcome.FLAG,
    ):
        return current if current == RiskStatus.REJECTED else RiskStatus.PENDING
    if decision.outcome == ScreeningOutcome.CLEAR and current == RiskStatus.UNKNOWN:
        return RiskStatus.CLEARED
    return current


@transaction.atomic
def rescreen_batch(*, program: Program, users: list[AccountHolder]) -> RescreenCounts:
    """Screen users of one program against the current list; record and flag, never block.

    `users` should come with `identifications` prefetched. Costs a constant number of queries
    per batch plus one guarded update per user whose risk status changes (an update that
    raced with another write to the same user keeps the other write's status).
    """
    counts = RescreenCounts()
    if not users:
        return counts
    subjects = [screening_values_for(u, u.identifications.all()) for u in users]
    decisions = screen_many(program=program, subjects=subjects)
    now = timezone.now()
    screenings: list[Screening] = []
    events: list[UserEvent] = []
    for user, decision in zip(users, decisions, strict=True):
        counts.screened += 1
        new_status = rescreen_status(decision=decision, current=user.risk_status)
        changes: dict[str, tuple[str, str]] = {}
        if new_status != user.risk_status:
            changed = AccountHolder.objects.filter(pk=user.pk, risk_status=user.risk_status).update(
                risk_status=new_status, updated_at=now, row_version=F("row_version") + 1
            )
            if changed:
                changes = {"risk_status": (user.risk_status, new_status)}
                if new_status == RiskStatus.PENDING:
                    counts.flagged += 1
                else:
                    counts.cleared += 1
                user.risk_status = new_status
        if not changes:
            counts.unchanged += 1
        screenings.append(_screening(user, program.pk, decision, ScreeningTrigger.RESCREEN, now))
        events.append(
            _screened_event(user, decision, ScreeningTrigger.RESCREEN, Channel.CLI, now, changes)
        )
    Screening.objects.bulk_create(screenings)
    audit.insert_events(events)
    return counts
