"""Risk services: screening a write, recording screenings, reviews, exemptions, the blacklist.

The users services call `screen_user_write` inside the write's transaction, after §6
validation and before saving, then map the decision to the SPEC §6b answers:

- `block`: create → 400 `resource_risk_service_blacklisted_error`; update → 400
  `resource_risk_service_blacklisted_update_error`; nothing saved.
- `threshold`: create → 403 `enity_blocked_risk_threshold_exceeded` naming
  `heaviest_attribute`, nothing saved; update → the user is blacklisted by `system`, its
  `risk_status` REJECTED, the change not applied, 403 `user_blocked_risk_threshold_exceeded`.
- `flag`: saved, `risk_status` PENDING (flagged for review).
- `clear`: saved; CLEARED on create, kept on update (see `next_risk_status`).
- `disabled`: the program's screening is off; saved, `risk_status` unchanged.

and `record_screening` once the user row exists. Errors: `resource_risk_service_config_error`
(500) for settings that cannot be evaluated, `risk_management_engine_error` (403) when the
matcher fails; both are raised as `ApiError` so the write's transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from programs.models import Program
from risk.matching import index_keys
from risk.models import (
    BlacklistEntry,
    BlacklistState,
    BlacklistToken,
    ExemptionEnd,
    RiskExemption,
    RiskSettings,
    Screening,
    ScreeningOutcome,
    ScreeningTrigger,
)
from risk.normalize import canonical_phone, key_for
from risk.screening import ScreeningDecision, screen_many
from users import audit
from users.models import (
    AccountHolder,
    ActorKind,
    Channel,
    EventType,
    RiskStatus,
    UserEvent,
)

__all__ = [
    "ScreeningDecision",
    "blacklist_entries_set_active",
    "blacklist_entry_save",
    "bump_list_version",
    "end_exemptions",
    "exemption_grant",
    "exemption_revoke",
    "has_active_exemption",
    "next_risk_status",
    "record_screening",
    "risk_review",
    "risk_settings_ensure",
    "screen_user_write",
    "screening_rows",
    "screening_values_for",
]

RISK_ACTOR_ID = "risk-engine"


# --- screening ----------------------------------------------------------------------------


def screen_user_write(*, program: Program, values: Mapping[str, list[str]]) -> ScreeningDecision:
    """Screen the values a create or update would leave on the user (SPEC §6b).

    `values` maps `customer.*` attributes to lists of strings (see `screening_values_for`).
    Raises `ApiError(RISK_CONFIG_ERROR)` (500) when the program's settings are missing or
    have no positive threshold, `ApiError(RISK_ENGINE_ERROR)` (403) when matching fails.
    Costs a constant number of queries: settings and list version (1), exact and normalized
    keys (1), fuzzy name candidates (1, only when a name is screened).
    """
    return screen_many(program=program, subjects=[values])[0]


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

    For a caller that inserts the event together with its own events in one statement.
    """
    if trigger not in ScreeningTrigger.values:
        raise ValueError(f"unknown screening trigger {trigger!r}")
    now = timezone.now()
    screening = Screening(
        user=user,
        program_id=user.program_id,
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
    event = audit.build_event(
        user=user,
        type=EventType.SCREENED,
        actor_kind=ActorKind.SYSTEM,
        actor_id=RISK_ACTOR_ID,
        channel=channel,
        reason=_screening_summary(decision, trigger),
        changes={"risk_status": risk_change} if risk_change else None,
        at=now,
    )
    return screening, event


def _screening_summary(decision: ScreeningDecision, trigger: str) -> str:
    matched = len(decision.matches)
    return (
        f"{trigger}: {decision.outcome}, score {decision.score}/{decision.threshold}, "
        f"{matched} match{'es' if matched != 1 else ''}, list v{decision.list_version}"
    )


def next_risk_status(*, decision: ScreeningDecision, current: str | None) -> str | None:
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


# --- reviews and exemptions ---------------------------------------------------------------


def _operator_id(operator: User | None) -> str:
    return operator.get_username() if operator is not None else ""


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required.")
    return reason


def _locked(user: AccountHolder) -> AccountHolder:
    return AccountHolder.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def risk_review(*, user: AccountHolder, outcome: str, operator: User, reason: str) -> None:
    """An operator's review of a flagged user: PENDING → CLEARED or REJECTED.

    Only the risk status changes; blacklisting or rejecting the account is a separate status
    change through the lifecycle service.
    """
    if outcome not in (RiskStatus.CLEARED, RiskStatus.REJECTED):
        raise ValidationError("A review outcome is CLEARED or REJECTED.")
    reason = _require_reason(reason)
    row = _locked(user)
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
        actor_id=_operator_id(operator),
        channel=Channel.ADMIN,
        reason=reason,
        changes={"risk_status": (RiskStatus.PENDING, outcome)},
        at=now,
    )
    user.risk_status = outcome
    user.updated_at = now
    user.refresh_from_db(fields=["row_version"])


def has_active_exemption(user: AccountHolder) -> bool:
    """Whether an operator's exemption holds now (not ended, not expired)."""
    return RiskExemption.objects.filter(
        user=user, ended_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


@transaction.atomic
def end_exemptions(*, user: AccountHolder, reason: str) -> int:
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
) -> RiskExemption:
    """Let a flagged user be re-activated until `expires_at`; replaces an open exemption."""
    reason = _require_reason(reason)
    now = timezone.now()
    if timezone.is_naive(expires_at):
        raise ValidationError("The expiry needs a time zone.")
    if expires_at <= now:
        raise ValidationError("The expiry must be in the future.")
    row = _locked(user)  # serialises grants for one user
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
        actor_kind=ActorKind.OPERATOR,
        actor_id=_operator_id(granted_by),
        channel=Channel.ADMIN,
        reason=reason,
        changes={"risk_exemption": (None, f"until {expires_at:%Y-%m-%dT%H:%M:%SZ}")},
        at=now,
    )
    return exemption


@transaction.atomic
def exemption_revoke(*, exemption: RiskExemption, by: User | None, reason: str) -> None:
    """End an open exemption now."""
    reason = _require_reason(reason)
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
        actor_id=_operator_id(by),
        channel=Channel.ADMIN,
        reason=reason,
        changes={"risk_exemption": ("granted", "revoked")},
        at=now,
    )
    exemption.refresh_from_db()


# --- settings and blacklist ---------------------------------------------------------------


def risk_settings_ensure(*, program: Program) -> RiskSettings:
    """The program's settings, created with the defaults (threshold 100, enabled) if missing."""
    settings, _ = RiskSettings.objects.get_or_create(program=program)
    return settings


def bump_list_version() -> int:
    """Advance the list version in the current transaction and return it.

    The row lock this takes serialises blacklist writers (operators, imports); screenings only
    read the row.
    """
    with transaction.atomic():
        state = BlacklistState.objects.select_for_update().filter(pk=1).first()
        if state is None:
            try:
                with transaction.atomic():
                    state = BlacklistState.objects.create(pk=1, version=0)
            except IntegrityError:
                state = BlacklistState.objects.select_for_update().get(pk=1)
        state.version += 1
        state.changed_at = timezone.now()
        state.save(update_fields=["version", "changed_at"])
        return state.version


def _duplicate_of(entry: BlacklistEntry) -> BlacklistEntry | None:
    return (
        BlacklistEntry.objects.filter(
            is_active=True,
            entity_attribute=entry.entity_attribute,
            match=entry.match,
            value_normalized=entry.value_normalized,
            program=entry.program_id,
        )
        .exclude(pk=entry.pk)
        .first()
    )


@transaction.atomic
def blacklist_entry_save(
    *, entry: BlacklistEntry, by: User | None = None, by_label: str = ""
) -> BlacklistEntry:
    """Create or change an entry (admin): validate like an import row, key, index, version.

    Raises `ValidationError` for invalid values and for a duplicate of an active entry.
    """
    from risk.importing import clean_entry

    data = clean_entry(
        entity_attribute=entry.entity_attribute,
        value=entry.value,
        match=entry.match,
        action=entry.action,
        weight=entry.weight,
        reason=entry.reason,
    )
    entry.value = data.value
    entry.weight = data.weight
    entry.reason = data.reason
    entry.value_normalized = key_for(data.entity_attribute, data.match, data.value)
    if entry.pk is None:
        entry.added_by = by if by is not None and by.pk else None
        entry.added_by_label = by_label or _operator_id(by)
    if entry.is_active and _duplicate_of(entry) is not None:
        raise ValidationError("An active entry with this attribute, match, value and scope exists.")
    entry.version = bump_list_version()
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError as exc:
        # a concurrent writer added the same entry between the check and the insert
        raise ValidationError(
            "An active entry with this attribute, match, value and scope exists."
        ) from exc
    BlacklistToken.objects.filter(entry=entry).delete()
    BlacklistToken.objects.bulk_create(index_keys([entry]))
    return entry


@transaction.atomic
def blacklist_entries_set_active(*, entries: Iterable[BlacklistEntry], active: bool) -> int:
    """Activate or deactivate entries (entries are never deleted: screenings refer to them).

    Re-activating an entry that duplicates another active one is refused with
    `ValidationError`.
    """
    changed = [e for e in entries if e.is_active != active]
    if not changed:
        return 0
    version = bump_list_version()
    for entry in changed:
        entry.is_active = active
        if active and _duplicate_of(entry) is not None:
            raise ValidationError(f"Entry {entry.pk} duplicates an active entry.")
        entry.version = version
        entry.updated_at = timezone.now()
    try:
        with transaction.atomic():
            BlacklistEntry.objects.bulk_update(changed, ["is_active", "version", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError("Re-activating would duplicate an active entry.") from exc
    return len(changed)


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
        screenings.append(
            Screening(
                user=user,
                program=program,
                trigger=ScreeningTrigger.RESCREEN,
                outcome=decision.outcome,
                score=decision.score,
                threshold=decision.threshold,
                matches=decision.matches_as_json(),
                heaviest_attribute=decision.heaviest_attribute or "",
                list_version=int(decision.list_version),
                matcher_version=decision.matcher_version,
                created_at=now,
            )
        )
        events.append(
            audit.build_event(
                user=user,
                type=EventType.SCREENED,
                actor_kind=ActorKind.SYSTEM,
                actor_id=RISK_ACTOR_ID,
                channel=Channel.CLI,
                reason=_screening_summary(decision, ScreeningTrigger.RESCREEN),
                changes=changes,
                at=now,
            )
        )
    Screening.objects.bulk_create(screenings)
    audit.insert_events(events)
    return counts
