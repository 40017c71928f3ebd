"""Every code a field rule answers, generated from the rule table: spelled here only.

`code_for(path, rule)` names the code of one rule on one canonical path: the seed's own code
where it has one (`_SPECIAL_CODES`), otherwise `resource_user_<field>_<rule>` with the field
named by `users.fields.code_name`. `possible_codes()` lists every code validation can
answer, for the API schema and the tests, from the same table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from core import error_codes
from core.exceptions import FieldError
from users import fields as f
from users.validation.rules import ADDRESS_REQUIRED, ADDRESS_SPECS, RANKS, SCALAR_SPECS, Spec

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
    return rule_code(path, rule)


def rule_code(path: str, rule: str) -> str:
    """`resource_user_<field>_<rule>`, the field named by `users.fields.code_name`: the
    pattern of every code that is not one of the seed's own (`code_for` picks those)."""
    return f"resource_user_{f.code_name(path)}_{rule}"


def field_error(path: str, rule: str, **params: Any) -> FieldError:
    code = code_for(path, rule)
    params.setdefault("field", f.code_name(path))
    return FieldError(path, code, error_codes.describe(code, **params))


# An `addresses` item whose `type` is none of `users.fields.ADDRESS_TYPES`.
ADDRESS_TYPE_INVALID = "resource_user_address_type_invalid"


def required_code(name: str) -> str:
    """The code of a missing required field, by its program name (v1 name, or `address`)."""
    return f"resource_user_{name}_required"


def unknown_field(path: str) -> FieldError:
    return FieldError(
        path,
        error_codes.USER_UNKNOWN_FIELD,
        error_codes.describe(error_codes.USER_UNKNOWN_FIELD, field=path),
    )


# Rules of the `special` scalars, by field (the other kinds follow from their `Spec`).
_SPECIAL_RULES: dict[str, tuple[str, ...]] = {
    "type": ("invalid",),
    "email": ("invalid", "unique"),
    "mobile_country_code": ("invalid", "not_allowed", "lengthmax", "pair"),
    "mobile": ("invalid", "pair", "unique"),
    "password": ("invalid", "min", "max", "rule"),
    "birth_date": ("invalid", "future", "not_allowed"),
}
_FROZEN_NAMES = ("first_name", "last_name", "preferred_name")
_UNIQUE = ("customer_id",)


def _spec_codes(path: str, spec: Spec) -> Iterator[str]:
    """The codes of a generic field: its kind's rules, its column limit, its enumeration."""
    if spec.kind in ("date", "datetime", "bool"):
        yield code_for(path, "invalid")
        return
    if spec.kind == "json":
        yield code_for(path, "invalid")
        yield code_for(path, "lengthmax")
        return
    yield code_for(path, "invalid")  # a value of the wrong JSON type
    yield code_for(path, "lengthmax")  # the rule's limit, or the column's for an enum code
    if spec.chars is not None:
        yield code_for(path, "rule")
    if spec.enum_kind is not None:
        yield spec.not_allowed_code or code_for(path, "not_allowed")


def _path_codes() -> Iterator[tuple[str, str]]:
    """(canonical path, code) of every rule, in the order of the SPEC §6 table's fields."""
    for name, spec in SCALAR_SPECS.items():
        if spec.kind == "special":
            for rule in _SPECIAL_RULES[name]:
                yield name, code_for(name, rule)
        else:
            for code in _spec_codes(name, spec):
                yield name, code
        if name in _FROZEN_NAMES:
            yield name, code_for(name, "frozen")
        if name in _UNIQUE:
            yield name, code_for(name, "unique")
    for rank in RANKS:
        base = f"identification.{rank}"
        yield f"{base}.id_type", code_for(base, "invalid")
        for key, rules in (
            ("id_type", ("invalid", "not_allowed", "pair")),
            ("number", ("invalid", "lengthmax", "rule", "unique", "pair")),
            ("issue_date", ("invalid", "date_pair")),
            ("expiry_date", ("invalid", "date_pair")),
            ("country_of_issue", ("invalid", "not_allowed")),
        ):
            for rule in rules:
                yield f"{base}.{key}", code_for(f"{base}.{key}", rule)
    yield "addresses", code_for("addresses", "invalid")
    yield "addresses", ADDRESS_TYPE_INVALID
    yield "addresses", code_for("addresses.residential", "invalid")
    for key, spec in ADDRESS_SPECS.items():
        path = f"addresses.residential.{key}"
        for code in _spec_codes(path, spec):
            yield "addresses", code
        if key in ADDRESS_REQUIRED:
            yield "addresses", code_for(path, "required")
    yield "tax_residencies", code_for("tax_residencies", "invalid")
    yield "tax_residencies", code_for("tax_residencies", "lengthmax")
    yield "tax_residencies", code_for("tax_residencies.0", "invalid")
    for rule in ("not_allowed", "unique", "required"):
        yield "tax_residencies", code_for("tax_residencies.0.country", rule)
    for rule in ("lengthmax", "rule"):
        yield "tax_residencies", code_for("tax_residencies.0.tin", rule)


def _required_names() -> Iterator[tuple[str, str]]:
    """(canonical path, code) of every field a program may require."""
    for name, path in f.REQUIRED_FIELD_PATHS.items():
        yield path, required_code(name)
    for name in f.SCALAR_FIELDS:
        yield name, required_code(f.code_name(name))


def possible_codes(v1_fields: Collection[str] | None = None) -> list[str]:
    """Every code a field rule can answer, without duplicates, required fields first.

    `v1_fields`: only the rules of these v1 body fields (the v1 schema); by default every
    field's (v1 and v2). `resource_user_unknown_field` closes the list.
    """

    def wanted(path: str) -> bool:
        return v1_fields is None or f.v1_name(path) in v1_fields

    codes = [code for path, code in _required_names() if wanted(path)]
    codes += [code for path, code in _path_codes() if wanted(path)]
    codes.append(error_codes.USER_UNKNOWN_FIELD)
    return list(dict.fromkeys(codes))
