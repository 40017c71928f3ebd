"""Helpers for the v2 API tests: fully populated users written directly, envelope checks."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import Model
from django.utils import timezone

from tests.factories import AccountHolderFactory
from users.models import (
    AccountHolder,
    Address,
    Identification,
    PendingUpdate,
    StatusChange,
    TaxResidency,
    UserEvent,
)

HEX32 = re.compile(r"^[0-9a-f]{32}$")
V2_ERROR_KEYS = {"id", "status", "code", "title", "detail", "source", "timestamp"}
UTC_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
USER_TABLES: tuple[type[Model], ...] = (
    AccountHolder,
    Identification,
    Address,
    TaxResidency,
    UserEvent,
    StatusChange,
    PendingUpdate,
)


def assert_v2_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == V2_ERROR_KEYS
    assert body["code"] == code
    assert body["status"] == status
    assert HEX32.match(body["id"])
    assert UTC_FORMAT.match(body["timestamp"])
    return body


def sources(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["field"], s["code"]) for s in body["source"]]


def table_counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in USER_TABLES}


def identification(
    user: AccountHolder, *, primary: bool = True, id_type: str = "passport", number: str = ""
) -> Identification:
    number = number or ("E1234567" if primary else "K7654321")
    return Identification.objects.create(
        user=user,
        program=user.program,
        is_primary=primary,
        id_type=id_type,
        number=number,
        issue_date=date(2020, 1, 1),
        expiry_date=date(2035, 1, 1),
        country_of_issue="SGP",
    )


def full_user(
    program: Any, *, passport: str = "E1234567", licence: str = "DL-99887766", **overrides: Any
) -> AccountHolder:
    """A user with every v2 field, document, address and tax residency filled.

    Id numbers are unique per live holder: pass distinct ones for more users.
    """
    values: dict[str, Any] = {
        "program": program,
        "type": "customer",
        "client_ref_id": "REF-1",
        "salutation": "Ms",
        "title": "Dr",
        "first_name": "Grace",
        "middle_name": "Brewster",
        "last_name": "Hopper",
        "maiden_name": "Murray",
        "preferred_name": "Grace",
        "gender": "female",
        "marital_status": "married",
        "nationality": "SGP",
        "birth_date": date(1990, 12, 9),
        "birth_place": "New York",
        "birth_country": "USA",
        "mothers_first_name": "Mary",
        "mothers_middle_name": "Campbell",
        "mothers_last_name": "Murray",
        "mothers_maiden_name": "Van Horne",
        "fathers_first_name": "Walter",
        "fathers_middle_name": "Fletcher",
        "fathers_last_name": "Murray",
        "customer_id": "CUST-1",
        "partner_id": "P-1",
        "agent_id": "A-1",
        "employment_type": "Employed",
        "job_title": "Admiral",
        "employer_name": "US Navy",
        "employer_nature_of_business": "Defence",
        "annual_income": "Above 200,000",
        "main_income_source": "Salary",
        "social_professional_category": "Executive",
        "purpose_of_account": "Savings",
        "country_of_residence": "SGP",
        "fatca_crs_relevant": True,
        "fatca_crs_confirmation_date": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "pep": False,
        "provider_reference_id": "PRV-1",
        "provider_account_number": "ACC-1",
        "provider_posting_status": "posted",
        "data_terms_signed_date": date(2024, 1, 2),
        "metadata": {"segment": "gold", "tags": ["a", "b"]},
        "created_by": {"system": "crm", "user": "ops-7"},
    }
    values.update(overrides)
    user = AccountHolderFactory(**values)
    identification(user, primary=True, number=passport)
    identification(user, primary=False, id_type="drivers_id", number=licence)
    for kind, city in (
        ("residential", "Singapore"),
        ("billing", "Jurong"),
        ("employer", "Arlington"),
    ):
        Address.objects.create(
            user=user,
            type=kind,
            address_1=f"1 {kind.title()} Road",
            address_2="#01-01",
            city=city,
            state="SG",
            country="SGP",
            zipcode="123456",
        )
    TaxResidency.objects.create(user=user, country="SGP", tin="T123", position=0)
    TaxResidency.objects.create(user=user, country="USA", tin="999-88-7777", position=1)
    return user


def users_created_apart(program: Any, count: int, **overrides: Any) -> list[AccountHolder]:
    """`count` users one minute apart, oldest first."""
    start = timezone.now() - timedelta(days=1)
    return [
        AccountHolderFactory(program=program, created_at=start + timedelta(minutes=i), **overrides)
        for i in range(count)
    ]
