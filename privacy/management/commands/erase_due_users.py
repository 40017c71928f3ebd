"""`erase_due_users`: erase every closed user whose program's retention has ended (daily job)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from privacy.services import ErasureRefused, due_users, erase_user, flush_freed_pages
from users.lifecycle import Actor
from users.models import ActorKind, Channel

REASON = "retention period ended"


class Command(BaseCommand):
    help = (
        "Erase the personal data of every user in a terminal status whose program's retention "
        "period (Program.retention_days) has passed since closure. Run it daily; each user is "
        "erased in its own transaction, so an interrupted run resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, erase nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        due = list(due_users())
        if options["dry_run"]:
            self.stdout.write(f"{len(due)} user(s) due for erasure")
            return
        actor = Actor(ActorKind.SYSTEM, "erase_due_users")
        erased = skipped = 0
        for user in tqdm(
            due, desc="erasing", unit="user", disable=options["no_progress"], file=self.stderr
        ):
            try:
                erase_user(user=user, reason=REASON, actor=actor, channel=Channel.SYSTEM)
            except ErasureRefused as refused:  # changed since listed (re-opened, erased)
                skipped += 1
                self.stderr.write(f"skipped {user.public_id}: {refused}")
                continue
            erased += 1
        flush_freed_pages()
        self.stdout.write(f"erased {erased} user(s), skipped {skipped}")
