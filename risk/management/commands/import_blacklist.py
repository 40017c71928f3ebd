"""`import_blacklist FILE.csv [--program CODE]`: bulk-load blacklist entries (SPEC §9)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from programs.models import Program
from risk.importing import COLUMNS, import_rows, read_csv
from risk.models import Action, EntityAttribute, MatchType


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


ALLOWED_VALUES = (
    f"entity_attribute: {', '.join(EntityAttribute.values)}. "
    f"match: {', '.join(MatchType.values)} (default exact; fuzzy for names only). "
    f"action: {', '.join(Action.values)} (score needs a positive weight; block takes none)."
)


class Command(BaseCommand):
    help = (
        "Load blacklist entries from a CSV file with the columns "
        f"{','.join(COLUMNS)} (weight empty for block entries). Allowed values: "
        f"{ALLOWED_VALUES} Entries are global unless --program is given. Every row is "
        "validated like user input; rows that duplicate an active entry are skipped; rejected "
        "rows are listed with their line numbers. The last line is `N added, N skipped, N "
        "rejected`; the exit status is 1 when any row was rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file (UTF-8, header line first).")
        parser.add_argument("--program", help="Program code: the entries apply to it only.")
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="Rows per insert transaction."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be positive.")
        program = None
        if options["program"]:
            program = Program.objects.filter(code=options["program"]).first()
            if program is None:
                raise CommandError(f"Unknown program: {options['program']}")

        bar = tqdm(
            total=_count_lines(path),
            unit="row",
            desc="import",
            disable=options["no_progress"],
            file=sys.stderr,
        )
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                report = import_rows(
                    rows=read_csv(stream),
                    program=program,
                    added_by_label="cli",
                    batch_size=options["batch_size"],
                    on_row=lambda: bar.update(1),
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(
                f"The file is not UTF-8 text ({exc.reason}); rows before the bad bytes were "
                "imported, re-running the fixed file skips them as duplicates."
            ) from exc
        finally:
            bar.close()
        for rejected in report.rejected:
            self.stdout.write(rejected.describe())
        self.stdout.write(report.summary())
        if report.rejected:
            raise CommandError(
                f"{len(report.rejected)} row(s) rejected (listed above with their line "
                "numbers); fix them and re-run the file: rows already added are skipped.",
                returncode=1,
            )
