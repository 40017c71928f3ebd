"""The one normalizer (SPEC §6b): properties checked with Hypothesis, plus the canonical forms."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from risk import normalize
from risk.normalize import canonical, fold, folded, key_for, tokens

# letters from Latin (with accents), Greek and Cyrillic, digits, spaces and punctuation
name_text = st.text(
    alphabet=st.characters(
        categories=("Lu", "Ll", "Nd", "Zs", "Po", "Pd"),
        max_codepoint=0x04FF,
    ),
    max_size=40,
)
any_text = st.text(max_size=40)
ascii_words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10),
    min_size=1,
    max_size=4,
)
ATTRIBUTES = [
    "customer.first_name",
    "customer.last_name",
    "customer.email",
    "customer.mobile",
    "customer.id_number",
    "customer.nationality",
    "customer.birthday",
]


@given(any_text)
@example("Zoë-Ann  O'Brien")
@example("ß")
@example("İ")
def test_fold_is_idempotent(value: str) -> None:
    assert fold(fold(value)) == fold(value)


@given(any_text)
def test_fold_is_lower_case_ascii_letters_and_digits(value: str) -> None:
    result = fold(value)
    assert result.isascii()
    assert result == result.lower()
    assert all(ch.isalnum() for ch in result)


@given(st.sampled_from(ATTRIBUTES), any_text)
def test_every_key_is_idempotent(attribute: str, value: str) -> None:
    for match in ("exact", "normalized", "fuzzy"):
        key = key_for(attribute, match, value)
        assert key_for(attribute, match, key) == key


@given(name_text)
def test_fold_ignores_case(value: str) -> None:
    assert fold(value.upper()) == fold(value.lower()) == fold(value)


@given(ascii_words)
def test_fold_ignores_accents(words: list[str]) -> None:
    plain = " ".join(words)
    # put a combining acute accent or diaeresis on every letter
    accented = "".join(ch + ("\u0301" if i % 2 else "\u0308") for i, ch in enumerate(plain))
    assert fold(unicodedata.normalize("NFC", accented)) == fold(plain)
    assert fold(accented) == fold(plain)


@given(ascii_words, st.sampled_from([" ", "  ", "-", "'", ".", ", ", "\t", "\u00a0"]))
def test_fold_ignores_spacing_and_punctuation(words: list[str], separator: str) -> None:
    assert fold(separator.join(words)) == fold("".join(words)) == fold(" ".join(words))
    assert fold(f"  {' '.join(words)}  ") == fold("".join(words))


@given(ascii_words)
def test_tokens_keep_the_words_in_order(words: list[str]) -> None:
    assert tokens(" ".join(w.upper() for w in words)) == words


@given(st.emails())
def test_canonical_email_is_lower_case_and_trimmed(email: str) -> None:
    variant = f"  {email.upper()} "
    assert canonical("customer.email", variant) == email.lower()
    assert canonical("customer.email", variant) == canonical("customer.email", email)


@given(st.from_regex(r"\A[1-9][0-9]{6,14}\Z"))
def test_canonical_phone_is_country_code_and_digits(digits: str) -> None:
    formatted = f"+{digits[:2]} ({digits[2:5]}) {digits[5:]}"
    # E.164 digits (issue 12 item 5): a valid number loses a national trunk prefix
    # (`+31 0 100000000` → `31100000000`); any other keeps its digits
    key = canonical("customer.mobile", digits)
    assert key.isdigit() and (key == digits or len(key) < len(digits))
    assert canonical("customer.mobile", formatted) == key
    assert canonical("customer.mobile", f"{digits[:2]}-{digits[2:]}") == key


@given(st.from_regex(r"\A[A-Za-z0-9]{1,12}\Z"), st.sampled_from([" ", "-", " - ", "\u2013"]))
def test_canonical_id_number_is_upper_case_without_spaces_or_dashes(
    number: str, separator: str
) -> None:
    written = separator.join(number)
    assert canonical("customer.id_number", written) == number.upper()


@pytest.mark.parametrize(
    ("attribute", "match", "value", "key"),
    [
        ("customer.first_name", "exact", "  Zoë   Ann ", "Zoë Ann"),
        ("customer.first_name", "exact", "ZOË", "ZOË"),  # exact keeps the case
        ("customer.first_name", "normalized", "Zoë-Ann", "zoeann"),
        ("customer.last_name", "normalized", "Søren Łukasz Æsa", "sorenlukaszaesa"),
        ("customer.last_name", "normalized", "Владимир", "vladimir"),
        ("customer.last_name", "normalized", "Straße", "strasse"),
        ("customer.email", "exact", " Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        ("customer.email", "normalized", "Ada.Love+promo@Example.com", "adalove@examplecom"),
        ("customer.mobile", "exact", "+65 9123-4567", "6591234567"),
        ("customer.id_number", "exact", "s123 4567-d", "S1234567D"),
        ("customer.nationality", "exact", "sgp", "SGP"),
        ("customer.birthday", "exact", "1990-01-31", "1990-01-31"),
        ("customer.birthday", "normalized", "1990-01-31", "19900131"),
    ],
)
def test_keys(attribute: str, match: str, value: str, key: str) -> None:
    assert key_for(attribute, match, value) == key


def test_exact_and_folded_differ_only_where_the_spec_says() -> None:
    # exact names compare case; normalized names do not
    assert canonical("customer.first_name", "ada") != canonical("customer.first_name", "ADA")
    assert folded("customer.first_name", "ada") == folded("customer.first_name", "ADA")
    assert {"customer.first_name", "customer.maiden_name"} <= normalize.NAME_ATTRIBUTES
