"""What a valid blacklist entry is: every value validated like user input (SPEC §6).

Names by the name rules, e-mails as addresses, phones as valid numbers with their country
code, id numbers by length and characters, nationalities against the enumeration, birthdays
as past ISO dates. The admin form, `blacklist_entry_save` and the importer all call
`clean_entry`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from enumerations.catalog import Catalog, get_catalog
from risk.models import Action, EntityAttribute, MatchType
from risk.names import check_full_name
from risk.normalize import NAME_ATTRIBUTES, canonical_id_number, canonical_phone, key_for

MAX_WEIGHT = 1_000_000
MAX_REASON = 255

# SPEC §6: letters of any script (accents included), spaces and . ' -
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'\-]+[^\W\d_]*)*\.?$")
# preferred_name: letters and spaces
_PREFERRED = re.compile(r"^[^\W\d_]+(?: +[^\W\d_]+)*$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]+$")
_ID_CHARS = re.compile(r"^[A-Z0-9]+$")
# Choices.values builds a new list on every access; an import checks millions of rows
_ATTRIBUTES: tuple[str, ...] = tuple(EntityAttribute.values)
_MATCHES: tuple[str, ...] = tuple(MatchType.values)
_ACTIONS: tuple[str, ...] = tuple(Action.values)


@dataclass(frozen=True)
class EntryData:
    """A validated entry, ready to become a `BlacklistEntry`."""

    entity_attribute: str
    value: str
    match: str
    action: str
    weight: int | None
    reason: str

    @property
    def key(self) -> str:
        return key_for(self.entity_attribute, self.match, self.value)


def _check_value(attribute: str, value: str, catalog: Catalog | None) -> str | None:
    """The error for a listed value, or None; mirrors the user write rules."""
    if attribute == EntityAttribute.NAME:
        return check_full_name(value)
    if attribute in NAME_ATTRIBUTES:
        limit = 25 if attribute == EntityAttribute.PREFERRED_NAME else 50
        if len(value) > limit:
            return f"at most {limit} characters"
        rule = _PREFERRED if attribute == EntityAttribute.PREFERRED_NAME else _NAME
        if not rule.match(value):
            allowed = "letters and spaces"
            if attribute != EntityAttribute.PREFERRED_NAME:
                allowed = "letters, spaces and . ' -"
            return f"only {allowed}"
        return None
    if attribute == EntityAttribute.EMAIL:
        if len(value) > 254:
            return "at most 254 characters"
        try:
            validate_email(value)
        except ValidationError:
            return "not a valid e-mail address"
        return None
    if attribute == EntityAttribute.MOBILE:
        if not _PHONE_CHARS.match(value):
            return "a phone number is the country code and digits, e.g. 6591234567"
        digits = canonical_phone(value)
        try:
            number = phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            return "not a valid phone number with its country code"
        if not phonenumbers.is_valid_number(number):
            return "not a valid phone number with its country code"
        return None
    if attribute == EntityAttribute.ID_NUMBER:
        canonical = canonical_id_number(value)
        if len(canonical) > 30:
            return "at most 30 characters"
        if not _ID_CHARS.match(canonical):
            return "only letters and digits (spaces and dashes are ignored)"
        return None
    if attribute == EntityAttribute.NATIONALITY:
        catalog = catalog or get_catalog()
        if catalog.lookup("nationalities", value) is None:
            return "not a nationality code of the enumeration (ISO 3166 alpha-3)"
        return None
    if attribute == EntityAttribute.BIRTHDAY:
        try:
            born = date.fromisoformat(value)
        except ValueError:
            return "not an ISO 8601 date (YYYY-MM-DD)"
        if born > timezone.localdate():
            return "in the future"
        return None
    return None


def clean_entry(
    *,
    entity_attribute: str | None,
    value: str | None,
    match: str | None,
    action: str | None,
    weight: str | int | None,
    reason: str | None,
    catalog: Catalog | None = None,
) -> EntryData:
    """Validate one entry's fields; raises `ValidationError({field: [message]})`."""
    errors: dict[str, str] = {}
    attribute = (entity_attribute or "").strip()
    text = (value or "").strip()
    match_type = (match or "").strip().lower() or MatchType.EXACT
    act = (action or "").strip().lower()
    why = (reason or "").strip()

    if attribute not in _ATTRIBUTES:
        errors["entity_attribute"] = (
            f"unknown attribute {attribute!r}; one of {', '.join(_ATTRIBUTES)}"
        )
    if match_type not in _MATCHES:
        errors["match"] = f"unknown match {match_type!r}; one of {', '.join(_MATCHES)}"
    elif (
        match_type == MatchType.FUZZY
        and attribute in _ATTRIBUTES
        and attribute not in NAME_ATTRIBUTES
        and attribute != EntityAttribute.NAME
    ):
        errors["match"] = "fuzzy matching is for names only"
    if act not in _ACTIONS:
        errors["action"] = f"unknown action {act!r}; one of {', '.join(_ACTIONS)}"

    parsed_weight: int | None = None
    raw_weight = "" if weight is None else str(weight).strip()
    if act == Action.BLOCK and raw_weight:
        errors["weight"] = "must be empty for block entries"
    elif act == Action.SCORE:
        if not raw_weight:
            errors["weight"] = "required for score entries"
        elif not raw_weight.isdigit() or not 0 < int(raw_weight) <= MAX_WEIGHT:
            errors["weight"] = f"a whole number from 1 to {MAX_WEIGHT}"
        else:
            parsed_weight = int(raw_weight)

    if "\x00" in text:
        errors["value"] = "contains a NUL character"
    elif not text:
        errors["value"] = "required"
    elif attribute in _ATTRIBUTES:
        problem = _check_value(attribute, text, catalog)
        if problem is None and match_type in _MATCHES and not key_for(attribute, match_type, text):
            problem = "nothing left to compare once normalized"
        if problem:
            errors["value"] = problem
    if "\x00" in why:
        errors["reason"] = "contains a NUL character"
    elif len(why) > MAX_REASON:
        errors["reason"] = f"at most {MAX_REASON} characters"

    if errors:
        raise ValidationError({name: [message] for name, message in errors.items()})
    if attribute == EntityAttribute.NATIONALITY:
        text = text.upper()
    return EntryData(attribute, text, match_type, act, parsed_weight, why)
