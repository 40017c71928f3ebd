"""Character classes of the field rules, id-number checksums and the id number's canonical form."""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable

# the id number's canonical form is the model's: its blind index is computed from it
from users.models import canonical_id_number as canonical_id_number


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
