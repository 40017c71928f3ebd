"""The one normalizer for blacklist entries and screened values (SPEC §6b).

Entries are stored with the key their match type compares (`BlacklistEntry.value_normalized`),
and screened values are turned into keys by the same functions, so an entry and a value match
exactly when their keys are equal — an indexed equality look-up, never a scan.

Two forms per attribute:

- **canonical** (`exact` entries): the value as the platform compares it — e-mail and phone
  in core/identifiers.py's canonical forms (NFKC, lower-cased, IDNA domain; E.164 digits),
  id numbers upper-cased without spaces or dashes, nationality upper-cased, birthday
  `YYYY-MM-DD`, free text (names) trimmed with its whitespace collapsed (NFC, case kept:
  `exact` means exact).
- **folded** (`normalized` and `fuzzy` entries): free text after Unicode NFKD, combining marks
  stripped, case folded, remaining non-ASCII letters transliterated (Unidecode: `ø` → `o`,
  `ł` → `l`, Cyrillic and Greek to Latin), and every run of punctuation and whitespace removed,
  so `Zoë-Ann  O'Brien` and `zoeann obrien` fold alike. E-mails also lose a `+tag` in the local
  part; phones and dates keep only their digits.

`tokens()` gives the folded words of a name, in order, for the fuzzy matcher.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from unidecode import unidecode

from core import identifiers

NAME_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "customer.first_name",
        "customer.middle_name",
        "customer.last_name",
        "customer.preferred_name",
        "customer.maiden_name",
    }
)

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_NON_DIGIT = re.compile(r"\D+")
_WHITESPACE = re.compile(r"\s+")
# spaces, the ASCII hyphen-minus, the Unicode dashes U+2010..U+2015 and the minus sign U+2212
_ID_SEPARATORS = re.compile("[\\s\\-\u2010-\u2015\u2212]+")


def strip_marks(value: str) -> str:
    """NFKD, then drop the combining marks: `Zoë` → `Zoe`, `ﬁ` → `fi`."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _ascii_lower(value: str) -> str:
    """Marks stripped, case folded, then transliterated to lower-case ASCII."""
    folded = strip_marks(value).casefold()
    if not folded.isascii():
        # Letters NFKD cannot decompose (ø, ł, æ, ß already folded, Cyrillic, Greek, CJK)
        folded = unidecode(folded)
    return folded.lower()


def tokens(value: str) -> list[str]:
    """The folded words of free text, in order: `"O'Brien, Zoë"` → `["o", "brien", "zoe"]`.

    Apostrophes inside a word are dropped rather than split on (`O'Brien` → `obrien`): names are
    written both ways, and a one-letter token would say little.
    """
    text = _ascii_lower(value).replace("'", "")
    return [t for t in _NON_ALNUM.split(text) if t]


def fold(value: str) -> str:
    """Free text reduced to lower-case ASCII letters and digits only (the `normalized` key)."""
    return "".join(tokens(value))


def canonical_email(value: str) -> str:
    """The platform's canonical e-mail (core/identifiers.py): NFKC, lower-cased, IDNA domain."""
    return identifiers.email_key(value)


def canonical_phone(value: str) -> str:
    """E.164 digits: `+65 9123-4567` → `6591234567`, `+44 07400 123456` → `447400123456`."""
    return identifiers.phone_key(value)


def canonical_id_number(value: str) -> str:
    """Upper-case without spaces or dashes: `s123 4567-d` → `S1234567D`."""
    return _ID_SEPARATORS.sub("", value.strip()).upper()


def canonical_text(value: str) -> str:
    """Free text for `exact` entries: NFC, trimmed, inner whitespace collapsed, case kept."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()


def canonical_date(value: str) -> str:
    """`YYYY-MM-DD`; anything that is not an ISO date is kept as its trimmed text."""
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return text


def canonical(attribute: str, value: str) -> str:
    """The key an `exact` entry on `attribute` compares."""
    if attribute == "customer.email":
        return canonical_email(value)
    if attribute == "customer.mobile":
        return canonical_phone(value)
    if attribute == "customer.id_number":
        return canonical_id_number(value)
    if attribute == "customer.nationality":
        return value.strip().upper()
    if attribute == "customer.birthday":
        return canonical_date(value)
    return canonical_text(value)


def folded(attribute: str, value: str) -> str:
    """The key a `normalized` or `fuzzy` entry on `attribute` compares."""
    if attribute == "customer.email":
        local, at, domain = value.strip().lower().rpartition("@")
        if at:
            # sub-addressing: ada+promo@x.com reaches ada@x.com
            local = local.split("+", 1)[0]
            return fold(local) + "@" + fold(domain)
        return fold(value)
    if attribute in ("customer.mobile", "customer.birthday"):
        return _NON_DIGIT.sub("", canonical(attribute, value))
    return fold(value)


def key_for(attribute: str, match: str, value: str) -> str:
    """The stored/compared key of a value for an entry of this match type."""
    if match == "exact":
        return canonical(attribute, value)
    return folded(attribute, value)
