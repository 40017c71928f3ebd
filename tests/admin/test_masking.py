"""One mask per kind (core/masking.py): the admin's cells, the audit trail and the logs agree.

The same value of each kind is masked by the three readers through their own entry points
(an admin column or inline, `users.audit.mask_value`, `core.logging.scrub`), and the three
results are the one mask of that kind. Logs see only free text, so they take part for the
kinds free text can be recognised by (e-mail, phone and id numbers, dates).
"""

from __future__ import annotations

from datetime import date

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


def test_email(user_admin) -> None:
    one = masking.mask_email(EMAIL)
    assert one == "a***@example.com"
    assert user_admin.email_masked(AccountHolder(email=EMAIL)) == one
    assert mask_value("email", EMAIL) == one
    assert scrub(f"duplicate {EMAIL}.") == f"duplicate {one}."


def test_mobile(user_admin) -> None:
    one = masking.mask_number(MOBILE)
    assert one == "****4567"
    holder = AccountHolder(mobile=MOBILE, mobile_country_code="65")
    assert user_admin.mobile_masked(holder) == f"+65 {one}" == masking.mask_mobile(MOBILE, "65")
    assert mask_value("mobile", MOBILE) == one
    assert scrub(f"mobile {MOBILE}") == f"mobile {one}"


def test_id_number() -> None:
    one = masking.mask_number(ID_NUMBER)
    assert one == "*****567D"
    inline = IdentificationInline(AccountHolder, admin.site)
    assert inline.masked_number(Identification(number=ID_NUMBER)) == one
    assert mask_value("identification.primary.number", ID_NUMBER) == one
    assert scrub(f"id {ID_NUMBER} taken") == f"id {one} taken"
    # a tax number is an id number too
    tin = TaxResidencyInline(AccountHolder, admin.site).masked_tin(TaxResidency(tin=ID_NUMBER))
    assert tin == mask_value("tax_residencies.0.tin", ID_NUMBER) == one


def test_name(user_admin) -> None:
    assert masking.mask_name("Lovelace") == "L***"
    shown = user_admin.name(AccountHolder(first_name="Ada", last_name="Lovelace"))
    assert shown == f"{mask_value('first_name', 'Ada')} {mask_value('last_name', 'Lovelace')}"
    assert shown == masking.mask_full_name("Ada", "Lovelace") == "A*** L***"


def test_date(user_admin) -> None:
    one = masking.mask_date(BIRTH)
    assert one == "****-**-**"
    assert user_admin.birth_date_masked(AccountHolder(birth_date=BIRTH)) == one
    assert mask_value("birth_date", BIRTH) == one
    assert scrub(f"born {BIRTH.isoformat()}") == f"born {one}"


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
