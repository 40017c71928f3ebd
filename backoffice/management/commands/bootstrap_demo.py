"""`manage.py bootstrap_demo` (`make run`): the demo program, its API client and the `admin`
operator, with credentials that stay the same from one run to the next.

The credentials live in a git-ignored local file (`.demo-credentials.env`, shell syntax, so
`. ./.demo-credentials.env` puts `CLIENT_ID` / `CLIENT_SECRET` in a shell). They are
re-issued only when the file is missing or what it holds no longer verifies (a fresh
database, a secret rotated in the admin); otherwise every run prints the same ones.
"""

from __future__ import annotations

import os
import secrets
import shlex
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from backoffice.groups import ADMIN as ADMIN_GROUP
from backoffice.groups import setup_groups
from programs.models import ApiClient, Program
from programs.services import api_client_create, api_client_rotate_secret, program_create

DEMO_CLIENT_NAME = "demo client"
ADMIN_USERNAME = "admin"
CREDENTIALS_FILE = ".demo-credentials.env"  # settings.DEMO_CREDENTIALS_FILE's default name


def read_credentials(path: Path) -> dict[str, str]:
    """KEY=value lines of the credentials file ({} when it is missing or unreadable)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    values: dict[str, str] = {}
    for line in lines:
        key, sep, raw = line.partition("=")
        if sep and key.strip().isidentifier() and not line.lstrip().startswith("#"):
            parsed = shlex.split(raw)
            values[key.strip()] = parsed[0] if parsed else ""
    return values


def write_credentials(path: Path, values: dict[str, str]) -> None:
    lines = [
        "# Demo credentials written by `manage.py bootstrap_demo` (make run). Local only,",
        "# git-ignored. In a shell: . ./.demo-credentials.env",
        *(f"{key}={shlex.quote(value)}" for key, value in values.items()),
    ]
    # owner-only from the first byte: a secret is never world-readable, even briefly
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    path.chmod(0o600)


class Command(BaseCommand):
    help = (
        "Set up a demo: program `demo` (SGP), an API client and the operator `admin`, and "
        f"print their credentials. Idempotent: the credentials are kept in {CREDENTIALS_FILE} "
        "(git-ignored) and stay the same across runs; they are re-issued only when the file "
        "is missing or no longer matches the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-seed", action="store_true", help="Skip seed_enumerations.")
        parser.add_argument(
            "--credentials-file",
            default=str(settings.DEMO_CREDENTIALS_FILE),
            help=f"Where the credentials are kept (default: {CREDENTIALS_FILE} in the project).",
        )
        parser.add_argument(
            "--host",
            default=os.environ.get("HOST") or "127.0.0.1",
            help="Host in the printed URLs (default: $HOST or 127.0.0.1).",
        )
        parser.add_argument(
            "--port",
            default=os.environ.get("PORT") or "8000",
            help="Port in the printed URLs (default: $PORT or 8000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seed"]:
            call_command("seed_enumerations", stdout=open(os.devnull, "w"))  # noqa: SIM115
        path = Path(options["credentials_file"])
        stored = read_credentials(path)

        program = Program.objects.filter(code="demo").first()
        if program is None:
            program = program_create(code="demo", name="Demo program", country="SGP")
        client = ApiClient.objects.filter(program=program, name=DEMO_CLIENT_NAME).first()
        if client is None:
            client, secret = api_client_create(program=program, name=DEMO_CLIENT_NAME)
        elif stored.get("CLIENT_ID") == client.client_id and client.check_secret(
            stored.get("CLIENT_SECRET", "")
        ):
            secret = stored["CLIENT_SECRET"]
        else:
            secret = api_client_rotate_secret(client=client)

        # operator groups (support / compliance / admin); migrate keeps them too
        setup_groups()
        admin, _ = get_user_model().objects.get_or_create(
            username=ADMIN_USERNAME, defaults={"email": "admin@example.com"}
        )
        wanted = os.environ.get("DEMO_ADMIN_PASSWORD") or stored.get("ADMIN_PASSWORD", "")
        password = wanted if wanted and admin.check_password(wanted) else ""
        if not password:
            password = wanted or secrets.token_urlsafe(12)
            admin.set_password(password)
        admin.is_staff = admin.is_superuser = admin.is_active = True
        admin.save()
        admin.groups.add(Group.objects.get(name=ADMIN_GROUP))

        values = {
            "CLIENT_ID": client.client_id,
            "CLIENT_SECRET": secret,
            "ADMIN_USERNAME": ADMIN_USERNAME,
            "ADMIN_PASSWORD": password,
        }
        if values != {k: stored.get(k) for k in values}:
            write_credentials(path, values)
        self._print(program, values, path, f"http://{options['host']}:{options['port']}")

    def _print(self, program: Program, values: dict[str, str], path: Path, base: str) -> None:
        out = self.stdout.write
        out(self.style.SUCCESS(f"Demo ready (credentials kept in {path.name}, git-ignored)."))
        out(f"  program:       {program.code} ({program.country})")
        out(f"  client_id:     {values['CLIENT_ID']}")
        out(f"  client_secret: {values['CLIENT_SECRET']}")
        out(f"  admin:         {base}/admin/")
        out(f"  admin login:   {values['ADMIN_USERNAME']} / {values['ADMIN_PASSWORD']}")
        out(f"  API docs:      {base}/api/docs/")
        out("  in a shell:    . ./.demo-credentials.env   (or paste the next line)")
        out(f"  export CLIENT_ID={values['CLIENT_ID']} CLIENT_SECRET={values['CLIENT_SECRET']}")
        out(
            '  try:           curl -u "$CLIENT_ID:$CLIENT_SECRET" '
            f"{base}/demo/v1/users/enumerations/countries"
        )
