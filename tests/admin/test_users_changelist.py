"""The users changelist: masked PII, badges, indexed filters and search, constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import AccountHolderFactory
from users.models import AccountHolder, KycStatus, KycSubStatus, RiskStatus, Status
from users.selectors import user_search_q

URL = reverse("admin:users_accountholder_changelist")


def listed(response) -> set[str]:  # type: ignore[no-untyped-def]
    """Public ids of the users on the page (from the changelist's result rows)."""
    return {str(obj.public_id) for obj in response.context["cl"].result_list}


@pytest.fixture
def other(program_b):  # type: ignore[no-untyped-def]
    return AccountHolderFactory(
        program=program_b,
        first_name="Alan",
        last_name="Turing",
        email="alan@example.org",
        mobile_country_code="44",
        mobile="7700900123",
        client_ref_id="REF-0002",
        customer_id="CUST-0002",
    )


def test_rows_show_public_id_and_masked_pii(admin_op, holder) -> None:
    response = admin_op.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert holder.public_id in html
    assert "G*** H***" in html
    assert "G***@Example.com" in html
    assert "+65 ****4567" in html
    for secret in ("Grace", "Hopper", "Grace.Hopper", "91234567"):
        assert secret not in html


def test_badges_are_coloured_by_state(admin_op, holder) -> None:
    AccountHolder.objects.filter(pk=holder.pk).update(
        status=Status.SUSPENDED,
        kyc_sub_status=KycSubStatus.APPROVED,
        risk_status=RiskStatus.REJECTED,
    )

    html = admin_op.get(URL).content.decode()

    assert 'class="badge badge-amber"' in html and ">suspended</span>" in html
    assert 'class="badge badge-green"' in html and ">approved</span>" in html
    assert 'class="badge badge-red"' in html and ">REJECTED</span>" in html


def test_no_add_and_no_delete(admin_op, holder) -> None:
    response = admin_op.get(URL)
    actions = dict(response.context["action_form"].fields["action"].choices)

    assert "delete_selected" not in actions
    assert admin_op.get(reverse("admin:users_accountholder_add")).status_code == 403


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status__exact": "locked"}, {"locked"}),
        ({"kyc_status__exact": "completed"}, {"kyc"}),
        ({"risk_status__exact": "PENDING"}, {"risky"}),
        ({"created": "24h"}, {"holder", "locked", "kyc", "risky"}),
        ({"created": "7d"}, {"holder", "locked", "kyc", "risky"}),
        ({"created": "older"}, {"old"}),
    ],
)
def test_filters(admin_op, program_a, holder, params, expected) -> None:
    users = {
        "holder": holder,
        "locked": AccountHolderFactory(program=program_a, status=Status.LOCKED),
        "kyc": AccountHolderFactory(program=program_a, kyc_status=KycStatus.COMPLETED),
        "risky": AccountHolderFactory(program=program_a, risk_status=RiskStatus.PENDING),
        "old": AccountHolderFactory(
            program=program_a, created_at=timezone.now() - timedelta(days=200)
        ),
    }

    response = admin_op.get(URL, params)

    assert listed(response) == {users[name].public_id for name in expected}


def test_program_filter(admin_op, holder, other) -> None:
    response = admin_op.get(URL, {"program__id__exact": holder.program_id})

    assert listed(response) == {holder.public_id}


@pytest.mark.parametrize(
    "term",
    [
        "PUBLIC_ID",
        "grace.hopper@example.com",
        "GRACE.HOPPER@EXAMPLE.COM",
        "91234567",
        "+65 9123 4567",
        "6591234567",
        "hopper",
        "Grace",
        "grace hopper",
        "REF-0001",
        "CUST-0001",
        "id:PUBLIC_ID",
        "email:Grace.Hopper@example.com",
        "mobile:+6591234567",
        "name:Grace Hopper",
        "ref:REF-0001",
        "customer:CUST-0001",
    ],
)
def test_search_finds_the_user_by_each_kind_of_term(admin_op, holder, other, term) -> None:
    term = term.replace("PUBLIC_ID", holder.public_id.upper())

    response = admin_op.get(URL, {"q": term})

    assert listed(response) == {holder.public_id}


@pytest.mark.parametrize(
    "term", ["hop", "grace.hopper", "9123", "REF", "ref:CUST-0001", "customer:REF-0001"]
)
def test_search_is_exact_not_substring(admin_op, holder, term) -> None:
    # substring searches would need a table scan at a million rows
    assert listed(admin_op.get(URL, {"q": term})) == set()


@pytest.mark.parametrize(
    ("term", "sql_fragment"),
    [
        ("a@b.co", "email_canonical"),  # the canonical form (issue 12 item 5), indexed
        ("0123456789abcdef0123456789abcdef", "public_id"),
        ("+65 91234567", "mobile"),
    ],
)
def test_search_uses_equalities_not_like(admin_op, holder, term, sql_fragment) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_op.get(URL, {"q": term})

    searched = [q["sql"] for q in queries.captured_queries if "users_accountholder" in q["sql"]]
    assert any(sql_fragment in sql for sql in searched)
    assert not any(" LIKE " in sql.upper() for sql in searched)


def q(term: str) -> str:
    return str(user_search_q(term, program_ids=lambda: [1, 2]))


def test_search_q_routes_terms_to_their_columns() -> None:
    assert "email_canonical" in q("x@y.z")  # the canonical form (issue 12 item 5)
    assert "public_id" in q("0" * 32)
    assert "mobile_country_code" in q("+6591234567")
    assert "_last_lower" in q("lovelace")
    assert "_last_lower" not in q("x@y.z")
    # a reference with digits is never compared with names (no scan of the name columns)
    assert "_last_lower" not in q("CUS000001234")
    assert "customer_id" in q("CUS000001234")


def _changelist_queries(client, count: int, program) -> int:  # type: ignore[no-untyped-def]
    AccountHolderFactory.create_batch(count - AccountHolder.objects.count(), program=program)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == min(count, 50)
    return len(queries)


@pytest.mark.parametrize("persona", ["admin_op", "support"])
def test_changelist_query_count_does_not_grow_with_users(request, persona, program_a) -> None:
    client = request.getfixturevalue(persona)

    small = _changelist_queries(client, 5, program_a)
    large = _changelist_queries(client, 60, program_a)

    assert small == large
    assert large <= 10


def test_changelist_never_counts_the_whole_table(admin_op, holder) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_op.get(URL)

    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # the only count is the paginator's, bounded by a LIMIT in a subquery
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts)


@pytest.mark.parametrize(("column", "sorted_by"), [("2", None), ("6", None), ("9", "created_at")])
def test_sorting_only_on_indexed_columns(admin_op, holder, column, sorted_by) -> None:
    # columns: 1 id, 2 program, ... 6 status, ... 9 created; program/status would sort a table
    response = admin_op.get(URL, {"o": column})

    assert response.status_code == 200
    ordering = response.context["cl"].queryset.query.order_by
    assert not any("program" in str(o) or "status" in str(o) for o in ordering)
    if sorted_by:
        assert str(ordering[0]).endswith(sorted_by)


def test_search_results_are_sorted_without_walking_an_index(admin_op, holder) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = admin_op.get(URL, {"q": "grace hopper"})

    assert listed(response) == {holder.public_id}
    page_sql = queries.captured_queries[-1]["sql"]
    order_by = page_sql.upper().rsplit("ORDER BY", 1)[1]
    # ordered by COALESCE(created_at, created_at): the matches are found, then sorted
    assert "COALESCE" in order_by and "CREATED_AT" in order_by


def test_unsearched_lists_use_the_created_index_order(admin_op, holder) -> None:
    with CaptureQueriesContext(connection) as queries:
        admin_op.get(URL)

    order_by = queries.captured_queries[-1]["sql"].upper().rsplit("ORDER BY", 1)[1]
    assert "COALESCE" not in order_by and "CREATED_AT" in order_by


def test_name_search_names_every_program_for_the_program_led_indexes(admin_op, holder, other):
    # (program_id, lower(name)) indexes serve a search across programs only if it names them
    assert "program_id__in" in q("hopper") and "[1, 2]" in q("hopper")
    assert "program_id__in" not in q("x@y.z")
    assert listed(admin_op.get(URL, {"q": "turing"})) == {other.public_id}


@pytest.mark.parametrize("term", ["\x00", "gr\x00ace@example.com", "hop\x00per", "id:\x00"])
def test_nul_characters_in_search_never_error(admin_op, holder, term) -> None:
    response = admin_op.get(URL, {"q": term})

    # the input boundary (api/boundary.py) refuses a NUL anywhere in a query string: a 400
    # before any admin code (and no database) sees it, never a server error
    assert response.status_code == 400
    assert response.content == b"Bad request."
