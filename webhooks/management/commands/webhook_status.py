"""`manage.py webhook_status`: queue depth, oldest undelivered event age, disabled endpoints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from webhooks.status import health


class Command(BaseCommand):
    help = "Print the webhook queue depth, the oldest undelivered event's age, disabled endpoints."

    def handle(self, *args: Any, **options: Any) -> None:
        state = health()
        age = state.oldest_seconds
        self.stdout.write(f"queue depth: {state.queue_depth}")
        self.stdout.write(
            "oldest undelivered event: " + ("none" if age is None else f"{age} s old")
        )
        self.stdout.write(f"disabled endpoints: {len(state.disabled)}")
        for endpoint in state.disabled:
            self.stdout.write(
                f"  {endpoint.program.code} {endpoint.public_id} {endpoint.url} "
                f"({endpoint.get_disabled_reason_display()})"
            )
