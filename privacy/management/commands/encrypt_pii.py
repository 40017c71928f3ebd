"""`encrypt_pii`: encrypt the personal-data columns still in clear and fill their blind indexes.

Online and resumable (core/fields.py `encrypt_rows`): primary-key batches, each its own
transaction, a value already `pii1:` skipped, a row changed meanwhile never overwritten. Run it
before migrating a large database past users 0010 (which then finds nothing left), or after an
interrupted migration. Needs ONBOARD_PII_KEYS and ONBOARD_PII_INDEX_KEY.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.fields import encrypt_rows, over_encrypted_models


class Command(BaseCommand):
    help = "Encrypt personal data still stored in clear, in batches (online, resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="Rows per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        for model, result in over_encrypted_models(
            encrypt_rows,
            batch_size=int(options["batch_size"]),
            progress=not options["no_progress"],
            stream=self.stderr,
        ):
            self.stdout.write(
                f"{model._meta.label}: {result.changed} of {result.rows} row(s) encrypted"
            )
