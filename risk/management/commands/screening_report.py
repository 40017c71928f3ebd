"""`screening_report CORPUS.csv [--misses]`: the full-name matcher's confusion matrix per
category on a labelled corpus (columns listed, screened, expected 1/0, category)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from risk.quality import evaluate, read_corpus, report_lines


class Command(BaseCommand):
    help = "Print the customer.name matcher's confusion matrix per category of a labelled corpus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("corpus", type=Path, help="CSV: listed, screened, expected, category.")
        parser.add_argument("--misses", action="store_true", help="List the misclassified pairs.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["corpus"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            rows = read_corpus(path)
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if not rows or not {"listed", "screened", "expected", "category"} <= set(rows[0]):
            raise CommandError(f"{path}: needs the columns listed, screened, expected, category")
        table, misses = evaluate(rows)
        for line in report_lines(table):
            self.stdout.write(line)
        if options["misses"]:
            for miss in misses:
                kind = "false negative" if miss.expected else "false positive"
                self.stdout.write(f"{kind} [{miss.category}]: {miss.listed} / {miss.screened}")
