from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enumerations.registry import KINDS
from enumerations.seeding import seed


class Command(BaseCommand):
    help = (
        "Load the enumerations (ISO 3166 countries, ITU calling codes, curated lists). "
        "Idempotent: adds what is missing and keeps operators' edits; --refresh also resets "
        "descriptions to the sources'. Run after every deploy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--kind", action="append", choices=sorted(KINDS), help="Only this kind (repeatable)."
        )
        parser.add_argument(
            "--refresh", action="store_true", help="Reset changed descriptions too."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = options["kind"] or None
        if kinds and set(kinds) - set(KINDS):
            raise CommandError(f"Unknown kind: {', '.join(sorted(set(kinds) - set(KINDS)))}")
        results = seed(kinds, refresh=options["refresh"])
        for r in results:
            self.stdout.write(f"{r.kind}: {r.total} values ({r.added} added, {r.updated} updated)")
        added = sum(r.added for r in results)
        updated = sum(r.updated for r in results)
        self.stdout.write(
            self.style.SUCCESS(f"{len(results)} kinds seeded: {added} added, {updated} updated")
        )
