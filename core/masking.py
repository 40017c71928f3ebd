"""One mask per kind of personal data, for every reader that must not see it in full.

The admin's lists, the audit trail (`users.audit`, stored masked) and the logs
(`core.logging`) all mask through these functions, so the same e-mail, phone or id number
reads the same wherever it is masked. A ground-floor module: it imports no app.

The kinds and their one mask:

- **email**: the local part's first character and `***`, the domain kept (support needs it):
  `ada.lovelace@example.com` → `a***@example.com`. The length of the local part is not shown.
- **number** (mobile, id number, TIN): all but the last 4 characters as `*`; a value of 4 or
  fewer characters is masked whole: `S1234567D` → `*****567D`. The API's masked id numbers
  are this same mask (SPEC §6), so it may not change shape.
- **mobile**: the number's mask, behind the country code when there is one (`+65 ****4567`).
- **name** (one name, a word of a place): the first character and `***`: `Lovelace` → `L***`;
  a full name masks word by word: `A*** L***`.
- **date** (birth dates, document dates): `****-**-**`.
- **address line** (street lines, zipcode): like a name, the first character and `***`.
- **free text** (log messages, exception messages): e-mail addresses, ISO dates and
  number-like tokens inside the text get the masks above; other words are left alone.

Empty values mask to `""`: what to print for "nothing" (`—` in the admin) is the reader's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

DATE_MASK = "****-**-**"
PASSWORD_MASK = "********"
OBJECT_MASK = "{…}"  # a free-form object (metadata): only that it changed
_KEEP = 4


def mask_email(value: str | None) -> str:
    """`ada@example.com` → `a***@example.com`; a value without `@` is masked as a number."""
    if not value:
        return ""
    local, at, domain = value.rpartition("@")
    if not at:
        return mask_number(value)
    return f"{local[:1]}***@{domain}"


def mask_number(value: str | None) -> str:
    """All but the last 4 characters replaced by `*` (everything, for 4 characters or fewer)."""
    if not value:
        return ""
    if len(value) <= _KEEP:
        return "*" * len(value)
    return "*" * (len(value) - _KEEP) + value[-_KEEP:]


def mask_mobile(number: str | None, country_code: str | None = None) -> str:
    """`+65 ****4567`: the number's mask behind its (not personal) country code."""
    if not number:
        return ""
    masked = mask_number(number)
    return f"+{country_code} {masked}" if country_code else masked


def mask_name(value: str | None) -> str:
    """`Lovelace` → `L***`: the first character only; the length is not shown."""
    if not value:
        return ""
    return f"{value[:1]}***"


def mask_full_name(*parts: str | None) -> str:
    """`Ada`, `Lovelace` → `A*** L***`: every word of every part masked as a name."""
    return " ".join(mask_name(word) for part in parts if part for word in part.split())


def mask_date(value: date | str | None) -> str:
    return DATE_MASK if value else ""


def mask_address_line(value: str | None) -> str:
    """A street line or zipcode: `1 Infinite Loop` → `1***`."""
    return mask_name(value)


_EMAIL = re.compile(r"[^\s@'\"(),<>;:]+@[^\s@'\"(),<>;:]+")
_ISO_DATE = re.compile(r"(?<![\w.+\-/])\d{4}-\d{2}-\d{2}(?![\w+\-/])")
# Tokens with four or more digits: phone numbers, id and card numbers.
# Not after a `*`: the visible tail of a masked value is not masked again (masking text twice,
# as a log line is by its logger's filter and by the formatter, gives the same text).
_NUMBERISH = re.compile(r"(?<!\*)\b(?=[A-Za-z0-9+\-/.]*\d{4})[A-Za-z0-9+\-/.]{4,}\b")


def mask_text(text: str) -> str:
    """Free text with the e-mails, dates and number-like tokens in it masked as their kind."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _ISO_DATE.sub(DATE_MASK, text)
    return _NUMBERISH.sub(lambda m: mask_number(m.group(0)), text)


# kind → mask, for readers that know a value's kind by name (the equivalence test, the admin)
MASKS: dict[str, Callable[[str], str]] = {
    "email": mask_email,
    "mobile": mask_mobile,
    "id_number": mask_number,
    "name": mask_full_name,
    "date": mask_date,
    "address_line": mask_address_line,
    "text": mask_text,
}
