"""One mask per kind (core/masking.py): the admin's cells, the audit trail and the logs agree.

The same value of each kind is masked by the three readers through their own entry points
(an admin column or inline, `users.audit.mask_value`, `core.logging.scrub`), and the three
results are the one mask of that kind. Logs see only free text, so they take part for the
kinds free text can be recognised by (e-mail, phone and id numbers, dates).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.contrib import admin

from core import masking
from core.logging import scrub
from users.admin import AccountHolderAdmin, AddressInline, IdentificationInline, TaxResidencyInline
from users.audit import mask_value
from users.models import AccountHolder, Address, Identification, TaxResidency

EMAIL = "ada.lovelace@example.com"
MOBILE = "91234567"
ID_NUMBER = "S1234567D"
BIRTH = date(1990, 5, 17)


@pytest.fixture
def user_admin() -> AccountHolderAdmin:
    return AccountHolderAdmin(AccountHolder, admin.site)


def _inline(inline: type, method: str, obj: object) -> str:
    return str(getattr(inline(AccountHolder, admin.site), method)(obj))


# kind: (value, its one mask, the admin's cell, the audit path, the value as logs see it)
KINDS: dict[str, tuple[Any, str, Callable[[Any], str], str, str]] = {
    "email": (
        EMAIL,
        "a***@example.com",
        lambda admin_: admin_.email_masked(AccountHolder(email=EMAIL)),
        "email",
        EMAIL,
    ),
    "mobile": (
        MOBILE,
        "****4567",
        lambda admin_: admin_.mobile_masked(AccountHolder(mobile=MOBILE)),
        "mobile",
        MOBILE,
    ),
    "id_number": (
        ID_NUMBER,
        "*****567D",
        lambda admin_: _inline(
            IdentificationInline, "masked_number", Identification(number=ID_NUMBER)
        ),
        "identification.primary.number",
        ID_NUMBER,
    ),
    "tin": (
        ID_NUMBER,
        "*****567D",
        lambda admin_: _inline(TaxResidencyInline, "masked_tin", TaxResidency(tin=ID_NUMBER)),
        "tax_residencies.0.tin",
        ID_NUMBER,
    ),
    "date": (
        BIRTH,
        "****-**-**",
        lambda admin_: admin_.birth_date_masked(AccountHolder(birth_date=BIRTH)),
        "birth_date",
        BIRTH.isoformat(),
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_admin_audit_and_logs_give_the_one_mask(user_admin, kind) -> None:
    value, one, admin_cell, audit_path, logged = KINDS[kind]
    assert masking.MASKS.get(kind, masking.mask_number)(value) == one
    assert admin_cell(user_admin) == one
    assert mask_value(audit_path, value) == one
    assert scrub(f"value {logged} refused") == f"value {one} refused"


def test_mobile_cell_keeps_the_country_code(user_admin) -> None:
    holder = AccountHolder(mobile=MOBILE, mobile_country_code="65")
    assert user_admin.mobile_masked(holder) == "+65 ****4567" == masking.mask_mobile(MOBILE, "65")


def test_name(user_admin) -> None:
    assert masking.mask_name("Lovelace") == "L***"
    shown = user_admin.name(AccountHolder(first_name="Ada", last_name="Lovelace"))
    assert shown == f"{mask_value('first_name', 'Ada')} {mask_value('last_name', 'Lovelace')}"
    assert shown == masking.mask_full_name("Ada", "Lovelace") == "A*** L***"


def test_address_line() -> None:
    line, zipcode = "1 Infinite Loop", "049315"
    inline = AddressInline(AccountHolder, admin.site)
    address = Address(address_1=line, zipcode=zipcode)
    assert inline.masked_lines(address) == mask_value("addresses.residential.address_1", line)
    assert inline.masked_lines(address) == masking.mask_address_line(line) == "1***"
    assert inline.masked_zipcode(address) == mask_value("addresses.residential.zipcode", zipcode)


def test_free_text() -> None:
    text = f"user {EMAIL} mobile {MOBILE} id {ID_NUMBER} born {BIRTH.isoformat()}, status 409"
    masked = masking.mask_text(text)
    assert scrub(text) == masked
    assert masked == (
        f"user {masking.mask_email(EMAIL)} mobile {masking.mask_number(MOBILE)} "
        f"id {masking.mask_number(ID_NUMBER)} born {masking.DATE_MASK}, status 409"
    )
    # the logger's filter and the formatter both mask a line: twice is the same as once
    assert masking.mask_text(masked) == masked
    # free-form objects are only recorded as changed
    assert mask_value("metadata", {"note": text}) == masking.OBJECT_MASK


@pytest.mark.parametrize("kind", sorted(masking.MASKS))
def test_every_kind_masks_nothing_to_nothing(kind) -> None:
    assert masking.MASKS[kind]("") == ""
