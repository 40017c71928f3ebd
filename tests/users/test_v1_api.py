# ruff: noqa: E501  (request tables read best one per line)
"""The v1 users API end to end: create, read, update, dry run, re-activate, de-activate."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import check_password

from tests.users.conftest import NRICS, row_counts, v1_body
from users.models import AccountHolder, Identification

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def form(api, method, url, body, **extra):  # type: ignore[no-untyped-def]
    return getattr(api, method)(url, urlencode(body), content_type=FORM, **extra)


V1_USER_KEYS = {
    "id", "email", "name", "mobile", "identification", "alt_identification",
    "country_of_issue", "alt_id_country_of_issue", "countryofissue", "country_code_of_issue",
    "alt_id_countryofissue", "alt_id_country_code_of_issue", "birthday", "place_of_birth", "gender",
    "nationality", "title", "marital_status", "mothers_maiden_name", "mothers_first_name",
    "mothers_last_name", "customer_id", "partner_id", "client_reference_id", "agent_id",
    "employer_name", "employment_type", "source_of_funds", "occupation", "volume_of_assets",
    "nature_of_business", "purpose_of_account", "risk_assessment_status", "account_type",
    "status", "date", "links",
}  # fmt: skip


def test_create_json_answers_the_v1_user(api_a):
    body = v1_body(
        title="mr",
        gender="MALE",
        birthday="1990-05-17",
        nationality="sgp",
        id_type="nric",
        id_number=NRICS[0],
        id_date_issue="2015-01-01",
        id_date_expiry="2035-01-01",
        country_of_issue="SGP",
        password="s3cret!pass",
        source_of_funds="salary",
        customer_id="C-001",
    )
    response = api_a.post("/alpha/v1/users", body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == V1_USER_KEYS
    assert re.fullmatch(r"[0-9a-f]{32}", data["id"])
    assert data["title"] == "Mr" and data["gender"] == "male" and data["nationality"] == "SGP"
    assert data["identification"] == {
        "type": "nric",
        "number": "*****567D",
        "issue": "2015-01-01T00:00:00Z",
        "expiry": "2035-01-01T00:00:00Z",
    }
    assert data["alt_identification"] == {
        "type": None,
        "number": None,
        "issue": None,
        "expiry": None,
    }
    assert data["status"] == {"is_active": True, "text": "active"}
    assert data["account_type"] == "individual"
    assert data["source_of_funds"] == "Salary"
    assert data["mobile"] == {"country_code": "65", "number": body["mobile"]}
    assert data["name"]["first"] == "Ada" and data["name"]["middle"] is None
    assert "password" not in response.content.decode()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["date"]["registration"])
    user = AccountHolder.objects.get(public_id=data["id"])
    assert user.password.startswith("argon2$")
    assert check_password("s3cret!pass", user.password)
    assert "s3cret!pass" not in str(list(user.events.values_list("changes", flat=True)))


def test_create_form_encoded(api_a):
    response = form(api_a, "post", "/alpha/v1/users", v1_body(middle_name="  Byron  "))
    assert response.status_code == 200, response.json()
    assert response.json()["name"]["middle"] == "Byron"


# --- read ---------------------------------------------------------------------------------


def _create(api, **overrides):  # type: ignore[no-untyped-def]
    response = api.post("/alpha/v1/users", v1_body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_read_by_path_and_by_header(api_a):
    created = _create(api_a, id_type="passport", id_number="K1234567")
    by_path = api_a.get(f"/alpha/v1/users/{created['id']}")
    by_header = api_a.get("/alpha/v1/users", HTTP_X_AUTH_USER_ID=created["id"])
    assert by_path.status_code == by_header.status_code == 200
    assert by_path.json() == by_header.json() == created
    assert created["identification"]["number"] == "****4567"


def test_read_errors(api_a):
    assert api_a.get("/alpha/v1/users").json()["code"] == "user_improper_id"
    assert api_a.get("/alpha/v1/users/NOT-AN-ID").status_code == 404
    assert api_a.get("/alpha/v1/users/NOT-AN-ID").json()["code"] == "user_improper_id"
    upper = "A" * 32
    assert api_a.get(f"/alpha/v1/users/{upper}").json()["code"] == "user_improper_id"
    missing = api_a.get(f"/alpha/v1/users/{'0' * 32}")
    assert (missing.status_code, missing.json()["code"]) == (404, "user_record_not_found")


def test_unmasked_id_types_are_shown_whole(api_a):
    from enumerations.models import IdType

    IdType.objects.filter(code="drivers_id").update(masking=False)
    from enumerations.catalog import bump_version

    bump_version()
    created = _create(api_a, id_type="drivers_id", id_number="DL-2024-77")
    assert created["identification"]["number"] == "DL-2024-77"


# --- tenancy ------------------------------------------------------------------------------


def test_another_programs_user_is_not_found(api_a, api_b):
    theirs = _create(api_a)
    uid = theirs["id"]
    answers = [
        api_b.get(f"/beta/v1/users/{uid}"),
        api_b.get("/beta/v1/users", HTTP_X_AUTH_USER_ID=uid),
        api_b.put("/beta/v1/users", {"first_name": "Eve"}, format="json", HTTP_X_AUTH_USER_ID=uid),
        api_b.put("/beta/v1/users/test", {"first_name": "Eve"}, format="json", HTTP_X_AUTH_USER_ID=uid),
        api_b.post("/beta/v1/users", {"id": uid}, format="json"),
        api_b.delete(f"/beta/v1/users/{uid}", {"state": "blocked"}, format="json"),
    ]  # fmt: skip
    assert [(r.status_code, r.json()["code"]) for r in answers] == [
        (404, "user_record_not_found")
    ] * 6
    user = AccountHolder.objects.get(public_id=uid)
    assert (user.first_name, user.status) == ("Ada", "active")
    # and program B may use A's email and mobile for its own user
    body = v1_body(email=theirs["email"], mobile=theirs["mobile"]["number"])
    assert api_b.post("/beta/v1/users", body, format="json").status_code == 200
    # a client of program A cannot name program B in the URL
    assert api_a.get(f"/beta/v1/users/{uid}").json()["code"] == "invalid_tenant"


# --- uniqueness -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "code", "field"),
    [
        ({"email": "Ada@Example.com"}, {"email": "ada@example.COM"}, "resource_user_email_unique", "email"),
        ({"mobile": "91112222"}, {"mobile": "91112222"}, "resource_user_mobile_unique", "mobile"),
        ({"customer_id": "C-9"}, {"customer_id": "C-9"}, "resource_user_customer_id_in_use", "customer_id"),
        ({"id_type": "passport", "id_number": "K7654321"}, {"id_type": "passport", "id_number": "k7654321"}, "resource_id_type_unique", "id_number"),
        ({"alt_id_type": "passport", "alt_id_number": "K7654321"}, {"id_type": "passport", "id_number": "K7654321"}, "resource_id_type_unique", "id_number"),
    ],
)  # fmt: skip
def test_uniqueness(api_a, first, second, code, field):
    _create(api_a, **first)
    before = row_counts()
    response = api_a.post("/alpha/v1/users", v1_body(**second), format="json")
    assert response.status_code == 400
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert row_counts() == before


def test_blocked_users_free_their_email_and_mobile(api_a):
    first = _create(api_a, customer_id="C-77")
    api_a.delete(f"/alpha/v1/users/{first['id']}", {"state": "blocked"}, format="json")
    again = api_a.post(
        "/alpha/v1/users",
        v1_body(email=first["email"], mobile=first["mobile"]["number"]),
        format="json",
    )
    assert again.status_code == 200
    # customer ids stay unique whatever the status
    taken = api_a.post("/alpha/v1/users", v1_body(customer_id="C-77"), format="json")
    assert taken.json()["code"] == "resource_user_customer_id_in_use"


def test_max_duplicate_allows_that_many_live_holders(api_a):
    from enumerations.catalog import bump_version
    from enumerations.models import IdType

    IdType.objects.filter(code="passport").update(max_duplicate=2)
    bump_version()
    ids = []
    for _ in range(2):
        ids.append(_create(api_a, id_type="passport", id_number="E1234567")["id"])
    third = api_a.post(
        "/alpha/v1/users", v1_body(id_type="passport", id_number="E1234567"), format="json"
    )
    assert third.json()["code"] == "resource_id_type_unique"
    slots = sorted(Identification.objects.values_list("dup_slot", flat=True))
    assert slots == [0, 1]
    api_a.delete(f"/alpha/v1/users/{ids[0]}", {"state": "blocked"}, format="json")
    assert (
        api_a.post(
            "/alpha/v1/users", v1_body(id_type="passport", id_number="E1234567"), format="json"
        ).status_code
        == 200
    )


# --- update and dry run -------------------------------------------------------------------


def test_update_partial_keeps_other_fields(api_a):
    created = _create(api_a, id_type="passport", id_number="K1112223", customer_id="C-1")
    response = form(
        api_a,
        "put",
        "/alpha/v1/users",
        {"middle_name": "Byron", "country_of_issue": "GBR", "occupation": "engineer"},
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["name"] == {**created["name"], "middle": "Byron"}
    assert data["country_of_issue"] == "GBR" and data["occupation"] == "Engineer"
    assert data["identification"]["type"] == "passport"
    assert data["customer_id"] == "C-1"
    user = AccountHolder.objects.get(public_id=created["id"])
    assert user.row_version == 2
    event = user.events.filter(type="updated").get()
    assert event.changes["middle_name"] == [None, "B***"]
    assert event.changes["identification.primary.country_of_issue"] == [None, "GBR"]


def test_update_validates_like_create_and_saves_nothing_on_error(api_a):
    created = _create(api_a)
    before = row_counts()
    response = api_a.put(
        "/alpha/v1/users",
        {"first_name": "R2D2", "id_number": "K1234567"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert [e["code"] for e in response.json()["errors"]] == [
        "resource_user_first_name_rule",
        "resource_user_id_type_and_number_invalid",
    ]
    assert row_counts() == before
    assert AccountHolder.objects.get(public_id=created["id"]).row_version == 1


def test_update_requires_nothing_already_held_but_refuses_clearing_pairs(api_a):
    created = _create(api_a)
    only_mobile = api_a.put(
        "/alpha/v1/users", {"mobile": "98765432"}, format="json", HTTP_X_AUTH_USER_ID=created["id"]
    )
    assert only_mobile.json()["code"] == "resource_user_wallet_fund_mobile_insufficient_dependency"
    both = api_a.put(
        "/alpha/v1/users",
        {"mobile": "98765432", "mobile_country_code": "65"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert both.json()["mobile"]["number"] == "98765432"


def test_dry_run_validates_and_saves_nothing(api_a):
    other = _create(api_a)
    created = _create(api_a)
    before = row_counts()
    ok = api_a.put(
        "/alpha/v1/users/test",
        {"last_name": "Byron", "id_type": "passport", "id_number": "K5555555"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert ok.status_code == 200
    assert ok.json()["name"]["last"] == "Byron"
    assert ok.json()["identification"]["number"] == "****5555"
    clash = api_a.put(
        "/alpha/v1/users/test",
        {"email": other["email"]},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert clash.json()["code"] == "resource_user_email_unique"
    assert row_counts() == before
    assert api_a.get(f"/alpha/v1/users/{created['id']}").json() == created


def test_names_are_frozen_once_a_wallet_exists(api_a):
    from django.utils import timezone

    created = _create(api_a)
    AccountHolder.objects.filter(public_id=created["id"]).update(wallet_created_at=timezone.now())
    response = api_a.put(
        "/alpha/v1/users",
        {"first_name": "Augusta", "preferred_name": "Gus", "middle_name": "King"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("first_name", "resource_user_first_name_last_name_preferred_name_error"),
        ("preferred_name", "resource_user_first_name_last_name_preferred_name_error"),
    ]
    unchanged = api_a.put(
        "/alpha/v1/users",
        {"first_name": "Ada", "middle_name": "King"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert unchanged.status_code == 200 and unchanged.json()["name"]["middle"] == "King"


def test_password_change_is_hashed_never_returned(api_a):
    created = _create(api_a, password="first!pass1")
    response = api_a.put(
        "/alpha/v1/users",
        {"password": "second!pass2"},
        format="json",
        HTTP_X_AUTH_USER_ID=created["id"],
    )
    assert response.status_code == 200 and "password" not in response.json()
    user = AccountHolder.objects.get(public_id=created["id"])
    assert user.password.startswith("argon2$") and check_password("second!pass2", user.password)
    changes = user.events.filter(type="updated").get().changes
    assert changes == {"password": ["********", "********"]}


# --- re-activation --------------------------------------------------------------------------


def _status(uid: str, status: str, risk: str = "CLEARED") -> None:
    AccountHolder.objects.filter(public_id=uid).update(status=status, risk_status=risk)


@pytest.mark.parametrize("status", ["locked", "suspended"])
def test_reactivate_locked_or_suspended(api_a, status):
    created = _create(api_a)
    _status(created["id"], status)
    key = "id" if status == "locked" else "user_id"
    response = form(api_a, "post", "/alpha/v1/users", {key: created["id"]})
    assert response.status_code == 200
    assert response.json()["status"] == {"is_active": True, "text": "active"}
    user = AccountHolder.objects.get(public_id=created["id"])
    change = user.status_changes.order_by("-id").first()
    assert (change.from_status, change.to_status, change.actor_kind) == (
        status,
        "active",
        "api_client",
    )


@pytest.mark.parametrize("risk", ["CLEARED", "PENDING"])
def test_reactivate_active_is_idempotent(api_a, risk):
    created = _create(api_a)
    _status(created["id"], "active", risk)
    before = row_counts()
    response = api_a.post("/alpha/v1/users", {"id": created["id"]}, format="json")
    assert response.status_code == 200 and response.json()["status"]["text"] == "active"
    assert row_counts() == before


@pytest.mark.parametrize("risk", ["PENDING", "REJECTED"])
def test_reactivate_flagged_needs_an_exemption(api_a, risk):
    from datetime import timedelta

    from django.utils import timezone

    from users.exemptions import exemption_grant

    created = _create(api_a)
    _status(created["id"], "suspended", risk)
    refused = api_a.post("/alpha/v1/users", {"id": created["id"]}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (
        400,
        "unsuspend_flagged_user_not_allowed",
    )
    user = AccountHolder.objects.get(public_id=created["id"])
    exemption_grant(
        user=user, reason="reviewed", expires_at=timezone.now() + timedelta(days=1), granted_by=None
    )
    assert api_a.post("/alpha/v1/users", {"id": created["id"]}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("blocked", "resource_user_reactivation_not_allowed"),
        ("terminated", "resource_user_reactivation_not_allowed"),
        ("blacklisted", "resource_user_reactivation_not_allowed"),
        ("rejected", "resource_user_reactivation_not_allowed"),
        ("pending", "resource_user_status_transition_not_allowed"),
        ("pending_verification", "resource_user_status_transition_not_allowed"),
    ],
)
def test_reactivate_refusals(api_a, status, code):
    created = _create(api_a)
    _status(created["id"], status)
    before = row_counts()
    response = api_a.post("/alpha/v1/users", {"user_id": created["id"]}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert row_counts() == before


def test_reactivate_id_errors(api_a):
    assert api_a.post("/alpha/v1/users", {"id": "xyz"}, format="json").json()["code"] == (
        "user_improper_id"
    )
    missing = api_a.post("/alpha/v1/users", {"id": "f" * 32}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "user_record_not_found")
    mixed = api_a.post("/alpha/v1/users", v1_body(id="f" * 32), format="json")
    assert (mixed.status_code, mixed.json()["errors"][0]["field"]) == (400, "id")


# --- de-activation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "state"),
    [({}, "suspended"), ({"state": "Blocked"}, "blocked"), ({"state": ""}, "suspended")],
)
def test_deactivate(api_a, body, state):
    created = _create(api_a)
    response = form(api_a, "delete", f"/alpha/v1/users/{created['id']}", body)
    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "state": state}
    assert AccountHolder.objects.get(public_id=created["id"]).status == state


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        ("active", {"state": "deleted"}, "resource_user_state_invalid"),
        ("suspended", {"state": "deleted"}, "resource_user_state_invalid"),
        ("suspended", {"state": "suspended"}, "user_record_already_suspended"),
        ("suspended", {}, "user_record_already_suspended"),
        ("blocked", {"state": "blocked"}, "resource_user_status_transition_not_allowed"),
        ("blocked", {"state": "suspended"}, "resource_user_status_transition_not_allowed"),
        ("pending", {"state": "suspended"}, "resource_user_status_transition_not_allowed"),
    ],
)
def test_deactivate_refusals(api_a, status, body, code):
    created = _create(api_a)
    _status(created["id"], status)
    before = row_counts()
    response = api_a.delete(f"/alpha/v1/users/{created['id']}", body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert row_counts() == before


def test_deactivate_unknown_body_field(api_a):
    created = _create(api_a)
    response = api_a.delete(f"/alpha/v1/users/{created['id']}", {"why": "x"}, format="json")
    assert response.json()["code"] == "resource_user_unknown_field"


# --- query counts ----------------------------------------------------------------------------


def _count(django_assert_max_num_queries, call):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_query_counts_are_constant(api_a, make_user, django_assert_max_num_queries):
    created = _create(api_a, id_type="passport", id_number="K0000001")  # warms caches
    uid = created["id"]
    counts = {
        "create": _count(django_assert_max_num_queries, lambda: api_a.post("/alpha/v1/users", v1_body(id_type="passport", id_number="K0000002"), format="json")),
        "read": _count(django_assert_max_num_queries, lambda: api_a.get(f"/alpha/v1/users/{uid}")),
        "update": _count(django_assert_max_num_queries, lambda: api_a.put("/alpha/v1/users", {"middle_name": "X"}, format="json", HTTP_X_AUTH_USER_ID=uid)),
    }  # fmt: skip
    for _ in range(30):
        make_user()
    again = {
        "create": _count(django_assert_max_num_queries, lambda: api_a.post("/alpha/v1/users", v1_body(id_type="passport", id_number="K0000003"), format="json")),
        "read": _count(django_assert_max_num_queries, lambda: api_a.get(f"/alpha/v1/users/{uid}")),
        "update": _count(django_assert_max_num_queries, lambda: api_a.put("/alpha/v1/users", {"middle_name": "Y"}, format="json", HTTP_X_AUTH_USER_ID=uid)),
    }  # fmt: skip
    assert counts == again
    # read: auth, user, its identifications (+ the rate-limit counter on writes). Writes add
    # the uniqueness pre-checks, screening (3), the inserts / update, history and audit rows
    # and the transaction around them, and the webhook dispatch task row (SPEC §13: +1 per
    # write); none of it grows with the number of users.
    assert counts["read"] <= 4, counts
    assert counts["create"] <= 15, counts
    assert counts["update"] <= 23, counts
