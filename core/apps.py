from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: base model, error codes, exceptions, logging. Imports no app."""

    name = "core"
    verbose_name = "Core"
