"""One canonical form per identifier: what uniqueness, filters, search and screening compare.

Two strings that reach the same mailbox or the same phone must compare equal, and a string
that only looks like an address must not pass as one:

- **e-mail**: Unicode NFKC (full-width `\uff45` → `e`, ligatures unfolded), then lower-cased
  (`İ` and `i̇` alike); the domain through IDNA's UTS #46 processing to its ASCII form
  (`exämple.com` and `xn--exmple-cua.com` alike). Invisible characters — the Unicode format
  category `Cf` (zero-width space and joiners, the bidi embeddings, overrides and isolates,
  soft hyphen, ...) — and other control characters are refused, never silently dropped:
  they exist to make two different strings look the same.
- **mobile**: E.164 from phonenumbers (`+` calling code national number), so a national
  trunk prefix is not part of the number: UK `7400123456` and `07400123456` are both
  `+447400123456`.

Pure functions of the ground floor (no app imports): validation uses them to refuse and to
store, the users filters and admin search to look up, risk screening to build its `exact` keys.
"""

from __future__ import annotations

import unicodedata

import idna
import phonenumbers

__all__ = [
    "IdentifierError",
    "canonical_email",
    "canonical_mobile",
    "e164_or_none",
    "email_key",
    "has_invisible",
    "nfkc",
    "phone_key",
]


class IdentifierError(ValueError):
    """The value cannot be an identifier of its kind (what is wrong is in the message)."""


def has_invisible(value: str) -> bool:
    """Format (`Cf`: zero-width, bidi controls) or control (`Cc`) characters in `value`."""
    return any(unicodedata.category(c) in ("Cf", "Cc") for c in value)


def nfkc(value: str) -> str:
    """Trimmed Unicode NFKC: compatibility forms folded (full-width `\uff45` → `e`), case kept."""
    return unicodedata.normalize("NFKC", value.strip())


def canonical_email(value: str) -> str:
    """`local@domain` NFKC and lower-cased, the domain in its IDNA (UTS #46) ASCII form.

    Raises `IdentifierError` for invisible or control characters, a missing `@`, an empty
    part, or a domain IDNA refuses (bidi rule, disallowed code points, empty labels).
    """
    if has_invisible(value):
        raise IdentifierError("invisible or control characters are not allowed")
    text = unicodedata.normalize("NFKC", nfkc(value).lower())
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise IdentifierError("an e-mail address is local-part@domain")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise IdentifierError(f"the domain is not a valid internationalized name: {exc}") from exc
    return f"{local}@{ascii_domain.lower()}"


def canonical_mobile(country_code: str, number: str) -> str:
    """E.164 (`+447400123456`) of a calling code and a national number (digits).

    Raises `IdentifierError` when phonenumbers cannot parse it; whether the number is valid
    for the country is the caller's rule.
    """
    code = country_code.strip().removeprefix("+")
    digits = number.strip()
    if not (code.isascii() and code.isdigit() and digits.isascii() and digits.isdigit()):
        raise IdentifierError("a calling code and a national number are digits only")
    try:
        parsed = phonenumbers.parse(f"+{code}{digits}")
    except phonenumbers.NumberParseException as exc:
        raise IdentifierError(f"not a phone number: {exc}") from exc
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def e164_or_none(digits: str) -> str | None:
    """E.164 of `digits` read as calling code + national number, when that is a valid number
    (`447400123456` and `4407400123456` → `+447400123456`); else None."""
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        parsed = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email_key(value: str) -> str:
    """`canonical_email`, or — for text that is no address (a list entry, a search term) —
    its NFKC lower-cased form: a lenient key that never raises."""
    try:
        return canonical_email(value)
    except IdentifierError:
        return unicodedata.normalize("NFKC", nfkc(value).lower()).strip()


def phone_key(value: str) -> str:
    """Digits of the E.164 form of a valid international number written any way (`+44 (0)7400
    123456`, `4407400123456` → `447400123456`); otherwise its plain digits, unchanged."""
    digits = "".join(c for c in value if c.isascii() and c.isdigit())
    e164 = e164_or_none(digits) if digits else None
    return e164[1:] if e164 else digits
