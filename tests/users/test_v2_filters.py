"""`filter_users` builds only the filters a request names: same answers as the full FilterSet."""

from __future__ import annotations

from typing import Any

import pytest

from core.exceptions import ApiError
from users.filters import UserFilter, filter_users
from users.selectors import users_of

pytestmark = pytest.mark.django_db

CASES: list[dict[str, str]] = [
    {},
    {"status": ""},
    {"status": "SUSPENDED"},
    {"email": "Grace@Example.com", "q": "gra"},
    {"created_from": "2024-01-01", "created_to": "2024-01-31T10:00:00"},
    {"nationality": "sgp", "mobile": "91234567", "type": "customer"},
    {"status": "nope"},
    {"q": "x" * 101, "mobile": "12ab", "created_to": "yesterday", "status": "active"},
    {"kyc_status": "done", "risk_status": "cleared", "sub_status": "??"},
]


def full_filterset_answer(queryset: Any, params: dict[str, str]) -> Any:
    """What the whole `UserFilter` answers: the SQL, or each invalid name and its messages."""
    filterset = UserFilter(params, queryset=queryset)
    if filterset.is_valid():
        return str(filterset.qs.query)
    return [(name, [str(m) for m in messages]) for name, messages in filterset.errors.items()]


@pytest.mark.parametrize("params", CASES)
def test_same_query_or_same_errors_as_the_full_filterset(program_a, params):
    queryset = users_of(program_a)
    expected = full_filterset_answer(queryset, params)
    try:
        answer: Any = str(filter_users(queryset, params).query)
    except ApiError as error:
        assert isinstance(expected, list), f"refused what the FilterSet accepts: {params}"
        assert error.code == "invalid_query_param"
        answer = [(e.field, e.description) for e in error.errors]
        expected = [
            (name, f"Invalid value for `{name}`: {' '.join(messages)}")
            for name, messages in expected
        ]
    assert answer == expected


def test_no_filter_parameters_leave_the_queryset_as_it_is(program_a):
    queryset = users_of(program_a)
    assert filter_users(queryset, {}) is queryset
    assert filter_users(queryset, {"page": "2", "sort_order": "ASC"}) is queryset
