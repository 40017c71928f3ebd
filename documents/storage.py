"""The `documents` storage alias (settings.STORAGES) and the names files get in it."""

from __future__ import annotations

import secrets

from django.core.files.storage import Storage, storages

STORAGE_ALIAS = "documents"


def document_storage() -> Storage:
    """The configured documents storage: local files (default) or an S3-compatible bucket."""
    return storages[STORAGE_ALIAS]


def new_storage_name(extension: str) -> str:
    """A random object name, `ab/ab12…ef.png`: never derived from anything a client sent."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}.{extension}"
