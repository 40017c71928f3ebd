"""Document files are encrypted at rest (SPEC §15), on the local and the S3 storage."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings

from core import crypto
from documents import services
from documents.storage import document_storage
from tests.documents import files
from tests.documents.conftest import stored_names
from tests.documents.test_services import OPERATOR, upload
from users.models import Channel


def stored_bytes(name: str) -> bytes:
    with document_storage().open(name, "rb") as handle:
        return handle.read()


def read(document) -> bytes:
    with services.document_read(
        document=document, reader=OPERATOR, channel=Channel.ADMIN
    ) as handle:
        return handle.read()


def test_stored_file_is_an_envelope_and_reads_back_in_clear(user_a, document_store):
    data = files.pdf(pages=3)
    document = upload(user_a, data)
    raw = stored_bytes(document.storage_name)
    assert crypto.is_encrypted(raw)
    assert data not in raw and b"%PDF" not in raw
    assert crypto.envelope_key_id(raw) == "test2"
    # the digest and size the API reports are those of the plaintext
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    assert read(document) == data


def test_tampered_file_is_refused(user_a, document_store):
    document = upload(user_a, files.png())
    raw = bytearray(stored_bytes(document.storage_name))
    raw[len(raw) // 2] ^= 0x01
    storage = document_storage()
    storage.delete(document.storage_name)
    storage.save(document.storage_name, ContentFile(bytes(raw)))
    with pytest.raises(crypto.DecryptionError):
        read(document)


def test_file_moved_under_another_documents_name_is_refused(user_a, document_store):
    first = upload(user_a, files.png())
    second = upload(user_a, files.pdf())
    storage = document_storage()
    first_raw = stored_bytes(first.storage_name)
    storage.delete(second.storage_name)
    storage.save(second.storage_name, ContentFile(first_raw))
    with pytest.raises(crypto.DecryptionError):
        read(second)


def test_large_file_streams_through_encryption(user_a, document_store):
    data = files.pdf_of_size(3 * 1024 * 1024)
    document = upload(user_a, data)
    assert len(stored_bytes(document.storage_name)) > len(data)
    assert read(document) == data


NEW_RING = (
    "k3:"
    + base64.b64encode(b"\x44" * 32).decode()
    + ",test2:"
    + base64.b64encode(b"\x11" * 32).decode()
)


def test_rotate_pii_keys_moves_every_file_to_the_newest_key(user_a, document_store):
    data = [files.png(), files.pdf(pages=2)]
    documents = [upload(user_a, item) for item in data]
    data = [read(d) for d in documents]  # images are re-encoded on upload
    old_names = {d.storage_name for d in documents}
    with override_settings(PII_KEYS=NEW_RING):
        out = io.StringIO()
        call_command("rotate_pii_keys", "--no-progress", stdout=out)
        assert "re-encrypted 2 document file(s) under key k3" in out.getvalue()
        for document, expected in zip(documents, data, strict=True):
            document.refresh_from_db()
            assert document.storage_name not in old_names
            assert crypto.peek_key_id(stored_bytes(document.storage_name)) == "k3"
            assert read(document) == expected
        assert not old_names & stored_names()
        again = io.StringIO()
        call_command("rotate_pii_keys", "--no-progress", stdout=again)  # resumable: nothing left
        assert "re-encrypted 0 document file(s)" in again.getvalue()
    # the retired key is no longer needed
    with override_settings(PII_KEYS="k3:" + base64.b64encode(b"\x44" * 32).decode()):
        assert [read(d) for d in documents] == data
