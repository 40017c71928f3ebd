"""The v2 renderer answers exactly what the `V2UserOut` serializer (the schema) would.

`render_user` / `render_users` build plain dicts instead of running DRF fields per user;
these tests render the same users both ways and compare the JSON bytes, so a field added to
the schema but not to the renderer (or rendered differently) fails here.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enumerations.catalog import get_catalog
from enumerations.models import IdType
from tests.factories import AccountHolderFactory
from tests.users.v2_support import full_user, identification
from users.api.v2_render import (
    V2UserOut,
    render_user,
    render_users,
    with_v2_relations,
)
from users.models import AccountHolder, Address, PendingUpdate, Status

pytestmark = pytest.mark.django_db


def serializer_render(users: list[AccountHolder], program_code: str) -> list[dict[str, Any]]:
    """The previous rendering path: the DRF serializer itself."""
    context = {"catalog": get_catalog(), "program_code": program_code}
    return list(V2UserOut(users, many=True, context=context).data)


def as_bytes(value: Any) -> bytes:
    # key order matters to byte-for-byte equality: no sort_keys
    return json.dumps(value, ensure_ascii=False).encode()


def loaded(*users: AccountHolder) -> list[AccountHolder]:
    pks = [u.pk for u in users]
    return list(with_v2_relations(AccountHolder.objects.filter(pk__in=pks)).order_by("pk"))


def populated_user(program: Any) -> AccountHolder:
    """Every nested object, masked and unmasked numbers, every address type, pending updates."""
    IdType.objects.create(
        code="student_card",
        description="Student card",
        display_name="Student card",
        masking=False,
        is_primary=True,
    )
    user = full_user(
        program,
        is_email_verified=True,
        is_mobile_verified=True,
        email="grace@example.com",
        mobile_country_code="65",
        mobile="91234567",
        kyc_processed_at=datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        status=Status.SUSPENDED,
        transaction_status="blocked",
        transaction_sub_status="review",
    )
    # a secondary document of an unmasked type; the primary passport stays masked
    user.identifications.filter(is_primary=False).delete()
    identification(user, primary=False, id_type="student_card", number="STU-12345678")
    for kind in ("mailing", "work"):
        Address.objects.create(
            user=user, type=kind, address_1=f"9 {kind} St", country="MYS", zipcode="50000"
        )
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    PendingUpdate.objects.create(
        user=user,
        field="mobile",
        value={"mobile_country_code": "60", "mobile": "123"},
        requested_at=now,
    )
    PendingUpdate.objects.create(
        user=user, field="email", value="new@example.com", requested_at=now - timedelta(hours=1)
    )
    PendingUpdate.objects.create(  # decided: shown nowhere
        user=user, field="email", value="x@example.com", status="rejected", requested_at=now
    )
    return user


def test_fully_populated_user_renders_byte_for_byte_as_the_serializer(program_a):
    user = populated_user(program_a)
    [loaded_user] = loaded(user)
    expected = serializer_render([loaded_user], "alpha")[0]
    rendered = render_user(loaded_user, catalog=get_catalog(), program_code="alpha")
    assert as_bytes(rendered) == as_bytes(expected)
    # the fixture really exercises what it claims to
    assert [i["number"] for i in rendered["identification"]] == ["****4567", "STU-12345678"]
    assert [a["type"] for a in rendered["addresses"]] == [
        "residential",
        "billing",
        "mailing",
        "work",
    ]
    assert rendered["employer"]["address"]["city"] == "Arlington"
    assert [p["field"] for p in rendered["pending_updates"]] == ["email", "mobile"]
    assert rendered["required_actions"] == [
        {"property": "email", "action": "verify"},
        {"property": "mobile", "action": "verify"},
    ]
    assert rendered["kyc_processed_date"] == "2025-03-04T05:06:07Z"
    assert rendered["links"][0]["href"] == f"/alpha/v2/users/{user.public_id}"
    assert rendered["links"][2]["href"] == f"/alpha/v2/users/{user.public_id}/events"


def test_empty_user_renders_as_the_serializer(program_a):
    user = AccountHolderFactory(program=program_a, metadata=None, birth_date=None)
    [loaded_user] = loaded(user)
    expected = serializer_render([loaded_user], "alpha")[0]
    rendered = render_user(loaded_user, catalog=get_catalog(), program_code="alpha")
    assert as_bytes(rendered) == as_bytes(expected)
    assert rendered["employer"] == {"name": None, "nature_of_business": None, "address": None}


def test_in_memory_values_render_as_the_serializer(program_a):
    """After a write the object may hold enum members, naive date-times, dates as strings."""
    user = full_user(program_a)
    [loaded_user] = loaded(user)
    loaded_user.status = Status.ACTIVE
    loaded_user.fatca_crs_confirmation_date = datetime(2024, 5, 6, 7, 8, 9)  # naive: UTC
    loaded_user.created_at = datetime(2024, 5, 6, 15, 8, 9, tzinfo=UTC).astimezone(
        datetime.now().astimezone().tzinfo
    )
    loaded_user.data_terms_signed_date = "2024-01-02"
    loaded_user.birth_date = date(2000, 2, 29)
    loaded_user.pep = None
    expected = serializer_render([loaded_user], "alpha")[0]
    rendered = render_user(loaded_user, catalog=get_catalog(), program_code="alpha")
    assert as_bytes(rendered) == as_bytes(expected)


def test_a_page_renders_as_the_serializer_without_extra_queries(program_a):
    users = [
        full_user(
            program_a,
            passport=f"E000000{n}",
            licence=f"DL-0000000{n}",
            customer_id=f"CUST-{n}",
            client_ref_id=f"REF-{n}",
        )
        for n in range(3)
    ]
    users.append(AccountHolderFactory(program=program_a))
    page = loaded(*users)
    catalog = get_catalog()
    expected = serializer_render(page, "alpha")
    with CaptureQueriesContext(connection) as queries:
        rendered = render_users(page, catalog=catalog, program_code="alpha")
    assert len(queries) == 0
    assert as_bytes(rendered) == as_bytes(expected)


def test_unusual_public_id_falls_back_to_reverse(program_a):
    """Links of ids that are not 32 hex characters are still quoted by reverse()."""
    user = AccountHolderFactory(program=program_a)
    [loaded_user] = loaded(user)
    loaded_user.public_id = "ABC def"
    expected = serializer_render([loaded_user], "alpha")[0]
    rendered = render_user(loaded_user, catalog=get_catalog(), program_code="alpha")
    assert rendered["links"] == expected["links"]
    assert rendered["links"][0]["href"] == "/alpha/v2/users/ABC%20def"


# --- PUT answers from the updated object (row and pending updates re-read, children kept)

UPDATES: list[dict[str, Any]] = [
    {"job_title": "Rear Admiral", "metadata": {"zeta": 1, "alpha": {"b": 2, "a": 1}, "mid": []}},
    {
        "identification": [
            {"type": "passport", "number": "E7654321", "country_of_issue": "GBR"},
            {"is_primary": False, "remove": True},
        ],
        "addresses": [
            {"type": "mailing", "address_1": "5 Mail Road", "country": "SGP"},
            {"type": "billing", "remove": True},
        ],
        "tax_residencies": [{"country": "MYS", "tin": "M-1"}],
        "fatca_crs_confirmation_date": "2024-01-01T08:00:00+08:00",
        "birth": {"date": "1991-01-02", "place": "Ipoh", "country": "MYS"},
    },
    {"email": "grace.new@example.com", "first_name": "Gracie"},  # verified e-mail: held
    {"title": "Dr", "first_name": "Grace"},  # every value as stored: nothing written
]


@pytest.mark.parametrize("body", UPDATES)
def test_put_answers_exactly_what_a_following_get_answers(api_a, program_a, body):
    user = full_user(program_a, is_email_verified=True, email="grace@example.com")
    response = api_a.put(f"/alpha/v2/users/{user.public_id}", body, format="json")
    assert response.status_code == 200, response.content
    after = api_a.get(f"/alpha/v2/users/{user.public_id}")
    assert response.content == after.content
    assert response["ETag"] == after["ETag"]


def test_put_changes_are_in_its_answer(api_a, program_a):
    user = full_user(program_a, is_email_verified=True, email="grace@example.com")
    response = api_a.put(f"/alpha/v2/users/{user.public_id}", UPDATES[1], format="json")
    body = response.json()
    assert [(i["type"], i["number"]) for i in body["identification"]] == [("passport", "****4321")]
    assert [a["type"] for a in body["addresses"]] == ["residential", "mailing"]
    assert body["tax_residencies"] == [{"country": "MYS", "tin": "M-1"}]
    held = api_a.put(f"/alpha/v2/users/{user.public_id}", UPDATES[2], format="json").json()
    assert held["email"] == "grace@example.com" and held["first_name"] == "Gracie"
    assert [(p["field"], p["value"]) for p in held["pending_updates"]] == [
        ("email", "grace.new@example.com")
    ]


def test_a_put_that_changes_nothing_reads_the_user_once(api_a, program_a):
    user = full_user(program_a)
    path = f"/alpha/v2/users/{user.public_id}"
    api_a.get(path)  # caches warm (catalog, client): both PUTs below pay the same for them
    with CaptureQueriesContext(connection) as unchanged:
        assert api_a.put(path, {"title": "Dr"}, format="json").status_code == 200
    with CaptureQueriesContext(connection) as changed:
        assert api_a.put(path, {"job_title": "Commodore"}, format="json").status_code == 200

    def user_reads(captured: CaptureQueriesContext) -> int:
        return sum(
            1
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT") and 'FROM "users_accountholder"' in q["sql"]
        )

    # unchanged: the locked read only; changed: the locked read and the answer's re-read
    # (the service's own row-version check selects a single column)
    assert user_reads(changed) - user_reads(unchanged) == 1
    assert len(unchanged) < len(changed)


def test_children_given_by_value_are_rendered_without_a_query(program_a):
    """A write's children reach the renderer as arguments: the user's related managers (and
    the ORM's prefetch caches) are not read for them."""
    user = populated_user(program_a)
    [reference] = loaded(user)
    expected = render_user(reference, catalog=get_catalog(), program_code="alpha")
    children = {
        "identifications": list(reference.identifications.all()),
        "addresses": list(reference.addresses.all()),
        "tax_residencies": list(reference.tax_residencies.all()),
    }
    bare = AccountHolder.objects.get(pk=user.pk)  # nothing prefetched
    bare.open_pending_updates = reference.open_pending_updates  # type: ignore[attr-defined]
    catalog = get_catalog()
    with CaptureQueriesContext(connection) as queries:
        rendered = render_user(bare, catalog=catalog, program_code="alpha", **children)
    assert len(queries) == 0
    assert as_bytes(rendered) == as_bytes(expected)
    assert "_prefetched_objects_cache" not in bare.__dict__
