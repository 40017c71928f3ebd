"""What operators watch (SPEC §13): queue depth, oldest undelivered event, disabled endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from webhooks.models import Delivery, DeliveryStatus, Endpoint


@dataclass(frozen=True)
class Health:
    queue_depth: int  # deliveries waiting (due now or retrying later)
    oldest_undelivered_age: timedelta | None  # since the oldest waiting delivery's event
    disabled: list[Endpoint]

    @property
    def oldest_seconds(self) -> int | None:
        age = self.oldest_undelivered_age
        return None if age is None else int(age.total_seconds())


def health() -> Health:
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING)
    summary = pending.aggregate(oldest=Min("created_at"))
    oldest = summary["oldest"]
    disabled = list(
        Endpoint.objects.filter(active=False).select_related("program").order_by("-disabled_at")
    )
    return Health(
        queue_depth=pending.count(),
        oldest_undelivered_age=(timezone.now() - oldest) if oldest else None,
        disabled=disabled,
    )
