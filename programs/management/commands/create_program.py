from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from programs.services import program_create


class Command(BaseCommand):
    help = "Create a program (tenant) with the base required fields plus any listed ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="URL slug of the program, e.g. demo.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", required=True, help="ISO 3166 alpha-3, e.g. SGP.")
        parser.add_argument("--min-age", type=int, default=18)
        parser.add_argument(
            "--required-fields",
            default="",
            help="Comma-separated v1 field names required on top of the base set.",
        )
        parser.add_argument("--kyc-required", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["min_age"] < 0 or options["min_age"] > 150:
            raise CommandError("--min-age must be between 0 and 150.")
        try:
            program = program_create(
                code=options["code"],
                name=options["name"],
                country=options["country"],
                min_age=options["min_age"],
                required_fields=options["required_fields"].split(","),
                kyc_required=options["kyc_required"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Program {program.code} created ({program.country}, min age {program.min_age}, "
                f"required: {', '.join(program.all_required_fields)})"
            )
        )
