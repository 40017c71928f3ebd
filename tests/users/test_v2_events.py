"""GET /{program}/v2/users/{user_id}/events: the audit trail, newest first, paged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import AccountHolderFactory
from tests.users.v2_support import UTC_FORMAT, assert_v2_error
from users.lifecycle import Actor, user_change_status
from users.models import Channel, UserEvent

pytestmark = pytest.mark.django_db


def events_url(user_id: str, program: str = "alpha") -> str:
    return f"/{program}/v2/users/{user_id}/events"


def create(api: Any) -> dict[str, Any]:
    body = {
        "type": "customer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": "ada.events@example.com",
        "mobile_country_code": "65",
        "mobile": "91230000",
        "birth": {"date": "1990-01-31", "place": "London"},
    }
    response = api.post("/alpha/v2/users", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def event_rows(user: Any, count: int) -> list[UserEvent]:
    """`count` events one minute apart, oldest first."""
    start = timezone.now() - timedelta(hours=2)
    return [
        UserEvent.objects.create(
            user=user,
            type="updated",
            actor_kind="api_client",
            actor_id="cl_test",
            channel="api_v2",
            changes={"title": [None, f"T{i}"]},
            at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]


def test_trail_of_api_writes_newest_first(api_a, client_a, program_a):
    user = create(api_a)
    response = api_a.put(
        f"/alpha/v2/users/{user['id']}",
        {"first_name": "Augusta", "birth": {"date": "1991-02-28", "place": "London"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    response = api_a.get(events_url(user["id"]))
    assert response.status_code == 200
    data = response.json()["data"]
    assert [e["at"] for e in data] == sorted((e["at"] for e in data), reverse=True)
    created = next(e for e in data if e["type"] == "created")
    updated = next(e for e in data if e["type"] == "updated")
    assert data.index(updated) < data.index(created)
    for event in (created, updated):
        assert event["actor"] == {"kind": "api_client", "id": client_a.client_id}
        assert event["channel"] == "api_v2"
        assert UTC_FORMAT.match(event["at"])
        assert len(event["id"]) == 32
    # changes old → new with PII masked, named as v2 names them
    assert updated["changes"]["first_name"] == ["A***", "A***"]
    assert updated["changes"]["birth.date"] == ["****-**-**", "****-**-**"]
    assert "birth_date" not in updated["changes"]
    assert "Augusta" not in str(data) and "1991-02-28" not in str(data)
    assert created["changes"]["email"][1] != "ada.events@example.com"


def test_status_change_with_its_reason(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    user_change_status(
        user=user,
        to_status="locked",
        actor=Actor.system(),
        channel=Channel.SYSTEM,
        reason="too many failed logins",
    )
    data = api_a.get(events_url(user.public_id)).json()["data"]
    assert data[0]["type"] == "status_changed"
    assert data[0]["reason"] == "too many failed logins"
    assert data[0]["actor"]["kind"] == "system"
    assert data[0]["changes"]["status"] == ["active", "locked"]


def test_paged_like_the_list(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    rows = event_rows(user, 7)[::-1]
    first = api_a.get(events_url(user.public_id), {"records_per_page": 3}).json()
    assert [e["id"] for e in first["data"]] == [r.public_id for r in rows[:3]]
    assert first["pagination"]["page"] == 1
    second = api_a.get(first["pagination"]["next"]).json()
    assert [e["id"] for e in second["data"]] == [r.public_id for r in rows[3:6]]
    by_cursor = api_a.get(
        events_url(user.public_id),
        {"records_per_page": 3, "cursor": first["pagination"]["next_cursor"]},
    ).json()
    assert by_cursor["data"] == second["data"]
    oldest_first = api_a.get(events_url(user.public_id), {"sort_order": "ASC"}).json()
    assert [e["id"] for e in oldest_first["data"]] == [r.public_id for r in rows[::-1]]


def test_only_this_users_events(api_a, program_a):
    user, other = AccountHolderFactory(program=program_a), AccountHolderFactory(program=program_a)
    event_rows(user, 2)
    event_rows(other, 3)
    assert len(api_a.get(events_url(user.public_id)).json()["data"]) == 2


def test_404s_and_tenancy(api_a, api_b, program_a):
    user = AccountHolderFactory(program=program_a)
    event_rows(user, 1)
    assert_v2_error(api_a.get(events_url("xyz")), 404, "user_improper_id")
    assert_v2_error(api_a.get(events_url("a" * 32)), 404, "user_record_not_found")
    assert_v2_error(api_b.get(events_url(user.public_id, "beta")), 404, "user_record_not_found")


@pytest.mark.parametrize(
    "params",
    [{"records_per_page": "500"}, {"status": "active"}, {"cursor": "forged"}, {"page": "x"}],
)
def test_invalid_parameters(api_a, program_a, params):
    user = AccountHolderFactory(program=program_a)
    assert_v2_error(api_a.get(events_url(user.public_id), params), 400, "invalid_query_param")


def test_a_users_list_cursor_is_not_an_events_cursor(api_a, program_a):
    AccountHolderFactory(program=program_a)
    user = AccountHolderFactory(program=program_a)
    cursor = api_a.get("/alpha/v2/users", {"records_per_page": 1}).json()["pagination"][
        "next_cursor"
    ]
    response = api_a.get(events_url(user.public_id), {"cursor": cursor})
    assert_v2_error(response, 400, "invalid_query_param")


def test_queries_do_not_grow_with_the_page_size(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    event_rows(user, 30)
    api_a.get(events_url(user.public_id))  # warm-up
    counts = []
    for size in (2, 30):
        with CaptureQueriesContext(connection) as captured:
            response = api_a.get(events_url(user.public_id), {"records_per_page": size})
        assert len(response.json()["data"]) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]
