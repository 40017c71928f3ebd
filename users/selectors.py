"""Reads of users: tenancy-scoped look-ups that own their select/prefetch decisions."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from django.db.models import Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from core import error_codes, identifiers
from core.exceptions import ApiError
from programs.models import Program
from users.models import (
    AccountHolder,
    Identification,
    PendingUpdate,
    PendingUpdateStatus,
    canonical_id_number,
    id_number_index,
)

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


# --- the back-office search box: each kind of term goes to its own index ----------------------

HEX_ID = re.compile(r"^[0-9a-fA-F]{32}\Z")
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{4,}$")
SEARCH_PREFIXES = ("id", "email", "mobile", "name", "ref", "customer", "idno")


def _name_q(term: str, program_ids: Callable[[], Sequence[int]]) -> Q:
    words = term.lower().split()
    if len(words) == 1:
        names = Q(_last_lower=words[0]) | Q(_first_lower=words[0])
    else:
        names = Q(_first_lower=words[0], _last_lower=" ".join(words[1:])) | Q(
            _last_lower=" ".join(words)
        )
    # The name indexes lead with the program (users.filters.POSTGRES_SEARCH_INDEXES); naming
    # every program lets a search across programs use them too, one index descent per program.
    return Q(program_id__in=program_ids()) & names


def _mobile_q(term: str) -> Q:
    digits = re.sub(r"\D", "", term)
    q = Q(mobile=digits)
    if e164 := identifiers.e164_or_none(digits):
        q |= Q(mobile_e164=e164)  # the canonical form: a national trunk 0 or not
    # "+65 9123 4567" / "6591234567": calling codes are 1-3 digits
    for split in range(1, 4):
        if len(digits) > split + 3:
            q |= Q(mobile_country_code=digits[:split], mobile=digits[split:])
    return q


def _id_number_q(term: str) -> Q:
    """Holders of an id number: the blind index of its canonical form (numbers are encrypted,
    so only the whole number is found, never a part of it)."""
    canonical = canonical_id_number(term)
    if not canonical:
        return Q(pk__in=[])
    holders = Identification.objects.filter(number_index=id_number_index(canonical))
    return Q(pk__in=Subquery(holders.values("user_id")))


def _reference_q(term: str) -> Q:
    return Q(customer_id=term) | Q(client_ref_id=term)


def user_search_q(term: str, *, program_ids: Callable[[], Sequence[int]]) -> Q:
    """The condition for one search box entry; every branch is an equality on an indexed column.

    `program_ids` gives every program's id; it is called only when the term is a name.

    Equalities (not `LIKE '%x%'`) so that at a million rows each branch is an index look-up and
    their OR a bitmap OR, never a table scan.
    """
    term = term.strip()
    prefix, sep, rest = term.partition(":")
    if sep and prefix.lower() in SEARCH_PREFIXES and rest.strip():
        kind, value = prefix.lower(), rest.strip()
        return {
            "id": lambda: Q(public_id=value.lower()),
            "email": lambda: Q(email_canonical=identifiers.email_key(value)),
            "mobile": lambda: _mobile_q(value),
            "name": lambda: _name_q(value, program_ids),
            "ref": lambda: Q(client_ref_id=value),
            "customer": lambda: Q(customer_id=value),
            "idno": lambda: _id_number_q(value),
        }[kind]()
    if "@" in term:
        return Q(email_canonical=identifiers.email_key(term))
    if HEX_ID.match(term):
        return Q(public_id=term.lower()) | _reference_q(term)
    if PHONE.match(term):
        return _mobile_q(term) | _reference_q(term) | _id_number_q(term)
    if any(ch.isdigit() for ch in term):
        # names hold no digits (SPEC §6): the references and id numbers, each an index look-up
        return _reference_q(term) | _id_number_q(term)
    return _reference_q(term) | _name_q(term, program_ids)


def search_users(queryset: QuerySet[AccountHolder], term: str) -> QuerySet[AccountHolder]:

    def program_ids() -> list[int]:
        # programs are few (tenants); read only when the term is searched as a name
        return list(Program.objects.order_by("pk").values_list("pk", flat=True))

    # the aliases are the indexed expressions (`Lower("first_name")`), not selected columns
    return queryset.alias(
        _first_lower=Lower("first_name"),
        _last_lower=Lower("last_name"),
    ).filter(user_search_q(term, program_ids=program_ids))
