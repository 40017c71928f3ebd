"""The `documents` storage alias (settings.STORAGES), the names files get in it, and their
encryption at rest (SPEC §15: a stolen bucket or disk holds no readable document)."""

from __future__ import annotations

import io
import secrets
import tempfile
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages

from core import crypto

STORAGE_ALIAS = "documents"
_SPOOL_BYTES = 1024 * 1024


def document_storage() -> Storage:
    """The configured documents storage: local files (default) or an S3-compatible bucket."""
    return storages[STORAGE_ALIAS]


def new_storage_name(extension: str) -> str:
    """A random object name, `ab/ab12…ef.png`: never derived from anything a client sent."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}.{extension}"


def file_aad(name: str) -> bytes:
    """What binds an encrypted document file to its place: the storage name (random, unique)."""
    return crypto.associated_data("documents_document", "file", name)


def save_encrypted(storage: Storage, name: str, plaintext: IO[bytes]) -> str:
    """Encrypt `plaintext` (SPEC §15) and write it to `storage` under `name`; returns the name.

    The envelope is spooled (memory up to 1 MiB, then a temporary file): never two copies of
    a file in memory.
    """
    plaintext.seek(0)
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as sealed:
        crypto.encrypt_stream(plaintext, sealed, file_aad(name))
        sealed.seek(0)
        stored = storage.save(name, File(sealed, name=name))
    if stored != name:  # the ciphertext is bound to the name it was given
        storage.delete(stored)
        raise RuntimeError(f"the documents storage renamed a new file ({name} → {stored})")
    return stored


def open_decrypted(storage: Storage, name: str, *, in_memory: bool = False) -> IO[bytes]:
    """The plaintext of a stored document file, verified whole before any byte is returned.

    Spooled (memory up to 1 MiB, then a temporary file) for streaming it out; `in_memory`
    keeps it in memory whatever its size (at most 8 MiB), for readers that must never put
    the cleartext on disk (the admin's rendered previews).
    """
    plain: IO[bytes] = (
        io.BytesIO() if in_memory else tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
    )
    try:
        with storage.open(name, "rb") as sealed:
            crypto.decrypt_stream(sealed, plain, file_aad(name))
    except BaseException:
        plain.close()
        raise
    plain.seek(0)
    return plain
