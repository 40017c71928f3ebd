"""One canonical form per identifier (issue 12 item 5): each look-alike attack, reproduced.

Two strings that reach one mailbox or one phone are one identifier for uniqueness, the list
filters, the admin search and `exact` blacklist entries; invisible and bidi-control characters
are refused. The client's spelling is kept for display (v1 `mobile.number` as given).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import identifiers
from risk.models import BlacklistEntry
from risk.services import blacklist_entry_save
from tests.users.conftest import row_counts, v1_body
from users.admin import search_users
from users.models import AccountHolder

pytestmark = pytest.mark.django_db

LIST = "/alpha/v2/users"

# (first e-mail, look-alike that is the same mailbox)
SAME_MAILBOX = [
    ("a@example.com", "a@\uff45xample.com"),  # full-width e
    ("a@ex\u00e4mple.com", "a@xn--exmple-cua.com"),  # Unicode vs punycode domain
    ("a@\u0130xample.com", "a@i\u0307xample.com"),  # dotted capital I vs i + combining dot
    ("Ada@Example.COM", "ada@example.com"),  # letter case
]
INVISIBLE = [
    "a@exa\u200dmple.com",  # zero-width joiner
    "a@exa\u200bmple.com",  # zero-width space
    "a@elpmaxe\u202e.com",  # right-to-left override
    "a@exa\u2067mple.com",  # right-to-left isolate
    "a\u200c@example.com",  # zero-width non-joiner in the local part
]


def _create(api: Any, **overrides: Any) -> Any:
    return api.post("/alpha/v1/users", v1_body(**overrides), format="json")


@pytest.mark.parametrize(
    ("first", "second"), SAME_MAILBOX, ids=["fullwidth", "idna", "dotted-i", "case"]
)
def test_a_look_alike_email_is_the_same_mailbox(api_a, first, second):
    assert identifiers.canonical_email(first) == identifiers.canonical_email(second)
    assert _create(api_a, email=first).status_code == 200
    before = row_counts()
    response = _create(api_a, email=second)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "resource_user_email_unique"
    assert row_counts() == before


@pytest.mark.parametrize("email", INVISIBLE, ids=["zwj", "zwsp", "rlo", "rli", "zwnj"])
def test_invisible_and_bidi_characters_are_refused(api_a, email):
    before = row_counts()
    response = _create(api_a, email=email)
    assert response.status_code == 400
    assert {"field": "email", "code": "resource_user_email_invalid"} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert row_counts() == before


def test_a_full_width_email_is_stored_folded_and_canonical(api_a):
    response = _create(api_a, email="Ada@\uff45xample.com")
    assert response.status_code == 200
    assert response.json()["email"] == "Ada@example.com"  # NFKC, the client's case kept
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    assert user.email_canonical == "ada@example.com"


def test_a_uk_mobile_with_or_without_its_trunk_zero_is_one_phone(api_a):
    response = _create(api_a, mobile_country_code="44", mobile="7400123456")
    assert response.status_code == 200, response.json()
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    assert user.mobile_e164 == "+447400123456"
    before = row_counts()
    response = _create(api_a, mobile_country_code="44", mobile="07400123456")
    assert response.status_code == 400
    assert response.json()["code"] == "resource_user_mobile_unique"
    assert row_counts() == before


def test_v1_shows_the_national_number_as_given(api_a):
    response = _create(api_a, mobile_country_code="44", mobile="07400123456")
    assert response.status_code == 200, response.json()
    assert response.json()["mobile"] == {"country_code": "44", "number": "07400123456"}
    user = AccountHolder.objects.get(public_id=response.json()["id"])
    assert user.mobile_e164 == "+447400123456"


def test_an_update_to_a_look_alike_of_anothers_email_is_refused(api_a):
    assert _create(api_a, email="owner@example.com").status_code == 200
    other = _create(api_a).json()
    response = api_a.put(
        "/alpha/v1/users",
        {"email": "OWNER@\uff45xample.com"},
        format="json",
        HTTP_X_AUTH_USER_ID=other["id"],
    )
    assert response.status_code == 400
    assert response.json()["code"] == "resource_user_email_unique"


# --- exact blacklist entries see through the same tricks ------------------------------------


def _block(attribute: str, value: str) -> None:
    blacklist_entry_save(
        entry=BlacklistEntry(entity_attribute=attribute, value=value, match="exact", reason="t"),
        by_label="test",
    )


@pytest.mark.parametrize(
    ("entry", "email"),
    [
        ("mule@example.com", "mule@\uff45xample.com"),
        ("mule@ex\u00e4mple.com", "mule@xn--exmple-cua.com"),
        ("mule@xn--exmple-cua.com", "MULE@EX\u00c4MPLE.COM"),
    ],
    ids=["fullwidth", "unicode-entry", "punycode-entry"],
)
def test_an_exact_email_block_catches_look_alikes(api_a, entry, email):
    _block("customer.email", entry)
    before = row_counts()
    response = _create(api_a, email=email)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "resource_risk_service_blacklisted_error"
    assert row_counts() == before


@pytest.mark.parametrize("mobile", ["7400123456", "07400123456"])
def test_an_exact_plus44_mobile_block_catches_both_national_forms(api_a, mobile):
    _block("customer.mobile", "+44 7400 123456")
    response = _create(api_a, mobile_country_code="44", mobile=mobile)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "resource_risk_service_blacklisted_error"
    # v2 answers the same
    body = {
        "type": "customer", "first_name": "Ada", "last_name": "Lovelace",
        "preferred_name": "Ada", "email": "v2@example.com", "mobile_country_code": "44",
        "mobile": mobile,
    }  # fmt: skip
    response = api_a.post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "resource_risk_service_blacklisted_error"


def test_a_block_entry_written_with_the_trunk_zero_catches_the_plain_number(api_a):
    _block("customer.mobile", "+4407400123456")
    response = _create(api_a, mobile_country_code="44", mobile="7400123456")
    assert response.status_code == 400
    assert response.json()["code"] == "resource_risk_service_blacklisted_error"


# --- the v2 list filters and the admin search look up the canonical forms -------------------


def test_v2_filters_find_look_alikes(api_a):
    created = _create(api_a, email="finder@ex\u00e4mple.com", mobile_country_code="44",
                      mobile="07400123456").json()  # fmt: skip
    for email in ("FINDER@xn--exmple-cua.com", "finder@ex\u00e4mple.com"):
        data = api_a.get(LIST, {"email": email}).json()["data"]
        assert [u["id"] for u in data] == [created["id"]], email
    for mobile in ("07400123456", "447400123456", "4407400123456"):
        data = api_a.get(LIST, {"mobile": mobile}).json()["data"]
        assert [u["id"] for u in data] == [created["id"]], mobile
    assert api_a.get(LIST, {"email": "finder@exa\u200dmple.com"}).json()["data"] == []


def test_the_list_filter_costs_no_extra_query(api_a):
    _create(api_a, email="count@example.com")
    with CaptureQueriesContext(connection) as plain:
        api_a.get(LIST, {"email": "count@example.com"})
    with CaptureQueriesContext(connection) as lookalike:
        api_a.get(LIST, {"email": "COUNT@\uff45xample.com"})
    assert len(lookalike.captured_queries) == len(plain.captured_queries)


def test_admin_search_finds_look_alikes(api_a):
    created = _create(api_a, email="desk@example.com", mobile_country_code="44",
                      mobile="7400123456").json()  # fmt: skip
    for term in ("DESK@\uff45xample.com", "email:desk@EXAMPLE.com", "+44 07400 123456",
                 "mobile:447400123456"):  # fmt: skip
        found = search_users(AccountHolder.objects.all(), term)
        assert [u.public_id for u in found] == [created["id"]], term


# --- the data migration: existing rows canonicalised, collisions kept and reported ----------


def test_the_data_migration_fills_the_columns_and_reports_collisions(program_a, make_user, capsys):
    migration = importlib.import_module("users.migrations.0006_canonical_email_mobile")
    older = make_user(email="dup@example.com", mobile_country_code="44", mobile="7400123456")
    newer = make_user(email="other@example.com", mobile_country_code="65", mobile="91230000")
    # rows from before the rule: a look-alike e-mail and the trunk-zero form of the same phone
    AccountHolder.objects.filter(pk=newer.pk).update(
        email="DUP@\uff45xample.com", mobile_country_code="44", mobile="07400123456"
    )
    AccountHolder.objects.update(email_canonical=None, mobile_e164=None)
    migration.fill_canonical_columns(apps, None)  # never raises on a collision
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.email_canonical, older.mobile_e164) == ("dup@example.com", "+447400123456")
    assert (newer.email_canonical, newer.mobile_e164) == (None, None)  # both users kept
    out = capsys.readouterr().out
    assert f"canonical email collision: users {older.public_id}" in out and newer.public_id in out
    assert "canonical mobile collision" in out
    assert "dup@" not in out.lower()  # ids only, never the values


def test_the_risk_migration_rekeys_email_and_mobile_entries(seeded, capsys):
    migration = importlib.import_module("risk.migrations.0003_rekey_email_mobile_entries")
    _block("customer.mobile", "+44 07400 123456")
    _block("customer.email", "old@ex\u00e4mple.com")
    _block("customer.mobile", "+65 9123 4567")
    mobile, email, other = BlacklistEntry.objects.order_by("id")
    # the keys these entries had before the canonical forms
    BlacklistEntry.objects.filter(pk=mobile.pk).update(value_normalized="4407400123456")
    BlacklistEntry.objects.filter(pk=email.pk).update(value_normalized="old@ex\u00e4mple.com")
    migration.rekey(apps, None)
    keys = dict(BlacklistEntry.objects.values_list("pk", "value_normalized"))
    assert keys == {
        mobile.pk: "447400123456",
        email.pk: "old@xn--exmple-cua.com",
        other.pk: "6591234567",
    }
    # a second entry whose new key an active one holds keeps its old key, reported by id
    dup = BlacklistEntry.objects.create(
        entity_attribute="customer.mobile", value="+4407400123456", match="exact",
        value_normalized="4407400123456", reason="t", added_by_label="test",
    )  # fmt: skip
    migration.rekey(apps, None)
    dup.refresh_from_db()
    assert dup.value_normalized == "4407400123456"
    assert (
        f"blacklist entries {mobile.pk} and {dup.pk} now share one key" in capsys.readouterr().out
    )
