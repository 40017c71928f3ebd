"""sweep_document_files: orphaned files go, files of documents and fresh files stay."""

from __future__ import annotations

import io
from io import StringIO

from django.core.files.base import ContentFile
from django.core.management import call_command

from documents import services
from documents.storage import document_storage, new_storage_name
from enumerations.catalog import get_catalog
from tests.documents import files
from tests.documents.conftest import stored_names
from users.lifecycle import Actor
from users.models import Channel


def test_sweep_removes_only_old_orphans(user_a, document_store):
    storage = document_storage()
    document = services.document_upload(
        user=user_a,
        source=io.BytesIO(files.png()),
        document_type="passport",
        kyc_type="ekyc",
        actor=Actor("api_client", "p"),
        channel=Channel.API_V2,
        catalog=get_catalog(),
    )
    orphan = storage.save(new_storage_name("png"), ContentFile(b"left behind"))
    out = StringIO()
    call_command("sweep_document_files", stdout=out)  # the orphan is fresh: kept
    assert orphan in stored_names()
    # files of earlier tests' rolled-back rows are orphans too
    expected = len(stored_names() - {document.storage_name})
    call_command("sweep_document_files", "--older-than", "-1", "--dry-run", stdout=out)
    assert f"would delete {expected} " in out.getvalue()
    assert orphan in stored_names()
    call_command("sweep_document_files", "--older-than", "-1", stdout=out)
    assert f"\ndeleted {expected} " in out.getvalue()
    names = stored_names()
    assert orphan not in names
    assert document.storage_name in names
