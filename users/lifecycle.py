"""The account lifecycle of SPEC §4: one declarative transition table and the one service
that changes a user's status.

Everything that changes a status — v1 re-activation and DELETE, the admin's actions, the risk
engine, the `change_user_status` command — goes through `user_change_status`, which checks the
table, records a `StatusChange` row and a `status_changed` audit event, and keeps the
identification rows' `holder_live` copy in step so that a terminal user's email, mobile and id
numbers are free for reuse at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import error_codes
from core.exceptions import ApiError
from users import audit
from users.models import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    AccountHolder,
    ActorKind,
    EventType,
    Identification,
    Status,
    StatusChange,
    SubStatus,
)


@dataclass(frozen=True)
class Actor:
    """Who acts: an API client, a back-office operator, the system (risk engine) or the CLI.

    `id` is the API client's `client_id`, the operator's username, or a name for the system
    and CLI actors; it lands in the status history and the audit trail.
    """

    kind: str
    id: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ActorKind.values:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    @classmethod
    def api_client(cls, client: object) -> Actor:
        return cls(ActorKind.API_CLIENT, str(getattr(client, "client_id", "")))

    @classmethod
    def operator(cls, user: object) -> Actor:
        return cls(ActorKind.OPERATOR, str(getattr(user, "get_username", lambda: "")()))

    @classmethod
    def system(cls, name: str = "risk_engine") -> Actor:
        return cls(ActorKind.SYSTEM, name)

    @classmethod
    def cli(cls, name: str = "") -> Actor:
        return cls(ActorKind.CLI, name)


API = frozenset({ActorKind.API_CLIENT})
# The command line is an operator at a terminal: it has exactly the operator's rights.
STAFF = frozenset({ActorKind.OPERATOR, ActorKind.CLI})
SYSTEM = frozenset({ActorKind.SYSTEM})

NON_TERMINAL: frozenset[str] = frozenset(Status.values) - TERMINAL_STATUSES


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


def _t(sources: Iterable[str], target: str, actors: Iterable[str]) -> Transition:
    return Transition(frozenset(sources), target, frozenset(actors))


# SPEC §4, row by row. "Next step" of the onboarding pipeline means any later pending step.
TRANSITIONS: tuple[Transition, ...] = (
    _t({Status.PENDING}, Status.PENDING_VERIFICATION, STAFF),
    _t({Status.PENDING, Status.PENDING_VERIFICATION}, Status.VERIFICATION_COMPLETED, STAFF),
    _t(
        {Status.PENDING, Status.PENDING_VERIFICATION, Status.VERIFICATION_COMPLETED},
        Status.PENDING_ACTIVATION,
        STAFF,
    ),
    _t(PENDING_STATUSES, Status.ACTIVE, STAFF),
    _t({Status.ACTIVE}, Status.LOCKED, STAFF | SYSTEM),
    _t({Status.LOCKED, Status.SUSPENDED}, Status.ACTIVE, API | STAFF),
    _t({Status.ACTIVE, Status.LOCKED}, Status.SUSPENDED, API | STAFF),
    _t(NON_TERMINAL, Status.BLOCKED, API | STAFF),
    _t(NON_TERMINAL, Status.BLACKLISTED, SYSTEM | STAFF),
    _t(NON_TERMINAL, Status.TERMINATED, STAFF),
    _t(NON_TERMINAL, Status.REJECTED, STAFF),
)

# Statuses a user can be created in (the "(new)" row): v1 and KYC-free v2 creates are
# active; v2 creates of programs that need KYC start in pending_verification.
INITIAL_STATUSES: frozenset[str] = frozenset({Status.ACTIVE, Status.PENDING_VERIFICATION})

# The sub-status a status change sets unless the caller names one.
DEFAULT_SUB_STATUS: dict[str, str] = {
    Status.PENDING: SubStatus.USER_CREATED,
    Status.PENDING_VERIFICATION: SubStatus.USER_CREATED,
    Status.VERIFICATION_COMPLETED: SubStatus.DOCUMENT_UPLOAD_SUCCESS_EXTERNAL,
    Status.PENDING_ACTIVATION: SubStatus.WAITING_FOR_APPROVAL_BY_ISSUER,
    Status.ACTIVE: SubStatus.ACTIVE,
    Status.LOCKED: SubStatus.ACCOUNT_LOCKED,
    Status.SUSPENDED: SubStatus.ACCOUNT_SUSPENDED_BY_ISSUER,
    Status.REJECTED: SubStatus.ACCOUNT_REJECTED_BY_ISSUER,
    Status.BLACKLISTED: SubStatus.ACCOUNT_BLOCKED_BY_ISSUER,
    Status.BLOCKED: SubStatus.ACCOUNT_BLOCKED_BY_ISSUER,
    Status.TERMINATED: SubStatus.ACCOUNT_DELETED_BY_ISSUER,
}


def is_allowed(from_status: str, to_status: str, actor_kind: str) -> bool:
    return any(
        from_status in t.sources and to_status == t.target and actor_kind in t.actors
        for t in TRANSITIONS
    )


def allowed_targets(status: str, actor_kind: str) -> list[str]:
    """The statuses this actor may move a user in `status` to, in table order.

    The admin offers exactly these actions; the tests iterate over the same table.
    """
    targets: list[str] = []
    for t in TRANSITIONS:
        if status in t.sources and actor_kind in t.actors and t.target not in targets:
            targets.append(t.target)
    return targets


def transition_error(from_status: str, to_status: str) -> ApiError:
    return ApiError(
        error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED,
        params={"from": from_status, "to": to_status},
    )


@transaction.atomic
def user_change_status(
    *,
    user: AccountHolder,
    to_status: str,
    actor: Actor,
    channel: str,
    reason: str,
    sub_status: str | None = None,
) -> AccountHolder:
    """Move `user` to `to_status` if the table allows it for this actor; record who and why.

    The row is locked and its status re-read first, so two concurrent changes are decided
    one after the other on the real current status. Raises
    `400 resource_user_status_transition_not_allowed` for anything the table does not list
    (including a change to the status the user already has).
    """
    if to_status not in Status.values:
        raise transition_error(user.status, to_status)
    new_sub_status = sub_status or DEFAULT_SUB_STATUS[to_status]
    if new_sub_status not in SubStatus.values:
        raise ValueError(f"unknown sub-status {new_sub_status!r}")

    current = (
        AccountHolder.objects.select_for_update()
        .filter(pk=user.pk)
        .values("status", "sub_status", "row_version")
        .get()
    )
    from_status, from_sub_status = current["status"], current["sub_status"]
    if not is_allowed(from_status, to_status, actor.kind):
        raise transition_error(from_status, to_status)

    now = timezone.now()
    AccountHolder.objects.filter(pk=user.pk).update(
        status=to_status,
        sub_status=new_sub_status,
        updated_at=now,
        row_version=F("row_version") + 1,
    )
    if to_status in TERMINAL_STATUSES:
        # the partial unique indexes on email/mobile read the status itself; id numbers are
        # held through this copy, so release them in the same transaction
        Identification.objects.filter(user=user, holder_live=True).update(holder_live=False)
        for identification in _cached_identifications(user):
            identification.holder_live = False

    StatusChange.objects.create(
        user=user,
        from_status=from_status,
        to_status=to_status,
        from_sub_status=from_sub_status,
        to_sub_status=new_sub_status,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        reason=reason,
        at=now,
    )
    audit.record_event(
        user=user,
        type=EventType.STATUS_CHANGED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        reason=reason,
        changes={
            "status": (from_status, to_status),
            "sub_status": (from_sub_status, new_sub_status),
        },
        at=now,
    )
    user.status = to_status
    user.sub_status = new_sub_status
    user.updated_at = now
    user.row_version = current["row_version"] + 1
    return user


def _cached_identifications(user: AccountHolder) -> list[Identification]:
    cache = getattr(user, "_prefetched_objects_cache", {})
    return list(cache.get("identifications", []))
