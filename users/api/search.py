"""MatchMove's program-level user search (`GET /{program}/v1/oauth/consumer/search/users`,
SPEC §11): every filter, `match_type` exact/fuzzy, `filter_condition` AND/OR.

Every filter is one indexed predicate. Text filters compare case-insensitively: `exact` is
`LOWER(col) = term`, `fuzzy` a prefix `LOWER(col) LIKE 'term%'`, both served by a
`(program_id, lower(col) text_pattern_ops)` btree on PostgreSQL (`SEARCH_INDEXES` below and
users/filters.py's `POSTGRES_SEARCH_INDEXES`). `AND` is one WHERE; `OR` is the UNION of each
filter's matching ids, so a branch that lives in another table (the id documents) is as
indexed as the others and the users table is only read by primary key. `total_records` is
counted up to `COUNT_CAP` + 1 rows (bounded work, never a full-table count).

Id numbers and birth dates are stored encrypted (SPEC §15), so they are compared by their
blind indexes (keyed HMACs): `id_number` is an equality of the canonical number's index with
either match type (a prefix of an encrypted value cannot be searched: fuzzy is exact there),
and `birthday` an equality of the date's index — or, fuzzy, of the year's (`YYYY`) or the
year's and month's (`YYYY-MM`), the leading columns of one index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from api.pagination import invalid_param
from core.exceptions import ApiError, FieldError
from programs.models import Program
from users.models import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    AccountHolder,
    Identification,
    KycStatus,
    Status,
    birth_date_indexes,
    id_number_index,
)
from users.validation import canonical_id_number

COUNT_CAP = 10_000

# v1 status text (SPEC §4) → the statuses it covers
USER_STATUSES: dict[str, tuple[str, ...]] = {
    "active": (Status.ACTIVE,),
    "locked": (Status.LOCKED,),
    "suspended": (Status.SUSPENDED,),
    "pending": tuple(sorted(PENDING_STATUSES)),
    "blocked": tuple(sorted(TERMINAL_STATUSES)),
}
MATCH_TYPES = ("exact", "fuzzy")
FILTER_CONDITIONS = ("AND", "OR")

# PostgreSQL-only (operator classes; SQLite's LIKE uses no index anyway), created by
# migration 0004. The email and name prefix indexes exist already (users.filters).
SEARCH_INDEXES: dict[str, str] = {
    "user_program_custid_prefix_idx": (
        "CREATE INDEX IF NOT EXISTS user_program_custid_prefix_idx "
        "ON users_accountholder (program_id, lower(customer_id) text_pattern_ops)"
    ),
    "user_program_partner_prefix_idx": (
        "CREATE INDEX IF NOT EXISTS user_program_partner_prefix_idx "
        "ON users_accountholder (program_id, lower(partner_id) text_pattern_ops)"
    ),
    "user_program_mobile_prefix_idx": (
        "CREATE INDEX IF NOT EXISTS user_program_mobile_prefix_idx "
        "ON users_accountholder (program_id, mobile_country_code, mobile varchar_pattern_ops)"
    ),
}
# Dropped by migration 0009 (the id number is encrypted; its blind index has a plain index).
RETIRED_SEARCH_INDEXES = ("identification_number_prefix_idx",)

_HEX = re.compile(r"^[0-9a-f]{1,32}$")
_MOBILE = re.compile(r"^\+?[0-9]{1,23}$")
_TEXT = re.compile(r"^[^\x00-\x1f]{1,100}$")
_BIRTHDAY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Criterion:
    """One filter: a predicate on the users table, or on the id documents (`on_ids`)."""

    users: Q | None = None
    on_ids: Q | None = None


def _text(column: str) -> Callable[[str, bool], Criterion]:
    def build(value: str, fuzzy: bool) -> Criterion:
        lookup = f"{column}_lower__{'startswith' if fuzzy else 'exact'}"
        return Criterion(users=Q(**{lookup: value.lower()}))

    return build


def _hash_id(value: str, fuzzy: bool) -> Criterion:
    value = value.lower()
    if fuzzy:
        return Criterion(users=Q(public_id__startswith=value))
    return Criterion(users=Q(public_id=value))


def _mobile(value: str, fuzzy: bool) -> Criterion:
    """Calling code + national number (`6591234567`): every split of 1 to 3 code digits,
    each one an equality on the calling code and on (a prefix of) the number."""
    digits = value.lstrip("+")
    q = Q()
    for size in (1, 2, 3):
        code, number = digits[:size], digits[size:]
        if len(digits) < size:
            break
        if fuzzy:
            q |= (
                Q(mobile_country_code=code, mobile__startswith=number)
                if number
                else Q(mobile_country_code=code)
            )
        elif number:
            q |= Q(mobile_country_code=code, mobile=number)
    return Criterion(users=q if q else Q(pk__in=[]))


def _user_status(value: str, fuzzy: bool) -> Criterion:
    return Criterion(users=Q(status__in=USER_STATUSES[value.lower()]))


def _kyc_status(value: str, fuzzy: bool) -> Criterion:
    return Criterion(users=Q(kyc_status=value.lower()))


def _id_type(value: str, fuzzy: bool) -> Criterion:
    return Criterion(on_ids=Q(id_type=value.lower()))


def _id_number(value: str, fuzzy: bool) -> Criterion:
    """The canonical number's blind index, with either match type: the number is encrypted,
    so no prefix of it can be searched (docs/api-guide.md)."""
    return Criterion(on_ids=Q(number_index=id_number_index(canonical_id_number(value))))


def _birthday(value: str, fuzzy: bool) -> Criterion:
    """`YYYY-MM-DD`; fuzzy also takes `YYYY` or `YYYY-MM`: equalities on the blind indexes
    of the year, the month and the date (the leading columns of `user_program_birth_idx`)."""
    match = _BIRTHDAY.match(value)
    assert match is not None  # checked by the validator
    return Criterion(users=Q(**birth_date_indexes(value)))


def _valid_birthday(value: str, fuzzy: bool) -> str | None:
    match = _BIRTHDAY.match(value)
    if match is None or (not fuzzy and match.group(3) is None):
        return "Use YYYY-MM-DD" + (
            " (or YYYY / YYYY-MM with `match_type=fuzzy`)." if not fuzzy else ", YYYY-MM or YYYY."
        )
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        date(year or 0, month or 1, day or 1)  # year 0000 does not exist either
    except ValueError:
        return "Not a calendar date."
    return None


@dataclass(frozen=True)
class Filter:
    build: Callable[[str, bool], Criterion]
    check: Callable[[str, bool], str | None]


def _pattern(regex: re.Pattern[str], message: str) -> Callable[[str, bool], str | None]:
    return lambda value, fuzzy: None if regex.match(value) else message


def _choice(choices: tuple[str, ...]) -> Callable[[str, bool], str | None]:
    return lambda value, fuzzy: (
        None if value.lower() in choices else "One of " + ", ".join(f"`{c}`" for c in choices) + "."
    )


_TEXT_MESSAGE = "1 to 100 printable characters."
FILTERS: dict[str, Filter] = {
    "email": Filter(_text("email"), _pattern(_TEXT, _TEXT_MESSAGE)),
    "mobile": Filter(
        _mobile, _pattern(_MOBILE, "Calling code and number, digits only (e.g. `6591234567`).")
    ),
    "user_hash_id": Filter(
        _hash_id, _pattern(_HEX, "The user id: up to 32 lower-case hex characters.")
    ),
    "user_status": Filter(_user_status, _choice(tuple(USER_STATUSES))),
    "kyc_status": Filter(_kyc_status, _choice(tuple(KycStatus.values))),
    "first_name": Filter(_text("first_name"), _pattern(_TEXT, _TEXT_MESSAGE)),
    "last_name": Filter(_text("last_name"), _pattern(_TEXT, _TEXT_MESSAGE)),
    "customer_id": Filter(_text("customer_id"), _pattern(_TEXT, _TEXT_MESSAGE)),
    "partner_id": Filter(_text("partner_id"), _pattern(_TEXT, _TEXT_MESSAGE)),
    "id_type": Filter(_id_type, _pattern(_TEXT, _TEXT_MESSAGE)),
    "id_number": Filter(_id_number, _pattern(_TEXT, _TEXT_MESSAGE)),
    "birthday": Filter(_birthday, _valid_birthday),
}


def _with_aliases(queryset: QuerySet[AccountHolder]) -> QuerySet[AccountHolder]:
    # LOWER(col): the expression of the prefix indexes (Django's iexact compares UPPER()).
    return queryset.alias(
        email_lower=Lower("email"),
        first_name_lower=Lower("first_name"),
        last_name_lower=Lower("last_name"),
        customer_id_lower=Lower("customer_id"),
        partner_id_lower=Lower("partner_id"),
    )


@dataclass(frozen=True)
class SearchRequest:
    filters: dict[str, str]
    fuzzy: bool
    any_of: bool  # filter_condition OR


def parse_search(params: Mapping[str, str]) -> SearchRequest:
    """Checks every filter and option; each invalid one is named (400 invalid_query_param)."""
    match_type = (params.get("match_type") or "exact").strip().lower()
    condition = (params.get("filter_condition") or "AND").strip().upper()
    errors: list[FieldError] = []
    if match_type not in MATCH_TYPES:
        errors.append(_error("match_type", "One of `exact`, `fuzzy`."))
    if condition not in FILTER_CONDITIONS:
        errors.append(_error("filter_condition", "One of `AND`, `OR`."))
    fuzzy = match_type == "fuzzy"
    filters: dict[str, str] = {}
    for name, spec in FILTERS.items():
        value = (params.get(name) or "").strip()
        if not value:
            continue
        problem = spec.check(value, fuzzy)
        if problem:
            errors.append(_error(name, problem))
        else:
            filters[name] = value
    if errors:
        first = errors[0]
        raise ApiError(
            invalid_param(first.field, first.description).code,
            description=first.description,
            params={"param": first.field},
            errors=errors,
        )
    if not filters:
        raise invalid_param(
            "filter", "Give at least one filter: " + ", ".join(f"`{n}`" for n in FILTERS) + "."
        )
    return SearchRequest(filters=filters, fuzzy=fuzzy, any_of=condition == "OR")


def _error(name: str, problem: str) -> FieldError:
    error = invalid_param(name, f"Invalid value for `{name}`: {problem}")
    return error.errors[0]


def search_users(program: Program, request: SearchRequest) -> QuerySet[AccountHolder]:
    """The program's users matching the request (unordered)."""
    return _matches(program, request, _criteria(request))


def _matches(
    program: Program, request: SearchRequest, criteria: list[Criterion]
) -> QuerySet[AccountHolder]:
    base = _with_aliases(AccountHolder.objects.filter(program=program))
    if request.any_of and len(criteria) > 1:
        branches: list[QuerySet] = []
        for criterion in criteria:
            if criterion.users is not None:
                branches.append(base.filter(criterion.users).values("pk").order_by())
            if criterion.on_ids is not None:
                branches.append(_documents(program, criterion.on_ids))
        return _union(branches)
    return _all_of(program, base, criteria)


def search_page(
    program: Program, request: SearchRequest, start: int, stop: int
) -> QuerySet[AccountHolder]:
    """Matches `start`..`stop` of the request, newest first.

    For `OR`, each branch first keeps only its own newest `stop` users: the page is among
    them, and the users table is never read for every match of a broad branch (a short
    fuzzy prefix matches tens of thousands of users at 1 000 000, which PostgreSQL fetched
    with a sequential scan to sort them). Where a compound statement cannot order and limit
    its parts (SQLite), the whole union is ordered instead.
    """
    criteria = _criteria(request)
    limited = connection.features.supports_slicing_ordering_in_compound
    if not (request.any_of and len(criteria) > 1 and limited):
        return _matches(program, request, criteria).order_by(*NEWEST_FIRST)[start:stop]
    base = _with_aliases(AccountHolder.objects.filter(program=program))
    branches: list[QuerySet] = []
    for criterion in criteria:
        if criterion.users is not None:
            branches.append(base.filter(criterion.users))
        if criterion.on_ids is not None:
            branches.append(base.filter(pk__in=_documents(program, criterion.on_ids)))
    newest = [b.order_by(*NEWEST_FIRST).values("pk")[:stop] for b in branches]
    return _union(newest).order_by(*NEWEST_FIRST)[start:stop]


NEWEST_FIRST = ("-created_at", "-id")


def _criteria(request: SearchRequest) -> list[Criterion]:
    return [FILTERS[name].build(value, request.fuzzy) for name, value in request.filters.items()]


def _union(branches: list[QuerySet]) -> QuerySet[AccountHolder]:
    first, *rest = branches
    ids = first.union(*rest) if rest else first
    return AccountHolder.objects.filter(pk__in=ids)


def _all_of(
    program: Program, base: QuerySet[AccountHolder], criteria: list[Criterion]
) -> QuerySet[AccountHolder]:
    queryset = base
    documents = Q()
    for criterion in criteria:
        if criterion.users is not None:
            queryset = queryset.filter(criterion.users)
        if criterion.on_ids is not None:
            documents &= criterion.on_ids
    if documents:
        # id type and number of the same document
        queryset = queryset.filter(pk__in=_documents(program, documents))
    return queryset


def _documents(program: Program, q: Q) -> QuerySet:
    return Identification.objects.filter(program=program).filter(q).values("user_id").order_by()


def capped_count(queryset: QuerySet[AccountHolder]) -> tuple[int, bool]:
    """(matches up to COUNT_CAP, whether there are more): at most COUNT_CAP + 1 index rows."""
    found = queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
    return min(found, COUNT_CAP), found > COUNT_CAP
