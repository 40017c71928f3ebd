"""The v1 users API end to end: create, read, update, dry run, re-activate, de-activate."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import check_password

from tests.users.conftest import NRICS, v1_body
from users.models import AccountHolder

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


def form(api, method, url, body, **extra):  # type: ignore[no-untyped-def]
    return getattr(api, method)(url, urlencode(body), content_type=FORM, **extra)


V1_USER_KEYS = {
    "id", "email", "name", "mobile", "identification", "alt_identification",
    "country_of_issue", "alt_id_country_of_issue", "birthday", "place_of_birth", "gender",
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
        "issue": "2015-01-01",
        "expiry": "2035-01-01",
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
