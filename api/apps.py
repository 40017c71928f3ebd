from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP plumbing: auth, envelopes, idempotency, rate limits, parsers, schema, paging."""

    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # imported for their registrations: system checks, the OpenAPI auth extension
        from api import checks, schema  # noqa: F401
