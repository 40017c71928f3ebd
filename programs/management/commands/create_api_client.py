import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from programs.models import CLIENT_PERMISSIONS, Program
from programs.services import api_client_create


class Command(BaseCommand):
    help = (
        "Issue API credentials for a program. The last line printed is JSON "
        '{"client_id": ..., "client_secret": ...}; the secret is stored only as a hash '
        "and cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="Program code.")
        parser.add_argument("--name", default="")
        parser.add_argument("--read-only", action="store_true", help="GET only.")
        parser.add_argument(
            "--allow-ip",
            action="append",
            default=[],
            metavar="CIDR",
            help="Accept requests only from this network (repeatable).",
        )
        parser.add_argument(
            "--permission",
            action="append",
            default=[],
            choices=CLIENT_PERMISSIONS,
            help="Grant a partner permission (repeatable): risk_exceptions, kyc_decisions.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"No program {options['program']}.")
        try:
            client, secret = api_client_create(
                program=program,
                name=options["name"],
                read_only=options["read_only"],
                allowed_cidrs=options["allow_ip"],
                permissions=options["permission"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        mode = "read-only" if client.is_read_only else "read-write"
        self.stdout.write(f"API client for {program.code} created ({mode}). Store the secret now.")
        self.stdout.write(json.dumps({"client_id": client.client_id, "client_secret": secret}))
