"""The filters of `GET /{program}/v2/users` (django-filter), each one served by an index.

Matching is the API's: enumerated values case-insensitively, `email` and `mobile` by their
canonical forms (core/identifiers.py, through the `(program, email_canonical)` and
`(program, mobile_e164)` indexes), `q` a case-insensitive prefix of the
first name, last name or email, or a prefix of the user id. Invalid values never fall back
to "no filter": the view answers 400 `invalid_query_param` naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from core import error_codes, identifiers
from core.exceptions import ApiError, FieldError
from users.models import AccountHolder, AccountType, KycStatus, RiskStatus, Status, SubStatus

# `q` compares LOWER(column) LIKE 'prefix%'. On PostgreSQL a btree serves that only with a
# pattern operator class, and Django cannot declare one on an expression portably (SQLite
# has none), so a migration runs these on PostgreSQL only. The id prefix needs nothing: the
# unique public_id column already has Django's `varchar_pattern_ops` companion index.
POSTGRES_SEARCH_INDEXES: dict[str, str] = {
    f"user_program_{short}_prefix_idx": (
        f"CREATE INDEX IF NOT EXISTS user_program_{short}_prefix_idx "
        f"ON users_accountholder (program_id, lower({column}) text_pattern_ops)"
    )
    for short, column in (("fname", "first_name"), ("lname", "last_name"), ("email", "email"))
}

_DIGITS = re.compile(r"^[0-9]{1,20}\Z")
_ALPHA3 = re.compile(r"^[A-Za-z]{3}\Z")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
Q_MAX_LENGTH = 100


class CaseInsensitiveChoiceField(forms.ChoiceField):
    """Accepts any letter case and cleans to the canonical choice."""

    def __init__(self, *args: Any, choices: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, choices=choices, **kwargs)
        self.canonical = {str(value).lower(): str(value) for value, _label in choices}

    def to_python(self, value: Any) -> str:
        text = super().to_python(value).strip()
        return self.canonical.get(text.lower(), text)


class CaseInsensitiveChoiceFilter(django_filters.ChoiceFilter):
    field_class = CaseInsensitiveChoiceField


class CreatedBoundField(forms.CharField):
    """`YYYY-MM-DD` or an ISO 8601 date-time (UTC when it carries no offset).

    As an upper bound (`exclusive_end`) it cleans to the first instant after the range: the
    next midnight for a date (the whole day is included), one microsecond later for a
    date-time (that instant is included).
    """

    def __init__(self, *args: Any, exclusive_end: bool = False, **kwargs: Any) -> None:
        self.exclusive_end = exclusive_end
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            # a bare date first: Python's fromisoformat would read it as midnight
            day = parse_date(text) if _DATE_ONLY.match(text) else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            moment = day = None
        try:
            if moment is not None:
                if timezone.is_naive(moment):
                    moment = moment.replace(tzinfo=UTC)
                return moment + timedelta(microseconds=1) if self.exclusive_end else moment
            if day is not None:
                start = datetime.combine(day, time.min, tzinfo=UTC)
                return start + timedelta(days=1) if self.exclusive_end else start
        except OverflowError:
            # the boundary (api/boundary.py) refuses such dates first; this keeps the rule
            # true for any caller of the filter
            raise forms.ValidationError("The date is out of range.", code="invalid") from None
        raise forms.ValidationError("Use YYYY-MM-DD or an ISO 8601 date-time.", code="invalid")


class CreatedFromFilter(django_filters.Filter):
    field_class = CreatedBoundField

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        return qs if value is None else qs.filter(created_at__gte=value)


class CreatedToFilter(django_filters.Filter):
    field_class = CreatedBoundField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exclusive_end", True)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: datetime | None) -> QuerySet[Any]:
        return qs if value is None else qs.filter(created_at__lt=value)


class UserFilter(django_filters.FilterSet):
    """Every filter of the list; the view scopes the queryset to the client's program."""

    status = CaseInsensitiveChoiceFilter(choices=Status.choices)
    sub_status = CaseInsensitiveChoiceFilter(choices=SubStatus.choices)
    kyc_status = CaseInsensitiveChoiceFilter(choices=KycStatus.choices)
    risk_status = CaseInsensitiveChoiceFilter(choices=RiskStatus.choices)
    type = CaseInsensitiveChoiceFilter(choices=AccountType.choices)
    email = django_filters.CharFilter(method="filter_email", max_length=254)
    mobile = django_filters.CharFilter(
        method="filter_mobile",
        max_length=20,
        validators=[RegexValidator(_DIGITS, "`mobile` must be digits only.")],
    )
    client_ref_id = django_filters.CharFilter(field_name="client_ref_id", max_length=50)
    customer_id = django_filters.CharFilter(field_name="customer_id", max_length=50)
    nationality = django_filters.CharFilter(
        method="filter_nationality",
        validators=[RegexValidator(_ALPHA3, "`nationality` must be an ISO 3166 alpha-3 code.")],
    )
    created_from = CreatedFromFilter(field_name="created_from")
    created_to = CreatedToFilter(field_name="created_to")
    q = django_filters.CharFilter(method="filter_q", max_length=Q_MAX_LENGTH)

    class Meta:
        model = AccountHolder
        fields: list[str] = []

    def filter_email(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # the canonical form (core/identifiers.py), through the (program, email_canonical)
        # index: any letter case, full-width forms, Unicode or punycode domains alike
        return qs.filter(email_canonical=identifiers.email_key(value))

    def filter_mobile(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # the national number as given, or calling code + number however the national number
        # was written (UK 447400123456 finds 07400123456 and 7400123456): two index look-ups
        e164 = identifiers.e164_or_none(value)
        return qs.filter(Q(mobile=value) | Q(mobile_e164=e164) if e164 else Q(mobile=value))

    def filter_nationality(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(nationality=value.upper())

    def filter_q(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        term = value.lower()
        return qs.alias(
            first_lower=Lower("first_name"),
            last_lower=Lower("last_name"),
            email_lower=Lower("email"),
        ).filter(
            Q(first_lower__startswith=term)
            | Q(last_lower__startswith=term)
            | Q(email_lower__startswith=term)
            | Q(public_id__startswith=term)
        )


def filter_users(
    queryset: QuerySet[AccountHolder], params: Mapping[str, str]
) -> QuerySet[AccountHolder]:
    """`queryset` narrowed by the list's filters; any invalid value is 400, each one named."""
    names = frozenset(params).intersection(UserFilter.base_filters)
    if not names:
        # nothing to check or apply (the common case): no FilterSet, no form, no copies
        return queryset
    filterset = _filterset_for(names)(params, queryset=queryset)
    if filterset.is_valid():
        return filterset.qs
    errors = [
        FieldError(
            name,
            error_codes.INVALID_QUERY_PARAM,
            f"Invalid value for `{name}`: {' '.join(str(m) for m in messages)}",
        )
        for name, messages in filterset.errors.items()
    ]
    raise ApiError(
        error_codes.INVALID_QUERY_PARAM,
        description=errors[0].description,
        params={"param": errors[0].field},
        errors=errors,
    )


@lru_cache(maxsize=256)
def _filterset_for(names: frozenset[str]) -> type[UserFilter]:
    """`UserFilter` with only the filters a request names, in their declared order.

    A FilterSet deep-copies every filter and builds a form field for each on every request;
    an absent parameter is a no-op, so leaving its filter out answers the same (same
    cleaning, same errors, same order) for a fraction of the cost. There are at most 2^13
    name sets and clients use a handful, so the classes are cached.
    """

    class Subset(UserFilter):
        pass

    Subset.base_filters = {
        name: declared for name, declared in UserFilter.base_filters.items() if name in names
    }
    return Subset
