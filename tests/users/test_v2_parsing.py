"""The v2 body → canonical `Changes` mapping and canonical error paths → v2 dotted paths."""

from __future__ import annotations

from typing import Any

import pytest

from core import error_codes
from core.exceptions import ApiError, FieldError
from users.api.v2_parsing import (
    TOP_KEYS,
    V2UserCreateIn,
    V2UserWriteIn,
    V2Write,
    parse_v2_body,
    reactivation_id,
)
from users.api.v2_render import V2UserOut

UNKNOWN = error_codes.USER_UNKNOWN_FIELD

# SPEC §5: the v2 request body, field by field.
SPEC_REQUEST_FIELDS = {
    "type", "client_ref_id", "salutation", "title", "first_name", "middle_name", "last_name",
    "maiden_name", "preferred_name", "gender", "email", "mobile_country_code", "mobile",
    "marital_status", "identification", "birth", "nationality", "mothers_details",
    "fathers_details", "addresses", "employment_type", "job_title", "employer", "annual_income",
    "main_income_source", "social_professional_category", "purpose_of_account",
    "country_of_residence", "tax_residencies", "fatca_crs_relevant",
    "fatca_crs_confirmation_date", "pep", "provider", "data_terms_signed_date", "metadata",
    "created_by", "customer_id", "partner_id", "agent_id",
}  # fmt: skip
RESPONSE_ONLY = [
    "id", "hash_id", "status", "sub_status", "kyc_status", "kyc_sub_status",
    "kyc_processed_date", "risk_status", "is_email_verified", "is_mobile_verified",
    "transaction_status", "transaction_sub_status", "pending_updates", "required_actions",
    "errors", "date_created", "date_updated", "links", "password", "user_id",
]  # fmt: skip


def put(body: Any) -> V2Write:
    return parse_v2_body(body)


def failures(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(ApiError) as raised:
        parse_v2_body(body)
    assert raised.value.is_validation
    return [(e.field, e.code) for e in raised.value.errors]


def test_accepted_fields_are_exactly_the_spec_request_fields() -> None:
    assert TOP_KEYS == SPEC_REQUEST_FIELDS


def test_every_request_field_is_also_in_the_response() -> None:
    response_fields = set(V2UserOut().fields)
    assert not SPEC_REQUEST_FIELDS - response_fields
    assert not set(RESPONSE_ONLY) - {"password", "user_id"} - response_fields
    assert "password" not in V2UserOut().fields


def test_input_schema_requires_the_create_fields_only_on_create() -> None:
    create, update = V2UserCreateIn(), V2UserWriteIn()
    required = {n for n, f in create.fields.items() if f.required}
    assert required == {
        "type", "first_name", "last_name", "preferred_name", "email", "mobile_country_code",
        "mobile",
    }  # fmt: skip
    assert not any(f.required for f in update.fields.values())


@pytest.mark.parametrize("body", [[], [{"first_name": "A"}], "text", 42, None, True])
def test_a_body_that_is_not_an_object_is_invalid_model(body: Any) -> None:
    with pytest.raises(ApiError) as raised:
        put(body)
    assert raised.value.code == error_codes.INVALID_MODEL
    assert not raised.value.is_validation


@pytest.mark.parametrize("name", RESPONSE_ONLY)
def test_response_only_fields_are_unknown(name: str) -> None:
    assert failures({name: "x", "first_name": "Ada"}) == [(name, UNKNOWN)]


def test_unknown_fields_at_every_level_one_item_each() -> None:
    body = {
        "nickname": "x",
        "birth": {"date": "1990-01-01", "weight": 3},
        "mothers_details": {"first_name": "M", "age": 60},
        "fathers_details": {"nick": "F"},
        "identification": [{"type": "passport", "number": "E1234567", "colour": "red"}],
        "addresses": [
            {"type": "residential", "city": "Singapore"},
            {"type": "billing", "floor": "3"},
        ],
        "employer": {"name": "ACME", "size": 3, "address": {"city": "X", "type": "work"}},
        "provider": {"reference_id": "r", "bank": "b"},
        "tax_residencies": [{"country": "SGP", "tin": "1", "since": "2020"}],
    }
    assert sorted(failures(body)) == sorted(
        [
            ("nickname", UNKNOWN),
            ("birth.weight", UNKNOWN),
            ("mothers_details.age", UNKNOWN),
            ("fathers_details.nick", UNKNOWN),
            ("identification[0].colour", UNKNOWN),
            ("addresses[1].floor", UNKNOWN),
            ("employer.size", UNKNOWN),
            ("employer.address.type", UNKNOWN),
            ("provider.bank", UNKNOWN),
            ("tax_residencies[0].since", UNKNOWN),
        ]
    )


def test_metadata_and_created_by_are_free_json_objects() -> None:
    meta = {"anything": {"nested": [1, 2, {"deep": None}]}, "status": "not a user field"}
    write = put({"metadata": meta, "created_by": {"id": 7}})
    assert write.changes == {"metadata": meta, "created_by": {"id": 7}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"first_name": 5}, ("first_name", "resource_user_first_name_invalid")),
        ({"email": ["a@b.c"]}, ("email", "resource_user_email_invalid")),
        ({"mobile": 91234567}, ("mobile", "resource_user_mobile_invalid")),
        ({"pep": "yes"}, ("pep", "resource_user_pep_invalid")),
        (
            {"fatca_crs_relevant": 1},
            ("fatca_crs_relevant", "resource_user_fatca_crs_relevant_invalid"),
        ),
        ({"metadata": ["a"]}, ("metadata", "resource_user_metadata_invalid")),
        ({"salutation": "Ms\x00"}, ("salutation", "resource_user_salutation_invalid")),
        ({"metadata": {"a": [{"b": "\x00"}]}}, ("metadata", "resource_user_metadata_invalid")),
        ({"created_by": {"\x00": 1}}, ("created_by", "resource_user_created_by_invalid")),
        ({"created_by": "crm"}, ("created_by", "resource_user_created_by_invalid")),
        ({"birth": "1990-01-01"}, ("birth", "resource_user_birth_invalid")),
        ({"birth": {"date": 19900101}}, ("birth.date", "resource_user_birthday_invalid")),
        ({"employer": ["ACME"]}, ("employer", "resource_user_employer_invalid")),
        (
            {"employer": {"address": "1 Road"}},
            ("employer.address", "resource_user_employer_address_invalid"),
        ),
        ({"provider": 3}, ("provider", "resource_user_provider_invalid")),
        (
            {"identification": {"type": "passport"}},
            ("identification", "resource_user_identification_invalid"),
        ),
        (
            {"identification": ["passport"]},
            ("identification[0]", "resource_user_identification_invalid"),
        ),
        (
            {"identification": [{"number": 123}]},
            ("identification[0].number", "resource_user_id_number_invalid"),
        ),
        (
            {"identification": [{"is_primary": False, "number": 1}]},
            ("identification[0].number", "resource_user_alt_id_number_invalid"),
        ),
        (
            {"identification": [{"is_primary": "yes"}]},
            ("identification[0].is_primary", "resource_user_identification_is_primary_invalid"),
        ),
        ({"addresses": {"type": "billing"}}, ("addresses", "resource_user_addresses_invalid")),
        ({"addresses": [None]}, ("addresses[0]", "resource_user_address_invalid")),
        (
            {"addresses": [{"type": "billing", "zipcode": 12345}]},
            ("addresses[0].zipcode", "resource_user_address_zipcode_invalid"),
        ),
        ({"tax_residencies": "SGP"}, ("tax_residencies", "resource_user_tax_residencies_invalid")),
        (
            {"tax_residencies": [["SGP"]]},
            ("tax_residencies[0]", "resource_user_tax_residency_invalid"),
        ),
        (
            {"tax_residencies": [{"country": 702}]},
            ("tax_residencies[0].country", "resource_user_tax_residency_country_invalid"),
        ),
    ],
)
def test_wrong_json_types_are_validation_errors(body: dict[str, Any], expected: tuple) -> None:
    assert failures(body) == [expected]


def test_strings_are_trimmed_and_empty_strings_are_absent() -> None:
    write = put({"first_name": "  Ada ", "middle_name": "   ", "last_name": "", "title": None})
    assert write.changes == {"first_name": "Ada", "title": None}


def test_nested_objects_are_replaced_whole() -> None:
    write = put(
        {
            "birth": {"date": "1990-01-31"},
            "mothers_details": {"first_name": "Mary", "maiden_name": " "},
            "fathers_details": {},
            "provider": {"reference_id": "R1", "account_number": "A1", "posting_status": "ok"},
        }
    )
    assert write.changes == {
        "birth_date": "1990-01-31",
        "birth_place": None,
        "birth_country": None,
        "mothers_first_name": "Mary",
        "mothers_middle_name": None,
        "mothers_last_name": None,
        "mothers_maiden_name": None,
        "fathers_first_name": None,
        "fathers_middle_name": None,
        "fathers_last_name": None,
        "provider_reference_id": "R1",
        "provider_account_number": "A1",
        "provider_posting_status": "ok",
    }


def test_null_object_clears_every_member() -> None:
    write = put({"birth": None, "employer": None})
    assert write.changes == {
        "birth_date": None,
        "birth_place": None,
        "birth_country": None,
        "employer_name": None,
        "employer_nature_of_business": None,
        "addresses": {"employer": None},
    }


def test_employer_address_is_the_employer_typed_address() -> None:
    write = put({"employer": {"name": "ACME", "address": {"address_1": "1 Road", "city": "SG"}}})
    assert write.changes["employer_name"] == "ACME"
    assert write.changes["employer_nature_of_business"] is None
    employer = write.changes["addresses"]["employer"]
    assert employer == {
        "address_1": "1 Road",
        "address_2": None,
        "address_3": None,
        "address_4": None,
        "city": "SG",
        "state": None,
        "country": None,
        "zipcode": None,
    }
    # employer without address: replaced whole, so the address goes
    assert put({"employer": {"name": "ACME"}}).changes["addresses"] == {"employer": None}


def test_identification_items_are_matched_by_is_primary() -> None:
    write = put(
        {
            "identification": [
                {"type": "drivers_id", "number": "DL-1", "is_primary": False},
                {"type": "passport", "number": " E1234567 ", "expiry_date": "2030-01-01"},
            ]
        }
    )
    assert write.changes["identification"] == {
        "secondary": {
            "id_type": "drivers_id",
            "number": "DL-1",
            "issue_date": None,
            "expiry_date": None,
            "country_of_issue": None,
        },
        "primary": {
            "id_type": "passport",
            "number": "E1234567",
            "issue_date": None,
            "expiry_date": "2030-01-01",
            "country_of_issue": None,
        },
    }
    assert write.identification_index == {"secondary": 0, "primary": 1}


def test_identification_only_the_ranks_sent_change() -> None:
    write = put({"identification": [{"is_primary": False, "type": "passport", "number": "X1"}]})
    assert set(write.changes["identification"]) == {"secondary"}
    assert put({"identification": []}).changes["identification"] == {}


def test_identification_remove_and_null() -> None:
    write = put({"identification": [{"is_primary": False, "remove": True}]})
    assert write.changes["identification"] == {"secondary": None}
    assert put({"identification": None}).changes["identification"] == {
        "primary": None,
        "secondary": None,
    }


def test_identification_at_most_one_per_rank() -> None:
    body = {"identification": [{"type": "passport"}, {"type": "nric", "is_primary": True}]}
    assert failures(body) == [
        ("identification[1].is_primary", "resource_user_identification_is_primary_unique")
    ]


def test_remove_carries_nothing_else() -> None:
    body = {"identification": [{"is_primary": True, "remove": True, "number": "E1"}]}
    assert failures(body) == [
        ("identification[0].remove", "resource_user_identification_remove_invalid")
    ]
    body = {"addresses": [{"type": "billing", "remove": True, "city": "X"}]}
    assert failures(body) == [("addresses[0].remove", "resource_user_address_remove_invalid")]
    body = {"addresses": [{"type": "billing", "remove": "yes"}]}
    assert failures(body) == [("addresses[0].remove", "resource_user_address_remove_invalid")]


def test_addresses_are_upserted_by_type() -> None:
    write = put(
        {
            "addresses": [
                {"type": "Residential", "address_1": "1 Home St", "country": "SGP"},
                {"type": "billing", "remove": True},
            ]
        }
    )
    assert write.changes["addresses"] == {
        "residential": {
            "address_1": "1 Home St",
            "address_2": None,
            "address_3": None,
            "address_4": None,
            "city": None,
            "state": None,
            "country": "SGP",
            "zipcode": None,
        },
        "billing": None,
    }
    assert write.address_index == {"residential": 0, "billing": 1}


def test_addresses_null_removes_every_listed_type_but_not_the_employer_address() -> None:
    assert put({"addresses": None}).changes["addresses"] == {
        "residential": None,
        "billing": None,
        "mailing": None,
        "work": None,
    }


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"city": "X"}, "resource_user_address_type_required"),
        ({"type": "  "}, "resource_user_address_type_required"),
        ({"type": "employer"}, "resource_user_address_type_invalid"),
        ({"type": "holiday"}, "resource_user_address_type_invalid"),
        ({"type": 3}, "resource_user_address_type_invalid"),
    ],
)
def test_address_type_is_required_and_listed(item: dict[str, Any], code: str) -> None:
    assert failures({"addresses": [{"type": "billing"}, item]}) == [("addresses[1].type", code)]


def test_one_address_per_type() -> None:
    body = {"addresses": [{"type": "billing"}, {"type": "BILLING", "city": "X"}]}
    assert failures(body) == [("addresses[1].type", "resource_user_address_type_unique")]


def test_tax_residencies_replace_the_list() -> None:
    write = put({"tax_residencies": [{"country": "SGP", "tin": "T1"}, {"country": "USA"}]})
    assert write.changes["tax_residencies"] == [
        {"country": "SGP", "tin": "T1"},
        {"country": "USA", "tin": None},
    ]
    assert put({"tax_residencies": []}).changes["tax_residencies"] == []
    assert put({"tax_residencies": None}).changes["tax_residencies"] is None


def test_nothing_is_required_by_the_parser() -> None:
    # required fields are judged by the services with every other rule (see test_v2_write)
    assert put({}).changes == {}


def test_reactivation_body_is_exactly_user_id() -> None:
    assert reactivation_id({"user_id": " abc "}) == "abc"
    assert reactivation_id({"user_id": 5}) == ""
    assert reactivation_id({"user_id": "abc", "first_name": "A"}) is None
    assert reactivation_id({"id": "abc"}) is None
    assert reactivation_id([]) is None


@pytest.mark.parametrize(
    ("canonical", "v2"),
    [
        ("email", "email"),
        ("birth_date", "birth.date"),
        ("birth_country", "birth.country"),
        ("mothers_maiden_name", "mothers_details.maiden_name"),
        ("fathers_first_name", "fathers_details.first_name"),
        ("employer_name", "employer.name"),
        ("employer_nature_of_business", "employer.nature_of_business"),
        ("provider_posting_status", "provider.posting_status"),
        ("identification.primary.number", "identification[1].number"),
        ("identification.primary.id_type", "identification[1].type"),
        ("identification.secondary.expiry_date", "identification[0].expiry_date"),
        ("identification.primary", "identification[1]"),
        ("addresses.billing.zipcode", "addresses[1].zipcode"),
        ("addresses.residential", "addresses[0]"),
        ("addresses.employer.country", "employer.address.country"),
        ("addresses.mailing.city", "addresses[2].city"),  # not sent: where it would go
        ("tax_residencies.0.country", "tax_residencies[0].country"),
        ("tax_residencies", "tax_residencies"),
        ("metadata", "metadata"),
    ],
)
def test_canonical_paths_render_as_v2_dotted_paths(canonical: str, v2: str) -> None:
    write = put(
        {
            "identification": [
                {"is_primary": False, "type": "drivers_id", "number": "D1"},
                {"type": "passport", "number": "E1234567"},
            ],
            "addresses": [{"type": "residential"}, {"type": "billing"}],
        }
    )
    assert write.v2_path(canonical) == v2


def test_a_document_not_sent_is_named_where_it_would_be_appended() -> None:
    write = put({"first_name": "Ada"})
    assert write.v2_path("identification.primary.id_type") == "identification[0].type"


def test_rendered_renames_every_field_and_keeps_codes() -> None:
    write = put({"addresses": [{"type": "billing", "zipcode": "x"}]})
    error = ApiError.from_field_errors(
        [
            FieldError("birth_date", "resource_user_birthday_invalid"),
            FieldError("addresses.billing.zipcode", "resource_user_address_zipcode_rule"),
        ]
    )
    rendered = write.rendered(error)
    assert rendered.is_validation and rendered.status == 400
    assert [(e.field, e.code) for e in rendered.errors] == [
        ("birth.date", "resource_user_birthday_invalid"),
        ("addresses[0].zipcode", "resource_user_address_zipcode_rule"),
    ]
    other = ApiError(error_codes.RISK_BLACKLISTED_UPDATE)
    assert write.rendered(other) is other
