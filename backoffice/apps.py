from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    """Operator groups and their permissions (SPEC §8), kept in step with every migration."""

    name = "backoffice"
    verbose_name = "Back-office"

    def ready(self) -> None:
        # Connected to this app only: it is listed after every app whose permissions it grants,
        # so their content types and default permissions exist when it runs.
        post_migrate.connect(_setup_groups, sender=self, dispatch_uid="backoffice-setup-groups")


def _setup_groups(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from backoffice.groups import setup_groups

    setup_groups(using=using)
