"""`rescreen_users [--program CODE]`: screen existing users against the current blacklist."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.exceptions import ApiError
from programs.models import Program
from risk.screening import load_settings
from users.models import TERMINAL_STATUSES, AccountHolder
from users.screening import RescreenCounts, rescreen_batch


class Command(BaseCommand):
    help = (
        "Screen the users of every program (or of --program) that are not in a terminal "
        "status against the current blacklist, in batches. Users with a match are flagged "
        "(risk status PENDING) for an operator's review and every screening is recorded; no "
        "account is blocked or blacklisted. Run it after importing or changing the list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", help="Program code (default: every program).")
        parser.add_argument("--batch-size", type=int, default=500, help="Users per batch.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be positive.")
        programs = Program.objects.order_by("code")
        if options["program"]:
            programs = programs.filter(code=options["program"])
            if not programs.exists():
                raise CommandError(f"Unknown program: {options['program']}")
        total = RescreenCounts()
        skipped: list[str] = []
        for program in programs:
            try:
                loaded = load_settings(program)
            except ApiError:
                skipped.append(f"{program.code} (risk settings cannot be evaluated)")
                continue
            if not loaded.settings.enabled:
                skipped.append(f"{program.code} (screening disabled)")
                continue
            counts = self._rescreen(program, options["batch_size"], options["no_progress"])
            total.add(counts)
            self.stdout.write(
                f"{program.code}: {counts.screened} screened, {counts.flagged} flagged, "
                f"{counts.cleared} cleared, {counts.unchanged} unchanged"
            )
        for note in skipped:
            self.stdout.write(f"skipped {note}")
        self.stdout.write(
            f"{total.screened} screened, {total.flagged} flagged for review, "
            f"{total.cleared} cleared, {total.unchanged} unchanged"
        )

    def _rescreen(self, program: Program, batch_size: int, quiet: bool) -> RescreenCounts:
        live = AccountHolder.objects.filter(program=program).exclude(
            status__in=sorted(TERMINAL_STATUSES)
        )
        counts = RescreenCounts()
        bar = tqdm(
            total=live.count() if not quiet else None,
            unit="user",
            desc=program.code,
            disable=quiet,
            file=sys.stderr,
        )
        last_pk = 0
        try:
            while True:
                batch = list(
                    live.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .prefetch_related("identifications")[:batch_size]
                )
                if not batch:
                    break
                last_pk = batch[-1].pk
                try:
                    counts.add(rescreen_batch(program=program, users=batch))
                except ApiError as exc:
                    raise CommandError(
                        f"{program.code}: screening failed ({exc.code}) after "
                        f"{counts.screened} users; earlier batches are recorded."
                    ) from exc
                bar.update(len(batch))
        finally:
            bar.close()
        return counts
