"""Envelope encryption and blind indexes for personal data (SPEC §15).

Every value is encrypted under its own random 256-bit data key (AES-GCM, from `cryptography`);
the data key is wrapped (RFC 3394 AES key wrap) by a key-encryption key of the key ring
`settings.PII_KEYS`, and the envelope carries the key id, the wrapped data key, the nonce and
the ciphertext. The associated data binds a value to where it lives — a document file to its
row and storage name; a field value to its table and column (core/fields.py: the row id is not
known at INSERT) — so a ciphertext copied elsewhere does not decrypt.

Equality look-ups use a blind index: HMAC-SHA256 (full length) of the value's canonical form,
keyed by a key derived with HKDF from `settings.PII_INDEX_KEY` — a separate secret that does not
rotate with the key-encryption keys (rotating it means recomputing every index).

The key ring is written `id:base64key,id:base64key`, newest first: new values are encrypted
under the first key; any key of the ring decrypts; `rewrap` moves a value to the newest key
without touching its ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"OBP1"  # envelope format, version 1
TEXT_PREFIX = "pii1:"  # an envelope stored in a text column: prefix + base64url
_NONCE_BYTES = 12
_DEK_BYTES = 32
_KEY_ID_MAX = 32
_INDEX_INFO = b"onboard blind index v1"
_TAG_BYTES = 16
# enough of an envelope to read its key id (magic, lengths, key id)
HEADER_PEEK_BYTES = 4 + 2 + 32
_CHUNK = 64 * 1024


class DecryptionError(Exception):
    """The envelope is malformed, tampered with, bound to other data, or its key is unknown."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (id, key-encryption key), newest first

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def get(self, key_id: str) -> bytes:
        for candidate, key in self.keys:
            if candidate == key_id:
                return key
        raise DecryptionError(f"key {key_id!r} is not in the key ring (ONBOARD_PII_KEYS)")


def parse_key_ring(raw: str) -> KeyRing:
    """`id:base64key,id:base64key` (newest first) → a KeyRing; each key 16, 24 or 32 bytes."""
    entries: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key_id, colon, encoded = item.partition(":")
        if not colon or not key_id or len(key_id) > _KEY_ID_MAX or not key_id.isascii():
            raise ImproperlyConfigured(
                "ONBOARD_PII_KEYS entries look like `id:base64key` (id: 1-32 ASCII characters)."
            )
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured(
                f"ONBOARD_PII_KEYS key {key_id!r} is not valid base64."
            ) from error
        if len(key) not in (16, 24, 32):
            raise ImproperlyConfigured(
                f"ONBOARD_PII_KEYS key {key_id!r} must be 16, 24 or 32 bytes (32 recommended)."
            )
        if any(existing == key_id for existing, _ in entries):
            raise ImproperlyConfigured(f"ONBOARD_PII_KEYS lists key id {key_id!r} twice.")
        entries.append((key_id, key))
    if not entries:
        raise ImproperlyConfigured("ONBOARD_PII_KEYS holds no key.")
    return KeyRing(tuple(entries))


@lru_cache(maxsize=8)
def _ring_for(raw: str) -> KeyRing:
    return parse_key_ring(raw)


def key_ring() -> KeyRing:
    return _ring_for(settings.PII_KEYS)


def _envelope(key_id: str, wrapped: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    kid = key_id.encode("ascii")
    return MAGIC + struct.pack(">BB", len(kid), len(wrapped)) + kid + wrapped + nonce + ciphertext


def _open_envelope(blob: bytes) -> tuple[str, bytes, bytes, bytes]:
    """(key id, wrapped data key, nonce, ciphertext) of an envelope."""
    if len(blob) < len(MAGIC) + 2 or not blob.startswith(MAGIC):
        raise DecryptionError("not an encrypted envelope")
    kid_len, wrapped_len = struct.unpack_from(">BB", blob, len(MAGIC))
    start = len(MAGIC) + 2
    kid_end = start + kid_len
    wrapped_end = kid_end + wrapped_len
    nonce_end = wrapped_end + _NONCE_BYTES
    if len(blob) < nonce_end + 16:  # a GCM tag at least
        raise DecryptionError("truncated envelope")
    try:
        key_id = blob[start:kid_end].decode("ascii")
    except UnicodeDecodeError as error:
        raise DecryptionError("malformed key id") from error
    return key_id, blob[kid_end:wrapped_end], blob[wrapped_end:nonce_end], blob[nonce_end:]


def _unwrap(ring: KeyRing, key_id: str, wrapped: bytes) -> bytes:
    try:
        return aes_key_unwrap(ring.get(key_id), wrapped)
    except InvalidUnwrap as error:
        raise DecryptionError("the data key does not unwrap under its key") from error


def encrypt(plaintext: bytes, aad: bytes) -> bytes:
    """An envelope of `plaintext` under a fresh data key, bound to `aad`."""
    ring = key_ring()
    dek = AESGCM.generate_key(bit_length=_DEK_BYTES * 8)
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(dek).encrypt(nonce, plaintext, aad)
    wrapped = aes_key_wrap(ring.keys[0][1], dek)
    return _envelope(ring.current_id, wrapped, nonce, ciphertext)


@lru_cache(maxsize=4096)
def _cipher_for(kek: bytes, wrapped: bytes) -> AESGCM:
    """The AES-GCM cipher of a wrapped data key: unwrapping (RFC 3394, 24 AES rounds driven from
    Python) and building the cipher are most of a small value's decryption, and the same
    records are read again and again (a user's page, its next GET). Bounded; the entries are
    data keys, which the process can unwrap at will anyway (it holds the key ring)."""
    try:
        return AESGCM(aes_key_unwrap(kek, wrapped))
    except InvalidUnwrap as error:
        raise DecryptionError("the data key does not unwrap under its key") from error


def decrypt(blob: bytes, aad: bytes) -> bytes:
    """The plaintext of an envelope; DecryptionError if anything about it is wrong."""
    key_id, wrapped, nonce, ciphertext = _open_envelope(blob)
    cipher = _cipher_for(key_ring().get(key_id), wrapped)
    try:
        return cipher.decrypt(nonce, ciphertext, aad)
    except InvalidTag as error:
        raise DecryptionError("the ciphertext or its associated data was altered") from error


def envelope_key_id(blob: bytes) -> str:
    return _open_envelope(blob)[0]


def peek_key_id(head: bytes) -> str:
    """The key id of an envelope from its first HEADER_PEEK_BYTES (or more) bytes."""
    if len(head) < len(MAGIC) + 2 or not head.startswith(MAGIC):
        raise DecryptionError("not an encrypted envelope")
    kid_len = head[len(MAGIC)]
    start = len(MAGIC) + 2
    if len(head) < start + kid_len:
        raise DecryptionError("truncated envelope")
    try:
        return head[start : start + kid_len].decode("ascii")
    except UnicodeDecodeError as error:
        raise DecryptionError("malformed key id") from error


def rewrap(blob: bytes) -> bytes:
    """The same envelope with its data key wrapped under the newest key (ciphertext untouched)."""
    ring = key_ring()
    key_id, wrapped, nonce, ciphertext = _open_envelope(blob)
    if key_id == ring.current_id:
        return blob
    dek = _unwrap(ring, key_id, wrapped)
    return _envelope(ring.current_id, aes_key_wrap(ring.keys[0][1], dek), nonce, ciphertext)


def encrypt_stream(source: IO[bytes], sink: IO[bytes], aad: bytes) -> None:
    """`encrypt` for files: the same envelope, written to `sink` chunk by chunk.

    The output is byte for byte the format `decrypt` reads (ciphertext then GCM tag), so a file
    never needs to be in memory whole.
    """
    ring = key_ring()
    dek = AESGCM.generate_key(bit_length=_DEK_BYTES * 8)
    nonce = os.urandom(_NONCE_BYTES)
    sink.write(_envelope(ring.current_id, aes_key_wrap(ring.keys[0][1], dek), nonce, b""))
    encryptor = Cipher(algorithms.AES(dek), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    while chunk := source.read(_CHUNK):
        sink.write(encryptor.update(chunk))
    sink.write(encryptor.finalize())
    sink.write(encryptor.tag)


def decrypt_stream(source: IO[bytes], sink: IO[bytes], aad: bytes) -> None:
    """`decrypt` for files, chunk by chunk. DecryptionError (and `sink` must be discarded) if
    anything was altered: the tag is checked only at the end."""
    head = source.read(len(MAGIC) + 2)
    if len(head) < len(MAGIC) + 2 or not head.startswith(MAGIC):
        raise DecryptionError("not an encrypted envelope")
    kid_len, wrapped_len = struct.unpack_from(">BB", head, len(MAGIC))
    rest = source.read(kid_len + wrapped_len + _NONCE_BYTES)
    key_id, wrapped, nonce, _ = _open_envelope(head + rest + b"\0" * _TAG_BYTES)
    dek = _unwrap(key_ring(), key_id, wrapped)
    decryptor = Cipher(algorithms.AES(dek), modes.GCM(nonce)).decryptor()
    decryptor.authenticate_additional_data(aad)
    held = b""  # the last 16 bytes read: the tag, once the source ends
    while chunk := source.read(_CHUNK):
        held += chunk
        sink.write(decryptor.update(held[:-_TAG_BYTES]))
        held = held[-_TAG_BYTES:]
    if len(held) < _TAG_BYTES:
        raise DecryptionError("truncated envelope")
    try:
        sink.write(decryptor.finalize_with_tag(held))
    except InvalidTag as error:
        raise DecryptionError("the ciphertext or its associated data was altered") from error


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def encrypt_text(value: str, aad: bytes) -> str:
    """An envelope of `value` as text, for a text column: `pii1:` + base64url."""
    blob = encrypt(value.encode("utf-8"), aad)
    return TEXT_PREFIX + base64.urlsafe_b64encode(blob).decode("ascii")


def decrypt_text(token: str, aad: bytes) -> str:
    return decrypt(_text_blob(token), aad).decode("utf-8")


def _text_blob(token: str) -> bytes:
    if not token.startswith(TEXT_PREFIX):
        raise DecryptionError("not an encrypted text value")
    try:
        return base64.urlsafe_b64decode(token[len(TEXT_PREFIX) :].encode("ascii"))
    except (binascii.Error, UnicodeEncodeError) as error:
        raise DecryptionError("malformed encrypted text value") from error


def text_key_id(token: str) -> str:
    """The key id an encrypted text value's data key is wrapped under."""
    return envelope_key_id(_text_blob(token))


def rewrap_text(token: str) -> str:
    """`rewrap` for an encrypted text value: the same text when already under the newest key."""
    blob = _text_blob(token)
    moved = rewrap(blob)
    if moved is blob:
        return token
    return TEXT_PREFIX + base64.urlsafe_b64encode(moved).decode("ascii")


def associated_data(table: str, column: str, row: str | int) -> bytes:
    """What binds a value to its place: `table/column/row`."""
    return f"{table}/{column}/{row}".encode()


@lru_cache(maxsize=64)
def _index_mac(root: str, purpose: str) -> hmac.HMAC:
    """The HMAC state after the key and the purpose: each index value copies it (cheaper than
    keying a new HMAC every time)."""
    mac = hmac.new(_index_key_for(root), digestmod=hashlib.sha256)
    mac.update(purpose.encode("utf-8") + b"\x00")
    return mac


@lru_cache(maxsize=8)
def _index_key_for(root: str) -> bytes:
    if not root:
        raise ImproperlyConfigured("ONBOARD_PII_INDEX_KEY is empty.")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INDEX_INFO).derive(
        root.encode("utf-8")
    )


def blind_index(purpose: str, canonical: str) -> str:
    """HMAC-SHA256 (hex, full length) of a canonical value, separated by purpose.

    `purpose` (e.g. `identification.number`) keeps equal values of different kinds from
    sharing an index value.
    """
    mac = _index_mac(settings.PII_INDEX_KEY, purpose).copy()
    mac.update(canonical.encode("utf-8"))
    return mac.hexdigest()
