"""The database's verdicts on uniqueness: the pre-checks and the unique-index translation.

Email, mobile (live users of a program), customer_id and id numbers (per id type, up to
its `max_duplicate` live holders) are unique by partial unique indexes (users/models.py).
`precheck` gives the friendly answer before a write with at most two queries; a write that
loses a race against another one meets the index, and `unique_guard` /
`unique_violation_as_error` turn that into the same 400 code — never a 500. The services
call both; validation itself reads no table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import Q

from core import error_codes
from core.exceptions import ApiError, FieldError
from enumerations.catalog import Catalog
from programs.models import Program
from users import fields as f
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    Identification,
    canonical_contact,
    id_number_index,
)
from users.validation import RANKS, CleanWrite, Rank, current_identifications, field_error


def precheck(
    clean: CleanWrite, *, program: Program, catalog: Catalog, user: AccountHolder | None = None
) -> None:
    """Add the uniqueness errors of `clean` (email, mobile, customer_id, id numbers) in
    their table places, and choose the `dup_slot` of each new id number: two queries at most.

    The friendly answer for the common case; the partial unique indexes are the real guard
    (`unique_guard` / `unique_violation_as_error`)."""
    live = ~Q(status__in=sorted(TERMINAL_STATUSES))
    conditions = Q()
    # compared in canonical form (core/identifiers.py), as the unique indexes compare them
    email, mobile = canonical_contact(
        clean.scalars.get("email"),
        clean.scalars.get("mobile_country_code"),
        clean.scalars.get("mobile"),
    )
    if email and (not user or user.email_canonical != email):
        conditions |= live & Q(email_canonical=email)
    else:
        email = None
    if mobile and (not user or user.mobile_e164 != mobile):
        conditions |= live & Q(mobile_e164=mobile)
    else:
        mobile = None
    customer_id = clean.scalars.get("customer_id")
    if customer_id and (not user or user.customer_id != customer_id):
        conditions |= Q(customer_id=customer_id)
    else:
        customer_id = None
    if conditions:
        others = AccountHolder.objects.filter(program=program)
        if user is not None and user.pk is not None:
            others = others.exclude(pk=user.pk)
        rows = others.filter(conditions).values_list(
            "email_canonical", "mobile_e164", "customer_id", "status"
        )[:5]
        for row_email, row_mobile, row_customer_id, status in rows:
            row_live = status not in TERMINAL_STATUSES
            if email and row_live and row_email == email:
                clean.add_error(Rank.EMAIL_UNIQUE, field_error("email", "unique"))
                email = None
            if mobile and row_live and row_mobile == mobile:
                clean.add_error(Rank.MOBILE_UNIQUE, field_error("mobile", "unique"))
                mobile = None
            if customer_id and row_customer_id == customer_id:
                clean.add_error(Rank.CUSTOMER_ID_UNIQUE, field_error("customer_id", "unique"))
                customer_id = None
    _id_number_slots(clean, program=program, catalog=catalog, user=user)


def _id_number_slots(
    clean: CleanWrite, *, program: Program, catalog: Catalog, user: AccountHolder | None
) -> None:
    """Find a free `dup_slot` below the id type's `max_duplicate` for each new number.

    Numbers are stored encrypted: holders are found by the number's blind index."""
    wanted: dict[str, tuple[str, str, int]] = {}
    current_ids = current_identifications(user)
    holder_live = user is None or user.status not in TERMINAL_STATUSES
    for rank, doc in clean.identification.items():
        if doc is None or not doc.id_type or not doc.number_canonical:
            continue
        current = current_ids.get(rank)
        if (
            current is not None
            and current.id_type == doc.id_type
            and current.number_canonical == doc.number_canonical
        ):
            continue  # the user keeps the number it already holds, and its slot
        if not holder_live:
            clean.id_slots[rank] = 0
            continue
        entry = catalog.get_any("id_types", doc.id_type)
        limit = int(entry.extra.get("max_duplicate") or 1) if entry else 1
        wanted[rank] = (doc.id_type, id_number_index(doc.number_canonical), limit)
    if not wanted:
        return
    conditions = Q()
    for id_type, number, _ in wanted.values():
        conditions |= Q(id_type=id_type, number_index=number)
    holders = Identification.objects.filter(program=program, holder_live=True).filter(conditions)
    if user is not None and user.pk is not None:
        holders = holders.exclude(user=user)
    taken: dict[tuple[str, str], set[int]] = {}
    for id_type, number, slot in holders.values_list("id_type", "number_index", "dup_slot"):
        taken.setdefault((id_type, number), set()).add(slot)
    for rank in RANKS:
        if rank not in wanted:
            continue
        id_type, number, limit = wanted[rank]
        used = taken.get((id_type, number), set())
        free = [slot for slot in range(limit) if slot not in used]
        if len(used) >= limit or not free:
            clean.add_error(Rank.ID_UNIQUE, field_error(f"identification.{rank}.number", "unique"))
            continue
        clean.id_slots[rank] = free[0]
        used.add(free[0])  # primary and secondary of one user never share a slot


# --- the database's verdict -----------------------------------------------------------------

# Named constraints of users/models.py -> (canonical path, contract code).
CONSTRAINT_ERRORS: dict[str, tuple[str, str]] = {
    "user_email_live_unique": ("email", "resource_user_email_unique"),
    "user_mobile_live_unique": ("mobile", "resource_user_mobile_unique"),
    "user_customer_id_unique": ("customer_id", "resource_user_customer_id_in_use"),
    "identification_number_slot_unique": (
        "identification.primary.number",
        "resource_id_type_unique",
    ),
}
# SQLite names only expression indexes in its message; column indexes it names by columns.
_SQLITE_COLUMNS: dict[str, str] = {
    "users_accountholder.program_id, users_accountholder.email_canonical": (
        "user_email_live_unique"
    ),
    "users_accountholder.program_id, users_accountholder.mobile_e164": "user_mobile_live_unique",
    "users_accountholder.program_id, users_accountholder.customer_id": "user_customer_id_unique",
    "users_identification.program_id, users_identification.id_type, "
    "users_identification.number_index, users_identification.dup_slot": (
        "identification_number_slot_unique"
    ),
}


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the unique constraint an IntegrityError reports, on either database."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    message = str(exc)
    for constraint in CONSTRAINT_ERRORS:
        if constraint in message:
            return constraint
    for columns, constraint in _SQLITE_COLUMNS.items():
        if message.endswith(columns):
            return constraint
    return None


@contextmanager
def unique_guard(id_rank: str = "primary") -> Iterator[None]:
    """Run writes in a savepoint; a lost uniqueness race becomes the contract's 400.

    The pre-checks in `validate_write` give the friendly answer in the common case; two
    requests that pass them at the same moment meet at the partial unique indexes, and the
    loser lands here — never a 500. Other integrity errors are bugs and propagate. For a
    write whose whole transaction fails with the violation, `unique_violation_as_error`
    around the transaction does the same without a savepoint.
    """
    with unique_violation_as_error(id_rank), transaction.atomic():
        yield


@contextmanager
def unique_violation_as_error(id_rank: str = "primary") -> Iterator[None]:
    """Translate a unique-index violation raised inside the block into the contract's 400.

    No savepoint: wrap a whole `transaction.atomic` block with it (the violation has rolled
    that block back by the time it arrives here), so a create costs no extra statements.
    """
    try:
        yield
    except IntegrityError as exc:
        constraint = violated_constraint(exc)
        if constraint not in CONSTRAINT_ERRORS:
            raise
        path, code = CONSTRAINT_ERRORS[constraint]
        if path.startswith("identification."):
            path = f"identification.{id_rank}.number"
        raise ApiError.from_field_errors(
            [FieldError(path, code, error_codes.describe(code, field=code_name_of(path)))]
        ) from exc


def code_name_of(path: str) -> str:
    return f.code_name(path)
