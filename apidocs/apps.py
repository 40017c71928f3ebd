from django.apps import AppConfig


class ApidocsConfig(AppConfig):
    """The public pages: landing page, error catalogue (Swagger UI / ReDoc are drf-spectacular's,
    served from drf-spectacular-sidecar's static files)."""

    name = "apidocs"
    verbose_name = "API documentation"
