from typing import Any

from django.core.management.base import BaseCommand

from backoffice.groups import setup_groups


class Command(BaseCommand):
    help = (
        "Create or refresh the operator groups `support`, `compliance` and `admin` with their "
        "least-privilege permissions. Idempotent; also runs after every `migrate`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for group, count in setup_groups().items():
            self.stdout.write(f"{group}: {count} permissions")
