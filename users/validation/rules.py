"""The rule table: SPEC §6's rows in order (`Rank`) and how each field is cleaned (`Spec`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from users import fields as f
from users.validation.chars import (
    employment_chars,
    free_text,
    letters_and_spaces,
    name_chars,
    reference_chars,
    zipcode_chars,
)

RANKS = ("primary", "secondary")
ID_NUMBER_MAX = {"primary": 30, "secondary": 20}
METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_KEYS = 50
CREATED_BY_MAX_BYTES = 4 * 1024
TAX_RESIDENCIES_MAX = 10
PASSWORD_MIN, PASSWORD_MAX = 8, 32


class Rank(IntEnum):
    """Rows of the SPEC §6 table, in order; v2-only fields follow the table."""

    REQUIRED = 0
    EMAIL = 1
    EMAIL_UNIQUE = 2
    MOBILE_COUNTRY_CODE = 3
    MOBILE = 4
    MOBILE_PAIR = 5
    MOBILE_UNIQUE = 6
    NAMES = 7
    PREFERRED_NAME = 8
    NAMES_FROZEN = 9
    PASSWORD = 10
    TITLE = 11
    GENDER = 12
    MARITAL_STATUS = 13
    COUNTRIES = 14
    ID_TYPE = 15
    ID_PAIR = 16
    ID_NUMBER_LENGTH = 17
    ID_NUMBER_RULE = 18
    ID_UNIQUE = 19
    ID_DATE_PAIR = 20
    ID_DATES = 21
    BIRTHDAY = 22
    MOTHERS = 23
    REFERENCES = 24
    CUSTOMER_ID_UNIQUE = 25
    EMPLOYER_NAME = 26
    EMPLOYMENT = 27
    OTHER = 28
    ADDRESSES = 29
    TAX_RESIDENCIES = 30
    JSON = 31


@dataclass(frozen=True)
class Spec:
    """How one scalar field is cleaned and judged."""

    rank: Rank
    kind: str  # text | enum | date | datetime | bool | json | special
    max_length: int | None = None
    chars: Callable[[str], bool] | None = None
    enum_kind: str | None = None
    not_allowed_code: str | None = None
    max_bytes: int | None = None


def _text(rank: Rank, max_length: int, chars: Callable[[str], bool]) -> Spec:
    return Spec(rank, "text", max_length=max_length, chars=chars)


def _enum(rank: Rank, kind: str, code: str | None = None, *, text: bool = False) -> Spec:
    if text:
        return Spec(rank, "text", 100, employment_chars, enum_kind=kind, not_allowed_code=code)
    return Spec(rank, "enum", enum_kind=kind, not_allowed_code=code)


SCALAR_SPECS: dict[str, Spec] = {
    "type": Spec(Rank.OTHER, "special"),
    "salutation": _text(Rank.OTHER, 20, name_chars),
    "title": _enum(Rank.TITLE, "titles", "resource_user_unrecognized_title"),
    "first_name": _text(Rank.NAMES, 50, name_chars),
    "middle_name": _text(Rank.NAMES, 50, name_chars),
    "last_name": _text(Rank.NAMES, 50, name_chars),
    "maiden_name": _text(Rank.NAMES, 50, name_chars),
    "preferred_name": _text(Rank.PREFERRED_NAME, 25, letters_and_spaces),
    "gender": _enum(Rank.GENDER, "genders", "resource_user_unrecognized_gender"),
    "marital_status": _enum(Rank.MARITAL_STATUS, "marital_status"),
    "nationality": _enum(Rank.COUNTRIES, "nationalities"),
    "birth_date": Spec(Rank.BIRTHDAY, "special"),
    "birth_place": _text(Rank.OTHER, 100, free_text),
    "birth_country": _enum(Rank.COUNTRIES, "countries"),
    "email": Spec(Rank.EMAIL, "special"),
    "mobile_country_code": Spec(Rank.MOBILE_COUNTRY_CODE, "special"),
    "mobile": Spec(Rank.MOBILE, "special"),
    "mothers_first_name": _text(Rank.MOTHERS, 50, letters_and_spaces),
    "mothers_middle_name": _text(Rank.MOTHERS, 50, letters_and_spaces),
    "mothers_last_name": _text(Rank.MOTHERS, 50, letters_and_spaces),
    "mothers_maiden_name": _text(Rank.MOTHERS, 50, letters_and_spaces),
    "fathers_first_name": _text(Rank.OTHER, 50, letters_and_spaces),
    "fathers_middle_name": _text(Rank.OTHER, 50, letters_and_spaces),
    "fathers_last_name": _text(Rank.OTHER, 50, letters_and_spaces),
    "client_ref_id": _text(Rank.REFERENCES, 50, reference_chars),
    "customer_id": _text(Rank.REFERENCES, 50, reference_chars),
    "partner_id": _text(Rank.REFERENCES, 50, reference_chars),
    "agent_id": _text(Rank.REFERENCES, 50, reference_chars),
    "employment_type": _enum(Rank.EMPLOYMENT, "employment_type", text=True),
    "occupation": _enum(Rank.EMPLOYMENT, "occupation", text=True),
    "job_title": _text(Rank.OTHER, 100, free_text),
    "employer_name": _text(Rank.EMPLOYER_NAME, 50, employment_chars),
    "employer_nature_of_business": _text(Rank.OTHER, 100, free_text),
    "volume_of_assets": _enum(Rank.EMPLOYMENT, "volume_of_assets", text=True),
    "main_income_source": _enum(Rank.EMPLOYMENT, "main_income_source", text=True),
    "annual_income": _enum(Rank.OTHER, "annual_income"),
    "social_professional_category": _enum(Rank.OTHER, "social_professional_category"),
    "purpose_of_account": _enum(Rank.OTHER, "purpose_of_account"),
    "country_of_residence": _enum(Rank.COUNTRIES, "countries"),
    "fatca_crs_relevant": Spec(Rank.OTHER, "bool"),
    "fatca_crs_confirmation_date": Spec(Rank.OTHER, "datetime"),
    "pep": Spec(Rank.OTHER, "bool"),
    "provider_reference_id": _text(Rank.OTHER, 100, free_text),
    "provider_account_number": _text(Rank.OTHER, 100, free_text),
    "provider_posting_status": _text(Rank.OTHER, 50, free_text),
    "data_terms_signed_date": Spec(Rank.OTHER, "date"),
    "metadata": Spec(Rank.JSON, "json", max_bytes=METADATA_MAX_BYTES),
    "created_by": Spec(Rank.JSON, "json", max_bytes=CREATED_BY_MAX_BYTES),
    "password": Spec(Rank.PASSWORD, "special"),
}
assert set(SCALAR_SPECS) == {*f.SCALAR_FIELDS, "password"}

ADDRESS_SPECS: dict[str, Spec] = {
    "address_1": _text(Rank.ADDRESSES, 255, free_text),
    "address_2": _text(Rank.ADDRESSES, 255, free_text),
    "address_3": _text(Rank.ADDRESSES, 255, free_text),
    "address_4": _text(Rank.ADDRESSES, 255, free_text),
    "city": _text(Rank.ADDRESSES, 100, free_text),
    "state": _text(Rank.ADDRESSES, 100, free_text),
    "country": _enum(Rank.ADDRESSES, "countries"),
    "zipcode": _text(Rank.ADDRESSES, 20, zipcode_chars),
}
ADDRESS_REQUIRED: tuple[str, ...] = ("address_1", "country")
