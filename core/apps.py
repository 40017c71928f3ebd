from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # imported for their registrations: system checks, the OpenAPI auth extension
        from core import checks, schema  # noqa: F401
