from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        # imported for its receivers: default risk settings for every new program
        from risk import signals  # noqa: F401
