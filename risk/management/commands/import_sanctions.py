"""`import_sanctions --source ofac-sdn SDN.csv [--alt ALT.csv] | --source un-consolidated
LIST.xml [--action block|score] [--weight W]`: load an official list (SPEC §14)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from risk.entries import MAX_WEIGHT
from risk.models import Action
from risk.sanctions import SOURCES, SanctionsFormatError, read_source, sync_parties
from risk.services import bump_list_version


class Command(BaseCommand):
    help = (
        "Load the individuals of an official sanctions list as customer.name entries (aliases, "
        "birth dates, nationalities). Re-importing a newer file adds new parties, updates "
        "changed ones and deactivates delisted ones; the last line is "
        "`N added, N updated, N delisted, N unchanged`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", required=True, choices=SOURCES, help="The list's format.")
        parser.add_argument("file", type=Path, help="sdn.csv (OFAC) or the consolidated XML (UN).")
        parser.add_argument("--alt", type=Path, help="OFAC alt.csv: the aliases.")
        parser.add_argument("--action", default=Action.BLOCK, choices=Action.values)
        parser.add_argument("--weight", type=int, help="Required with --action score.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        path: Path = options["file"]
        alt: Path | None = options["alt"]
        action: str = options["action"]
        weight: int | None = options["weight"]
        for given in (path, alt):
            if given is not None and not given.is_file():
                raise CommandError(f"No such file: {given}")
        if alt is not None and source != "ofac-sdn":
            raise CommandError("--alt is for --source ofac-sdn only.")
        if action == Action.SCORE and (weight is None or not 0 < weight <= MAX_WEIGHT):
            raise CommandError(f"--action score needs --weight from 1 to {MAX_WEIGHT}.")
        if action == Action.BLOCK and weight is not None:
            raise CommandError("--weight is for --action score only.")
        try:
            parties = read_source(source, path, alt)
        except (SanctionsFormatError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if not parties:
            raise CommandError(f"{path}: no individual found; is it a {source} file?")

        def progress(items: Any) -> Any:
            return tqdm(
                items, unit="party", desc=source, disable=options["no_progress"], file=sys.stderr
            )

        report = sync_parties(
            source=source,
            parties=parties,
            action=action,
            weight=weight,
            bump=bump_list_version,
            progress=progress,
        )
        for problem in report.skipped:
            self.stderr.write(f"skipped {problem}")
        if report.version is not None:
            self.stdout.write(f"list version {report.version}")
        self.stdout.write(report.summary())
