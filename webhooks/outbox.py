"""From a committed change to deliveries: the audit module's publisher, and the dispatch.

`tasks.publish` runs inside the write's transaction (registered with
`users.audit.on_publish`) and enqueues one `dispatch_users` task — a row of django-tasks'
database queue, written in the same transaction: the change, its event and the task to
deliver it commit together.

`dispatch_user` (in a worker) turns a user's new published events into one `Delivery` per
subscribed active endpoint, under a per-user cursor row lock so that two dispatchers never
create the same delivery, and in `sequence` order.
"""

from __future__ import annotations

from django.db import transaction

from users.models import UserEvent
from webhooks import events as catalogue
from webhooks.models import Delivery, DeliveryStatus, DispatchCursor, Endpoint


@transaction.atomic
def dispatch_user(user_id: int) -> list[int]:
    """Create the deliveries of the user's events not dispatched yet; the endpoints concerned."""
    cursor, _ = DispatchCursor.objects.select_for_update().get_or_create(user_id=user_id)
    new_events = list(
        UserEvent.objects.filter(user_id=user_id, sequence__gt=cursor.last_sequence)
        .select_related("user__program")
        .order_by("sequence")
    )
    if not new_events:
        return []
    user = new_events[0].user
    endpoints = list(Endpoint.objects.filter(program_id=user.program_id, active=True))
    deliveries: list[Delivery] = []
    for event in new_events:
        body = ""
        for endpoint in endpoints:
            if not endpoint.wants(event.topic) or endpoint.created_at > event.at:
                continue
            body = body or catalogue.payload(
                event, program=user.program.code, user_public_id=user.public_id
            )
            deliveries.append(
                Delivery(
                    endpoint=endpoint,
                    event=event,
                    user_id=user_id,
                    sequence=event.sequence,
                    message_id=catalogue.event_id(event),
                    event_type=event.topic,
                    body=body,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=event.at,
                    created_at=event.at,
                )
            )
    Delivery.objects.bulk_create(deliveries)
    cursor.last_sequence = new_events[-1].sequence or cursor.last_sequence
    cursor.save(update_fields=["last_sequence"])
    return sorted({d.endpoint_id for d in deliveries})
