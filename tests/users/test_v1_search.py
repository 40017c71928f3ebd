"""`GET /{program}/v1/oauth/consumer/search/users` (SPEC §11): filters, match types, AND/OR,
expand/condense, string counts, paging, errors; on PostgreSQL every shape is served by
indexes (EXPLAIN shows no sequential scan of the users table)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import requires_postgres
from users.api import search
from users.models import AccountHolder, Identification

pytestmark = pytest.mark.django_db

URL = "/alpha/v1/oauth/consumer/search/users"


@pytest.fixture
def people(make_user, program_b):  # type: ignore[no-untyped-def]
    ada = make_user(
        first_name="Ada",
        last_name="Lovelace",
        email="Ada.L@example.com",
        mobile_country_code="65",
        mobile="91234567",
        customer_id="CUST-1",
        partner_id="P-77",
        birth_date="1990-05-17",
        identification={"primary": {"id_type": "passport", "number": "K1234567"}},
    )
    grace = make_user(
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        mobile_country_code="60",
        mobile="123456789",
        customer_id="CUST-2",
        birth_date="1985-12-09",
    )
    adam = make_user(first_name="Adam", last_name="Smith", email="adam@example.org")
    other = make_user(program=program_b, first_name="Ada", email="ada.other@example.com")
    return {"ada": ada, "grace": grace, "adam": adam, "other": other}


def _ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.json()
    return [u["id"] for u in response.json()["users"]]


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({"email": "ADA.L@example.com"}, ["ada"]),
        ({"mobile": "6591234567"}, ["ada"]),
        ({"mobile": "+60123456789"}, ["grace"]),
        ({"first_name": "ada"}, ["ada"]),
        ({"last_name": "HOPPER"}, ["grace"]),
        ({"customer_id": "cust-2"}, ["grace"]),
        ({"partner_id": "P-77"}, ["ada"]),
        ({"id_type": "passport"}, ["ada"]),
        ({"id_number": "k1234567"}, ["ada"]),
        ({"birthday": "1985-12-09"}, ["grace"]),
        ({"user_status": "active"}, ["adam", "grace", "ada"]),
        ({"kyc_status": "pending"}, ["adam", "grace", "ada"]),
        ({"user_status": "blocked"}, []),
    ],
)
def test_each_filter_exact(api_a, people, params, who):
    assert _ids(api_a.get(URL, params)) == [people[w].public_id for w in who]


@pytest.mark.parametrize(
    ("params", "who"),
    [
        ({"first_name": "ad"}, ["adam", "ada"]),
        ({"email": "grace@"}, ["grace"]),
        ({"mobile": "659123"}, ["ada"]),
        ({"mobile": "60"}, ["grace"]),
        ({"customer_id": "cust-"}, ["grace", "ada"]),
        ({"birthday": "1990"}, ["ada"]),
        ({"birthday": "1985-12"}, ["grace"]),
        ({"birthday": "1985-12-09"}, ["grace"]),
        ({"birthday": "1985-11"}, []),
        ({"birthday": "1991"}, []),
    ],
)
def test_fuzzy_is_a_case_insensitive_prefix(api_a, people, params, who):
    response = api_a.get(URL, {**params, "match_type": "fuzzy"})
    assert _ids(response) == [people[w].public_id for w in who]


def test_fuzzy_id_number_is_an_exact_blind_index_match(api_a, people):
    """Id numbers are encrypted (SPEC §15): a prefix cannot be searched, fuzzy stays exact
    (spaces, dashes and case are ignored, as for uniqueness)."""
    ada = people["ada"].public_id
    for value in ("K1234567", "k123-4567", "K 1234 567"):
        for match in ("exact", "fuzzy"):
            assert _ids(api_a.get(URL, {"id_number": value, "match_type": match})) == [ada]
    assert _ids(api_a.get(URL, {"id_number": "K12", "match_type": "fuzzy"})) == []


def test_birthday_filters_find_other_programs_users_never(api_a, people, make_user):
    make_user(program=people["other"].program, birth_date="1990-05-17")
    assert _ids(api_a.get(URL, {"birthday": "1990-05-17"})) == [people["ada"].public_id]
    assert _ids(api_a.get(URL, {"birthday": "1990-05", "match_type": "fuzzy"})) == [
        people["ada"].public_id
    ]


def test_fuzzy_birthday_at_the_end_of_the_calendar(api_a, people):
    for value in ("9999", "9999-12", "9999-12-30"):
        response = api_a.get(URL, {"birthday": value, "match_type": "fuzzy"})
        assert _ids(response) == []
    # the last calendar day is outside the dates the input boundary accepts (README Security)
    response = api_a.get(URL, {"birthday": "9999-12-31", "match_type": "fuzzy"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query_param"


def test_fuzzy_user_id_prefix_and_exact_needs_the_whole_value(api_a, people):
    ada = people["ada"].public_id
    assert _ids(api_a.get(URL, {"user_hash_id": ada})) == [ada]
    assert ada in _ids(api_a.get(URL, {"user_hash_id": ada[:6], "match_type": "fuzzy"}))
    assert _ids(api_a.get(URL, {"user_hash_id": ada[:6]})) == []
    assert _ids(api_a.get(URL, {"first_name": "ad"})) == []


def test_and_or_conditions(api_a, people):
    both = {"first_name": "Ada", "last_name": "Hopper"}
    assert _ids(api_a.get(URL, both)) == []
    ids = _ids(api_a.get(URL, {**both, "filter_condition": "or"}))
    assert ids == [people["grace"].public_id, people["ada"].public_id]
    mixed = {"id_number": "K1234567", "email": "adam@example.org", "filter_condition": "OR"}
    assert _ids(api_a.get(URL, mixed)) == [people["adam"].public_id, people["ada"].public_id]
    same_document = {"id_type": "passport", "id_number": "K1234567", "last_name": "Lovelace"}
    assert _ids(api_a.get(URL, same_document)) == [people["ada"].public_id]
    assert _ids(api_a.get(URL, {**same_document, "id_type": "nric"})) == []


def test_expand_is_the_v1_user_condense_a_summary(api_a, people):
    expanded = api_a.get(URL, {"email": "grace@example.com"}).json()["users"][0]
    assert expanded == api_a.get(f"/alpha/v1/users/{people['grace'].public_id}").json()
    condensed = api_a.get(URL, {"email": "grace@example.com", "response_type": "condense"})
    user = condensed.json()["users"][0]
    assert set(user) == {"id", "email", "name", "mobile", "status", "links"}
    assert user["name"] == {"first": "Grace", "last": "Hopper"}
    assert user["mobile"] == {"country_code": "60", "number": "123456789"}


def test_counts_are_strings_and_pages_link(api_a, people):
    response = api_a.get(URL, {"user_status": "active", "records_per_page": 2})
    body = response.json()
    assert body["total_records"] == "3"
    assert body["records_per_page"] == "2"
    assert body["total_pages"] == "2"
    (links,) = body["links"]
    assert links["previous"] is None and "page=2" in links["next"]
    second = api_a.get(links["next"]).json()
    assert len(second["users"]) == 1 and second["links"][0]["next"] is None
    assert "page=1" in second["links"][0]["previous"]


def test_total_records_is_capped(api_a, people, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    body = api_a.get(URL, {"user_status": "active", "records_per_page": 1}).json()
    assert body["total_records"] == "2+"
    assert body["total_pages"] == "2+"
    assert body["links"][0]["next"]


def test_another_programs_users_are_never_found(api_a, api_b, people):
    assert _ids(api_a.get(URL, {"email": "ada.other@example.com"})) == []
    assert _ids(api_b.get("/beta/v1/oauth/consumer/search/users", {"first_name": "ada"})) == [
        people["other"].public_id
    ]
    ored = {"first_name": "ada", "email": "ada.other@example.com", "filter_condition": "OR"}
    assert _ids(api_a.get(URL, ored)) == [people["ada"].public_id]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "filter"),
        ({"match_type": "fuzzy"}, "filter"),
        ({"email": "a@b.c", "match_type": "similar"}, "match_type"),
        ({"email": "a@b.c", "filter_condition": "XOR"}, "filter_condition"),
        ({"email": "a@b.c", "response_type": "full"}, "response_type"),
        ({"email": "a@b.c", "page": "0"}, "page"),
        ({"email": "a@b.c", "records_per_page": "101"}, "records_per_page"),
        ({"user_status": "sleeping"}, "user_status"),
        ({"kyc_status": "done"}, "kyc_status"),
        ({"mobile": "65-9123"}, "mobile"),
        ({"user_hash_id": "XYZ"}, "user_hash_id"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"birthday": "1990"}, "birthday"),
        ({"birthday": "0000", "match_type": "fuzzy"}, "birthday"),
        ({"birthday": "2000-13", "match_type": "fuzzy"}, "birthday"),
        ({"email": "a@b.c", "colour": "red"}, "colour"),
    ],
)
def test_invalid_requests_are_400_naming_the_parameter(api_a, people, params, field):
    response = api_a.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_query_param"
    assert body["errors"][0]["field"] == field


def test_queries_do_not_grow_with_the_matches(api_a, people, make_user):
    def count(params: dict[str, Any]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api_a.get(URL, params).status_code == 200
        return len(captured.captured_queries)

    params = {"user_status": "active", "records_per_page": 100}
    count(params)  # warms the enumeration catalog
    first = count(params)
    for _ in range(5):
        make_user()
    assert count(params) == first
    # auth (client + program), count, page, identifications
    assert first <= 5, first
    assert count({**params, "response_type": "condense"}) == first - 1


def test_schema_documents_the_search(db):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/{program}/v1/oauth/consumer/search/users"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert set(search.FILTERS) | {"match_type", "filter_condition", "response_type"} <= names


# --- PostgreSQL: every shape is answered from indexes -----------------------------------------


def _populate(program_a: Any, program_b: Any, count: int = 2000) -> None:
    start = timezone.now() - timedelta(days=400)
    users = []
    for i in range(count + 500):
        users.append(
            AccountHolder(
                program=program_a if i < count else program_b,
                first_name=f"First{i}",
                last_name=f"Last{i}",
                email=f"user{i}@example.com",
                mobile_country_code="65",
                mobile=f"9{i:07d}",
                customer_id=f"CUST-{i}",
                partner_id=f"PART-{i}",
                birth_date=date(1950, 1, 1) + timedelta(days=i * 7),
                status="locked" if i % 40 == 0 else "active",
                kyc_status="completed" if i % 30 == 0 else "pending",
                created_at=start + timedelta(minutes=i * 7),
                updated_at=start,
            )
        )
    AccountHolder.objects.bulk_create(users, batch_size=500)
    documents = [
        Identification(
            user=user,
            program_id=user.program_id,
            id_type="passport" if i % 50 == 0 else "nric",
            number=f"K{i:07d}",
        )
        for i, user in enumerate(users)
    ]
    Identification.objects.bulk_create(documents, batch_size=500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_accountholder")
        cursor.execute("ANALYZE users_identification")


def _plans(api: Any, params: dict[str, Any]) -> list[str]:
    """EXPLAIN of the count and of the page query."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get(URL, {**params, "records_per_page": 10})
    assert response.status_code == 200, response.content
    statements = [
        q["sql"]
        for q in captured.captured_queries
        if "users_accountholder" in q["sql"]
        and q["sql"].startswith("SELECT")
        and "api_client" not in q["sql"]
    ]
    # A table of a few thousand rows is cheaper to read whole than through dozens of index
    # look-ups, so the planner's choice at this size says nothing about 1 000 000 rows. With
    # sequential scans priced out, a Seq Scan left in a plan means no index can serve the shape:
    # that is what these tests guard. `make bench` EXPLAINs the real plans at scale.
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.execute("RESET enable_seqscan")
    return plans


SHAPES = [
    {"email": "user77@example.com"},
    {"mobile": "6590000077"},
    {"user_hash_id": "0" * 32},
    {"user_status": "locked"},
    {"kyc_status": "completed"},
    {"first_name": "first77"},
    {"last_name": "last77"},
    {"customer_id": "cust-77"},
    {"partner_id": "part-77"},
    {"id_type": "passport"},
    {"id_number": "K0000077"},
    {"birthday": "1951-06-02"},
    # three filters, AND and OR
    {"first_name": "First77", "last_name": "Last77", "customer_id": "CUST-77"},
    {"email": "user7@example.com", "id_number": "K0000077", "partner_id": "PART-99",
     "filter_condition": "OR"},
    # fuzzy, alone and combined
    {"first_name": "first12", "match_type": "fuzzy"},
    {"email": "user12", "mobile": "659000012", "id_number": "K000012", "match_type": "fuzzy",
     "filter_condition": "OR"},
    {"user_hash_id": "ab", "customer_id": "cust-19", "birthday": "1960", "match_type": "fuzzy"},
]  # fmt: skip


@requires_postgres
@pytest.mark.parametrize("params", SHAPES, ids=lambda p: "+".join(sorted(p)))
def test_every_search_shape_is_served_by_indexes(api_a, program_a, program_b, params):
    _populate(program_a, program_b)
    plans = _plans(api_a, params)
    assert len(plans) == 2, plans  # the capped count and the page
    for plan in plans:
        assert "Seq Scan" not in plan, plan
        assert "Index" in plan, plan


@requires_postgres
def test_or_is_a_union_of_index_scans(api_a, program_a, program_b):
    _populate(program_a, program_b)
    params = {"first_name": "first5", "last_name": "last6", "id_number": "K0000007"}
    count_plan, page_plan = _plans(api_a, {**params, "filter_condition": "OR"})
    for plan in (count_plan, page_plan):
        assert "Seq Scan" not in plan, plan
        assert "user_program_fname_prefix_idx" in plan, plan
        assert "user_program_lname_prefix_idx" in plan, plan
        assert "identification_number" in plan, plan


def test_or_pages_are_the_newest_matches_of_all_branches(api_a, people, make_user):
    """`search_page` keeps each OR branch's own newest users only: pages must still be the
    union's newest first, with nothing skipped or repeated across pages."""
    for i in range(12):
        make_user(
            first_name="Zed" + "abcdefghijkl"[i], last_name="Pagetest", email=f"zed{i}@example.com"
        )
    params = {"last_name": "pagetest", "email": "zed3@example.com", "filter_condition": "OR"}
    seen: list[str] = []
    for page in (1, 2, 3):
        response = api_a.get(URL, {**params, "records_per_page": 5, "page": page})
        assert response.status_code == 200, response.content
        seen += [u["id"] for u in response.json()["users"]]
    expected = list(
        AccountHolder.objects.filter(last_name="Pagetest")
        .order_by("-created_at", "-id")
        .values_list("public_id", flat=True)
    )
    assert seen == expected
