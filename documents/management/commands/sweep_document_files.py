"""Delete files in the documents storage that no document row names (orphans).

A file is written before its row (so an 8 MiB write never holds the user's row lock) and
removed again when the row is refused; only a request whose transaction rolls back after the
upload succeeded (a 5xx, a lost database) can leave one behind. Run it from cron, e.g. hourly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from documents.models import Document
from documents.storage import document_storage


class Command(BaseCommand):
    help = "Delete document files older than --older-than minutes that no document row names."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=60, metavar="MINUTES")
        parser.add_argument("--dry-run", action="store_true", help="List, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        storage = document_storage()
        cutoff = timezone.now() - timedelta(minutes=options["older_than"])
        orphans = 0
        for name in _walk(storage, ""):
            if Document.objects.filter(storage_name=name).exists():
                continue
            if storage.get_modified_time(name) > cutoff:
                continue  # perhaps an upload whose row is being written right now
            orphans += 1
            if not options["dry_run"]:
                storage.delete(name)
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {orphans} orphaned file(s)")


def _walk(storage: Any, path: str) -> Any:
    directories, names = storage.listdir(path)
    for name in names:
        yield f"{path}/{name}" if path else name
    for directory in directories:
        yield from _walk(storage, f"{path}/{directory}" if path else directory)
