"""`erase_user USER_ID --reason R [--legal-override]`: erase one user's personal data (§15)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from privacy.services import ErasureRefused, erase_user, flush_freed_pages
from users.lifecycle import Actor
from users.models import AccountHolder, ActorKind, Channel
from users.selectors import is_public_id


class Command(BaseCommand):
    help = (
        "Erase a closed user's personal data and document files once the program's retention "
        "period has passed; --legal-override erases earlier, only after a second operator "
        "approved the erasure request in the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", help="The user's public id (32 hex characters).")
        parser.add_argument("--reason", required=True, help="Why (recorded in the audit trail).")
        parser.add_argument(
            "--legal-override",
            action="store_true",
            help="Erase before the retention period ended (needs an approved erasure request).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = options["user_id"]
        if not is_public_id(user_id):
            raise CommandError(f"{user_id!r} is not a user id (32 lower-case hex characters).")
        user = AccountHolder.objects.filter(public_id=user_id).first()
        if user is None:
            raise CommandError(f"no user {user_id}.")
        try:
            result = erase_user(
                user=user,
                reason=options["reason"],
                actor=Actor(ActorKind.CLI, "erase_user"),
                channel=Channel.CLI,
                legal_override=options["legal_override"],
            )
        except ErasureRefused as refused:
            raise CommandError(str(refused)) from refused
        flush_freed_pages()
        self.stdout.write(f"erased user {user_id} ({result.files} document file(s) deleted)")
