"""core/crypto.py: envelope encryption (round trip, tamper, wrong place, rotation), blind index."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from core import crypto

AAD = crypto.associated_data("users_identification", "number", 7)
NEW_KEY = "new:" + base64.b64encode(b"\x33" * 32).decode()
TEST2_KEY = "test2:" + base64.b64encode(b"\x11" * 32).decode()

payloads = st.binary(max_size=2048)
aads = st.binary(max_size=64)


@given(plaintext=payloads, aad=aads)
@settings(max_examples=60, deadline=None)
def test_round_trip(plaintext: bytes, aad: bytes) -> None:
    blob = crypto.encrypt(plaintext, aad)
    assert crypto.decrypt(blob, aad) == plaintext
    assert crypto.envelope_key_id(blob) == "test2"


@given(text=st.text(max_size=200))
@settings(max_examples=40, deadline=None)
def test_text_round_trip_and_no_clear_value(text: str) -> None:
    token = crypto.encrypt_text(text, AAD)
    assert token.startswith(crypto.TEXT_PREFIX)
    if len(text) >= 4:
        assert text not in token
    assert crypto.decrypt_text(token, AAD) == text


def test_each_value_has_its_own_data_key_and_nonce() -> None:
    first, second = crypto.encrypt(b"S1234567D", AAD), crypto.encrypt(b"S1234567D", AAD)
    assert first != second
    assert b"S1234567D" not in first


@given(plaintext=payloads, aad=aads, data=st.data())
@settings(max_examples=60, deadline=None)
def test_any_flipped_bit_is_refused(plaintext: bytes, aad: bytes, data: st.DataObject) -> None:
    blob = bytearray(crypto.encrypt(plaintext, aad))
    # every byte after the format marker counts: key id, wrapped key, nonce, ciphertext, tag
    position = data.draw(st.integers(min_value=len(crypto.MAGIC), max_value=len(blob) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    blob[position] ^= 1 << bit
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(bytes(blob), aad)


@given(plaintext=payloads, aad=aads, other=aads)
@settings(max_examples=60, deadline=None)
def test_other_associated_data_is_refused(plaintext: bytes, aad: bytes, other: bytes) -> None:
    if other == aad:
        return
    blob = crypto.encrypt(plaintext, aad)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, other)


def test_value_moved_to_another_row_is_refused() -> None:
    token = crypto.encrypt_text("S1234567D", crypto.associated_data("t", "number", 1))
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(token, crypto.associated_data("t", "number", 2))


@pytest.mark.parametrize("blob", [b"", b"OBP1", b"XXXX" + b"\x00" * 80, b"OBP1\x05\x28abc"])
def test_malformed_envelopes_are_refused(blob: bytes) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, AAD)


def test_malformed_text_is_refused() -> None:
    for token in ("S1234567D", "pii1:!!!!", "pii1:"):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_text(token, AAD)


def test_older_key_still_decrypts_and_rewrap_moves_to_newest() -> None:
    blob = crypto.encrypt(b"1990-01-02", AAD)
    with override_settings(PII_KEYS=f"{NEW_KEY},{TEST2_KEY}"):
        assert crypto.decrypt(blob, AAD) == b"1990-01-02"
        moved = crypto.rewrap(blob)
        assert crypto.envelope_key_id(moved) == "new"
        assert crypto.rewrap(moved) == moved  # already under the newest key: unchanged
        assert crypto.decrypt(moved, AAD) == b"1990-01-02"
    with override_settings(PII_KEYS=NEW_KEY), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(blob, AAD)  # the retired key is gone: its values no longer open
    with override_settings(PII_KEYS=NEW_KEY):
        assert crypto.decrypt(moved, AAD) == b"1990-01-02"


def test_unknown_key_id_is_refused() -> None:
    blob = crypto.encrypt(b"x", AAD)
    with override_settings(PII_KEYS=NEW_KEY), pytest.raises(crypto.DecryptionError, match="test2"):
        crypto.decrypt(blob, AAD)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " , ",
        "nokey",
        "k:not-base64!",
        "k:" + base64.b64encode(b"short").decode(),
        "k:"
        + base64.b64encode(b"\x01" * 32).decode()
        + ",k:"
        + base64.b64encode(b"\x02" * 32).decode(),
    ],
)
def test_bad_key_rings_are_refused(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_key_ring(raw)


def test_key_ring_order_is_newest_first() -> None:
    ring = crypto.parse_key_ring(NEW_KEY + ", old:" + base64.b64encode(b"\x01" * 16).decode())
    assert [key_id for key_id, _ in ring.keys] == ["new", "old"]
    assert ring.current_id == "new"


def test_production_refuses_to_start_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "example.com")
    monkeypatch.delenv("ONBOARD_PII_KEYS", raising=False)
    monkeypatch.setenv("ONBOARD_PII_INDEX_KEY", "index")
    sys.modules.pop("config.settings.production", None)
    with pytest.raises(ImproperlyConfigured, match="ONBOARD_PII_KEYS"):
        importlib.import_module("config.settings.production")
    monkeypatch.setenv("ONBOARD_PII_KEYS", NEW_KEY)
    monkeypatch.delenv("ONBOARD_PII_INDEX_KEY")
    sys.modules.pop("config.settings.production", None)
    with pytest.raises(ImproperlyConfigured, match="ONBOARD_PII_INDEX_KEY"):
        importlib.import_module("config.settings.production")
    sys.modules.pop("config.settings.production", None)


def test_blind_index_is_keyed_full_length_and_purpose_bound() -> None:
    value = crypto.blind_index("identification.number", "S1234567D")
    assert len(value) == 64 and value == crypto.blind_index("identification.number", "S1234567D")
    assert value != crypto.blind_index("tax.tin", "S1234567D")
    assert value != crypto.blind_index("identification.number", "S1234567E")
    with override_settings(PII_INDEX_KEY="another"):
        assert crypto.blind_index("identification.number", "S1234567D") != value
    # not a plain hash of the value
    import hashlib

    assert value != hashlib.sha256(b"S1234567D").hexdigest()
    # rotating the encryption keys leaves the indexes as they are
    with override_settings(PII_KEYS=NEW_KEY):
        assert crypto.blind_index("identification.number", "S1234567D") == value


def test_blind_index_is_hmac_sha256_of_purpose_and_canonical_value() -> None:
    """The copied HMAC state gives exactly HMAC-SHA256(key, purpose NUL value), every time."""
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"onboard blind index v1"
    ).derive(b"test-only-pii-index-key")
    for purpose, value in (("identification.number", "E1234567"), ("user.birth_date", "1990")):
        expected = hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()
        assert crypto.blind_index(purpose, value) == expected
        assert crypto.blind_index(purpose, value) == expected  # the cached state is not consumed


def test_text_values_rewrap_and_name_their_key() -> None:
    aad = b"users_taxresidency/tin"
    with override_settings(PII_KEYS=TEST2_KEY):
        token = crypto.encrypt_text("TQ5550123", aad)
    assert crypto.text_key_id(token) == "test2"
    with override_settings(PII_KEYS=f"{NEW_KEY},{TEST2_KEY}"):
        moved = crypto.rewrap_text(token)
        assert moved != token and crypto.text_key_id(moved) == "new"
        assert crypto.rewrap_text(moved) == moved
        assert crypto.decrypt_text(moved, aad) == "TQ5550123"
    with override_settings(PII_KEYS=NEW_KEY):
        assert crypto.decrypt_text(moved, aad) == "TQ5550123"
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_text(token, aad)  # read before (its cipher is cached): still refused
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_text(moved, b"users_address/city")
    with pytest.raises(crypto.DecryptionError):
        crypto.text_key_id("not an envelope")


def test_a_same_named_key_with_other_bytes_does_not_reuse_a_cached_cipher() -> None:
    token = crypto.encrypt_text("secret", AAD)
    assert crypto.decrypt_text(token, AAD) == "secret"
    impostor = "test2:" + base64.b64encode(b"\x44" * 32).decode()
    with override_settings(PII_KEYS=impostor), pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(token, AAD)
