"""`screen [--program CODE] (--name "FULL NAME" [--birthday D] [--nationality ISO3] |
--file QUERIES.csv) [--json]`: check names against the current list, saving nothing (SPEC §14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from programs.models import Program
from risk.name_check import check_names, clean_query, describe, read_queries


class Command(BaseCommand):
    help = (
        "Screen names against the customer.name entries without saving anything. With --json "
        'one object per query: {"ref", "name", "outcome", "score", "matches": [...]}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", help="Program code: its entries and threshold too.")
        given = parser.add_mutually_exclusive_group(required=True)
        given.add_argument("--name", help="A full name.")
        given.add_argument(
            "--file",
            type=Path,
            help="CSV with a header: name, optional ref, birthday, nationality.",
        )
        parser.add_argument("--birthday", default="", help="YYYY-MM-DD (with --name).")
        parser.add_argument("--nationality", default="", help="ISO 3166 alpha-3 (with --name).")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        program = None
        if options["program"]:
            program = Program.objects.filter(code=options["program"]).first()
            if program is None:
                raise CommandError(f"Unknown program: {options['program']}")
        if options["file"] is not None:
            if options["birthday"] or options["nationality"]:
                raise CommandError(
                    "--birthday and --nationality go with --name; in a file they are columns."
                )
            path: Path = options["file"]
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            try:
                with path.open(encoding="utf-8-sig", newline="") as stream:
                    queries = read_queries(stream)
            except (ValueError, UnicodeDecodeError) as exc:
                raise CommandError(f"{path}: {exc}") from exc
        else:
            try:
                queries = [
                    clean_query(
                        name=options["name"],
                        birthday=options["birthday"],
                        nationality=options["nationality"],
                    )
                ]
            except ValidationError as exc:
                detail = "; ".join(f"--{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
                raise CommandError(detail) from exc
        results = check_names(program=program, queries=queries)
        if options["json"]:
            for result in results:
                self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            for line in describe(results):
                self.stdout.write(line)
