"""v1 user: the seed's country-of-issue names, date-time id dates, the absolute error link,
and `DELETE` reading `state` from the query string (SPEC §5, amended by issue 13)."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.users.conftest import NRICS, row_counts, v1_body
from users.models import AccountHolder

pytestmark = pytest.mark.django_db

DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT00:00:00Z")


def _create(api, **overrides):  # type: ignore[no-untyped-def]
    response = api.post("/alpha/v1/users", v1_body(**overrides), format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_countries_of_issue_carry_the_seed_names(api_a):
    data = _create(
        api_a,
        id_type="nric",
        id_number=NRICS[1],
        country_of_issue="sgp",
        alt_id_type="passport",
        alt_id_number="K7654321",
        alt_id_country_of_issue="GBR",
    )
    assert data["countryofissue"] == "Singapore"
    assert data["country_code_of_issue"] == "SGP" == data["country_of_issue"]
    assert data["alt_id_countryofissue"] == "United Kingdom"
    assert data["alt_id_country_code_of_issue"] == "GBR" == data["alt_id_country_of_issue"]
    again = api_a.get(f"/alpha/v1/users/{data['id']}").json()
    assert {k: again[k] for k in ("countryofissue", "alt_id_countryofissue")} == {
        "countryofissue": "Singapore",
        "alt_id_countryofissue": "United Kingdom",
    }


def test_countries_of_issue_are_null_when_absent(api_a):
    data = _create(api_a)
    for key in (
        "countryofissue",
        "country_code_of_issue",
        "alt_id_countryofissue",
        "alt_id_country_code_of_issue",
    ):
        assert data[key] is None


def test_id_dates_are_date_times_birthday_stays_a_date(api_a):
    data = _create(
        api_a,
        birthday="1990-05-17",
        id_type="passport",
        id_number="K1234567",
        id_date_issue="2020-02-29",
        id_date_expiry="2030-02-28",
        alt_id_type="passport",
        alt_id_number="K7654321",
        alt_id_date_issue="2019-01-01",
        alt_id_date_expiry="2029-01-01",
    )
    assert data["identification"]["issue"] == "2020-02-29T00:00:00Z"
    assert data["identification"]["expiry"] == "2030-02-28T00:00:00Z"
    assert data["alt_identification"]["issue"] == "2019-01-01T00:00:00Z"
    assert DATE_TIME.fullmatch(data["alt_identification"]["expiry"])
    assert data["birthday"] == "1990-05-17"


def test_error_link_is_absolute_on_the_request_host(api_a):
    response = api_a.get("/alpha/v1/users/" + "f" * 32, HTTP_HOST="api.example.com")
    assert response.status_code == 404
    assert response.json()["link"] == (
        "http://api.example.com/api/docs/errors/#user_record_not_found"
    )
    secure = api_a.get("/alpha/v1/users/nope", secure=True)
    assert secure.json()["link"] == "https://testserver/api/docs/errors/#user_improper_id"


@override_settings(ERROR_DOCS_BASE_URL="https://docs.example.org/onboard/errors/")
def test_error_link_uses_the_configured_catalogue(api_a):
    response = api_a.get("/alpha/v1/users/nope")
    assert response.json()["link"] == "https://docs.example.org/onboard/errors/#user_improper_id"


def test_error_link_of_an_unrouted_path_and_of_an_auth_failure(db):
    anonymous = APIClient().get("/alpha/v1/users/" + "f" * 32)
    assert anonymous.json()["link"] == "http://testserver/api/docs/errors/#invalid_credentials"


@pytest.mark.parametrize(
    ("query", "body", "state"),
    [
        ("?state=blocked", {}, "blocked"),
        ("?state=SUSPENDED", {}, "suspended"),
        ("?state=blocked", {"state": "Blocked"}, "blocked"),
        ("?state=", {"state": "blocked"}, "blocked"),
    ],
)
def test_deactivate_reads_state_from_the_query_string(api_a, query, body, state):
    created = _create(api_a)
    response = api_a.delete(f"/alpha/v1/users/{created['id']}{query}", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"id": created["id"], "state": state}
    assert AccountHolder.objects.get(public_id=created["id"]).status == state


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("?state=blocked", {"state": "suspended"}),
        ("?state=blocked&state=suspended", {}),
        ("?state=deleted", {}),
    ],
)
def test_deactivate_refuses_conflicting_or_invalid_query_state(api_a, query, body):
    created = _create(api_a)
    before = row_counts()
    response = api_a.delete(f"/alpha/v1/users/{created['id']}{query}", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "resource_user_state_invalid"
    assert data["errors"][0]["field"] == "state"
    assert row_counts() == before
    assert AccountHolder.objects.get(public_id=created["id"]).status == "active"


def test_schema_documents_the_delete_body_query_and_new_fields(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    delete = schema["paths"]["/{program}/v1/users/{user_id}"]["delete"]
    state = [p for p in delete["parameters"] if p["name"] == "state"]
    assert state and state[0]["in"] == "query"
    assert sorted(state[0]["schema"]["enum"]) == ["blocked", "suspended"]
    content = delete["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(content)
    user = schema["components"]["schemas"]["V1User"]["properties"]
    for key in (
        "countryofissue",
        "country_code_of_issue",
        "alt_id_countryofissue",
        "alt_id_country_code_of_issue",
    ):
        assert key in user
    document = schema["components"]["schemas"]["V1Document"]["properties"]
    assert document["issue"]["format"] == "date-time"
    assert document["expiry"]["format"] == "date-time"
