"""From a committed change to deliveries: the audit module's publisher, and the dispatch.

`tasks.publish` runs inside the write's transaction (registered with
`users.audit.on_publish`) and enqueues one `dispatch_users` task — a row of django-tasks'
database queue, written in the same transaction: the change, its event and the task to
deliver it commit together.

`dispatch` (in a worker) turns the users' new published events into one `Delivery` per
subscribed active endpoint, in `sequence` order, under the users' cursor row locks so that
two dispatchers never create the same delivery. It takes any number of users in a fixed
number of statements (a burst of writes is dispatched at once, `tasks.dispatch_users`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from users.models import AccountHolder, UserEvent
from webhooks import events as catalogue
from webhooks.models import Delivery, DeliveryStatus, DispatchCursor, Endpoint

Stream = tuple[int, int | None]


def dispatch_user(user_id: int) -> list[int]:
    """Create the deliveries of one user's events not dispatched yet; the endpoints concerned."""
    return sorted({endpoint_id for endpoint_id, _ in dispatch([user_id])})


@transaction.atomic
def dispatch(user_ids: Iterable[int]) -> dict[Stream, int]:
    """Create the deliveries of the users' events not dispatched yet; how many, per stream.

    About seven statements whatever the number of users: lock the cursors (created first for
    users seen for the first time), read the new events with their users and programs, read
    the programs' active endpoints, insert the deliveries, advance the cursors.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    cursors = _locked_cursors(ids)
    missing = [user_id for user_id in ids if user_id not in cursors]
    if missing:  # first events of these users (a user deleted since has none: skipped)
        existing = AccountHolder.objects.filter(pk__in=missing).values_list("pk", flat=True)
        DispatchCursor.objects.bulk_create(
            [DispatchCursor(user_id=user_id) for user_id in existing], ignore_conflicts=True
        )
        cursors |= _locked_cursors(missing)
    if not cursors:
        return {}
    new_events = list(
        UserEvent.objects.filter(
            user_id__in=list(cursors), sequence__gt=F("user__webhook_cursor__last_sequence")
        )
        .select_related("user__program")
        .only(
            "public_id",
            "user_id",
            "reason",
            "changes",
            "at",
            "topic",
            "sequence",
            "user__public_id",
            "user__program_id",
            "user__program__code",
        )
        .order_by("user_id", "sequence")
    )
    if not new_events:
        return {}
    programs = {event.user.program_id for event in new_events}
    endpoints: dict[int, list[Endpoint]] = {program_id: [] for program_id in programs}
    for endpoint in Endpoint.objects.filter(program_id__in=programs, active=True).order_by("id"):
        endpoints[endpoint.program_id].append(endpoint)
    deliveries: list[Delivery] = []
    for event in new_events:
        user = event.user
        body = ""
        for endpoint in endpoints[user.program_id]:
            if not endpoint.wants(event.topic) or endpoint.created_at > event.at:
                continue
            body = body or catalogue.payload(
                event, program=user.program.code, user_public_id=user.public_id
            )
            deliveries.append(
                Delivery(
                    endpoint=endpoint,
                    event=event,
                    user_id=event.user_id,
                    sequence=event.sequence,
                    message_id=catalogue.event_id(event),
                    event_type=event.topic,
                    body=body,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=event.at,
                    created_at=event.at,
                )
            )
        cursors[event.user_id].last_sequence = event.sequence or 0
    Delivery.objects.bulk_create(deliveries)
    advanced = [cursors[user_id] for user_id in sorted({event.user_id for event in new_events})]
    if len(advanced) == 1:  # the common case: a plain UPDATE is cheaper to build than a CASE
        DispatchCursor.objects.filter(pk=advanced[0].pk).update(
            last_sequence=advanced[0].last_sequence
        )
    else:
        DispatchCursor.objects.bulk_update(advanced, ["last_sequence"])
    created: dict[Stream, int] = {}
    for d in sorted(deliveries, key=lambda d: (d.endpoint_id, d.user_id or 0)):
        stream = (d.endpoint_id, d.user_id)
        created[stream] = created.get(stream, 0) + 1
    return created


def _locked_cursors(user_ids: list[int]) -> dict[int, DispatchCursor]:
    # locked in user order, so that two dispatchers of overlapping bursts cannot deadlock
    rows = (
        DispatchCursor.objects.select_for_update().filter(user_id__in=user_ids).order_by("user_id")
    )
    return {cursor.user_id: cursor for cursor in rows}
