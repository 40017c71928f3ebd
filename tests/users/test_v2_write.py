"""POST and PUT /{program}/v2/users: nested objects, list upserts, errors, ETag, pending updates."""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from risk.models import BlacklistEntry
from risk.services import blacklist_entry_save
from tests.conftest import api_for, requires_postgres
from tests.factories import AccountHolderFactory
from tests.users.v2_support import assert_v2_error, full_user, sources, table_counts
from users.models import AccountHolder, Address, Identification, PendingUpdate, TaxResidency
from users.services import pending_update_approve, pending_update_reject

pytestmark = pytest.mark.django_db
LIST = "/alpha/v2/users"
_seq = itertools.count(1)


def url(user_id: str, program: str = "alpha") -> str:
    return f"/{program}/v2/users/{user_id}"


def base_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body: dict[str, Any] = {
        "type": "customer",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "email": f"ada{n}@example.com",
        "mobile_country_code": "65",
        "mobile": f"9{n % 10_000_000:07d}",
    }
    body.update(overrides)
    return body


def full_body(**overrides: Any) -> dict[str, Any]:
    return base_body(
        client_ref_id="REF-9",
        salutation="Ms",
        title="Dr",
        middle_name="Augusta",
        maiden_name="Byron",
        gender="female",
        marital_status="married",
        identification=[
            {
                "type": "passport",
                "number": "E7654321",
                "issue_date": "2020-01-01",
                "expiry_date": "2035-01-01",
                "country_of_issue": "GBR",
                "is_primary": True,
            },
            {"type": "drivers_id", "number": "DL-12345", "is_primary": False},
        ],
        birth={"date": "1990-12-10", "place": "London", "country": "GBR"},
        nationality="GBR",
        mothers_details={"first_name": "Anne", "last_name": "Milbanke", "maiden_name": "Noel"},
        fathers_details={"first_name": "George", "middle_name": "Gordon", "last_name": "Byron"},
        addresses=[
            {
                "type": "residential",
                "address_1": "12 St James's Square",
                "city": "London",
                "country": "GBR",
                "zipcode": "SW1Y 4JH",
            },
            {
                "type": "billing",
                "address_1": "1 Raffles Place",
                "city": "Singapore",
                "country": "SGP",
            },
        ],
        employment_type="Full-time",
        job_title="Analyst",
        employer={
            "name": "Analytical Engines",
            "nature_of_business": "Computing",
            "address": {"address_1": "1 Babbage Lane", "country": "GBR"},
        },
        annual_income="Above 200,000",
        main_income_source="Salary",
        social_professional_category="Executive",
        purpose_of_account="Savings",
        country_of_residence="SGP",
        tax_residencies=[{"country": "GBR", "tin": "AB123456C"}, {"country": "SGP", "tin": "S1"}],
        fatca_crs_relevant=True,
        fatca_crs_confirmation_date="2024-01-01T08:00:00+08:00",
        pep=False,
        provider={"reference_id": "PRV-9", "account_number": "ACC-9", "posting_status": "posted"},
        data_terms_signed_date="2024-01-02",
        metadata={"segment": "gold"},
        created_by={"system": "crm"},
        customer_id="CUST-9",
        partner_id="P-9",
        agent_id="A-9",
        **overrides,
    )


def create(api: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.post(LIST, body or base_body(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def put(api: Any, user_id: str, body: Any, **headers: str) -> Any:
    return api.put(url(user_id), body, format="json", **headers)


def put_ok(api: Any, user_id: str, body: Any) -> dict[str, Any]:
    response = put(api, user_id, body)
    assert response.status_code == 200, response.content
    return response.json()


# --- create


def test_create_with_every_field(api_a, program_a):
    response = api_a.post(LIST, full_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert response.headers["ETag"] == f'"{AccountHolder.objects.get().row_version}"'
    assert body["status"] == "active" and body["risk_status"] == "CLEARED"
    assert body["birth"] == {"date": "1990-12-10", "place": "London", "country": "GBR"}
    assert body["mothers_details"] == {
        "first_name": "Anne",
        "middle_name": None,
        "last_name": "Milbanke",
        "maiden_name": "Noel",
    }
    assert body["fathers_details"]["middle_name"] == "Gordon"
    assert body["employer"]["name"] == "Analytical Engines"
    assert body["employer"]["address"]["address_1"] == "1 Babbage Lane"
    assert [a["type"] for a in body["addresses"]] == ["residential", "billing"]
    assert [(i["type"], i["is_primary"]) for i in body["identification"]] == [
        ("passport", True),
        ("drivers_id", False),
    ]
    assert body["identification"][0]["number"] == "****4321"
    assert body["tax_residencies"] == [
        {"country": "GBR", "tin": "AB123456C"},
        {"country": "SGP", "tin": "S1"},
    ]
    assert body["fatca_crs_confirmation_date"] == "2024-01-01T00:00:00Z"
    assert body["provider"]["account_number"] == "ACC-9"
    assert body["metadata"] == {"segment": "gold"} and body["created_by"] == {"system": "crm"}
    assert (body["customer_id"], body["partner_id"], body["agent_id"]) == ("CUST-9", "P-9", "A-9")
    user = AccountHolder.objects.get(public_id=body["id"])
    assert user.program == program_a
    assert sorted(user.addresses.values_list("type", flat=True)) == [
        "billing",
        "employer",
        "residential",
    ]
    assert user.identifications.count() == 2 and user.tax_residencies.count() == 2
    # the response is what a later GET answers
    assert api_a.get(url(body["id"])).json() == body


def test_create_is_pending_verification_when_the_program_requires_kyc(api_a, program_a):
    program_a.kyc_required = True
    program_a.save()
    assert create(api_a)["status"] == "pending_verification"


def test_create_requires_the_v2_fields_all_at_once(api_a, program_a):
    before = table_counts()
    body = assert_v2_error(api_a.post(LIST, {}, format="json"), 400, "validation_error")
    assert set(sources(body)) == {
        ("type", "resource_user_account_type_required"),
        ("first_name", "resource_user_first_name_required"),
        ("last_name", "resource_user_last_name_required"),
        ("preferred_name", "resource_user_preferred_name_required"),
        ("email", "resource_user_email_required"),
        ("mobile_country_code", "resource_user_mobile_country_code_required"),
        ("mobile", "resource_user_mobile_required"),
    }
    assert table_counts() == before


def test_program_required_fields_are_named_by_their_v2_paths(api_a, program_a):
    program_a.required_fields = ["birthday", "nationality", "id_type", "id_number", "address"]
    program_a.save()
    body = assert_v2_error(api_a.post(LIST, base_body(), format="json"), 400, "validation_error")
    assert set(sources(body)) == {
        ("birth.date", "resource_user_birthday_required"),
        ("nationality", "resource_user_nationality_required"),
        ("identification[0].type", "resource_user_id_type_required"),
        ("identification[0].number", "resource_user_id_number_required"),
        ("addresses[0]", "resource_user_address_required"),
    }
    ok = base_body(
        birth={"date": "1990-01-01"},
        nationality="SGP",
        identification=[{"type": "passport", "number": "E1111111"}],
        addresses=[{"type": "residential", "address_1": "1 Road", "country": "SGP"}],
    )
    create(api_a, ok)


@pytest.mark.parametrize(
    ("required", "path"),
    [
        ("place_of_birth", "birth.place"),
        ("mothers_maiden_name", "mothers_details.maiden_name"),
        ("employer_name", "employer.name"),
        ("nature_of_business", "employer.nature_of_business"),
        ("source_of_funds", "main_income_source"),
        ("client_reference_id", "client_ref_id"),
        ("country_of_issue", "identification[0].country_of_issue"),
        ("id_date_expiry", "identification[0].expiry_date"),
    ],
)
def test_v1_named_required_fields_map_to_v2_paths(api_a, program_a, required, path):
    program_a.required_fields = [required]
    program_a.save()
    body = assert_v2_error(api_a.post(LIST, base_body(), format="json"), 400, "validation_error")
    assert sources(body) == [(path, f"resource_user_{required}_required")]


@pytest.mark.parametrize(
    "field", ["status", "kyc_status", "risk_status", "is_email_verified", "id"]
)
def test_response_only_fields_are_refused_on_create(api_a, program_a, field):
    before = table_counts()
    body = assert_v2_error(
        api_a.post(LIST, base_body(**{field: "active"}), format="json"), 400, "validation_error"
    )
    assert sources(body) == [(field, "resource_user_unknown_field")]
    assert table_counts() == before


def test_unknown_fields_at_any_level_one_source_each(api_a, program_a):
    before = table_counts()
    body = base_body(nickname="Ada", birth={"date": "1990-01-01", "hour": 3})
    body["addresses"] = [{"type": "billing", "address_1": "x", "country": "SGP", "floor": 2}]
    response = assert_v2_error(api_a.post(LIST, body, format="json"), 400, "validation_error")
    assert sorted(sources(response)) == [
        ("addresses[0].floor", "resource_user_unknown_field"),
        ("birth.hour", "resource_user_unknown_field"),
        ("nickname", "resource_user_unknown_field"),
    ]
    assert table_counts() == before


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null", '{"first_name": ', "{'a': 1}"])
def test_a_body_that_is_not_a_json_object_is_invalid_model(api_a, program_a, raw):
    response = api_a.post(LIST, raw, content_type="application/json")
    assert_v2_error(response, 400, "invalid_model")
    user = AccountHolderFactory(program=program_a)
    response = api_a.put(url(user.public_id), raw, content_type="application/json")
    assert_v2_error(response, 400, "invalid_model")


def test_form_bodies_are_not_v2(api_a, program_a):
    response = api_a.post(LIST, {"first_name": "Ada"})  # multipart
    assert_v2_error(response, 415, "unsupported_media_type")


def test_nested_failures_carry_dotted_paths_and_nothing_is_saved(api_a, program_a):
    user = full_user(program_a)
    before, version = table_counts(), user.row_version
    body = {
        "birth": {"date": "31-01-1990"},
        "mothers_details": {"first_name": "M4ry"},
        "identification": [
            {"type": "drivers_id", "number": "DL-1", "is_primary": False},
            {"type": "passport", "number": "E1!"},
        ],
        "addresses": [
            {"type": "residential", "address_1": "1 Road", "country": "SGP"},
            {"type": "billing", "address_1": "2 Road", "country": "SGP", "zipcode": "%%%"},
        ],
        "tax_residencies": [{"country": "XXX", "tin": "1"}],
        "employer": {"name": "ACME", "address": {"address_1": "3 Road", "country": "ZZZ"}},
    }
    response = assert_v2_error(put(api_a, user.public_id, body), 400, "validation_error")
    fields = {field for field, _ in sources(response)}
    assert {
        "birth.date",
        "mothers_details.first_name",
        "identification[1].number",
        "addresses[1].zipcode",
        "tax_residencies[0].country",
        "employer.address.country",
    } <= fields
    assert ("birth.date", "resource_user_birthday_invalid") in sources(response)
    assert ("identification[1].number", "resource_id_type_rule_not_matched") in sources(response)
    assert table_counts() == before
    user.refresh_from_db()
    assert user.row_version == version and user.birth_date.isoformat() == "1990-12-09"


def v1_post(api: Any, body: dict[str, Any]) -> Any:
    return api.post("/alpha/v1/users", body, format="json")


@pytest.mark.parametrize(
    ("v1", "v2"),
    [
        ({"email": "not-an-email"}, {"email": "not-an-email"}),
        ({"birthday": "2999-01-01"}, {"birth": {"date": "2999-01-01"}}),
        ({"birthday": "2020-01-01"}, {"birth": {"date": "2020-01-01"}}),
        ({"birthday": "1990-02-30"}, {"birth": {"date": "1990-02-30"}}),
        ({"title": "Sir"}, {"title": "Sir"}),
        ({"gender": "robot"}, {"gender": "robot"}),
        ({"mobile": "123"}, {"mobile": "123"}),
        ({"mobile_country_code": "999"}, {"mobile_country_code": "999"}),
        ({"first_name": "Ad4"}, {"first_name": "Ad4"}),
        ({"customer_id": "c" * 51}, {"customer_id": "c" * 51}),
        ({"mothers_first_name": "M4"}, {"mothers_details": {"first_name": "M4"}}),
        (
            {"id_type": "passport", "id_number": "!!"},
            {"identification": [{"type": "passport", "number": "!!"}]},
        ),
        (
            {"id_type": "library_card", "id_number": "E1234567"},
            {"identification": [{"type": "library_card", "number": "E1234567"}]},
        ),
        ({"nationality": "XYZ"}, {"nationality": "XYZ"}),
    ],
)
def test_codes_are_the_codes_v1_gives(api_a, program_a, v1, v2):
    n = next(_seq)
    common = {"email": f"same{n}@example.com", "mobile": f"81{n % 1_000_000:06d}"}
    v1_body = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "Ada",
        "mobile_country_code": "65",
        **common,
        **v1,
    }
    v1_response = v1_post(api_a, v1_body)
    assert v1_response.status_code == 400, v1_response.content
    v1_codes = sorted(e["code"] for e in v1_response.json()["errors"])
    v2_response = api_a.post(LIST, base_body(**{**common, **v2}), format="json")
    v2_codes = sorted(
        code for _, code in sources(assert_v2_error(v2_response, 400, "validation_error"))
    )
    assert v2_codes == v1_codes


def test_email_taken_case_insensitively(api_a, program_a):
    first = create(api_a)
    before = table_counts()
    body = assert_v2_error(
        api_a.post(LIST, base_body(email=first["email"].upper()), format="json"),
        400,
        "validation_error",
    )
    assert sources(body) == [("email", "resource_user_email_unique")]
    assert table_counts() == before


def test_readonly_client_cannot_write(api_readonly_a, program_a):
    user = AccountHolderFactory(program=program_a)
    assert_v2_error(
        api_readonly_a.post(LIST, base_body(), format="json"), 403, "restricted_resource"
    )
    assert_v2_error(
        put(api_readonly_a, user.public_id, {"title": "Dr"}), 403, "restricted_resource"
    )


def test_idempotency_key_replays_the_create(api_a, program_a):
    body = base_body()
    first = api_a.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada-1")
    again = api_a.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert AccountHolder.objects.count() == 1
    other = api_a.post(LIST, base_body(), format="json", HTTP_IDEMPOTENCY_KEY="create-ada-1")
    assert_v2_error(other, 422, "idempotency_key_reused")


def _block(attribute: str, value: str) -> None:
    blacklist_entry_save(
        entry=BlacklistEntry(entity_attribute=attribute, value=value, action="block", reason="t")
    )


def test_blacklisted_create_and_update_are_refused(api_a, program_a):
    _block("customer.email", "fraud@example.com")
    before = table_counts()
    response = api_a.post(LIST, base_body(email="fraud@example.com"), format="json")
    assert_v2_error(response, 400, "resource_risk_service_blacklisted_error")
    assert table_counts() == before
    user = create(api_a)
    before = table_counts()
    response = put(api_a, user["id"], {"email": "fraud@example.com"})
    assert_v2_error(response, 400, "resource_risk_service_blacklisted_update_error")
    assert table_counts() == before
    assert AccountHolder.objects.get(public_id=user["id"]).email == user["email"]


# --- re-activation


def test_reactivation_of_a_locked_user(api_a, program_a):
    user = AccountHolderFactory(program=program_a, status="locked", risk_status="CLEARED")
    response = api_a.post(LIST, {"user_id": user.public_id}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert response.headers["ETag"]
    user.refresh_from_db()
    assert user.status == "active"


def test_reactivation_of_an_active_user_changes_nothing(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    before = table_counts()
    response = api_a.post(LIST, {"user_id": user.public_id}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert table_counts() == before


@pytest.mark.parametrize(
    ("status", "risk", "code"),
    [
        ("blocked", "CLEARED", "resource_user_reactivation_not_allowed"),
        ("suspended", "PENDING", "unsuspend_flagged_user_not_allowed"),
        ("pending_verification", "CLEARED", "resource_user_status_transition_not_allowed"),
    ],
)
def test_reactivation_refusals(api_a, program_a, status, risk, code):
    user = AccountHolderFactory(program=program_a, status=status, risk_status=risk)
    response = api_a.post(LIST, {"user_id": user.public_id}, format="json")
    assert_v2_error(response, 400, code)
    user.refresh_from_db()
    assert user.status == status


def test_reactivation_ids_and_tenancy(api_a, api_b, program_a, program_b):
    theirs = AccountHolderFactory(program=program_b, status="locked")
    assert_v2_error(api_a.post(LIST, {"user_id": "nope"}, format="json"), 404, "user_improper_id")
    assert_v2_error(api_a.post(LIST, {"user_id": 7}, format="json"), 404, "user_improper_id")
    response = api_a.post(LIST, {"user_id": theirs.public_id}, format="json")
    assert_v2_error(response, 404, "user_record_not_found")
    theirs.refresh_from_db()
    assert theirs.status == "locked"


def test_user_id_with_other_fields_is_an_unknown_field(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    body = base_body(user_id=user.public_id)
    response = assert_v2_error(api_a.post(LIST, body, format="json"), 400, "validation_error")
    assert sources(response) == [("user_id", "resource_user_unknown_field")]


# --- update: nested objects replaced whole

NESTED = {
    "birth": (
        {"date": "1985-05-05", "place": "Paris", "country": "FRA"},
        {"place": "Lyon"},
        {"date": None, "place": "Lyon", "country": None},
    ),
    "mothers_details": (
        {"first_name": "Anne", "middle_name": "Isabella", "last_name": "Noel", "maiden_name": "M"},
        {"last_name": "Byron"},
        {"first_name": None, "middle_name": None, "last_name": "Byron", "maiden_name": None},
    ),
    "fathers_details": (
        {"first_name": "George", "middle_name": "Gordon", "last_name": "Byron"},
        {"first_name": "John"},
        {"first_name": "John", "middle_name": None, "last_name": None},
    ),
    "provider": (
        {"reference_id": "R1", "account_number": "A1", "posting_status": "posted"},
        {"posting_status": "pending"},
        {"reference_id": None, "account_number": None, "posting_status": "pending"},
    ),
    "employer": (
        {
            "name": "ACME",
            "nature_of_business": "Retail",
            "address": {"address_1": "1 Road", "city": "Singapore", "country": "SGP"},
        },
        {"name": "Initech"},
        {"name": "Initech", "nature_of_business": None, "address": None},
    ),
}
EMPTY = {
    "birth": {"date": None, "place": None, "country": None},
    "mothers_details": dict.fromkeys(("first_name", "middle_name", "last_name", "maiden_name")),
    "fathers_details": dict.fromkeys(("first_name", "middle_name", "last_name")),
    "provider": dict.fromkeys(("reference_id", "account_number", "posting_status")),
    "employer": {"name": None, "nature_of_business": None, "address": None},
}


@pytest.mark.parametrize("name", list(NESTED))
def test_nested_object_create_replace_clear(api_a, program_a, name):
    full, partial, after_partial = NESTED[name]
    user = create(api_a)
    assert user[name] == EMPTY[name]
    created = put_ok(api_a, user["id"], {name: full})
    expected = json.loads(json.dumps(full))
    if name == "employer":
        expected["address"] = {
            **dict.fromkeys(("address_1", "address_2", "address_3", "address_4")),
            **dict.fromkeys(("city", "state", "country", "zipcode")),
            **full["address"],
        }
    else:
        expected = {**EMPTY[name], **full}
    assert created[name] == expected
    # replaced whole: members not sent become null
    assert put_ok(api_a, user["id"], {name: partial})[name] == after_partial
    # other fields are untouched by it
    assert put_ok(api_a, user["id"], {"title": "Dr"})[name] == after_partial
    assert put_ok(api_a, user["id"], {name: None})[name] == EMPTY[name]
    if name == "employer":
        assert not Address.objects.filter(user__public_id=user["id"], type="employer").exists()


def test_metadata_is_replaced_whole_and_cleared(api_a, program_a):
    user = create(api_a, base_body(metadata={"a": 1, "b": {"c": 2}}))
    assert put_ok(api_a, user["id"], {"metadata": {"z": [1]}})["metadata"] == {"z": [1]}
    assert put_ok(api_a, user["id"], {"first_name": "Augusta"})["metadata"] == {"z": [1]}
    assert put_ok(api_a, user["id"], {"metadata": None})["metadata"] is None


def test_json_that_no_database_stores_is_refused(api_a, program_a):
    user = create(api_a, base_body(metadata={"a": 1}))
    response = put(api_a, user["id"], {"metadata": {"note": "nul \u0000 inside"}})
    body = assert_v2_error(response, 400, "validation_error")
    assert sources(body) == [("metadata.note", "invalid_value")]  # the input boundary
    assert AccountHolder.objects.get(public_id=user["id"]).metadata == {"a": 1}


def test_scalars_absent_kept_null_cleared_empty_ignored(api_a, program_a):
    user = create(api_a, base_body(middle_name="King", title="Dr", job_title="Analyst"))
    body = put_ok(api_a, user["id"], {"middle_name": None, "title": "", "job_title": "  "})
    assert body["middle_name"] is None
    assert body["title"] == "Dr" and body["job_title"] == "Analyst"
    assert body["first_name"] == "Ada" and body["email"] == user["email"]


# --- update: list items


def _docs(body: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(d["type"], d["is_primary"]) for d in body["identification"]]


def test_identification_upserted_by_rank(api_a, program_a):
    user = full_user(program_a)
    body = put_ok(
        api_a,
        user.public_id,
        {"identification": [{"type": "national_id", "number": "NID-0001", "is_primary": True}]},
    )
    assert _docs(body) == [("national_id", True), ("drivers_id", False)]
    primary = Identification.objects.get(user=user, is_primary=True)
    # the item replaces the document whole: dates not sent are gone
    assert (primary.number, primary.issue_date, primary.expiry_date) == ("NID-0001", None, None)
    body = put_ok(
        api_a,
        user.public_id,
        {"identification": [{"is_primary": False, "type": "passport", "number": "K1112223"}]},
    )
    assert _docs(body) == [("national_id", True), ("passport", False)]


def test_identification_remove_and_clear(api_a, program_a):
    user = full_user(program_a)
    body = put_ok(
        api_a, user.public_id, {"identification": [{"is_primary": False, "remove": True}]}
    )
    assert _docs(body) == [("passport", True)]
    assert put_ok(api_a, user.public_id, {"identification": None})["identification"] == []
    assert not Identification.objects.filter(user=user).exists()


def _types(body: dict[str, Any]) -> list[str]:
    return [a["type"] for a in body["addresses"]]


def test_addresses_upserted_by_type(api_a, program_a):
    user = full_user(program_a)
    mailing = {"type": "mailing", "address_1": "PO Box 1", "country": "SGP"}
    body = put_ok(api_a, user.public_id, {"addresses": [mailing]})
    assert _types(body) == ["residential", "billing", "mailing"]
    billing = {"type": "billing", "address_1": "9 New Road", "country": "MYS"}
    body = put_ok(api_a, user.public_id, {"addresses": [billing]})
    assert body["addresses"][1] == {
        "type": "billing",
        "address_1": "9 New Road",
        "address_2": None,
        "address_3": None,
        "address_4": None,
        "city": None,
        "state": None,
        "country": "MYS",
        "zipcode": None,
    }
    assert body["employer"]["address"]["city"] == "Arlington"


def test_address_removed_by_type(api_a, program_a):
    user = full_user(program_a)
    body = put_ok(api_a, user.public_id, {"addresses": [{"type": "billing", "remove": True}]})
    assert _types(body) == ["residential"]
    # addresses: null removes every listed type; the employer's address is the employer's
    body = put_ok(api_a, user.public_id, {"addresses": None})
    assert body["addresses"] == [] and body["employer"]["address"] is not None


def test_tax_residencies_replace_the_list(api_a, program_a):
    user = full_user(program_a)
    body = put_ok(api_a, user.public_id, {"tax_residencies": [{"country": "MYS", "tin": "M1"}]})
    assert body["tax_residencies"] == [{"country": "MYS", "tin": "M1"}]
    assert put_ok(api_a, user.public_id, {"tax_residencies": []})["tax_residencies"] == []
    assert not TaxResidency.objects.filter(user=user).exists()


# --- update: refusals


@pytest.mark.parametrize(
    "field",
    [
        "status",
        "sub_status",
        "kyc_status",
        "kyc_sub_status",
        "risk_status",
        "is_email_verified",
        "is_mobile_verified",
        "id",
        "hash_id",
        "date_created",
        "pending_updates",
    ],
)
def test_status_kyc_risk_and_verification_are_read_only(api_a, program_a, field):
    user = AccountHolderFactory(program=program_a)
    response = put(api_a, user.public_id, {field: "x", "title": "Dr"})
    body = assert_v2_error(response, 400, "validation_error")
    assert sources(body) == [(field, "resource_user_unknown_field")]
    fresh = AccountHolder.objects.get(pk=user.pk)
    assert (fresh.title, fresh.row_version) == (None, user.row_version)


def test_put_404s_and_tenancy(api_a, api_b, program_a, program_b):
    theirs = AccountHolderFactory(program=program_b)
    assert_v2_error(put(api_a, "nope", {"title": "Dr"}), 404, "user_improper_id")
    assert_v2_error(put(api_a, "f" * 32, {"title": "Dr"}), 404, "user_record_not_found")
    assert_v2_error(put(api_a, theirs.public_id, {"title": "Dr"}), 404, "user_record_not_found")
    theirs.refresh_from_db()
    assert theirs.title is None


def test_email_taken_on_update(api_a, program_a):
    other = create(api_a)
    user = create(api_a)
    body = assert_v2_error(
        put(api_a, user["id"], {"email": other["email"]}), 400, "validation_error"
    )
    assert sources(body) == [("email", "resource_user_email_unique")]


# --- ETag / If-Match


def test_put_answers_a_new_etag(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    first = api_a.get(url(user.public_id)).headers["ETag"]
    response = put(api_a, user.public_id, {"title": "Dr"}, HTTP_IF_MATCH=first)
    assert response.status_code == 200
    assert response.headers["ETag"] != first
    assert api_a.get(url(user.public_id)).headers["ETag"] == response.headers["ETag"]


def test_stale_if_match_is_412_and_nothing_is_saved(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    stale = api_a.get(url(user.public_id)).headers["ETag"]
    put_ok(api_a, user.public_id, {"title": "Dr"})
    before = table_counts()
    response = put(api_a, user.public_id, {"title": "Mrs", "first_name": "X"}, HTTP_IF_MATCH=stale)
    body = assert_v2_error(response, 412, "precondition_failed")
    assert body["source"] == []
    assert table_counts() == before
    fresh = AccountHolder.objects.get(pk=user.pk)
    assert (fresh.title, fresh.first_name) == ("Dr", "Ada")
    # the 412 tells the current tag
    assert response.headers["ETag"] == f'"{fresh.row_version}"'


@pytest.mark.parametrize("header", ["*", 'W/"{v}"', '"0", "{v}"', '"{v}"'])
def test_matching_if_match_forms(api_a, program_a, header):
    user = AccountHolderFactory(program=program_a, row_version=4)
    response = put(api_a, user.public_id, {"title": "Dr"}, HTTP_IF_MATCH=header.format(v=4))
    assert response.status_code == 200, response.content


def test_without_if_match_the_last_write_wins(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    put_ok(api_a, user.public_id, {"title": "Dr"})
    assert put_ok(api_a, user.public_id, {"title": "Mrs"})["title"] == "Mrs"


# --- pending updates


def _operator():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(username="op", password="x" * 12)


def test_verified_email_change_waits_for_an_operator(api_a, program_a):
    user = AccountHolderFactory(program=program_a, is_email_verified=True)
    old = user.email
    body = put_ok(api_a, user.public_id, {"email": "new.address@example.com", "title": "Dr"})
    assert body["email"] == old and body["title"] == "Dr"
    assert [(p["field"], p["value"], p["status"]) for p in body["pending_updates"]] == [
        ("email", "new.address@example.com", "pending")
    ]
    assert body["pending_updates"][0]["reason"] == "verification_required"
    assert body["required_actions"] == [{"property": "email", "action": "verify"}]
    pending = PendingUpdate.objects.get(public_id=body["pending_updates"][0]["id"])
    pending_update_approve(pending=pending, operator=_operator(), reason="verified by phone")
    after = api_a.get(url(user.public_id)).json()
    assert after["email"] == "new.address@example.com"
    assert after["is_email_verified"] == 1
    assert after["pending_updates"] == [] and after["required_actions"] == []


def test_rejected_mobile_change_leaves_the_mobile(api_a, program_a):
    user = AccountHolderFactory(program=program_a, is_mobile_verified=True)
    body = put_ok(api_a, user.public_id, {"mobile_country_code": "65", "mobile": "87654321"})
    assert body["mobile"] == user.mobile
    assert body["required_actions"] == [{"property": "mobile", "action": "verify"}]
    pending = PendingUpdate.objects.get(user=user)
    pending_update_reject(pending=pending, operator=_operator(), reason="not the holder")
    after = api_a.get(url(user.public_id)).json()
    assert after["mobile"] == user.mobile and after["pending_updates"] == []


def test_unverified_email_changes_at_once(api_a, program_a):
    user = AccountHolderFactory(program=program_a)
    body = put_ok(api_a, user.public_id, {"email": "direct@example.com"})
    assert body["email"] == "direct@example.com" and body["pending_updates"] == []


# --- v1 and v2 agree


def _v1_get(api: Any, user_id: str) -> dict[str, Any]:
    response = api.get(f"/alpha/v1/users/{user_id}")
    assert response.status_code == 200, response.content
    return response.json()


def _agree(v1: dict[str, Any], v2: dict[str, Any]) -> None:
    assert v1["id"] == v2["id"]
    assert v1["email"] == v2["email"]
    assert v1["name"] == {
        "first": v2["first_name"],
        "middle": v2["middle_name"],
        "last": v2["last_name"],
        "preferred": v2["preferred_name"],
    }
    assert v1["mobile"] == {"country_code": v2["mobile_country_code"], "number": v2["mobile"]}
    assert v1["birthday"] == v2["birth"]["date"]
    assert v1["place_of_birth"] == v2["birth"]["place"]
    primary = next((d for d in v2["identification"] if d["is_primary"]), None)
    secondary = next((d for d in v2["identification"] if not d["is_primary"]), None)
    for v1_doc, v2_doc in ((v1["identification"], primary), (v1["alt_identification"], secondary)):
        if v2_doc is None:
            assert not v1_doc or v1_doc.get("type") is None
            continue
        assert v1_doc["type"] == v2_doc["type"] and v1_doc["number"] == v2_doc["number"]
    assert v1["country_of_issue"] == (primary or {}).get("country_of_issue")
    for v1_name, v2_value in (
        ("gender", v2["gender"]),
        ("nationality", v2["nationality"]),
        ("title", v2["title"]),
        ("marital_status", v2["marital_status"]),
        ("mothers_first_name", v2["mothers_details"]["first_name"]),
        ("mothers_last_name", v2["mothers_details"]["last_name"]),
        ("mothers_maiden_name", v2["mothers_details"]["maiden_name"]),
        ("customer_id", v2["customer_id"]),
        ("partner_id", v2["partner_id"]),
        ("agent_id", v2["agent_id"]),
        ("client_reference_id", v2["client_ref_id"]),
        ("employer_name", v2["employer"]["name"]),
        ("nature_of_business", v2["employer"]["nature_of_business"]),
        ("employment_type", v2["employment_type"]),
        ("source_of_funds", v2["main_income_source"]),
        ("purpose_of_account", v2["purpose_of_account"]),
    ):
        assert v1[v1_name] == v2_value, v1_name
    assert v1["account_type"] == {"customer": "individual", "corporate": "business"}[v2["type"]]
    assert v1["status"]["is_active"] == (v2["status"] == "active")


def test_a_v2_created_user_reads_the_same_in_v1(api_a, program_a):
    v2 = create(api_a, full_body())
    _agree(_v1_get(api_a, v2["id"]), v2)


def test_a_v1_created_user_reads_the_same_in_v2(api_a, program_a):
    n = next(_seq)
    response = v1_post(
        api_a,
        {
            "first_name": "Grace",
            "middle_name": "Brewster",
            "last_name": "Hopper",
            "preferred_name": "Grace",
            "email": f"grace{n}@example.com",
            "mobile_country_code": "65",
            "mobile": f"81{n % 1_000_000:06d}",
            "birthday": "1980-12-09",
            "place_of_birth": "New York",
            "gender": "female",
            "title": "Dr",
            "nationality": "USA",
            "id_type": "passport",
            "id_number": "P9988776",
            "id_date_issue": "2020-01-01",
            "id_date_expiry": "2031-01-01",
            "country_of_issue": "USA",
            "customer_id": f"C-{n}",
            "client_reference_id": "REF",
            "employer_name": "US Navy",
            "source_of_funds": "Salary",
        },
    )
    assert response.status_code == 200, response.content
    user_id = response.json()["id"]
    _agree(_v1_get(api_a, user_id), api_a.get(url(user_id)).json())


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_puts_with_one_if_match_exactly_one_wins(client_a, program_a):
    user = AccountHolderFactory(program=program_a)
    etag = api_for(client_a).get(url(user.public_id)).headers["ETag"]
    writers = 8
    barrier = threading.Barrier(writers)
    statuses: list[int] = []

    def write(i: int) -> None:
        try:
            api = api_for(client_a)
            barrier.wait()
            response = put(api, user.public_id, {"job_title": f"Job {i}"}, HTTP_IF_MATCH=etag)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * (writers - 1)
    user.refresh_from_db()
    assert user.row_version == 2 and user.job_title.startswith("Job ")


def test_update_reaching_the_risk_threshold_blacklists_the_user(api_a, program_a):
    blacklist_entry_save(
        entry=BlacklistEntry(
            entity_attribute="customer.email",
            value="mule@example.com",
            action="score",
            weight=100,
            reason="t",
        )
    )
    user = create(api_a)
    etag = api_a.get(url(user["id"])).headers["ETag"]
    response = put(api_a, user["id"], {"email": "mule@example.com"}, HTTP_IF_MATCH=etag)
    assert_v2_error(response, 403, "user_blocked_risk_threshold_exceeded")
    # the change is not applied, but the blacklisting is kept (SPEC §6b)
    fresh = AccountHolder.objects.get(public_id=user["id"])
    assert (fresh.status, fresh.risk_status) == ("blacklisted", "REJECTED")
    assert fresh.email == user["email"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_email_one_wins(client_a, program_a):
    writers = 10
    barrier = threading.Barrier(writers)
    answers: list[tuple[int, Any]] = []

    def write(i: int) -> None:
        try:
            api = api_for(client_a)
            body = base_body(email="race@example.com", mobile=f"9{i + 1:07d}")
            barrier.wait()
            response = api.post(LIST, body, format="json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [201] + [400] * (writers - 1)
    for status, body in answers:
        if status == 400:
            assert body["code"] == "validation_error"
            assert ("email", "resource_user_email_unique") in sources(body)
    assert AccountHolder.objects.filter(email="race@example.com").count() == 1


def test_put_takes_one_row_lock_the_services(api_a, program_a):
    """The service owns the PUT's transaction and its single row lock (issue 11 item 4)."""
    from django.test.utils import CaptureQueriesContext

    user = create(api_a)
    etag = api_a.get(url(user["id"])).headers["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = put(api_a, user["id"], {"job_title": "Poet"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    if connection.features.has_select_for_update:
        locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
        assert len(locks) == 1, locks
        assert '"users_accountholder"."row_version"' in locks[0]  # the service's lock
