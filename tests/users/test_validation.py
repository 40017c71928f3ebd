# ruff: noqa: E501  (the case tables read best one case per line)
"""SPEC §6: one test per validation code, through the v1 API, and the validator's v2 rules.

Every refused create is also checked to leave every users table exactly as it was.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import error_codes
from enumerations.catalog import get_catalog
from tests.factories import ProgramFactory
from tests.users.conftest import NRICS, row_counts, v1_body
from users.validation import possible_codes, sg_nric_is_valid, validate_write

pytestmark = pytest.mark.django_db

TODAY = date.today()
FUTURE = (TODAY + timedelta(days=400)).isoformat()
PAST = (TODAY - timedelta(days=10)).isoformat()
TOO_YOUNG = TODAY.replace(year=TODAY.year - 10).isoformat()
ID = {"id_type": "nric", "id_number": NRICS[0]}
ALT = {"alt_id_type": "passport", "alt_id_number": "K1234567"}

# (case id, body overrides, expected code, expected field in the error)
CASES = [
    ("first_name required", {"first_name": None}, "resource_user_first_name_required", "first_name"),
    ("last_name required", {"last_name": "  "}, "resource_user_last_name_required", "last_name"),
    ("email required", {"email": ""}, "resource_user_email_required", "email"),
    ("email invalid", {"email": "ada@"}, "resource_user_email_invalid", "email"),
    ("email too long", {"email": "a" * 250 + "@x.com"}, "resource_user_email_invalid", "email"),
    ("mcc unknown", {"mobile_country_code": "999"}, "resource_user_mobile_country_code_not_allowed", "mobile_country_code"),
    ("mcc too long", {"mobile_country_code": "6565"}, "resource_user_mobile_country_code_lengthmax", "mobile_country_code"),
    ("mobile not digits", {"mobile": "9123abcd"}, "resource_user_mobile_invalid", "mobile"),
    ("mobile not valid for 65", {"mobile": "12345678"}, "resource_user_mobile_invalid", "mobile"),
    ("mobile without code", {"mobile_country_code": None}, "resource_user_wallet_fund_mobile_insufficient_dependency", "mobile_country_code"),
    ("code without mobile", {"mobile": None}, "resource_user_wallet_fund_mobile_insufficient_dependency", "mobile"),
    ("first_name too long", {"first_name": "A" * 51}, "resource_user_first_name_lengthmax", "first_name"),
    ("first_name digits", {"first_name": "Ada3"}, "resource_user_first_name_rule", "first_name"),
    ("middle_name too long", {"middle_name": "B" * 51}, "resource_user_middle_name_lengthmax", "middle_name"),
    ("middle_name symbol", {"middle_name": "B@b"}, "resource_user_middle_name_rule", "middle_name"),
    ("last_name too long", {"last_name": "L" * 51}, "resource_user_last_name_lengthmax", "last_name"),
    ("last_name symbol", {"last_name": "Love_lace"}, "resource_user_last_name_rule", "last_name"),
    ("preferred too long", {"preferred_name": "P" * 26}, "resource_user_preferred_name_lengthmax", "preferred_name"),
    ("preferred dash", {"preferred_name": "Ada-Lee"}, "resource_user_preferred_name_rule", "preferred_name"),
    ("password short", {"password": "a1!b"}, "user_password_below_min_length", "password"),
    ("password long", {"password": "a1!" + "x" * 30}, "user_password_above_max_length", "password"),
    ("password no digit", {"password": "abcdefg!"}, "user_password_rule_mismatch", "password"),
    ("password no lower", {"password": "ABCDEFG1!"}, "user_password_rule_mismatch", "password"),
    ("password no special", {"password": "abcdefg1"}, "user_password_rule_mismatch", "password"),
    ("title", {"title": "Sir"}, "resource_user_unrecognized_title", "title"),
    ("gender", {"gender": "robot"}, "resource_user_unrecognized_gender", "gender"),
    ("marital_status", {"marital_status": "complicated"}, "resource_user_marital_status_not_allowed", "marital_status"),
    ("nationality alpha-2", {"nationality": "SG"}, "resource_user_nationality_not_allowed", "nationality"),
    ("country_of_issue", {**ID, "country_of_issue": "XYZ"}, "resource_user_country_of_issue_invalid", "country_of_issue"),
    ("alt country_of_issue", {**ALT, "alt_id_country_of_issue": "XYZ"}, "resource_user_alt_id_country_of_issue_not_allowed", "alt_id_country_of_issue"),
    ("id_type", {"id_type": "bogus", "id_number": "X1234567"}, "resource_user_unrecognized_id_type", "id_type"),
    ("alt_id_type not secondary", {"alt_id_type": "nric", "alt_id_number": NRICS[1]}, "resource_user_unrecognized_alt_id_type", "alt_id_type"),
    ("id_type without number", {"id_type": "passport"}, "resource_user_id_type_and_number_invalid", "id_number"),
    ("id_number without type", {"id_number": "K1234567"}, "resource_user_id_type_and_number_invalid", "id_type"),
    ("alt number without type", {"alt_id_number": "K1234567"}, "resource_user_alt_id_type_and_number_invalid", "alt_id_type"),
    ("id_number too long", {"id_type": "national_id", "id_number": "A" * 31}, "user_id_number_above_max_length", "id_number"),
    ("alt number too long", {"alt_id_type": "passport", "alt_id_number": "A" * 21}, "user_alt_id_number_above_max_length", "alt_id_number"),
    ("id regex", {"id_type": "passport", "id_number": "AB-12"}, "resource_id_type_rule_not_matched", "id_number"),
    ("nric checksum", {"id_type": "nric", "id_number": "S1234567A"}, "resource_id_type_rule_not_matched", "id_number"),
    ("issue without expiry", {**ID, "id_date_issue": "2015-01-01"}, "resource_user_id_date_missing", "id_date_expiry"),
    ("alt expiry without issue", {**ALT, "alt_id_date_expiry": FUTURE}, "resource_user_alt_id_date_missing", "alt_id_date_issue"),
    ("expiry in the past", {**ID, "id_date_issue": "2010-01-01", "id_date_expiry": PAST}, "resource_user_id_date_expiry_invalid", "id_date_expiry"),
    ("expiry before issue", {**ID, "id_date_issue": TODAY.isoformat(), "id_date_expiry": TODAY.isoformat()}, "resource_user_id_date_expiry_invalid", "id_date_expiry"),
    ("expiry not a date", {**ID, "id_date_issue": "2015-01-01", "id_date_expiry": "31/12/2030"}, "resource_user_id_date_expiry_invalid", "id_date_expiry"),
    ("birthday format", {"birthday": "17/05/1990"}, "resource_user_birthday_invalid", "birthday"),
    ("birthday impossible", {"birthday": "1990-02-30"}, "resource_user_birthday_invalid", "birthday"),
    ("birthday future", {"birthday": FUTURE}, "future_birthday_not_allowed", "birthday"),
    ("birthday too young", {"birthday": TOO_YOUNG}, "resource_user_birthday_not_allowed", "birthday"),
    ("mothers_maiden_name", {"mothers_maiden_name": "Ann3"}, "resource_user_mothers_maiden_name_rule", "mothers_maiden_name"),
    ("mothers_maiden_name long", {"mothers_maiden_name": "A" * 51}, "resource_user_mothers_maiden_name_lengthmax", "mothers_maiden_name"),
    ("mothers_first_name", {"mothers_first_name": "Mary-Ann"}, "resource_user_mothers_first_name_rule", "mothers_first_name"),
    ("mothers_first_name long", {"mothers_first_name": "M" * 51}, "resource_user_mothers_first_name_lengthmax", "mothers_first_name"),
    ("mothers_last_name", {"mothers_last_name": "O'Hara"}, "resource_user_mothers_last_name_rule", "mothers_last_name"),
    ("mothers_last_name long", {"mothers_last_name": "H" * 51}, "resource_user_mothers_last_name_lengthmax", "mothers_last_name"),
    ("customer_id long", {"customer_id": "C" * 51}, "resource_user_customer_id_lengthmax", "customer_id"),
    ("customer_id chars", {"customer_id": "C_001"}, "resource_user_customer_id_rule", "customer_id"),
    ("partner_id long", {"partner_id": "P" * 51}, "resource_user_partner_id_lengthmax", "partner_id"),
    ("partner_id chars", {"partner_id": "P+1"}, "resource_user_partner_id_rule", "partner_id"),
    ("agent_id long", {"agent_id": "A" * 51}, "resource_user_agent_id_lengthmax", "agent_id"),
    ("agent_id chars", {"agent_id": "ag=1"}, "resource_user_agent_id_rule", "agent_id"),
    ("client_reference_id long", {"client_reference_id": "R" * 51}, "resource_user_client_reference_id_lengthmax", "client_reference_id"),
    ("client_reference_id chars", {"client_reference_id": "ref*1"}, "resource_user_client_reference_id_rule", "client_reference_id"),
    ("employer_name long", {"employer_name": "E" * 51}, "resource_user_employer_name_lengthmax", "employer_name"),
    ("employer_name chars", {"employer_name": "Acme & Co"}, "resource_user_employer_name_rule", "employer_name"),
    ("employment_type long", {"employment_type": "x" * 101}, "resource_user_employment_type_lengthmax", "employment_type"),
    ("employment_type chars", {"employment_type": "Full_time"}, "resource_user_employment_type_rule", "employment_type"),
    ("employment_type value", {"employment_type": "Astronaut"}, "resource_user_employment_type_not_allowed", "employment_type"),
    ("source_of_funds long", {"source_of_funds": "x" * 101}, "resource_user_source_of_funds_lengthmax", "source_of_funds"),
    ("source_of_funds chars", {"source_of_funds": "Lottery!"}, "resource_user_source_of_funds_rule", "source_of_funds"),
    ("source_of_funds value", {"source_of_funds": "Lottery"}, "resource_user_source_of_funds_not_allowed", "source_of_funds"),
    ("occupation long", {"occupation": "x" * 101}, "resource_user_occupation_lengthmax", "occupation"),
    ("occupation chars", {"occupation": "Spy*"}, "resource_user_occupation_rule", "occupation"),
    ("occupation value", {"occupation": "Spy"}, "resource_user_occupation_not_allowed", "occupation"),
    ("volume_of_assets long", {"volume_of_assets": "x" * 101}, "resource_user_volume_of_assets_lengthmax", "volume_of_assets"),
    ("volume_of_assets chars", {"volume_of_assets": "> 1M"}, "resource_user_volume_of_assets_rule", "volume_of_assets"),
    ("volume_of_assets value", {"volume_of_assets": "Billions"}, "resource_user_volume_of_assets_not_allowed", "volume_of_assets"),
    ("place_of_birth long", {"place_of_birth": "x" * 101}, "resource_user_place_of_birth_lengthmax", "place_of_birth"),
    ("purpose_of_account", {"purpose_of_account": "Laundering"}, "resource_user_purpose_of_account_not_allowed", "purpose_of_account"),
    ("unknown field", {"favourite_colour": "blue"}, error_codes.USER_UNKNOWN_FIELD, "favourite_colour"),
    ("response-only field", {"status": "active"}, error_codes.USER_UNKNOWN_FIELD, "status"),
    ("response-only account_type", {"account_type": "business"}, error_codes.USER_UNKNOWN_FIELD, "account_type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "code", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_answers_its_code_and_saves_nothing(api_a, overrides, code, field):
    before = row_counts()
    response = api_a.post("/alpha/v1/users", v1_body(**overrides), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in body["errors"]
    ], body
    assert body["code"] == body["errors"][0]["code"]
    assert all(e["description"] and "{" not in e["description"] for e in body["errors"])
    assert row_counts() == before


def test_every_seed_code_is_covered_by_a_case():
    covered = {c[2] for c in CASES}
    seed_codes = {
        "resource_user_id_date_expiry_invalid",
        "resource_user_country_of_issue_invalid",
        "resource_user_birthday_invalid",
        "resource_user_birthday_not_allowed",
        "user_password_below_min_length",
        "user_password_above_max_length",
        "user_password_rule_mismatch",
        "resource_user_customer_id_lengthmax",
        "resource_user_customer_id_rule",
        "resource_user_partner_id_rule",
        "resource_user_partner_id_lengthmax",
        "resource_id_type_rule_not_matched",
        "resource_user_mothers_maiden_name_rule",
        "resource_user_mothers_first_name_rule",
        "resource_user_mothers_first_name_lengthmax",
        "resource_user_mothers_last_name_rule",
        "resource_user_mothers_last_name_lengthmax",
        "resource_user_marital_status_not_allowed",
        "resource_user_mobile_country_code_not_allowed",
        "resource_user_mobile_country_code_lengthmax",
        "resource_user_unrecognized_title",
        "resource_user_unrecognized_gender",
        "resource_user_unrecognized_id_type",
        "resource_user_id_type_and_number_invalid",
        "user_id_number_above_max_length",
        "resource_user_unrecognized_alt_id_type",
        "resource_user_alt_id_type_and_number_invalid",
        "user_alt_id_number_above_max_length",
        "resource_user_wallet_fund_mobile_insufficient_dependency",
        "future_birthday_not_allowed",
        "resource_user_agent_id_lengthmax",
        "resource_user_agent_id_rule",
        "resource_user_client_reference_id_lengthmax",
        "resource_user_client_reference_id_rule",
        "resource_user_employer_name_lengthmax",
        "resource_user_employer_name_rule",
        "resource_user_id_date_missing",
        "resource_user_alt_id_date_missing",
    }
    for name in ("employment_type", "source_of_funds", "occupation", "volume_of_assets"):
        for rule in ("lengthmax", "rule", "not_allowed"):
            seed_codes.add(f"resource_user_{name}_{rule}")
    # the uniqueness codes and the names-frozen rule have their own tests below / in services
    assert seed_codes <= covered, seed_codes - covered


def test_errors_follow_the_order_of_the_table(api_a):
    body = v1_body(
        email="nope", first_name="Ada1", birthday="soon", employer_name="A&B", title="Sir"
    )
    response = api_a.post("/alpha/v1/users", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert [e["code"] for e in data["errors"]] == [
        "resource_user_email_invalid",
        "resource_user_first_name_rule",
        "resource_user_unrecognized_title",
        "resource_user_birthday_invalid",
        "resource_user_employer_name_rule",
    ]
    assert data["code"] == "resource_user_email_invalid"
    assert data["description"] == data["errors"][0]["description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"first_name": 123},
        {"mobile": ["91234567"]},
        {"email": {"x": 1}},
        {"birthday": 19900517},
        {"id_type": True, "id_number": "X"},
        {"password": 12345678},
    ],
)
def test_wrong_json_types_answer_invalid_never_500(api_a, overrides):
    before = row_counts()
    response = api_a.post("/alpha/v1/users", v1_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    codes = [e["code"] for e in response.json()["errors"]]
    assert any(c.endswith("_invalid") for c in codes), codes
    assert row_counts() == before


def test_body_that_is_not_an_object(api_a):
    response = api_a.post("/alpha/v1/users", [1, 2], format="json")
    assert response.status_code == 400
    assert response.json()["code"] == error_codes.INVALID_REQUEST_BODY


def test_names_of_any_script_are_letters(api_a):
    body = v1_body(
        first_name="Zoë", middle_name="李小龍", last_name="O'Brien-Smith Jr.", preferred_name="Zoë"
    )
    response = api_a.post("/alpha/v1/users", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["name"]["middle"] == "李小龍"


def test_enumerations_match_case_insensitively_and_answer_the_code(api_a):
    body = v1_body(
        title="mADAM", gender="Female", marital_status="SINGLE", nationality="sgp",
        occupation="it professional", volume_of_assets="below 10,000",
    )  # fmt: skip
    data = api_a.post("/alpha/v1/users", body, format="json").json()
    assert (data["title"], data["gender"], data["marital_status"]) == ("Madam", "female", "single")
    assert (data["occupation"], data["volume_of_assets"]) == ("IT Professional", "Below 10,000")


def test_program_required_fields_min_age_and_restrictions(seeded):
    from tests.conftest import api_for
    from tests.factories import ApiClientFactory

    program = ProgramFactory(
        code="strict",
        min_age=21,
        required_fields=["birthday", "id_type", "id_number", "nationality"],
        restrictions={"mobile_country_codes": ["65"], "nationalities": ["SGP", "MYS"]},
    )
    api = api_for(ApiClientFactory(program=program))
    data = api.post("/strict/v1/users", v1_body(), format="json").json()
    assert [e["code"] for e in data["errors"]] == [
        "resource_user_birthday_required",
        "resource_user_id_type_required",
        "resource_user_id_number_required",
        "resource_user_nationality_required",
    ]
    assert [e["field"] for e in data["errors"]][:2] == ["birthday", "id_type"]
    twenty = TODAY.replace(year=TODAY.year - 20).isoformat()
    body = v1_body(
        birthday=twenty, id_type="nric", id_number=NRICS[2], nationality="IDN",
        mobile_country_code="60", mobile="123456789",
    )  # fmt: skip
    codes = [e["code"] for e in api.post("/strict/v1/users", body, format="json").json()["errors"]]
    assert codes == [
        "resource_user_mobile_country_code_not_allowed",
        "resource_user_nationality_not_allowed",
        "resource_user_birthday_not_allowed",
    ]
    ok = v1_body(birthday="1990-01-01", id_type="nric", id_number=NRICS[2], nationality="mys")
    assert api.post("/strict/v1/users", ok, format="json").status_code == 200


def test_nric_checksum_reference_values():
    assert all(sg_nric_is_valid(v) for v in ("S1234567D", "T1234567J", "F1234567N", "G1234567X"))
    assert sg_nric_is_valid("M1234567K")
    assert not any(sg_nric_is_valid(v) for v in ("S1234567A", "F1234567D", "M1234567X", "S12"))


# --- the v2-only canonical fields (the v2 API sends them; the services validate them) -------


def _v2(program_a, **changes):  # type: ignore[no-untyped-def]
    base = {
        "type": "customer", "first_name": "Ada", "last_name": "Lovelace",
        "preferred_name": "Ada", "email": "ada@example.com", "mobile_country_code": "65",
        "mobile": "91234567",
    }  # fmt: skip
    base.update(changes)
    result = validate_write(program=program_a, catalog=get_catalog(), changes=base)
    return [(e.field, e.code) for e in result.errors], result


V2_CASES = [
    ({"type": "robot"}, ("type", "resource_user_account_type_invalid")),
    ({"type": None}, ("type", "resource_user_account_type_invalid")),
    ({"salutation": "S" * 21}, ("salutation", "resource_user_salutation_lengthmax")),
    ({"job_title": "J" * 101}, ("job_title", "resource_user_job_title_lengthmax")),
    ({"fathers_first_name": "J0hn"}, ("fathers_first_name", "resource_user_fathers_first_name_rule")),
    ({"birth_country": "XYZ"}, ("birth_country", "resource_user_birth_country_not_allowed")),
    ({"country_of_residence": "sg"}, ("country_of_residence", "resource_user_country_of_residence_not_allowed")),
    ({"annual_income": "lots"}, ("annual_income", "resource_user_annual_income_not_allowed")),
    ({"social_professional_category": "x"}, ("social_professional_category", "resource_user_social_professional_category_not_allowed")),
    ({"main_income_source": "Lottery"}, ("main_income_source", "resource_user_source_of_funds_not_allowed")),
    ({"pep": "yes"}, ("pep", "resource_user_pep_invalid")),
    ({"fatca_crs_relevant": 1}, ("fatca_crs_relevant", "resource_user_fatca_crs_relevant_invalid")),
    ({"fatca_crs_confirmation_date": "2024-01-01T10:00:00"}, ("fatca_crs_confirmation_date", "resource_user_fatca_crs_confirmation_date_invalid")),
    ({"data_terms_signed_date": FUTURE}, ("data_terms_signed_date", "resource_user_data_terms_signed_date_invalid")),
    ({"metadata": ["a"]}, ("metadata", "resource_user_metadata_invalid")),
    ({"metadata": {str(i): i for i in range(51)}}, ("metadata", "resource_user_metadata_lengthmax")),
    ({"metadata": {"blob": "x" * 17000}}, ("metadata", "resource_user_metadata_lengthmax")),
    ({"created_by": "me"}, ("created_by", "resource_user_created_by_invalid")),
    ({"metadata": {"k": "nul\x00byte"}}, ("metadata", "resource_user_metadata_invalid")),
    ({"job_title": "nul\x00byte"}, ("job_title", "resource_user_job_title_rule")),
    ({"provider_posting_status": "p" * 51}, ("provider_posting_status", "resource_user_provider_posting_status_lengthmax")),
    ({"addresses": {"billing": {"address_1": "1 Main St", "country": "XYZ"}}}, ("addresses.billing.country", "resource_user_address_country_not_allowed")),
    ({"addresses": {"billing": {"address_1": "1 Main St", "country": "SGP", "zipcode": "1" * 21}}}, ("addresses.billing.zipcode", "resource_user_address_zipcode_lengthmax")),
    ({"addresses": {"billing": {"country": "SGP"}}}, ("addresses.billing.address_1", "resource_user_address_address_1_required")),
    ({"addresses": {"billing": {"address_1": "x", "country": "SGP", "floor": 3}}}, ("addresses.billing.floor", "resource_user_unknown_field")),
    ({"addresses": {"moon": {"address_1": "x", "country": "SGP"}}}, ("addresses.moon", "resource_user_address_type_invalid")),
    ({"tax_residencies": [{"country": "SGP"}, {"country": "sgp"}]}, ("tax_residencies.1.country", "resource_user_tax_residency_country_unique")),
    ({"tax_residencies": [{"country": "SGP", "tin": "T" * 51}]}, ("tax_residencies.0.tin", "resource_user_tax_residency_tin_lengthmax")),
    ({"tax_residencies": [{"tin": "123"}]}, ("tax_residencies.0.country", "resource_user_tax_residency_country_required")),
    ({"tax_residencies": "SGP"}, ("tax_residencies", "resource_user_tax_residencies_invalid")),
    ({"identification": {"primary": {"id_type": "passport", "number": "K1234567", "issue_date": None, "expiry_date": None, "country_of_issue": None}, "secondary": {"id_type": "passport", "number": "k1234567", "issue_date": None, "expiry_date": None, "country_of_issue": None}}}, ("identification.secondary.number", "resource_id_type_unique")),
]  # fmt: skip


@pytest.mark.parametrize(("changes", "expected"), V2_CASES)
def test_v2_only_fields(program_a, changes, expected):
    errors, _ = _v2(program_a, **changes)
    assert expected in errors, errors


def test_v2_fields_clean_to_their_stored_form(program_a):
    errors, result = _v2(
        program_a,
        type="CORPORATE",
        fatca_crs_confirmation_date="2024-01-01T10:00:00+08:00",
        pep=False,
        metadata={"k": "v"},
        addresses={"residential": {"address_1": " 1 Main St ", "country": "sgp"}},
        tax_residencies=[{"country": "mys", "tin": "A-1"}],
    )
    assert errors == []
    assert result.scalars["type"] == "corporate"
    assert result.scalars["fatca_crs_confirmation_date"].isoformat() == "2024-01-01T02:00:00+00:00"
    assert result.addresses["residential"]["address_1"] == "1 Main St"
    assert result.addresses["residential"]["country"] == "SGP"
    assert result.tax_residencies == [{"country": "MYS", "tin": "A-1"}]


def test_program_requiring_an_address(seeded):
    program = ProgramFactory(code="addr", required_fields=["address"])
    errors, _ = _v2(program)
    assert ("addresses.residential", "resource_user_address_required") in errors
    errors, _ = _v2(program, addresses={"residential": {"address_1": "x", "country": "SGP"}})
    assert errors == []


# --- the codes: generated once from the rule table, imported by the schema and these tests ---


def test_every_code_a_case_answers_is_a_possible_v1_code():
    from users.api.v1 import FIELD_CODES, V1_FIELDS

    v1_codes = possible_codes(V1_FIELDS)
    assert {c[2] for c in CASES} <= set(v1_codes), {c[2] for c in CASES} - set(v1_codes)
    assert set(v1_codes) <= set(FIELD_CODES)  # what the v1 schema documents
    for unique in ("resource_user_email_unique", "resource_user_mobile_unique",
                   "resource_user_customer_id_in_use", "resource_id_type_unique",
                   "resource_user_first_name_last_name_preferred_name_error"):  # fmt: skip
        assert unique in v1_codes
    # v2-only fields are not v1 codes
    assert "resource_user_job_title_lengthmax" not in v1_codes


def test_every_code_a_v2_case_answers_is_a_possible_code():
    codes = set(possible_codes())
    expected = {code for _, (_, code) in V2_CASES}
    assert expected <= codes, expected - codes
    assert len(possible_codes()) == len(codes)  # no duplicates


def test_uniqueness_errors_take_their_place_in_the_table(program_a, api_a):
    """The services' uniqueness pre-check adds its errors in the §6 table's order: the email's
    uniqueness before the names' rules, whatever order the checks ran in."""
    first = v1_body()
    assert api_a.post("/alpha/v1/users", first, format="json").status_code == 200
    body = v1_body(email=first["email"], first_name="Ada1")
    response = api_a.post("/alpha/v1/users", body, format="json")
    assert response.status_code == 400
    codes = [e["code"] for e in response.json()["errors"]]
    assert codes == ["resource_user_email_unique", "resource_user_first_name_rule"], codes
    # validation alone reads no table: the same write judged without the services passes
    # the uniqueness rows
    result = validate_write(
        program=program_a,
        catalog=get_catalog(),
        changes={"email": first["email"], "first_name": "Ada1"},
    )
    codes = [e.code for e in result.errors]
    assert "resource_user_first_name_rule" in codes
    assert "resource_user_email_unique" not in codes
