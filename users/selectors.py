"""Reads of users: tenancy-scoped look-ups that own their select/prefetch decisions."""

from __future__ import annotations

import re

from django.db.models import Prefetch, QuerySet

from core import error_codes
from core.exceptions import ApiError
from programs.models import Program
from users.models import AccountHolder, Identification, PendingUpdate, PendingUpdateStatus

PUBLIC_ID = re.compile(r"^[0-9a-f]{32}\Z")


def is_public_id(value: object) -> bool:
    return isinstance(value, str) and PUBLIC_ID.match(value) is not None


def users_of(program: Program) -> QuerySet[AccountHolder]:
    """Every read of users starts here: a program never sees another program's users."""
    return AccountHolder.objects.filter(program=program)


def user_get(
    *, program: Program, public_id: object, prefetch: tuple[str, ...] = ("identifications",)
) -> AccountHolder:
    """The program's user with this public id, or the contract's 404.

    A malformed id answers `user_improper_id`; a well-formed id that this program does not
    have — including another program's user — answers `user_record_not_found`.
    """
    if not is_public_id(public_id):
        raise ApiError(error_codes.USER_IMPROPER_ID)
    lookups: list[str | Prefetch] = []
    for name in prefetch:
        if name == "identifications":
            # primary first, whatever the model's default ordering becomes
            lookups.append(
                Prefetch(name, queryset=Identification.objects.order_by("-is_primary", "id"))
            )
        else:
            lookups.append(name)
    user = users_of(program).prefetch_related(*lookups).filter(public_id=public_id).first()
    if user is None:
        raise ApiError(error_codes.USER_RECORD_NOT_FOUND)
    user.program = program  # the caller's program row: no second query for it
    return user


def open_pending_updates(user: AccountHolder) -> list[PendingUpdate]:
    """The user's pending updates awaiting an operator, oldest first."""
    return list(
        user.pending_updates.filter(status=PendingUpdateStatus.PENDING).order_by(
            "requested_at", "id"
        )
    )


def required_actions(pending: list[PendingUpdate]) -> list[dict[str, str]]:
    """v2 `required_actions`: each held change of a verified value asks for verification."""
    return [{"property": p.field, "action": "verify"} for p in pending]
