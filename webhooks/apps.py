from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # users sits below webhooks and must not import it: the audit module calls us instead
        from users import audit
        from webhooks import tasks

        audit.on_publish(tasks.publish)
