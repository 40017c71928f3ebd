"""Every field rule of SPEC §6 (and the v2-only fields), over the canonical write form.

`validate_write` takes a canonical `Changes` dict (see `users/fields.py`), the program, the
enumeration catalog and — for an update — the current user, and returns a `CleanWrite`: the
cleaned values (trimmed, NFC-normalised, enumeration codes in their canonical spelling, dates
parsed, id numbers canonicalised, the `dup_slot` each new id number will take) and the list of
`FieldError`s, sorted in the order of the §6 table (that order decides the v1 envelope's
top-level code). Error `field`s are canonical paths; each API version renders them in its own
names.

Conventions, so that both API versions behave the same:
- text is trimmed; an empty string counts as absent (the key is ignored, never a "clear");
  `None` (v2 `null`) clears an optional value;
- a value of the wrong JSON type (a number, a list, an object where text is expected) answers
  `resource_user_<field>_invalid`, never an exception;
- required fields are checked on the resulting user (current values overlaid with the
  changes), "both or neither" pairs on the request body (`sent`);
- on an update, values equal to what the user already holds are not re-judged by the
  enumeration, date and id-number rules (a value an operator deactivated since, or an id
  document that has since expired, does not block an unrelated change);
- uniqueness (email, mobile, customer_id, id numbers) is pre-checked here with at most two
  queries for a friendly error; the partial unique indexes are the real guard (see services).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import IntEnum
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core import error_codes
from core.exceptions import ApiError, FieldError
from enumerations.catalog import Catalog, Entry
from programs.models import Program
from users import fields as f
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    AccountType,
    Address,
    Identification,
)

logger = logging.getLogger("onboard.users")

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


# --- character classes -------------------------------------------------------------------


def _is_letter(c: str) -> bool:
    # letters of any script; combining marks so decomposed accents pass too
    return c.isalpha() or unicodedata.category(c).startswith("M")


def name_chars(value: str) -> bool:
    """Letters (any script, accents included), spaces and `. ' -`."""
    return all(_is_letter(c) or c in " .'-" for c in value)


def letters_and_spaces(value: str) -> bool:
    return all(_is_letter(c) or c == " " for c in value)


_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def reference_chars(value: str) -> bool:
    """Partner references: ASCII alphanumerics, spaces and `- / \\ # ( ) . ,`."""
    return all(c in _ASCII_ALNUM or c in " -/\\#()., " for c in value)


def employment_chars(value: str) -> bool:
    """Employer and employment fields: alphanumerics, spaces and `/ # ( ) . , -`."""
    return all(c.isalnum() or c in " /#().,-" for c in value)


def free_text(value: str) -> bool:
    """Printable text: no control, format or unassigned characters."""
    return not any(unicodedata.category(c).startswith("C") for c in value)


def zipcode_chars(value: str) -> bool:
    return all(c in _ASCII_ALNUM or c in " -" for c in value)


def tin_chars(value: str) -> bool:
    return all(c in _ASCII_ALNUM or c in " -/." for c in value)


# --- id number checksums -------------------------------------------------------------------

_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)
_NRIC_LETTERS = {"ST": "JZIHGFEDCBA", "FG": "XWUTRQPNMLK", "M": "KLJNPQRTUWX"}


def sg_nric_is_valid(number: str) -> bool:
    """Singapore NRIC/FIN check letter (S, T, F, G and the 2022 M series).

    python-stdnum has no Singapore module, so the published ICA algorithm is implemented
    here: weights 2 7 6 5 4 3 2 over the seven digits, +4 for T/G, +3 for M, modulo 11,
    mapped through the series' letter table (the M table read from the end).
    """
    value = number.upper()
    if not re.fullmatch(r"[STFGM]\d{7}[A-Z]", value):
        return False
    prefix, digits, check = value[0], value[1:8], value[8]
    total = sum(int(d) * w for d, w in zip(digits, _NRIC_WEIGHTS, strict=True))
    total += {"T": 4, "G": 4, "M": 3}.get(prefix, 0)
    remainder = total % 11
    if prefix in "ST":
        return _NRIC_LETTERS["ST"][remainder] == check
    if prefix in "FG":
        return _NRIC_LETTERS["FG"][remainder] == check
    return _NRIC_LETTERS["M"][10 - remainder] == check


def _stdnum(module_path: str) -> Callable[[str], bool]:
    def check(number: str) -> bool:
        import importlib

        module = importlib.import_module(module_path)
        return bool(module.is_valid(number))

    return check


CHECKSUMS: dict[str, Callable[[str], bool]] = {
    "sg_nric": sg_nric_is_valid,
    "my_nric": _stdnum("stdnum.my.nric"),
    "in_aadhaar": _stdnum("stdnum.in_.aadhaar"),
    "id_nik": _stdnum("stdnum.id.nik"),
    "th_pin": _stdnum("stdnum.th.pin"),
    "cn_ric": _stdnum("stdnum.cn.ric"),
}


def canonical_id_number(number: str) -> str:
    """Upper-case, without spaces or dashes: what uniqueness and screening compare."""
    return re.sub(r"[\s\-]", "", number).upper()


# --- field specifications ------------------------------------------------------------------


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

# Special codes of the seed, by (canonical path, rule); everything else is
# resource_user_<code_name(path)>_<rule>.
_SPECIAL_CODES: dict[tuple[str, str], str] = {
    ("identification.primary.country_of_issue", "not_allowed"): (
        "resource_user_country_of_issue_invalid"
    ),
    ("identification.primary.id_type", "not_allowed"): "resource_user_unrecognized_id_type",
    ("identification.secondary.id_type", "not_allowed"): "resource_user_unrecognized_alt_id_type",
    ("identification.primary", "pair"): "resource_user_id_type_and_number_invalid",
    ("identification.secondary", "pair"): "resource_user_alt_id_type_and_number_invalid",
    ("identification.primary.number", "lengthmax"): "user_id_number_above_max_length",
    ("identification.secondary.number", "lengthmax"): "user_alt_id_number_above_max_length",
    ("identification.primary.number", "rule"): "resource_id_type_rule_not_matched",
    ("identification.secondary.number", "rule"): "resource_id_type_rule_not_matched",
    ("identification.primary.number", "unique"): "resource_id_type_unique",
    ("identification.secondary.number", "unique"): "resource_id_type_unique",
    ("identification.primary", "date_pair"): "resource_user_id_date_missing",
    ("identification.secondary", "date_pair"): "resource_user_alt_id_date_missing",
    ("birth_date", "future"): "future_birthday_not_allowed",
    ("customer_id", "unique"): "resource_user_customer_id_in_use",
    ("mobile", "pair"): "resource_user_wallet_fund_mobile_insufficient_dependency",
    ("mobile_country_code", "pair"): "resource_user_wallet_fund_mobile_insufficient_dependency",
    ("names", "frozen"): "resource_user_first_name_last_name_preferred_name_error",
    ("password", "min"): "user_password_below_min_length",
    ("password", "max"): "user_password_above_max_length",
    ("password", "rule"): "user_password_rule_mismatch",
}


def code_for(path: str, rule: str) -> str:
    if rule == "frozen":
        return _SPECIAL_CODES[("names", "frozen")]
    if rule in ("pair", "date_pair") and path.startswith("identification."):
        path = ".".join(path.split(".")[:2])  # the pair's code names the document's rank
    special = _SPECIAL_CODES.get((path, rule))
    if special:
        return special
    if path.startswith("addresses.") and path.count(".") == 1:
        return f"resource_user_address_{rule}"
    if path.startswith("tax_residencies.") and path.count(".") == 1:
        return f"resource_user_tax_residency_{rule}"
    return f"resource_user_{f.code_name(path)}_{rule}"


def field_error(path: str, rule: str, **params: Any) -> FieldError:
    code = code_for(path, rule)
    params.setdefault("field", f.code_name(path))
    return FieldError(path, code, error_codes.describe(code, **params))


@dataclass
class IdItem:
    """A cleaned identification document (the whole resulting document of its rank)."""

    id_type: str | None = None
    number: str | None = None
    issue_date: date | None = None
    expiry_date: date | None = None
    country_of_issue: str | None = None

    @property
    def number_canonical(self) -> str | None:
        return canonical_id_number(self.number) if self.number else None


@dataclass
class CleanWrite:
    """What `validate_write` made of a `Changes` dict."""

    scalars: dict[str, Any] = field(default_factory=dict)
    # rank -> whole resulting document, or None to remove it; only ranks the request named
    identification: dict[str, IdItem | None] = field(default_factory=dict)
    # rank -> dup_slot to store, for documents whose (type, number) is new to this user
    id_slots: dict[str, int] = field(default_factory=dict)
    addresses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    tax_residencies: list[dict[str, Any]] | None = None
    tax_residencies_given: bool = False
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_SKIP = object()  # a value that is absent (blank) or already failed: not applied
_EMAIL = EmailValidator()


def current_identifications(user: AccountHolder | None) -> dict[str, Identification]:
    """The user's documents by rank, from the prefetch cache when the selector filled it."""
    if user is None or user.pk is None:
        return {}
    cache = getattr(user, "_prefetched_objects_cache", {})
    rows = cache["identifications"] if "identifications" in cache else user.identifications.all()
    return {("primary" if i.is_primary else "secondary"): i for i in rows}


def current_addresses(user: AccountHolder | None) -> dict[str, Address]:
    if user is None or user.pk is None:
        return {}
    cache = getattr(user, "_prefetched_objects_cache", {})
    rows = cache["addresses"] if "addresses" in cache else user.addresses.all()
    return {a.type: a for a in rows}


def validate_write(
    *,
    program: Program,
    catalog: Catalog,
    changes: f.Changes,
    user: AccountHolder | None = None,
    sent: Iterable[str] | None = None,
    extra_required: Iterable[str] = (),
    check_unique: bool = True,
) -> CleanWrite:
    """Clean and judge a canonical write; see the module docstring.

    `sent`: canonical paths the request body carried (for the "both or neither" pairs); by
    default every key of `changes` and every non-empty value of its items. `extra_required`:
    canonical paths required on top of the program's set (v2 create requires `type` and
    `preferred_name`).
    """
    validator = _Validator(program, catalog, changes, user, sent, tuple(extra_required))
    return validator.run(check_unique=check_unique)


class _Validator:
    def __init__(
        self,
        program: Program,
        catalog: Catalog,
        changes: f.Changes,
        user: AccountHolder | None,
        sent: Iterable[str] | None,
        extra_required: tuple[str, ...],
    ) -> None:
        self.program = program
        self.catalog = catalog
        self.restrictions = program.restrictions or {}
        self.changes = changes if isinstance(changes, dict) else {}
        self.user = user
        self.sent = set(sent) if sent is not None else None
        self.extra_required = extra_required
        self.today = timezone.now().date()
        self.out = CleanWrite()
        self._errors: list[tuple[int, int, FieldError]] = []
        self.given: set[str] = set()  # paths the request supplied a non-blank value for
        self.current_ids = current_identifications(user)
        self._current_addresses: dict[str, Address] | None = None

    @property
    def current_addresses(self) -> dict[str, Address]:
        # read only when the write or the program's required fields involve addresses
        if self._current_addresses is None:
            self._current_addresses = current_addresses(self.user)
        return self._current_addresses

    # --- plumbing

    def error(self, rank: Rank, path: str, rule: str, **params: Any) -> None:
        self._errors.append((int(rank), len(self._errors), field_error(path, rule, **params)))

    def raw_error(self, rank: Rank, error: FieldError) -> None:
        self._errors.append((int(rank), len(self._errors), error))

    def current(self, name: str) -> Any:
        return getattr(self.user, name) if self.user is not None else None

    def resulting(self, name: str) -> Any:
        if name in self.out.scalars:
            return self.out.scalars[name]
        if name in self.changes and name in self.given:
            return _SKIP  # given but invalid: present for the required check
        return self.current(name)

    def was_sent(self, path: str) -> bool:
        if self.sent is not None:
            return path in self.sent
        head, _, rest = path.partition(".")
        if not rest:
            value = self.changes.get(head, _SKIP)
            return value is not _SKIP and not (isinstance(value, str) and not value.strip())
        parts = path.split(".")
        container: Any = self.changes
        for part in parts:
            if not isinstance(container, dict) or part not in container:
                return False
            container = container[part]
        return container is not None and not (isinstance(container, str) and not container.strip())

    def run(self, *, check_unique: bool) -> CleanWrite:
        if not isinstance(self.changes, dict):
            self.error(Rank.REQUIRED, "body", "invalid")
            return self._finish()
        known = {*SCALAR_SPECS, "identification", "addresses", "tax_residencies"}
        for key in self.changes:
            if key not in known:
                self.raw_error(
                    Rank.REQUIRED,
                    FieldError(
                        key,
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.describe(error_codes.USER_UNKNOWN_FIELD, field=key),
                    ),
                )
        for name, spec in SCALAR_SPECS.items():
            if name in self.changes:
                self.scalar(name, spec, self.changes[name])
        self.mobile_pair()
        self.names_frozen()
        if "identification" in self.changes:
            self.identification(self.changes["identification"])
        if "addresses" in self.changes:
            self.addresses(self.changes["addresses"])
        if "tax_residencies" in self.changes:
            self.tax_residencies(self.changes["tax_residencies"])
        self.required()
        if check_unique:
            self.uniqueness()
        return self._finish()

    def _finish(self) -> CleanWrite:
        self._errors.sort(key=lambda e: (e[0], e[1]))
        self.out.errors = [e for _, _, e in self._errors]
        return self.out

    # --- generic cleaning

    def text(self, rank: Rank, path: str, value: Any, *, trim: bool = True) -> Any:
        """A string value trimmed and NFC-normalised; _SKIP when blank or of the wrong type."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(rank, path, "invalid")
            self.given.add(path)
            return _SKIP
        cleaned = unicodedata.normalize("NFC", value.strip() if trim else value)
        if not cleaned.strip():
            return _SKIP
        self.given.add(path)
        return cleaned

    def lookup(self, kind: str, value: str) -> Entry | None:
        return self.catalog.lookup(kind, value, restrictions=self.restrictions)

    def enum_error(self, spec: Spec, path: str) -> None:
        assert spec.enum_kind is not None
        if spec.not_allowed_code:
            allowed = ", ".join(
                e.code for e in self.catalog.values(spec.enum_kind, restrictions=self.restrictions)
            )
            code = spec.not_allowed_code
            self.raw_error(
                spec.rank,
                FieldError(
                    path,
                    code,
                    error_codes.describe(code, allowed=f"[{allowed}]", field=f.code_name(path)),
                ),
            )
        else:
            self.error(spec.rank, path, "not_allowed")

    def judge_text(self, spec: Spec, path: str, value: str, current: Any) -> Any:
        """Length, characters and enumeration of a text value; the value to store or _SKIP."""
        ok = True
        if spec.max_length is not None and len(value) > spec.max_length:
            self.error(spec.rank, path, "lengthmax", max=spec.max_length)
            ok = False
        if spec.chars is not None and not spec.chars(value):
            self.error(spec.rank, path, "rule")
            ok = False
        if not ok:
            return _SKIP
        if spec.enum_kind is not None:
            return self.judge_enum(spec, path, value, current)
        return value

    def judge_enum(self, spec: Spec, path: str, value: str, current: Any) -> Any:
        if isinstance(current, str) and current.lower() == value.lower():
            return current  # unchanged: a since-deactivated value the user holds stays valid
        assert spec.enum_kind is not None
        entry = self.lookup(spec.enum_kind, value)
        if entry is None:
            self.enum_error(spec, path)
            return _SKIP
        return entry.code

    def scalar(self, name: str, spec: Spec, raw: Any) -> None:
        if spec.kind == "special":
            value = getattr(self, f"special_{name}")(spec, raw)
        else:
            value = self.generic(spec, name, raw, self.current(name))
        if value is not _SKIP:
            value = self.fits_column(spec.rank, name, value)
        if value is not _SKIP:
            self.out.scalars[name] = value

    def generic(self, spec: Spec, path: str, raw: Any, current: Any) -> Any:
        if spec.kind in ("text", "enum"):
            value = self.text(spec.rank, path, raw)
            if value is None or value is _SKIP:
                return value
            if spec.kind == "enum":
                return self.judge_enum(spec, path, value, current)
            return self.judge_text(spec, path, value, current)
        if spec.kind == "date":
            return self.date_value(spec.rank, path, raw, current, past_only=True)
        if spec.kind == "datetime":
            return self.datetime_value(spec.rank, path, raw)
        if spec.kind == "bool":
            if raw is None or isinstance(raw, bool):
                if raw is not None:
                    self.given.add(path)
                return raw
            self.error(spec.rank, path, "invalid")
            return _SKIP
        if spec.kind == "json":
            return self.json_value(spec, path, raw)
        raise AssertionError(spec.kind)

    def fits_column(self, rank: Rank, name: str, value: Any) -> Any:
        # an operator may add enumeration codes longer than the user's column: never let a
        # value reach the database that it would refuse (PostgreSQL would answer a 500)
        if isinstance(value, str) and name != "password":
            limit = AccountHolder._meta.get_field(name).max_length  # type: ignore[union-attr]
            if limit is not None and len(value) > limit:
                self.error(rank, name, "lengthmax", max=limit)
                return _SKIP
        return value

    def parse_date(self, raw: str) -> date | None:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return None

    def date_value(
        self, rank: Rank, path: str, raw: Any, current: Any, *, past_only: bool = False
    ) -> Any:
        value = self.text(rank, path, raw)
        if value is None or value is _SKIP:
            return value
        parsed = self.parse_date(value)
        if parsed is None or parsed.year < 1900:
            self.error(rank, path, "invalid")
            return _SKIP
        if past_only and parsed > self.today and parsed != current:
            self.error(rank, path, "invalid")
            return _SKIP
        return parsed

    def datetime_value(self, rank: Rank, path: str, raw: Any) -> Any:
        value = self.text(rank, path, raw)
        if value is None or value is _SKIP:
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None or parsed.year < 1900:
            self.error(rank, path, "invalid")
            return _SKIP
        return parsed.astimezone(UTC)

    def json_value(self, spec: Spec, path: str, raw: Any) -> Any:
        if raw is None:
            return None
        self.given.add(path)
        if not isinstance(raw, dict):
            self.error(spec.rank, path, "invalid")
            return _SKIP
        try:
            serialized = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError):
            self.error(spec.rank, path, "invalid")
            return _SKIP
        if "\\u0000" in serialized:
            # PostgreSQL's jsonb cannot store NUL characters: refuse them, never a 500
            self.error(spec.rank, path, "invalid")
            return _SKIP
        size = len(serialized.encode())
        assert spec.max_bytes is not None
        if size > spec.max_bytes or (path == "metadata" and len(raw) > METADATA_MAX_KEYS):
            code = code_for(path, "lengthmax")
            description = (
                f"Parameter `{path}` must be a JSON object of at most {spec.max_bytes} bytes"
                + (f" and {METADATA_MAX_KEYS} keys." if path == "metadata" else ".")
            )
            self.raw_error(spec.rank, FieldError(path, code, description))
            return _SKIP
        return raw

    # --- special scalars

    def special_type(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "type", raw)
        if value is _SKIP:
            return _SKIP
        if value is None:
            self.error(spec.rank, "type", "invalid")  # the column has no "unknown" type
            return _SKIP
        lowered = value.lower()
        if lowered not in AccountType.values:
            self.error(spec.rank, "type", "invalid")
            return _SKIP
        return lowered

    def special_email(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "email", raw)
        if value is None or value is _SKIP:
            return value
        try:
            if len(value) > 254:
                raise ValidationError("too long")
            _EMAIL(value)
        except ValidationError:
            self.error(spec.rank, "email", "invalid")
            return _SKIP
        return value

    def special_mobile_country_code(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "mobile_country_code", raw)
        if value is None or value is _SKIP:
            return value
        # "+65" is how people write a calling code; store it without the plus
        value = value.removeprefix("+")
        if len(value) > 3:
            self.error(spec.rank, "mobile_country_code", "lengthmax", max=3)
            return _SKIP
        if value == self.current("mobile_country_code"):
            return value
        entry = self.lookup("mobile_country_codes", value) if value.isdigit() else None
        if entry is None:
            self.error(spec.rank, "mobile_country_code", "not_allowed")
            return _SKIP
        return entry.code

    def special_mobile(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "mobile", raw)
        if value is None or value is _SKIP:
            return value
        if not (value.isascii() and value.isdigit()) or len(value) > 15:
            self.error(spec.rank, "mobile", "invalid")
            return _SKIP
        cc = self.out.scalars.get("mobile_country_code")
        if cc is None and "mobile_country_code" not in self.changes:
            cc = self.current("mobile_country_code")
        if isinstance(cc, str) and cc:
            try:
                number = phonenumbers.parse(f"+{cc}{value}")
                valid = phonenumbers.is_valid_number(number)
            except phonenumbers.NumberParseException:
                valid = False
            if not valid:
                self.error(spec.rank, "mobile", "invalid")
                return _SKIP
        return value

    def special_password(self, spec: Spec, raw: Any) -> Any:
        # passwords are neither trimmed nor normalised: the secret is exactly what was sent
        if raw is None or (isinstance(raw, str) and raw == ""):
            return _SKIP
        if not isinstance(raw, str):
            self.error(spec.rank, "password", "invalid")
            self.given.add("password")
            return _SKIP
        self.given.add("password")
        if len(raw) < PASSWORD_MIN:
            self.error(spec.rank, "password", "min")
        elif len(raw) > PASSWORD_MAX:
            self.error(spec.rank, "password", "max")
        elif missing := password_missing(raw):
            self.raw_error(
                spec.rank,
                FieldError(
                    "password",
                    code_for("password", "rule"),
                    "Parameter user `password` must contain a lower-case letter, a number and "
                    f"a special character (such as ! # $ %): add {' and '.join(missing)}.",
                ),
            )
        else:
            return raw
        return _SKIP

    def special_birth_date(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "birth_date", raw)
        if value is None or value is _SKIP:
            return value
        parsed = self.parse_date(value)
        if parsed is None or parsed.year < 1900:
            self.error(spec.rank, "birth_date", "invalid")
            return _SKIP
        if parsed > self.today:
            self.error(spec.rank, "birth_date", "future")
            return _SKIP
        if _age(parsed, self.today) < self.program.min_age:
            self.error(spec.rank, "birth_date", "not_allowed")
            return _SKIP
        return parsed

    # --- cross-field rules

    def key_sent(self, name: str) -> bool:
        """A top-level key the body carried: a value, or `null` (v2's "clear")."""
        if self.sent is not None:
            return name in self.sent
        value = self.changes.get(name, _SKIP)
        return value is not _SKIP and not (isinstance(value, str) and not value.strip())

    def mobile_pair(self) -> None:
        missing = _pair_missing(
            (self.key_sent("mobile_country_code"), self.key_sent("mobile")),
            (False, False),
            ("mobile_country_code", "mobile"),
        )
        if missing:
            self.error(Rank.MOBILE_PAIR, missing, "pair")
            self.out.scalars.pop("mobile", None)
            self.out.scalars.pop("mobile_country_code", None)

    def names_frozen(self) -> None:
        if self.user is None or not self.user.names_frozen:
            return
        for name in ("first_name", "last_name", "preferred_name"):
            if name in self.out.scalars and self.out.scalars[name] != self.current(name):
                self.error(Rank.NAMES_FROZEN, name, "frozen")
                del self.out.scalars[name]

    def required(self) -> None:
        names: list[tuple[str, str]] = [
            (name, f.REQUIRED_FIELD_PATHS.get(name, name))
            for name in self.program.all_required_fields
        ]
        names += [(f.code_name(path), path) for path in self.extra_required]
        for name, path in names:
            if not self.is_present(path):
                code = f"resource_user_{name}_required"
                self.raw_error(
                    Rank.REQUIRED,
                    FieldError(path, code, error_codes.describe(code, field=name)),
                )

    def is_present(self, path: str) -> bool:
        if path == "password":
            return "password" in self.given or bool(self.current("password"))
        if path.startswith("identification."):
            _, rank, key = path.split(".")
            if rank in self.out.identification:
                item = self.out.identification[rank]
                return item is not None and getattr(item, key) is not None
            if f"identification.{rank}.{key}" in self.given:
                return True
            doc = self.current_ids.get(rank)
            return doc is not None and getattr(doc, _MODEL_ID_KEYS[key]) is not None
        if path.startswith("addresses."):
            kind = path.split(".")[1]
            if kind in self.out.addresses:
                return self.out.addresses[kind] is not None
            if f"addresses.{kind}" in self.given:
                return True
            return kind in self.current_addresses
        value = self.resulting(path)
        return value is not None

    # --- identification

    def identification(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.error(Rank.ID_TYPE, "identification", "invalid")
            return
        for rank in value:
            if rank not in RANKS:
                self.raw_error(Rank.ID_TYPE, _unknown(f"identification.{rank}"))
        for rank in RANKS:
            if rank not in value:
                continue
            item = value[rank]
            if item is None:
                self.out.identification[rank] = None
                continue
            if not isinstance(item, dict):
                self.error(Rank.ID_TYPE, f"identification.{rank}", "invalid")
                continue
            cleaned = self.id_item(rank, item)
            if cleaned is not None:
                self.out.identification[rank] = cleaned
        primary = self.out.identification.get("primary")
        secondary = self.out.identification.get("secondary")
        if (
            primary
            and secondary
            and primary.id_type == secondary.id_type
            and primary.number_canonical == secondary.number_canonical
            and primary.number_canonical
        ):
            self.error(Rank.ID_UNIQUE, "identification.secondary.number", "unique")
            self.out.identification.pop("secondary")

    def id_item(self, rank: str, item: dict[str, Any]) -> IdItem | None:
        base = f"identification.{rank}"
        ok = True
        for key in item:
            if key not in f.ID_ITEM_KEYS:
                self.raw_error(Rank.ID_TYPE, _unknown(f"{base}.{key}"))
                ok = False
        current = self.current_ids.get(rank)

        def cur(key: str) -> Any:
            return getattr(current, _MODEL_ID_KEYS[key]) if current is not None else None

        def changed(key: str, value: Any) -> bool:
            old = cur(key)
            if isinstance(old, str) and isinstance(value, str):
                return old.lower() != value.lower()
            return old != value

        doc = IdItem()
        # type
        id_type = self.text(Rank.ID_TYPE, f"{base}.id_type", item.get("id_type"))
        type_entry: Entry | None = None
        if isinstance(id_type, str):
            if not changed("id_type", id_type):
                doc.id_type = cur("id_type")
                type_entry = self.catalog.get_any("id_types", doc.id_type or "")
            else:
                type_entry = self.lookup("id_types", id_type)
                if type_entry is not None and not type_entry.extra.get(
                    "is_primary" if rank == "primary" else "is_secondary"
                ):
                    type_entry = None
                if type_entry is None or len(type_entry.code) > 30:
                    self.error(Rank.ID_TYPE, f"{base}.id_type", "not_allowed")
                    ok = False
                else:
                    doc.id_type = type_entry.code
        elif id_type is _SKIP and f"{base}.id_type" in self.given:
            ok = False
        # number
        number = self.text(Rank.ID_NUMBER_LENGTH, f"{base}.number", item.get("number"))
        if isinstance(number, str):
            limit = ID_NUMBER_MAX[rank]
            if len(number) > limit:
                self.error(Rank.ID_NUMBER_LENGTH, f"{base}.number", "lengthmax", max=limit)
                ok = False
            else:
                doc.number = number
        elif number is _SKIP and f"{base}.number" in self.given:
            ok = False
        # both or neither, on the request body and on the resulting document
        missing = _pair_missing(
            (self.was_sent(f"{base}.id_type"), self.was_sent(f"{base}.number")),
            (
                doc.id_type is not None or f"{base}.id_type" in self.given,
                doc.number is not None or f"{base}.number" in self.given,
            ),
            ("id_type", "number"),
        )
        if missing:
            self.error(Rank.ID_PAIR, f"{base}.{missing}", "pair")
            ok = False
        # number format, for the type it is held under
        if (
            doc.id_type
            and doc.number
            and type_entry is not None
            and (changed("id_type", doc.id_type) or changed("number", doc.number))
            and not _number_matches(type_entry, doc.number)
        ):
            self.raw_error(
                Rank.ID_NUMBER_RULE,
                FieldError(
                    f"{base}.number",
                    code_for(f"{base}.number", "rule"),
                    number_problem(type_entry, doc.number).replace(
                        "`id_number`", "`alt_id_number`" if rank == "secondary" else "`id_number`"
                    ),
                ),
            )
            ok = False
        if doc.number_canonical and len(doc.number_canonical) > 30:
            ok = False  # cannot happen below the 30-character limit; guards the column
        # dates
        issue_raw, expiry_raw = item.get("issue_date"), item.get("expiry_date")
        issue = self.text(Rank.ID_DATES, f"{base}.issue_date", issue_raw)
        expiry = self.text(Rank.ID_DATES, f"{base}.expiry_date", expiry_raw)
        missing = _pair_missing(
            (self.was_sent(f"{base}.issue_date"), self.was_sent(f"{base}.expiry_date")),
            (
                isinstance(issue, str) or f"{base}.issue_date" in self.given,
                isinstance(expiry, str) or f"{base}.expiry_date" in self.given,
            ),
            ("issue_date", "expiry_date"),
        )
        if missing:
            self.error(Rank.ID_DATE_PAIR, f"{base}.{missing}", "date_pair")
            ok = False
        if isinstance(issue, str):
            parsed_issue = self.parse_date(issue)
            future = parsed_issue is not None and parsed_issue > self.today
            if (
                parsed_issue is None
                or parsed_issue.year < 1900
                or (future and changed("issue_date", parsed_issue))
            ):
                self.error(Rank.ID_DATES, f"{base}.issue_date", "invalid")
                ok = False
            else:
                doc.issue_date = parsed_issue
        if isinstance(expiry, str):
            parsed_expiry = self.parse_date(expiry)
            expiry_changed = parsed_expiry is None or changed("expiry_date", parsed_expiry)
            dates_changed = expiry_changed or changed("issue_date", doc.issue_date)
            if parsed_expiry is None or (
                dates_changed
                and (
                    parsed_expiry < self.today
                    or (doc.issue_date is not None and parsed_expiry <= doc.issue_date)
                )
            ):
                self.error(Rank.ID_DATES, f"{base}.expiry_date", "invalid")
                ok = False
            else:
                doc.expiry_date = parsed_expiry
        # country of issue
        country = self.text(
            Rank.COUNTRIES, f"{base}.country_of_issue", item.get("country_of_issue")
        )
        if isinstance(country, str):
            if not changed("country_of_issue", country):
                doc.country_of_issue = cur("country_of_issue")
            else:
                entry = self.lookup("countries", country)
                if entry is None or len(entry.code) > 3:
                    self.error(Rank.COUNTRIES, f"{base}.country_of_issue", "not_allowed")
                    ok = False
                else:
                    doc.country_of_issue = entry.code
        elif country is _SKIP and f"{base}.country_of_issue" in self.given:
            ok = False
        if not ok:
            return None
        if doc.id_type is None and doc.number is None:
            if any(v is not None for v in (doc.issue_date, doc.expiry_date, doc.country_of_issue)):
                self.error(Rank.ID_PAIR, f"{base}.id_type", "pair")
                return None
            return None  # an empty item: nothing to store, nothing to remove
        return doc

    # --- addresses and tax residencies

    def addresses(self, value: Any) -> None:
        if not isinstance(value, dict):
            self.error(Rank.ADDRESSES, "addresses", "invalid")
            return
        for kind, item in value.items():
            path = f"addresses.{kind}"
            if kind not in f.ADDRESS_TYPES:
                self.raw_error(
                    Rank.ADDRESSES,
                    FieldError(
                        path,
                        "resource_user_address_type_invalid",
                        "Parameter `addresses.type` must be one of "
                        + ", ".join(f.ADDRESS_TYPES)
                        + ".",
                    ),
                )
                continue
            if item is None:
                self.out.addresses[kind] = None
                continue
            self.given.add(path)
            if not isinstance(item, dict):
                self.error(Rank.ADDRESSES, path, "invalid")
                continue
            cleaned = self.address_item(path, item, self.current_addresses.get(kind))
            if cleaned is not None:
                self.out.addresses[kind] = cleaned

    def address_item(
        self, path: str, item: dict[str, Any], current: Address | None
    ) -> dict[str, Any] | None:
        ok = True
        cleaned: dict[str, Any] = {}
        for key in item:
            if key not in f.ADDRESS_KEYS:
                self.raw_error(Rank.ADDRESSES, _unknown(f"{path}.{key}"))
                ok = False
        for key in f.ADDRESS_KEYS:
            spec = ADDRESS_SPECS[key]
            value = self.generic(spec, f"{path}.{key}", item.get(key), getattr(current, key, None))
            if value is _SKIP:
                if f"{path}.{key}" in self.given:
                    ok = False
                value = None
            if isinstance(value, str):
                limit = Address._meta.get_field(key).max_length  # type: ignore[union-attr]
                if limit is not None and len(value) > limit:
                    self.error(Rank.ADDRESSES, f"{path}.{key}", "lengthmax", max=limit)
                    ok = False
            cleaned[key] = value
        for key in ADDRESS_REQUIRED:
            if cleaned.get(key) is None and f"{path}.{key}" not in self.given:
                self.error(Rank.ADDRESSES, f"{path}.{key}", "required")
                ok = False
        return cleaned if ok else None

    def tax_residencies(self, value: Any) -> None:
        if value is None:
            self.out.tax_residencies, self.out.tax_residencies_given = None, True
            return
        if not isinstance(value, list):
            self.error(Rank.TAX_RESIDENCIES, "tax_residencies", "invalid")
            return
        if len(value) > TAX_RESIDENCIES_MAX:
            self.error(
                Rank.TAX_RESIDENCIES, "tax_residencies", "lengthmax", max=TAX_RESIDENCIES_MAX
            )
            return
        ok = True
        cleaned: list[dict[str, Any]] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            path = f"tax_residencies.{index}"
            if not isinstance(item, dict):
                self.error(Rank.TAX_RESIDENCIES, path, "invalid")
                ok = False
                continue
            for key in item:
                if key not in ("country", "tin"):
                    self.raw_error(Rank.TAX_RESIDENCIES, _unknown(f"{path}.{key}"))
                    ok = False
            country = self.text(Rank.TAX_RESIDENCIES, f"{path}.country", item.get("country"))
            tin = self.text(Rank.TAX_RESIDENCIES, f"{path}.tin", item.get("tin"))
            code: str | None = None
            if isinstance(country, str):
                entry = self.lookup("countries", country)
                if entry is None or len(entry.code) > 3:
                    self.error(Rank.TAX_RESIDENCIES, f"{path}.country", "not_allowed")
                    ok = False
                elif entry.code in seen:
                    self.error(Rank.TAX_RESIDENCIES, f"{path}.country", "unique")
                    ok = False
                else:
                    code = entry.code
                    seen.add(code)
            elif country is None or f"{path}.country" not in self.given:
                self.error(Rank.TAX_RESIDENCIES, f"{path}.country", "required")
                ok = False
            else:
                ok = False
            if isinstance(tin, str):
                if len(tin) > 50:
                    self.error(Rank.TAX_RESIDENCIES, f"{path}.tin", "lengthmax", max=50)
                    ok = False
                elif not tin_chars(tin):
                    self.error(Rank.TAX_RESIDENCIES, f"{path}.tin", "rule")
                    ok = False
            elif tin is _SKIP and f"{path}.tin" in self.given:
                ok = False
            cleaned.append({"country": code, "tin": tin if isinstance(tin, str) else None})
        if ok:
            self.out.tax_residencies, self.out.tax_residencies_given = cleaned, True

    # --- uniqueness pre-checks (two queries at most)

    def uniqueness(self) -> None:
        program, user = self.program, self.user
        live = ~Q(status__in=sorted(TERMINAL_STATUSES))
        conditions = Q()
        email = self.out.scalars.get("email")
        if email and (not user or (user.email or "").lower() != email.lower()):
            conditions |= live & Q(email_lower=email.lower())
        else:
            email = None
        mobile = self.out.scalars.get("mobile")
        cc = self.out.scalars.get("mobile_country_code")
        if mobile and cc and (not user or (user.mobile_country_code, user.mobile) != (cc, mobile)):
            conditions |= live & Q(mobile_country_code=cc, mobile=mobile)
        else:
            mobile = None
        customer_id = self.out.scalars.get("customer_id")
        if customer_id and (not user or user.customer_id != customer_id):
            conditions |= Q(customer_id=customer_id)
        else:
            customer_id = None
        if conditions:
            others = AccountHolder.objects.filter(program=program)
            if user is not None and user.pk is not None:
                others = others.exclude(pk=user.pk)
            rows = (
                others.alias(email_lower=Lower("email"))
                .filter(conditions)
                .values_list("email", "mobile_country_code", "mobile", "customer_id", "status")[:5]
            )
            for row_email, row_cc, row_mobile, row_customer_id, status in rows:
                row_live = status not in TERMINAL_STATUSES
                if email and row_live and (row_email or "").lower() == email.lower():
                    self.error(Rank.EMAIL_UNIQUE, "email", "unique")
                    email = None
                if mobile and row_live and (row_cc, row_mobile) == (cc, mobile):
                    self.error(Rank.MOBILE_UNIQUE, "mobile", "unique")
                    mobile = None
                if customer_id and row_customer_id == customer_id:
                    self.error(Rank.CUSTOMER_ID_UNIQUE, "customer_id", "unique")
                    customer_id = None
        self.id_number_slots()

    def id_number_slots(self) -> None:
        """Find a free `dup_slot` below the id type's `max_duplicate` for each new number."""
        wanted: dict[str, tuple[str, str, int]] = {}
        holder_live = self.user is None or self.user.status not in TERMINAL_STATUSES
        for rank, doc in self.out.identification.items():
            if doc is None or not doc.id_type or not doc.number_canonical:
                continue
            current = self.current_ids.get(rank)
            if (
                current is not None
                and current.id_type == doc.id_type
                and current.number_canonical == doc.number_canonical
            ):
                continue  # the user keeps the number it already holds, and its slot
            if not holder_live:
                self.out.id_slots[rank] = 0
                continue
            entry = self.catalog.get_any("id_types", doc.id_type)
            limit = int(entry.extra.get("max_duplicate") or 1) if entry else 1
            wanted[rank] = (doc.id_type, doc.number_canonical, limit)
        if not wanted:
            return
        conditions = Q()
        for id_type, number, _ in wanted.values():
            conditions |= Q(id_type=id_type, number_canonical=number)
        holders = Identification.objects.filter(program=self.program, holder_live=True).filter(
            conditions
        )
        if self.user is not None and self.user.pk is not None:
            holders = holders.exclude(user=self.user)
        taken: dict[tuple[str, str], set[int]] = {}
        for id_type, number, slot in holders.values_list("id_type", "number_canonical", "dup_slot"):
            taken.setdefault((id_type, number), set()).add(slot)
        for rank in RANKS:
            if rank not in wanted:
                continue
            id_type, number, limit = wanted[rank]
            used = taken.get((id_type, number), set())
            free = [slot for slot in range(limit) if slot not in used]
            if len(used) >= limit or not free:
                self.error(Rank.ID_UNIQUE, f"identification.{rank}.number", "unique")
                continue
            self.out.id_slots[rank] = free[0]
            used.add(free[0])  # primary and secondary of one user never share a slot


_MODEL_ID_KEYS = {
    "id_type": "id_type",
    "number": "number",
    "issue_date": "issue_date",
    "expiry_date": "expiry_date",
    "country_of_issue": "country_of_issue",
}


def _pair_missing(
    sent: tuple[bool, bool], resulting: tuple[bool, bool], names: tuple[str, str]
) -> str | None:
    """The member of a "both or neither" pair that is missing, if exactly one is there.

    Judged on the request body first (SPEC §6), then on the resulting document, which must
    never be stored half (an id number without its type).
    """
    for first, second in (sent, resulting):
        if first != second:
            return names[1] if first else names[0]
    return None


def _unknown(path: str) -> FieldError:
    return FieldError(
        path,
        error_codes.USER_UNKNOWN_FIELD,
        error_codes.describe(error_codes.USER_UNKNOWN_FIELD, field=path),
    )


def password_missing(password: str) -> list[str]:
    """What the v1 password rule still needs, in words (empty when it passes)."""
    checks = (
        ("a lower-case letter", any(c.islower() for c in password)),
        ("a number", any(c.isdigit() for c in password)),
        ("a special character", any(not c.isalnum() and not c.isspace() for c in password)),
    )
    return [label for label, present in checks if not present]


def number_problem(id_type: Entry, number: str) -> str:
    """Why `number` fails its id type's rule, for the answer ("" when it passes)."""
    if _number_matches(id_type, number):
        return ""
    field = "`id_number`"
    checksum = CHECKSUMS.get(id_type.extra.get("checksum") or "")
    if checksum is not None and _number_matches(id_type, number, checksum=False):
        return (
            f"{field} has the format of id type `{id_type.code}` but its check character is "
            "wrong (it does not match the digits): check the number for a typo."
        )
    return (
        f"{field} does not have the format of id type `{id_type.code}`: its `regex_validation` "
        "is in GET /users/enumerations/id_types."
    )


def _number_matches(id_type: Entry, number: str, *, checksum: bool = True) -> bool:
    pattern = id_type.extra.get("regex_validation") or ""
    if pattern:
        try:
            if re.fullmatch(pattern, number) is None:
                return False
        except re.error:
            # an operator's broken pattern must not lock every user out: log it, skip the rule
            logger.warning("invalid regex_validation on id type", extra={"code": id_type.code})
    check = CHECKSUMS.get(id_type.extra.get("checksum") or "") if checksum else None
    return check is None or check(number)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- the database's verdict -----------------------------------------------------------------

# Named constraints of users/models.py -> (canonical path, contract code).
CONSTRAINT_ERRORS: dict[str, tuple[str, str]] = {
    "user_email_live_unique": ("email", "resource_user_email_unique"),
    "user_mobile_live_unique": ("mobile", "resource_user_mobile_unique"),
    "user_customer_id_unique": ("customer_id", "resource_user_customer_id_in_use"),
    "identification_number_slot_unique": (
        "identification.primary.number",
        "resource_id_type_unique",
    ),
}
# SQLite names only expression indexes in its message; column indexes it names by columns.
_SQLITE_COLUMNS: dict[str, str] = {
    "users_accountholder.program_id, users_accountholder.mobile_country_code, "
    "users_accountholder.mobile": "user_mobile_live_unique",
    "users_accountholder.program_id, users_accountholder.customer_id": "user_customer_id_unique",
    "users_identification.program_id, users_identification.id_type, "
    "users_identification.number_canonical, users_identification.dup_slot": (
        "identification_number_slot_unique"
    ),
}


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the unique constraint an IntegrityError reports, on either database."""
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    message = str(exc)
    for constraint in CONSTRAINT_ERRORS:
        if constraint in message:
            return constraint
    for columns, constraint in _SQLITE_COLUMNS.items():
        if message.endswith(columns):
            return constraint
    return None


@contextmanager
def unique_guard(id_rank: str = "primary") -> Iterator[None]:
    """Run writes in a savepoint; a lost uniqueness race becomes the contract's 400.

    The pre-checks in `validate_write` give the friendly answer in the common case; two
    requests that pass them at the same moment meet at the partial unique indexes, and the
    loser lands here — never a 500. Other integrity errors are bugs and propagate. For a
    write whose whole transaction fails with the violation, `unique_violation_as_error`
    around the transaction does the same without a savepoint.
    """
    with unique_violation_as_error(id_rank), transaction.atomic():
        yield


@contextmanager
def unique_violation_as_error(id_rank: str = "primary") -> Iterator[None]:
    """Translate a unique-index violation raised inside the block into the contract's 400.

    No savepoint: wrap a whole `transaction.atomic` block with it (the violation has rolled
    that block back by the time it arrives here), so a create costs no extra statements.
    """
    try:
        yield
    except IntegrityError as exc:
        constraint = violated_constraint(exc)
        if constraint not in CONSTRAINT_ERRORS:
            raise
        path, code = CONSTRAINT_ERRORS[constraint]
        if path.startswith("identification."):
            path = f"identification.{id_rank}.number"
        raise ApiError.from_field_errors(
            [FieldError(path, code, error_codes.describe(code, field=code_name_of(path)))]
        ) from exc


def code_name_of(path: str) -> str:
    return f.code_name(path)
