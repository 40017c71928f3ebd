"""`GET/PUT /{program}/v1/users/addresses/{type}` (SPEC §11): one store with v2 addresses,
v1 limits and codes, audited and screened like any update."""

from __future__ import annotations

import pytest

from tests.users.conftest import row_counts
from users.models import Address

pytestmark = pytest.mark.django_db

HOME = {
    "address_1": "1 Orchard Road",
    "address_2": "#05-01",
    "city": "Singapore",
    "state": "SG",
    "country": "singapore",
    "zipcode": "238801",
}


def _url(kind: str = "residential") -> str:
    return f"/alpha/v1/users/addresses/{kind}"


def test_put_then_get_both_types(api_a, make_user):
    user = make_user()
    header = {"HTTP_X_AUTH_USER_ID": user.public_id}
    empty = api_a.get(_url(), **header)
    assert empty.status_code == 200 and empty.json() == {"residential": None, "billing": None}
    response = api_a.put(_url(), HOME, format="json", **header)
    assert response.status_code == 200, response.json()
    home = {
        "address_1": "1 Orchard Road",
        "address_2": "#05-01",
        "address_3": None,
        "address_4": None,
        "city": "Singapore",
        "state": "SG",
        "country": "Singapore",
        "country_code": "SGP",
        "zipcode": "238801",
    }
    assert response.json() == {"residential": home, "billing": None}
    billing = api_a.put(
        _url("billing"),
        "address_1=2+High+St&city=London&country_code=gbr",
        content_type="application/x-www-form-urlencoded",
        **header,
    )
    assert billing.status_code == 200, billing.json()
    assert billing.json()["billing"]["country"] == "United Kingdom"
    assert api_a.get(_url("billing"), **header).json()["residential"] == home
    # one store: v2 sees the same records
    v2 = api_a.get(f"/alpha/v2/users/{user.public_id}").json()
    assert {a["type"] for a in v2["addresses"]} == {"residential", "billing"}
    assert user.events.filter(type="updated").count() == 2


def test_put_replaces_the_address_of_that_type(api_a, make_user):
    user = make_user()
    header = {"HTTP_X_AUTH_USER_ID": user.public_id}
    api_a.put(_url(), HOME, format="json", **header)
    moved = {"address_1": "9 Bukit Timah", "city": "Singapore", "country_code": "SGP"}
    data = api_a.put(_url(), moved, format="json", **header).json()["residential"]
    assert data["address_2"] is None and data["zipcode"] is None
    assert Address.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ({}, ["user_address_1_invalid", "user_city_invalid", "user_country_invalid"]),
        ({**HOME, "address_1": "x" * 36}, ["user_address_1_invalid"]),
        ({**HOME, "address_4": "x" * 36}, ["user_address_4_invalid"]),
        ({**HOME, "state": "x" * 21}, ["user_state_invalid"]),
        ({**HOME, "country": "Atlantis"}, ["user_country_invalid"]),
        ({**HOME, "country_code": "GBR"}, ["user_country_code_invalid"]),
        ({**HOME, "country": None, "country_code": "XXX"}, ["user_country_code_invalid"]),
        ({**HOME, "zipcode": "2388_01"}, ["user_zipcode_invalid"]),
        ({**HOME, "zipcode": "1" * 17}, ["user_zipcode_invalid"]),
        ({**HOME, "colour": "red"}, ["resource_user_unknown_field"]),
    ],
)
def test_invalid_addresses_save_nothing(api_a, make_user, body, codes):
    user = make_user()
    before = row_counts()
    body = {k: v for k, v in body.items() if v is not None}
    response = api_a.put(_url(), body, format="json", HTTP_X_AUTH_USER_ID=user.public_id)
    assert response.status_code == 400
    data = response.json()
    assert [e["code"] for e in data["errors"]] == codes
    assert data["code"] == codes[0]
    assert row_counts() == before


def test_unknown_type_missing_header_and_other_programs(api_a, api_b, make_user):
    user = make_user()
    unknown = api_a.get(_url("mailing"), HTTP_X_AUTH_USER_ID=user.public_id)
    assert (unknown.status_code, unknown.json()["code"]) == (
        404,
        "resource_user_address_type_invalid",
    )
    put_unknown = api_a.put(_url("work"), HOME, format="json", HTTP_X_AUTH_USER_ID=user.public_id)
    assert put_unknown.status_code == 404
    assert api_a.get(_url()).json()["code"] == "user_improper_id"
    other = api_b.put(
        "/beta/v1/users/addresses/residential", HOME, format="json",
        HTTP_X_AUTH_USER_ID=user.public_id,
    )  # fmt: skip
    assert other.json()["code"] == "user_record_not_found"
    assert not Address.objects.exists()
