"""GET /{program}/v2/users/{user_id}: the v2 user, its ETag, 404s and tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enumerations.models import IdType
from tests.factories import AccountHolderFactory
from tests.users.v2_support import (
    UTC_FORMAT,
    assert_v2_error,
    full_user,
    identification,
)
from users.models import PendingUpdate

pytestmark = pytest.mark.django_db


def url(user_id: str, program: str = "alpha") -> str:
    return f"/{program}/v2/users/{user_id}"


def test_every_field_is_rendered(api_a, program_a):
    user = full_user(program_a)
    response = api_a.get(url(user.public_id))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == body["hash_id"] == user.public_id
    assert body["type"] == "customer"
    for name in ("client_ref_id", "salutation", "title", "first_name", "middle_name"):
        assert body[name] == getattr(user, name)
    assert body["birth"] == {"date": "1990-12-09", "place": "New York", "country": "USA"}
    assert body["mothers_details"] == {
        "first_name": "Mary",
        "middle_name": "Campbell",
        "last_name": "Murray",
        "maiden_name": "Van Horne",
    }
    assert body["fathers_details"] == {
        "first_name": "Walter",
        "middle_name": "Fletcher",
        "last_name": "Murray",
    }
    assert body["employer"] == {
        "name": "US Navy",
        "nature_of_business": "Defence",
        "address": {
            "address_1": "1 Employer Road",
            "address_2": "#01-01",
            "address_3": None,
            "address_4": None,
            "city": "Arlington",
            "state": "SG",
            "country": "SGP",
            "zipcode": "123456",
        },
    }
    # the employer's address is not repeated in `addresses`; listed types in a fixed order
    assert [a["type"] for a in body["addresses"]] == ["residential", "billing"]
    assert body["addresses"][1]["city"] == "Jurong"
    assert body["provider"] == {
        "reference_id": "PRV-1",
        "account_number": "ACC-1",
        "posting_status": "posted",
    }
    assert body["tax_residencies"] == [
        {"country": "SGP", "tin": "T123"},
        {"country": "USA", "tin": "999-88-7777"},
    ]
    assert body["identification"] == [
        {
            "type": "passport",
            "number": "****4567",
            "issue_date": "2020-01-01",
            "expiry_date": "2035-01-01",
            "country_of_issue": "SGP",
            "is_primary": True,
        },
        {
            "type": "drivers_id",
            "number": "*******7766",
            "issue_date": "2020-01-01",
            "expiry_date": "2035-01-01",
            "country_of_issue": "SGP",
            "is_primary": False,
        },
    ]
    assert body["fatca_crs_relevant"] is True
    assert body["fatca_crs_confirmation_date"] == "2024-05-06T07:08:09Z"
    assert body["pep"] is False
    assert body["data_terms_signed_date"] == "2024-01-02"
    assert body["metadata"] == {"segment": "gold", "tags": ["a", "b"]}
    assert body["created_by"] == {"system": "crm", "user": "ops-7"}
    assert (body["customer_id"], body["partner_id"], body["agent_id"]) == ("CUST-1", "P-1", "A-1")
    assert (body["employment_type"], body["job_title"]) == ("Employed", "Admiral")
    assert body["annual_income"] == "Above 200,000"
    assert body["main_income_source"] == "Salary"
    assert body["social_professional_category"] == "Executive"
    assert body["purpose_of_account"] == "Savings"
    assert body["country_of_residence"] == "SGP"
    assert body["status"] == "active"
    assert body["risk_status"] == "UNKNOWN"
    assert body["is_email_verified"] == 0 and body["is_mobile_verified"] == 0
    assert body["errors"] == [] and body["pending_updates"] == []
    assert UTC_FORMAT.match(body["date_created"]) and UTC_FORMAT.match(body["date_updated"])
    assert {"method": "GET", "rel": "self", "href": url(user.public_id)} in body["links"]
    assert "password" not in body


def test_absent_values_are_null_and_objects_keep_their_shape(api_a, program_a):
    user = AccountHolderFactory(program=program_a, password="argon2$hash")
    body = api_a.get(url(user.public_id)).json()
    assert body["birth"] == {"date": None, "place": None, "country": None}
    assert body["employer"] == {"name": None, "nature_of_business": None, "address": None}
    assert body["identification"] == [] and body["addresses"] == []
    assert body["tax_residencies"] == []
    assert body["metadata"] is None and body["kyc_processed_date"] is None
    assert "password" not in body and "argon2$hash" not in str(body)


def test_id_numbers_are_shown_in_full_for_id_types_without_masking(api_a, program_a):
    IdType.objects.create(
        code="student_card",
        description="Student card",
        display_name="Student card",
        masking=False,
        is_primary=True,
    )
    user = AccountHolderFactory(program=program_a)
    identification(user, id_type="student_card", number="STU-12345678")
    body = api_a.get(url(user.public_id)).json()
    assert body["identification"][0]["number"] == "STU-12345678"


def test_verification_flags_are_1_or_0(api_a, program_a):
    user = AccountHolderFactory(program=program_a, is_email_verified=True)
    body = api_a.get(url(user.public_id)).json()
    assert (body["is_email_verified"], body["is_mobile_verified"]) == (1, 0)


def test_open_pending_updates_and_their_required_actions(api_a, program_a):
    user = AccountHolderFactory(program=program_a, is_email_verified=True)
    now = timezone.now()
    pending = PendingUpdate.objects.create(
        user=user, field="email", value="new@example.com", requested_at=now
    )
    PendingUpdate.objects.create(
        user=user,
        field="mobile",
        value={"mobile_country_code": "65", "mobile": "91234567"},
        status="rejected",
        requested_at=now - timedelta(days=1),
    )
    body = api_a.get(url(user.public_id)).json()
    assert body["pending_updates"] == [
        {
            "id": pending.public_id,
            "field": "email",
            "value": "new@example.com",
            "reason": "verification_required",
            "status": "pending",
            "requested_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    assert body["required_actions"] == [{"property": "email", "action": "verify"}]


def test_etag_is_the_row_version(api_a, program_a):
    user = AccountHolderFactory(program=program_a, row_version=7)
    response = api_a.get(url(user.public_id))
    assert response.headers["ETag"] == '"7"'


@pytest.mark.parametrize(
    "bad_id",
    [
        "abc",
        "0123456789abcdef0123456789ABCDEF",  # upper case
        "0123456789abcdef0123456789abcde",  # 31
        "0123456789abcdef0123456789abcdef0",  # 33
        "0123456789abcdef0123456789abcdeg",
        "enumerations",
    ],
)
def test_malformed_id_is_user_improper_id(api_a, bad_id):
    assert_v2_error(api_a.get(url(bad_id)), 404, "user_improper_id")


def test_unknown_id_is_user_record_not_found(api_a):
    assert_v2_error(api_a.get(url("0" * 32)), 404, "user_record_not_found")


def test_another_programs_user_is_not_found(api_b, program_a):
    user = full_user(program_a)
    assert_v2_error(api_b.get(url(user.public_id, "beta")), 404, "user_record_not_found")
    # and through program A's URL, program B's client is not let in at all
    assert_v2_error(api_b.get(url(user.public_id, "alpha")), 401, "invalid_tenant")


def test_readonly_client_may_read(api_readonly_a, program_a):
    user = AccountHolderFactory(program=program_a)
    assert api_readonly_a.get(url(user.public_id)).status_code == 200


def _user_table_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"users_' in q["sql"]]


def test_detail_reads_a_constant_number_of_queries(api_a, program_a):
    small = AccountHolderFactory(program=program_a)
    big = full_user(program_a)
    PendingUpdate.objects.create(
        user=big, field="email", value="x@y.z", requested_at=timezone.now()
    )
    api_a.get(url(small.public_id))  # warm-up: last_used_at, catalog snapshot
    counts = []
    for user in (small, big):
        with CaptureQueriesContext(connection) as captured:
            assert api_a.get(url(user.public_id)).status_code == 200
        counts.append((len(captured), len(_user_table_queries(captured))))
    assert counts[0] == counts[1]
    # the user, then its documents, addresses, tax residencies and open pending updates
    assert counts[0][1] == 5
