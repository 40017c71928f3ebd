"""The validator: every scalar, cross-field, address and tax-residency rule; `validate_write`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from core import error_codes, identifiers
from core.exceptions import FieldError
from enumerations.catalog import Catalog
from programs.models import Program
from users import fields as f
from users.models import AccountHolder, AccountType, Address
from users.validation.base import SKIP, pair_missing
from users.validation.chars import tin_chars
from users.validation.codes import ADDRESS_TYPE_INVALID, code_for, required_code, unknown_field
from users.validation.identification import MODEL_ID_KEYS, IdentificationRules
from users.validation.rules import (
    ADDRESS_REQUIRED,
    ADDRESS_SPECS,
    PASSWORD_MAX,
    PASSWORD_MIN,
    SCALAR_SPECS,
    TAX_RESIDENCIES_MAX,
    Rank,
    Spec,
)
from users.validation.write import CleanWrite

_EMAIL = EmailValidator()


def validate_write(
    *,
    program: Program,
    catalog: Catalog,
    changes: f.Changes,
    user: AccountHolder | None = None,
    sent: Iterable[str] | None = None,
    extra_required: Iterable[str] = (),
) -> CleanWrite:
    """Clean and judge a canonical write; see the module docstring.

    `sent`: canonical paths the request body carried (for the "both or neither" pairs); by
    default every key of `changes` and every non-empty value of its items. `extra_required`:
    canonical paths required on top of the program's set (v2 create requires `type` and
    `preferred_name`).
    """
    validator = Validator(program, catalog, changes, user, sent, tuple(extra_required))
    return validator.run()


class Validator(IdentificationRules):
    def run(self) -> CleanWrite:
        if not isinstance(self.changes, dict):
            self.error(Rank.REQUIRED, "body", "invalid")
            return self._finish()
        known = {*SCALAR_SPECS, "identification", "addresses", "tax_residencies"}
        for key in self.changes:
            if key not in known:
                self.raw_error(Rank.REQUIRED, unknown_field(key))
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
        return self._finish()

    def scalar(self, name: str, spec: Spec, raw: Any) -> None:
        if spec.kind == "special":
            value = getattr(self, f"special_{name}")(spec, raw)
        else:
            value = self.generic(spec, name, raw, self.current(name))
        if value is not SKIP:
            value = self.fits_column(spec.rank, name, value)
        if value is not SKIP:
            self.out.scalars[name] = value

    def fits_column(self, rank: Rank, name: str, value: Any) -> Any:
        # an operator may add enumeration codes longer than the user's column: never let a
        # value reach the database that it would refuse (PostgreSQL would answer a 500)
        if isinstance(value, str) and name != "password":
            limit = AccountHolder._meta.get_field(name).max_length  # type: ignore[union-attr]
            if limit is not None and len(value) > limit:
                self.error(rank, name, "lengthmax", max=limit)
                return SKIP
        return value

    # --- special scalars

    def special_type(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "type", raw)
        if value is SKIP:
            return SKIP
        if value is None:
            self.error(spec.rank, "type", "invalid")  # the column has no "unknown" type
            return SKIP
        lowered = value.lower()
        if lowered not in AccountType.values:
            self.error(spec.rank, "type", "invalid")
            return SKIP
        return lowered

    def special_email(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "email", raw)
        if value is None or value is SKIP:
            return value
        # one canonical form (core/identifiers.py): compatibility forms folded (a full-width
        # e, U+FF45, is an `e`), invisible and bidi-control characters refused, the domain
        # an IDNA name
        value = identifiers.nfkc(value)
        try:
            if len(value) > 254:
                raise ValidationError("too long")
            _EMAIL(value)
            identifiers.canonical_email(value)
        except (ValidationError, identifiers.IdentifierError):
            self.error(spec.rank, "email", "invalid")
            return SKIP
        return value

    def special_mobile_country_code(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "mobile_country_code", raw)
        if value is None or value is SKIP:
            return value
        # "+65" is how people write a calling code; store it without the plus
        value = value.removeprefix("+")
        if len(value) > 3:
            self.error(spec.rank, "mobile_country_code", "lengthmax", max=3)
            return SKIP
        if value == self.current("mobile_country_code"):
            return value
        entry = self.lookup("mobile_country_codes", value) if value.isdigit() else None
        if entry is None:
            self.error(spec.rank, "mobile_country_code", "not_allowed")
            return SKIP
        return entry.code

    def special_mobile(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "mobile", raw)
        if value is None or value is SKIP:
            return value
        if not (value.isascii() and value.isdigit()) or len(value) > 15:
            self.error(spec.rank, "mobile", "invalid")
            return SKIP
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
                return SKIP
        return value

    def special_password(self, spec: Spec, raw: Any) -> Any:
        # passwords are neither trimmed nor normalised: the secret is exactly what was sent
        if raw is None or (isinstance(raw, str) and raw == ""):
            return SKIP
        if not isinstance(raw, str):
            self.error(spec.rank, "password", "invalid")
            self.given.add("password")
            return SKIP
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
        return SKIP

    def special_birth_date(self, spec: Spec, raw: Any) -> Any:
        value = self.text(spec.rank, "birth_date", raw)
        if value is None or value is SKIP:
            return value
        parsed = self.parse_date(value)
        if parsed is None or parsed.year < 1900:
            self.error(spec.rank, "birth_date", "invalid")
            return SKIP
        if parsed > self.today:
            self.error(spec.rank, "birth_date", "future")
            return SKIP
        if _age(parsed, self.today) < self.program.min_age:
            self.error(spec.rank, "birth_date", "not_allowed")
            return SKIP
        return parsed

    # --- cross-field rules

    def key_sent(self, name: str) -> bool:
        """A top-level key the body carried: a value, or `null` (v2's "clear")."""
        if self.sent is not None:
            return name in self.sent
        value = self.changes.get(name, SKIP)
        return value is not SKIP and not (isinstance(value, str) and not value.strip())

    def mobile_pair(self) -> None:
        missing = pair_missing(
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
                code = required_code(name)
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
            return doc is not None and getattr(doc, MODEL_ID_KEYS[key]) is not None
        if path.startswith("addresses."):
            kind = path.split(".")[1]
            if kind in self.out.addresses:
                return self.out.addresses[kind] is not None
            if f"addresses.{kind}" in self.given:
                return True
            return kind in self.current_addresses
        value = self.resulting(path)
        return value is not None

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
                        ADDRESS_TYPE_INVALID,
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
                self.raw_error(Rank.ADDRESSES, unknown_field(f"{path}.{key}"))
                ok = False
        for key in f.ADDRESS_KEYS:
            spec = ADDRESS_SPECS[key]
            value = self.generic(spec, f"{path}.{key}", item.get(key), getattr(current, key, None))
            if value is SKIP:
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
                    self.raw_error(Rank.TAX_RESIDENCIES, unknown_field(f"{path}.{key}"))
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
            elif tin is SKIP and f"{path}.tin" in self.given:
                ok = False
            cleaned.append({"country": code, "tin": tin if isinstance(tin, str) else None})
        if ok:
            self.out.tax_residencies, self.out.tax_residencies_given = cleaned, True


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def password_missing(password: str) -> list[str]:
    """What the v1 password rule still needs, in words (empty when it passes)."""
    checks = (
        ("a lower-case letter", any(c.islower() for c in password)),
        ("a number", any(c.isdigit() for c in password)),
        ("a special character", any(not c.isalnum() and not c.isspace() for c in password)),
    )
    return [label for label, present in checks if not present]
