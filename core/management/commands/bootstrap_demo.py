import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from backoffice.groups import ADMIN as ADMIN_GROUP
from backoffice.groups import setup_groups
from programs.models import ApiClient, Program
from programs.services import api_client_create, api_client_rotate_secret, program_create

DEMO_CLIENT_NAME = "demo client"


class Command(BaseCommand):
    help = (
        "Set up a demo: program `demo` (SGP), an API client and an admin operator, and print "
        "their credentials. Idempotent: re-running re-issues the secret and password it prints."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seed", action="store_true", help="Skip seed_enumerations.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seed"]:
            call_command("seed_enumerations", stdout=open(os.devnull, "w"))  # noqa: SIM115
        program = Program.objects.filter(code="demo").first()
        if program is None:
            program = program_create(code="demo", name="Demo program", country="SGP")
        client = ApiClient.objects.filter(program=program, name=DEMO_CLIENT_NAME).first()
        if client is None:
            client, secret = api_client_create(program=program, name=DEMO_CLIENT_NAME)
        else:
            secret = api_client_rotate_secret(client=client)

        # operator groups (support / compliance / admin); migrate keeps them too
        setup_groups()
        user_model = get_user_model()
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        admin, _ = user_model.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com"}
        )
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.set_password(password)
        admin.save()
        admin.groups.add(Group.objects.get(name=ADMIN_GROUP))

        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  program:       {program.code} ({program.country})")
        self.stdout.write(f"  client_id:     {client.client_id}")
        self.stdout.write(f"  client_secret: {secret}")
        self.stdout.write("  admin:         http://127.0.0.1:8000/admin/")
        self.stdout.write(f"  admin login:   admin / {password}")
        self.stdout.write(
            f"  try:          curl -u {client.client_id}:{secret} "
            "http://127.0.0.1:8000/demo/v1/users/enumerations/countries"
        )
