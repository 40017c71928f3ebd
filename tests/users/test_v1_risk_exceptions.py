"""`GET/POST /{program}/v1/users/risk/exceptions` (SPEC §11): the per-client permission,
validation, the exemption service with the API client as actor, and the program's list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from risk.models import RiskExemption
from tests.users.conftest import row_counts

pytestmark = pytest.mark.django_db

URL = "/alpha/v1/users/risk/exceptions"


@pytest.fixture
def allowed(client_a):  # type: ignore[no-untyped-def]
    client_a.permissions = ["risk_exceptions"]
    client_a.save()
    return client_a


def _future(days: int = 30) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def test_grant_needs_the_permission(api_a, make_user):
    user = make_user()
    response = api_a.post(
        URL, {"date_expiry": _future(), "reason": "KYC done"}, format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (403, "restricted_resource")
    assert "risk_exceptions" in response.json()["description"]
    assert not RiskExemption.objects.exists()


def test_grant_records_the_client_and_lets_a_flagged_user_back(api_a, allowed, make_user):
    user = make_user()
    user.status, user.risk_status = "suspended", "PENDING"
    user.save()
    refused = api_a.post("/alpha/v1/users", {"id": user.public_id}, format="json")
    assert refused.json()["code"] == "unsuspend_flagged_user_not_allowed"
    expiry = _future(10)
    response = api_a.post(
        URL, f"date_expiry={expiry}&reason=Reviewed+by+partner",
        content_type="application/x-www-form-urlencoded", HTTP_X_AUTH_USER_ID=user.public_id,
    )  # fmt: skip
    assert response.status_code == 200, response.json()
    item = response.json()
    assert item["id"] == user.public_id and item["type"] == "user"
    assert item["date_expiry"] == expiry
    assert item["links"] == {
        "rel": "users.self", "href": f"/alpha/v1/users/{user.public_id}", "method": "GET",
    }  # fmt: skip
    exemption = RiskExemption.objects.get()
    assert exemption.granted_by is None and exemption.reason == "Reviewed by partner"
    event = user.events.filter(changes__has_key="risk_exemption").get()
    assert (event.actor_kind, event.actor_id, event.channel) == (
        "api_client", allowed.client_id, "api_v1",
    )  # fmt: skip
    back = api_a.post("/alpha/v1/users", {"id": user.public_id}, format="json")
    assert back.status_code == 200 and back.json()["status"]["text"] == "active"


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, ["resource_risk_exception_date_expiry_required",
              "resource_risk_exception_reason_required"]),
        ({"date_expiry": "soon", "reason": "x"}, ["resource_risk_exception_date_expiry_invalid"]),
        ({"date_expiry": "2001-01-01 00:00:00", "reason": "x"},
         ["resource_risk_exception_date_expiry_invalid"]),
        ({"date_expiry": "PLUS6Y", "reason": "x"},
         ["resource_risk_exception_date_expiry_invalid"]),
        ({"date_expiry": "FUTURE", "reason": "x" * 501},
         ["resource_risk_exception_reason_lengthmax"]),
        ({"date_expiry": "FUTURE", "reason": "x", "user": "y"},
         ["resource_user_unknown_field"]),
    ],
)  # fmt: skip
def test_invalid_grants_save_nothing(api_a, allowed, make_user, body, codes):
    user = make_user()
    body = dict(body)
    if body.get("date_expiry") == "FUTURE":
        body["date_expiry"] = _future()
    if body.get("date_expiry") == "PLUS6Y":
        body["date_expiry"] = _future(6 * 366)
    before = row_counts()
    response = api_a.post(URL, body, format="json", HTTP_X_AUTH_USER_ID=user.public_id)
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == codes
    assert row_counts() == before and not RiskExemption.objects.exists()


def test_list_is_the_programs_active_exemptions_newest_first(
    api_a, api_b, allowed, make_user, program_b
):
    users = [make_user(first_name=name) for name in ("Ada", "Bea", "Cy")]
    for user in users:
        response = api_a.post(
            URL, {"date_expiry": _future(), "reason": "ok"}, format="json",
            HTTP_X_AUTH_USER_ID=user.public_id,
        )  # fmt: skip
        assert response.status_code == 200
    RiskExemption.objects.filter(user=users[0]).update(
        expires_at=datetime(2000, 1, 1, tzinfo=UTC), granted_at=datetime(1999, 1, 1, tzinfo=UTC)
    )
    make_user(program=program_b)
    body = api_a.get(URL).json()
    assert body["count"] == {"total": 2}
    assert [e["first_name"] for e in body["exceptions"]] == ["Cy", "Bea"]
    paged = api_a.get(URL, {"records_per_page": 1, "page": 2}).json()
    assert [e["first_name"] for e in paged["exceptions"]] == ["Bea"]
    assert paged["count"]["total"] == 2
    assert api_b.get("/beta/v1/users/risk/exceptions").json() == {
        "exceptions": [], "count": {"total": 0},
    }  # fmt: skip
    bad = api_a.get(URL, {"records_per_page": 0})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_query_param")


def test_idempotency_key_is_scoped_to_the_user_in_the_header(api_a, allowed, make_user):
    first, second = make_user(), make_user()
    body = {"date_expiry": _future(), "reason": "ok"}
    one = api_a.post(
        URL, body, format="json", HTTP_X_AUTH_USER_ID=first.public_id, HTTP_IDEMPOTENCY_KEY="k1"
    )
    again = api_a.post(
        URL, body, format="json", HTTP_X_AUTH_USER_ID=first.public_id, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert again["Idempotent-Replayed"] == "true" and again.content == one.content
    other = api_a.post(
        URL, body, format="json", HTTP_X_AUTH_USER_ID=second.public_id, HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert RiskExemption.objects.count() == 1
