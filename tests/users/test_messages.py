"""Descriptions say what is wrong and how to fix it; the codes stay the seed's (issue 13
item 5): the password rule, an NRIC checksum, a missing X-Auth-User-ID, v2 field names."""

from __future__ import annotations

import pytest

from tests.users.conftest import NRICS, v1_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("password1234", "add a special character."),
        ("password!!!!", "add a number."),
        ("PASSWORD12!!", "add a lower-case letter."),
        ("PASSWORDABCD", "add a lower-case letter and a number and a special character."),
    ],
)
def test_password_rule_says_what_is_missing(api_a, password, missing):
    response = api_a.post("/alpha/v1/users", v1_body(password=password), format="json")
    data = response.json()
    assert data["code"] == "user_password_rule_mismatch"
    assert data["description"].endswith(missing), data["description"]
    assert "lower-case letter, a number and a special character" in data["description"]


def test_nric_with_a_wrong_check_letter_says_so(api_a):
    wrong = NRICS[0][:-1] + ("A" if NRICS[0][-1] != "A" else "B")
    response = api_a.post(
        "/alpha/v1/users", v1_body(id_type="nric", id_number=wrong), format="json"
    )
    data = response.json()
    assert data["code"] == "resource_id_type_rule_not_matched"
    assert "check character is wrong" in data["description"]
    malformed = api_a.post(
        "/alpha/v1/users", v1_body(id_type="nric", id_number="12345"), format="json"
    )
    assert malformed.json()["code"] == "resource_id_type_rule_not_matched"
    assert "does not have the format of id type `nric`" in malformed.json()["description"]
    alt = api_a.post(
        "/alpha/v1/users", v1_body(alt_id_type="passport", alt_id_number="!!"), format="json"
    )
    assert "`alt_id_number`" in alt.json()["errors"][0]["description"]


@pytest.mark.parametrize("method", ["get", "put"])
def test_missing_user_header_is_named(api_a, method):
    response = getattr(api_a, method)("/alpha/v1/users", {}, format="json")
    data = response.json()
    assert (response.status_code, data["code"]) == (404, "user_improper_id")
    assert "`X-Auth-User-ID` is missing" in data["description"]


def test_v2_details_name_v2_fields(api_a):
    body = {
        "first_name": "Ada", "last_name": "Lovelace", "preferred_name": "Ada",
        "email": "ada.v2@example.com", "mobile_country_code": "65", "mobile": "91234567",
        "identification": [{"type": "nric", "number": "S0000000A", "is_primary": True}],
    }  # fmt: skip
    response = api_a.post("/alpha/v2/users", body, format="json")
    sources = {s["field"]: s["detail"] for s in response.json()["source"]}
    assert "`type`" in sources["type"] and "account_type" not in sources["type"]
    number = sources["identification[0].number"]
    assert "`identification[0].number`" in number and "`id_number`" not in number
