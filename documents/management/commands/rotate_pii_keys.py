"""`rotate_pii_keys`: move every document file onto the newest key of ONBOARD_PII_KEYS (§15).

A file's envelope is bound to its storage name, so a file under an older key is re-encrypted
to a new object (fresh data key, newest key-encryption key), the document row is pointed at it
in a transaction, and the old object is deleted once that commits. Files already under the
newest key are skipped, so an interrupted run resumes where it stopped; uploads running at the
same time are written under the newest key already.

Then the encrypted columns (id numbers, tax ids, birth dates, address lines: core/fields.py):
each envelope's data key is re-wrapped under the newest key, the ciphertext untouched, in
primary-key batches with a compare-and-set per row (`rewrap_rows`), so writes running at the
same time are never lost and an interrupted run resumes. Afterwards the older keys can be
removed from ONBOARD_PII_KEYS.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from core import crypto
from core.fields import over_encrypted_models, rewrap_rows
from documents.models import Document
from documents.storage import document_storage, new_storage_name, open_decrypted, save_encrypted


class Command(BaseCommand):
    help = "Re-encrypt document files still under an older ONBOARD_PII_KEYS key (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--batch-size", type=int, default=1000, help="Rows per transaction (columns)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        storage = document_storage()
        current = crypto.key_ring().current_id
        ids = list(Document.objects.order_by("pk").values_list("pk", flat=True))
        moved = 0
        for pk in tqdm(
            ids, desc="documents", unit="file", disable=options["no_progress"], file=self.stderr
        ):
            document = Document.objects.filter(pk=pk).first()
            if document is None:
                continue  # deleted meanwhile
            with storage.open(document.storage_name, "rb") as handle:
                head = handle.read(crypto.HEADER_PEEK_BYTES)
            if crypto.peek_key_id(head) == current:
                continue
            old_name = document.storage_name
            extension = old_name.rsplit(".", 1)[-1]
            with open_decrypted(storage, old_name) as plain:
                new_name = save_encrypted(storage, new_storage_name(extension), plain)
            with transaction.atomic():
                updated = Document.objects.filter(pk=pk, storage_name=old_name).update(
                    storage_name=new_name
                )
            storage.delete(old_name if updated else new_name)
            moved += updated
        self.stdout.write(f"re-encrypted {moved} document file(s) under key {current}")
        for model, result in over_encrypted_models(
            rewrap_rows,
            batch_size=int(options["batch_size"]),
            progress=not options["no_progress"],
            stream=self.stderr,
        ):
            self.stdout.write(
                f"{model._meta.label}: re-wrapped {result.changed} of {result.rows} row(s) "
                f"under key {current}"
            )
