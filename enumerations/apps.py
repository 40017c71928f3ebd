from django.apps import AppConfig


class EnumerationsConfig(AppConfig):
    name = "enumerations"
    verbose_name = "Enumerations"

    def ready(self) -> None:
        from enumerations import signals  # noqa: F401
