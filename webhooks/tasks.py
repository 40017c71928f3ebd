"""The django-tasks tasks that deliver webhooks, and the audit module's publisher.

Workers (`manage.py run_worker`, wrapping django-tasks' `db_worker`) claim task rows with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of them, on any machines,
share the queue.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone
from django_tasks import task

from users.models import UserEvent
from webhooks import delivery, outbox


def publish(published: Sequence[UserEvent]) -> None:
    """Enqueue the dispatch of these users' new events: one task row, in the write's transaction."""
    dispatch_users.enqueue(sorted({event.user_id for event in published}))


@task()
def dispatch_users(user_ids: list[int]) -> int:
    """Create the users' deliveries, then attempt them at once (retries are enqueued)."""
    attempted = 0
    for user_id in user_ids:
        for endpoint_id in outbox.dispatch_user(user_id):
            continue_stream(endpoint_id, user_id)
            attempted += 1
    return attempted


@task()
def deliver_stream(endpoint_id: int, user_id: int | None) -> None:
    continue_stream(endpoint_id, user_id)


def continue_stream(endpoint_id: int, user_id: int | None) -> None:
    """Run the stream now; if it must wait (a retry), enqueue its next run for then."""
    come_back = delivery.run_stream(endpoint_id, user_id)
    if come_back is not None:
        deliver_stream.using(run_after=max(come_back, timezone.now())).enqueue(endpoint_id, user_id)


def sweep() -> tuple[int, int]:
    """Re-enqueue what a killed worker left behind: undispatched events, unclaimed streams."""
    now = timezone.now()
    users = delivery.undispatched_users(now)
    if users:
        dispatch_users.enqueue(users)
    streams = delivery.stalled_streams(now)
    for endpoint_id, user_id in streams:
        deliver_stream.enqueue(endpoint_id, user_id)
    return len(users), len(streams)
