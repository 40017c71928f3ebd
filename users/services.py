"""Writes to users: create, update (and its dry run), re-activate, de-activate.

Both API versions, the admin and the commands call these with the canonical `Changes` of
`users/fields.py`. Each write: validates every rule (users/validation/), pre-checks
uniqueness (users/uniqueness.py), screens the result (users/screening.py), saves it in
one transaction — its own, with its one row lock — with the unique indexes as the final
judge of uniqueness, bumps `row_version` (the v2 ETag) and `updated_at`, and adds one audit
event with the changed fields old → new, PII masked. Results come back as values
(`UserWrite`). Status changes go through
users/lifecycle.py. A refused write leaves the database exactly as it was.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from core import error_codes, identifiers
from core.exceptions import ApiError
from enumerations.catalog import Catalog
from programs.models import Program
from users import audit, exemptions, fields, screening
from users.lifecycle import (
    DEFAULT_SUB_STATUS,
    INITIAL_STATUSES,
    Actor,
    user_change_status,
    user_reactivate,
)
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    Address,
    Channel,
    EventType,
    Identification,
    RiskStatus,
    Status,
    StatusChange,
    TaxResidency,
)
from users.pending import (
    EMAIL,
    MOBILE,
    pending_update_approve,
    pending_update_reject,
    pending_update_request,
)
from users.uniqueness import precheck, unique_guard, unique_violation_as_error
from users.validation import (
    RANKS,
    CleanWrite,
    IdItem,
    current_addresses,
    current_identifications,
    validate_write,
)

__all__ = [
    "pending_update_approve",
    "pending_update_reject",
    "user_create",
    "user_deactivate",
    "user_reactivate",
    "user_update",
]

logger = logging.getLogger("onboard.users")

# v2 `POST` requires these on top of the program's set (SPEC §5); v1 has no such fields.
V2_CREATE_REQUIRED: tuple[str, ...] = ("type", "preferred_name")
DEACTIVATION_STATES: tuple[str, ...] = (Status.SUSPENDED, Status.BLOCKED)
# A change of any of these ends the user's risk exemption (SPEC §6b).
EXEMPTION_ENDING_FIELDS = frozenset(
    {
        "first_name",
        "middle_name",
        "last_name",
        *(f"identification.{rank}.{key}" for rank in RANKS for key in ("id_type", "number")),
        *(f"identification.{rank}.expiry_date" for rank in RANKS),
    }
)
_ID_KEYS = ("id_type", "number", "issue_date", "expiry_date", "country_of_issue")
_ADDRESS_KEYS = fields.ADDRESS_KEYS


@dataclass(frozen=True)
class UserWrite:
    """What a write returns: the user as saved (or, for a dry run, as it would be) and the
    children the write created, changed or re-read.

    A child list that is `None` did not change and was not re-read: the caller's own
    `user.identifications.all()` (or `addresses`, `tax_residencies`) is still true.
    `changed` is false when every value was already as sent (nothing was written).
    """

    user: AccountHolder
    identifications: list[Identification] | None = None
    addresses: list[Address] | None = None
    tax_residencies: list[TaxResidency] | None = None
    changed: bool = True


# `If-Match` and the like: called with the locked row before anything is judged; raises to
# refuse the write (the HTTP layer decides the answer, the lock makes the check exact).
Precondition = Callable[[AccountHolder], None]


def hash_password(raw: str) -> str:
    """Argon2, whatever the settings' first hasher: API user passwords are never weaker."""
    return make_password(raw, hasher="argon2")


# --- create ---------------------------------------------------------------------------------


def user_create(
    *,
    program: Program,
    changes: fields.Changes,
    actor: Actor,
    channel: str,
    catalog: Catalog,
    initial_status: str | None = None,
    sent: Iterable[str] | None = None,
) -> UserWrite:
    """Create a user of `program` from a canonical write; returns it with its children.

    `initial_status`: `active` (v1; v2 without KYC) or `pending_verification` (v2 with KYC).
    `sent`: the canonical paths the request body carried (v1), for the "both or neither"
    rules; v2 leaves it out. Validation's reads run before the transaction opens (the
    unique indexes, not the pre-checks, are what make uniqueness hold). Raises `ApiError`
    (validation 400s; screening 400/403; the risk configuration 500); nothing is saved then.
    """
    status = initial_status or Status.ACTIVE
    if status not in INITIAL_STATUSES:
        raise ValueError(f"users cannot be created in status {status!r}")
    clean = validate_write(
        program=program,
        catalog=catalog,
        changes=changes,
        sent=sent,
        extra_required=V2_CREATE_REQUIRED if channel == Channel.API_V2 else (),
    )
    precheck(clean, program=program, catalog=catalog)
    if clean.errors:
        raise ApiError.from_field_errors(clean.errors)
    # Argon2 costs ~0.4 s of CPU: hash before the transaction, so no lock waits on it
    if clean.scalars.get("password") is not None:
        clean.scalars["password"] = hash_password(clean.scalars["password"])
    id_rank = next((r for r, d in clean.identification.items() if d), "primary")
    # a lost uniqueness race fails the whole transaction, so it is translated here, outside
    # it, rather than in a savepoint around the inserts
    with unique_violation_as_error(id_rank):
        return _user_create(
            program=program, clean=clean, actor=actor, channel=channel, status=status
        )


@transaction.atomic
def _user_create(
    *, program: Program, clean: CleanWrite, actor: Actor, channel: str, status: str
) -> UserWrite:
    """The write half of `user_create`: screening and the inserts, in one transaction."""
    now = timezone.now()
    user = AccountHolder(
        program=program,
        status=status,
        sub_status=DEFAULT_SUB_STATUS[status],
        created_at=now,
        updated_at=now,
    )
    for name, value in clean.scalars.items():
        setattr(user, name, value)  # the password is hashed already
    identifications = [
        _identification(user, rank, doc, clean.id_slots.get(rank, 0), holder_live=True)
        for rank, doc in clean.identification.items()
        if doc is not None
    ]
    addresses = [
        Address(user=user, type=kind, **item)
        for kind, item in clean.addresses.items()
        if item is not None
    ]
    tax_residencies = [
        TaxResidency(user=user, position=i, **item)
        for i, item in enumerate(clean.tax_residencies or [])
    ]

    # RISK: screening runs on the validated values, before anything is saved (SPEC §6b)
    decision = screening.screen_write(program=program, user=user, identifications=identifications)
    if decision.outcome == screening.BLOCK:
        raise ApiError(error_codes.RISK_BLACKLISTED)
    if decision.outcome == screening.THRESHOLD:
        raise ApiError(
            error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED,
            params={"entity": decision.heaviest_attribute or "customer"},
        )
    user.risk_status = screening.next_risk_status(decision, current=None) or RiskStatus.UNKNOWN

    user.save(force_insert=True)
    # bulk_create: one INSERT per child table, whatever the number of rows
    if identifications:
        Identification.objects.bulk_create(identifications)
    if addresses:
        Address.objects.bulk_create(addresses)
    if tax_residencies:
        TaxResidency.objects.bulk_create(tax_residencies)

    StatusChange.objects.create(
        user=user,
        from_status=None,
        to_status=status,
        to_sub_status=user.sub_status,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        reason="created",
        at=now,
    )
    screening_row, screened = screening.screening_rows(
        user=user, decision=decision, trigger=screening.TRIGGER_CREATE, channel=channel
    )
    screening_row.save(force_insert=True)
    created = audit.build_event(
        user=user,
        type=EventType.CREATED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        changes=_created_changes(clean),
        at=now,
    )
    # one INSERT for both events; `created` first, so it keeps the lower id
    audit.insert_events([created, screened])
    return UserWrite(
        user=user,
        identifications=sorted(identifications, key=lambda i: not i.is_primary),
        addresses=addresses,
        tax_residencies=tax_residencies,
    )


# --- update ---------------------------------------------------------------------------------


@dataclass
class _UpdatePlan:
    scalars: dict[str, tuple[Any, Any]]  # name -> (old, new) actually changing
    identification: dict[str, IdItem | None]  # rank -> new document / None (remove)
    addresses: dict[str, dict[str, Any] | None]
    tax_residencies: list[dict[str, Any]] | None
    tax_changed: bool
    pending: dict[str, tuple[Any, Any]]  # email / mobile -> (current, requested)
    id_slots: dict[str, int]

    @property
    def empty(self) -> bool:
        return not (
            self.scalars
            or self.identification
            or self.addresses
            or self.tax_changed
            or self.pending
        )


def user_update(
    *,
    user: AccountHolder,
    changes: fields.Changes,
    actor: Actor,
    channel: str,
    catalog: Catalog,
    dry_run: bool = False,
    sent: Iterable[str] | None = None,
    precondition: Precondition | None = None,
) -> UserWrite:
    """Apply a partial canonical write to `user`; returns the user as saved.

    Keys absent from `changes` are kept; `None` clears an optional value. On a user whose
    e-mail / mobile is verified, a change of it is held as a pending update (SPEC §5) and
    the rest is applied. `dry_run` validates exactly like the update (uniqueness included)
    and returns the would-be user without saving anything; screening, which has side
    effects (a recorded screening, automatic blacklisting), runs only on real writes.

    The transaction and the user's row lock are this function's: the caller passes the user
    it read (no lock), and `precondition` (e.g. the v2 `If-Match` check) is called with the
    locked row before anything is judged, so the check and the write are one step. When the
    screening score reaches the threshold, the user is blacklisted and that is committed
    before the 403 is raised (SPEC §6b); every other refusal rolls the whole write back.
    """
    saved, refusal = _user_update(
        user=user,
        changes=changes,
        actor=actor,
        channel=channel,
        catalog=catalog,
        dry_run=dry_run,
        sent=sent,
        precondition=precondition,
    )
    if refusal is not None:
        raise refusal
    return saved


@transaction.atomic
def _user_update(
    *,
    user: AccountHolder,
    changes: fields.Changes,
    actor: Actor,
    channel: str,
    catalog: Catalog,
    dry_run: bool,
    sent: Iterable[str] | None,
    precondition: Precondition | None,
) -> tuple[UserWrite, ApiError | None]:
    reread: AccountHolder | None = None
    if not dry_run:
        reread = _lock(user)
        user = reread or user
    if precondition is not None:
        precondition(user)
    clean = validate_write(
        program=user.program, catalog=catalog, changes=changes, user=user, sent=sent
    )
    precheck(clean, program=user.program, catalog=catalog, user=user)
    if clean.errors:
        raise ApiError.from_field_errors(clean.errors)
    if clean.scalars.get("password") is not None:
        clean.scalars["password"] = hash_password(clean.scalars["password"])
    plan = _plan(user, clean)
    if plan.empty:
        return _as_read(user, reread, changed=False), None
    would_be = _would_be(user, plan)
    if dry_run:
        return would_be, None

    # RISK: screen what the user would hold, the requested verified values included
    subject = copy.copy(would_be.user)
    for name, (_, new) in plan.pending.items():
        if name == EMAIL:
            subject.email = new
        else:
            subject.mobile_country_code = new["mobile_country_code"]
            subject.mobile = new["mobile"]
    decision = screening.screen_write(
        program=user.program,
        user=subject,
        identifications=would_be.identifications or [],
    )
    if decision.outcome == screening.BLOCK:
        raise ApiError(error_codes.RISK_BLACKLISTED_UPDATE)
    if decision.outcome == screening.THRESHOLD:
        screening.blacklist_for_threshold(
            user=user, decision=decision, trigger=screening.TRIGGER_UPDATE, channel=channel
        )
        return _as_read(user, reread, changed=True), ApiError(
            error_codes.RISK_USER_THRESHOLD_EXCEEDED
        )
    risk_status = screening.next_risk_status(decision, current=user.risk_status)

    now = timezone.now()
    changed = _changed_paths(user, plan)
    unchanged = _as_read(user, reread, changed=True)  # the children the plan leaves alone
    previous_risk = user.risk_status
    saved = _save(user, plan, risk_status, now)
    for name, (current, requested) in plan.pending.items():
        pending_update_request(
            user=user, field=name, value=requested, actor=actor, channel=channel, current=current
        )
    if changed:
        audit.record_event(
            user=user,
            type=EventType.UPDATED,
            actor_kind=actor.kind,
            actor_id=actor.id,
            channel=channel,
            changes=changed,
            at=now,
        )
        if EXEMPTION_ENDING_FIELDS & changed.keys():
            exemptions.end_exemptions(user, "name or identification data changed")
    screening.record_screening(
        user=user,
        decision=decision,
        trigger=screening.TRIGGER_UPDATE,
        channel=channel,
        risk_change=(previous_risk, user.risk_status)
        if user.risk_status != previous_risk
        else None,
    )
    return UserWrite(
        user=user,
        identifications=_first(saved.identifications, unchanged.identifications),
        addresses=_first(saved.addresses, unchanged.addresses),
        tax_residencies=_first(saved.tax_residencies, unchanged.tax_residencies),
    ), None


def _lock(user: AccountHolder) -> AccountHolder | None:
    """Lock the user's row for this transaction (one query). When another write got in
    since `user` was read, return the user re-read with its children; else None."""
    version = (
        AccountHolder.objects.select_for_update()
        .filter(pk=user.pk)
        .values_list("row_version", flat=True)
        .get()
    )
    if version == user.row_version:
        return None
    fresh = AccountHolder.objects.prefetch_related(*_CHILDREN).get(pk=user.pk)
    fresh.program = user.program  # the caller's program row: no query for it
    return fresh


# The children a write may change, as the user's related managers name them.
_CHILDREN = ("identifications", "addresses", "tax_residencies")


def _as_read(user: AccountHolder, reread: AccountHolder | None, *, changed: bool) -> UserWrite:
    """The user as read for this write: the children re-read under the lock are returned,
    the others (`None`) are still what the caller loaded."""
    if reread is None:
        return UserWrite(user=user, changed=changed)
    return UserWrite(
        user=user,
        identifications=list(reread.identifications.all()),
        addresses=list(reread.addresses.all()),
        tax_residencies=list(reread.tax_residencies.all()),
        changed=changed,
    )


def _first(*options: list[Any] | None) -> Any:
    return next((o for o in options if o is not None), None)


def _plan(user: AccountHolder, clean: CleanWrite) -> _UpdatePlan:
    scalars: dict[str, tuple[Any, Any]] = {}
    for name, new in clean.scalars.items():
        old = getattr(user, name)
        if name == "password" or old != new:
            scalars[name] = (old, new)

    pending: dict[str, tuple[Any, Any]] = {}
    if user.is_email_verified and "email" in scalars:
        old, new = scalars["email"]
        if identifiers.email_key(old or "") != identifiers.email_key(new or ""):
            # a different mailbox: held until an operator approves it
            pending[EMAIL] = scalars.pop("email")
    mobile_keys = ("mobile_country_code", "mobile")
    if user.is_mobile_verified and any(k in scalars for k in mobile_keys):
        current = {k: getattr(user, k) for k in mobile_keys}
        requested = {k: clean.scalars.get(k, current[k]) for k in mobile_keys}
        for k in mobile_keys:
            scalars.pop(k, None)
        pending[MOBILE] = (current, requested)

    current_ids = current_identifications(user)
    identification: dict[str, IdItem | None] = {}
    for rank, doc in clean.identification.items():
        existing = current_ids.get(rank)
        if doc is None:
            if existing is not None:
                identification[rank] = None
        elif existing is None or any(getattr(existing, k) != getattr(doc, k) for k in _ID_KEYS):
            identification[rank] = doc

    existing_addresses = current_addresses(user) if clean.addresses else {}
    addresses: dict[str, dict[str, Any] | None] = {}
    for kind, item in clean.addresses.items():
        existing_address = existing_addresses.get(kind)
        if item is None:
            if existing_address is not None:
                addresses[kind] = None
        elif existing_address is None or any(
            getattr(existing_address, k) != item[k] for k in _ADDRESS_KEYS
        ):
            addresses[kind] = item

    tax_changed = False
    if clean.tax_residencies_given:
        current_tax = [{"country": t.country, "tin": t.tin} for t in user.tax_residencies.all()]
        tax_changed = current_tax != (clean.tax_residencies or [])
    return _UpdatePlan(
        scalars=scalars,
        identification=identification,
        addresses=addresses,
        tax_residencies=clean.tax_residencies,
        tax_changed=tax_changed,
        pending=pending,
        id_slots=clean.id_slots,
    )


def _would_be(user: AccountHolder, plan: _UpdatePlan) -> UserWrite:
    """An unsaved copy of `user` with the plan applied, with the children the plan changes
    (for screening and the dry run's answer); `user` itself is left as it was."""
    after = copy.copy(user)
    for name, (_, new) in plan.scalars.items():
        setattr(after, name, new)
    ids = current_identifications(user)
    new_ids: dict[str, Identification] = {}
    for rank in RANKS:
        if rank in plan.identification:
            doc = plan.identification[rank]
            if doc is not None:
                new_ids[rank] = _identification(
                    after,
                    rank,
                    doc,
                    plan.id_slots.get(rank, ids[rank].dup_slot if rank in ids else 0),
                    holder_live=user.status not in TERMINAL_STATUSES,
                )
        elif rank in ids:
            new_ids[rank] = ids[rank]
    addresses: list[Address] | None = None
    if plan.addresses:
        by_type = current_addresses(user)
        for kind, item in plan.addresses.items():
            if item is None:
                by_type.pop(kind, None)
            else:
                by_type[kind] = Address(user=after, type=kind, **item)
        addresses = sorted(by_type.values(), key=lambda a: a.type)
    tax_residencies: list[TaxResidency] | None = None
    if plan.tax_changed:
        tax_residencies = [
            TaxResidency(user=after, position=i, **item)
            for i, item in enumerate(plan.tax_residencies or [])
        ]
    return UserWrite(
        user=after,
        identifications=[new_ids[r] for r in RANKS if r in new_ids],
        addresses=addresses,
        tax_residencies=tax_residencies,
    )


def _save(
    user: AccountHolder, plan: _UpdatePlan, risk_status: str | None, now: datetime
) -> UserWrite:
    """Write the plan; returns the children it changed, re-read (one query per kind)."""
    update_fields = ["updated_at", "row_version"]
    for name, (_, new) in plan.scalars.items():
        setattr(user, name, new)
        update_fields.append(name)
    if risk_status is not None and risk_status != user.risk_status:
        user.risk_status = risk_status
        update_fields.append("risk_status")
    user.updated_at = now
    user.row_version += 1

    holder_live = user.status not in TERMINAL_STATUSES
    current_ids = current_identifications(user)
    new_rows: list[Identification] = []
    id_rank = next((r for r, d in plan.identification.items() if d), "primary")
    with unique_guard(id_rank):
        user.save(update_fields=update_fields)
        for rank, doc in plan.identification.items():
            existing = current_ids.get(rank)
            if doc is None:
                if existing is not None:
                    existing.delete()
                continue
            if existing is None:
                new_rows.append(
                    _identification(
                        user, rank, doc, plan.id_slots.get(rank, 0), holder_live=holder_live
                    )
                )
                continue
            for key in _ID_KEYS:
                setattr(existing, key, getattr(doc, key))
            existing.dup_slot = plan.id_slots.get(rank, existing.dup_slot)
            # the number's blind index follows the number (Identification.save)
            existing.save(update_fields=[*_ID_KEYS, "dup_slot"])
        if new_rows:
            Identification.objects.bulk_create(new_rows)
        if plan.addresses:
            gone = [kind for kind, item in plan.addresses.items() if item is None]
            if gone:
                Address.objects.filter(user=user, type__in=gone).delete()
            for kind, item in plan.addresses.items():
                if item is not None:
                    Address.objects.update_or_create(user=user, type=kind, defaults=item)
        if plan.tax_changed:
            TaxResidency.objects.filter(user=user).delete()
            TaxResidency.objects.bulk_create(
                TaxResidency(user=user, position=i, **item)
                for i, item in enumerate(plan.tax_residencies or [])
            )
    # re-read what changed (ids, slots, defaults as stored); the rest is as the caller read it
    return UserWrite(
        user=user,
        identifications=(
            list(Identification.objects.filter(user=user)) if plan.identification else None
        ),
        addresses=list(Address.objects.filter(user=user)) if plan.addresses else None,
        tax_residencies=(
            list(TaxResidency.objects.filter(user=user)) if plan.tax_changed else None
        ),
    )


def _changed_paths(user: AccountHolder, plan: _UpdatePlan) -> dict[str, tuple[Any, Any]]:
    """The canonical paths the update changed, old → new (values masked when recorded)."""
    changes: dict[str, tuple[Any, Any]] = {
        name: (old, new)  # a password is recorded as masked on both sides, never a hash
        for name, (old, new) in plan.scalars.items()
    }
    return changes | _children_changes(user, plan)


def _children_changes(user: AccountHolder, plan: _UpdatePlan) -> dict[str, tuple[Any, Any]]:
    """Old → new of every child value the plan changes; call before saving."""
    changes: dict[str, tuple[Any, Any]] = {}
    ids = current_identifications(user)
    for rank, doc in plan.identification.items():
        for key in _ID_KEYS:
            old = getattr(ids[rank], key) if rank in ids else None
            new = getattr(doc, key) if doc is not None else None
            if old != new:
                changes[f"identification.{rank}.{key}"] = (old, new)
    addresses = current_addresses(user)
    for kind, item in plan.addresses.items():
        for key in _ADDRESS_KEYS:
            old = getattr(addresses[kind], key) if kind in addresses else None
            new = item[key] if item is not None else None
            if old != new:
                changes[f"addresses.{kind}.{key}"] = (old, new)
    if plan.tax_changed:
        before = list(user.tax_residencies.all())
        after = plan.tax_residencies or []
        for i in range(max(len(before), len(after))):
            for key in ("country", "tin"):
                old = getattr(before[i], key) if i < len(before) else None
                new = after[i][key] if i < len(after) else None
                if old != new:
                    changes[f"tax_residencies.{i}.{key}"] = (old, new)
    return changes


def _created_changes(clean: CleanWrite) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {
        name: (None, value) for name, value in clean.scalars.items() if value is not None
    }
    for rank, doc in clean.identification.items():
        if doc is not None:
            for key in _ID_KEYS:
                if getattr(doc, key) is not None:
                    changes[f"identification.{rank}.{key}"] = (None, getattr(doc, key))
    for kind, item in clean.addresses.items():
        for key, value in (item or {}).items():
            if value is not None:
                changes[f"addresses.{kind}.{key}"] = (None, value)
    for i, item in enumerate(clean.tax_residencies or []):
        for key, value in item.items():
            if value is not None:
                changes[f"tax_residencies.{i}.{key}"] = (None, value)
    return changes


def _identification(
    user: AccountHolder, rank: str, doc: IdItem, slot: int, *, holder_live: bool
) -> Identification:
    return Identification(
        user=user,
        program_id=user.program_id,
        is_primary=rank == "primary",
        id_type=doc.id_type or "",
        number=doc.number or "",  # encrypted; its blind index is derived when it is saved
        issue_date=doc.issue_date,
        expiry_date=doc.expiry_date,
        country_of_issue=doc.country_of_issue,
        holder_live=holder_live,
        dup_slot=slot,
    )


# --- re-activation and de-activation --------------------------------------------------------
# Re-activation is `users.lifecycle.user_reactivate` (re-exported above): its guards are the
# lifecycle's, shared with the admin and `change_user_status`.


def _lock_and_refresh_status(user: AccountHolder) -> None:
    """Lock the user's row and re-read what the checks below look at. The user a view loaded
    may be stale by now: two simultaneous re-activations (or suspensions) must be judged one
    after the other, so the second sees `active` (200, unchanged) or `suspended`
    (`user_record_already_suspended`), as it would sequentially."""
    current = (
        AccountHolder.objects.select_for_update()
        .filter(pk=user.pk)
        .values("status", "sub_status", "risk_status", "row_version")
        .get()
    )
    for name, value in current.items():
        setattr(user, name, value)


def normalize_state(state: object) -> str:
    """The DELETE body's `state`: `suspended` (default) or `blocked`, case-insensitive."""
    if state is None or (isinstance(state, str) and not state.strip()):
        return Status.SUSPENDED
    if isinstance(state, str) and state.strip().lower() in DEACTIVATION_STATES:
        return state.strip().lower()
    raise ApiError.field("state", error_codes.USER_STATE_INVALID)


@transaction.atomic
def user_deactivate(
    *, user: AccountHolder, state: object, actor: Actor, channel: str, reason: str = ""
) -> AccountHolder:
    """SPEC §5 `DELETE`: suspend (default) or block the user.

    `state` is judged before the user's status: `400 resource_user_state_invalid`, then
    `400 user_record_already_suspended`; a transition the table does not allow (suspending
    a pending user; anything on a terminal user) answers
    `400 resource_user_status_transition_not_allowed`.
    """
    target = normalize_state(state)
    _lock_and_refresh_status(user)
    if target == Status.SUSPENDED and user.status == Status.SUSPENDED:
        raise ApiError(error_codes.USER_ALREADY_SUSPENDED)
    return user_change_status(
        user=user,
        to_status=target,
        actor=actor,
        channel=channel,
        reason=reason or f"de-activated ({target}) by the API client",
    )
