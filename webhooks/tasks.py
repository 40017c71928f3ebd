"""The django-tasks tasks that deliver webhooks, and the audit module's publisher.

Workers (`manage.py run_worker`, wrapping django-tasks' `db_worker`) claim task rows with
`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of them, on any machines,
share the queue.

Every write enqueues one `dispatch_users` row (the transactional outbox). A burst of writes
is dispatched by one task, not one per write: the task that runs first also takes the other
`dispatch_users` rows that are ready — claimed with the same `FOR UPDATE SKIP LOCKED`, so a row
is taken by one worker only — and marks them done in the same transaction as the deliveries it
creates for their users (if it fails, they go back to the queue with its work). It then
attempts the streams itself; a burst of many streams is split into `deliver_streams` tasks,
which the other workers take in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskContext, task
from django_tasks.backends.database.models import DBTaskResult, get_date_max
from django_tasks.base import TaskResultStatus

from users.models import UserEvent
from webhooks import delivery, outbox

Stream = tuple[int, int | None]

ABSORB_LIMIT = 1000  # other ready dispatch rows a dispatch takes with it
CHUNK_DELIVERIES = 100  # deliveries per task when a burst is split between workers


def publish(published: Sequence[UserEvent]) -> None:
    """Enqueue the dispatch of these users' new events: one task row, in the write's transaction."""
    dispatch_users.enqueue(sorted({event.user_id for event in published}))


@task(takes_context=True)
def dispatch_users(context: TaskContext, user_ids: list[int]) -> int:
    """Create the deliveries of these users' events and of every ready dispatch, then send."""
    with transaction.atomic():
        users = set(user_ids) | _absorb_ready_dispatches(context)
        streams = outbox.dispatch(users)
        chunks = _chunks(streams)
        for chunk in chunks[1:]:  # for the other workers, committed with the deliveries
            deliver_streams.enqueue([list(stream) for stream in chunk])
    if chunks:
        run_streams(chunks[0])
    return len(streams)


@task()
def deliver_stream(endpoint_id: int, user_id: int | None) -> None:
    run_streams([(endpoint_id, user_id)])


@task()
def deliver_streams(streams: list[list[Any]]) -> None:
    run_streams([(int(endpoint_id), user_id) for endpoint_id, user_id in streams])


def run_streams(streams: Sequence[Stream]) -> int:
    """Attempt the streams in turn; re-enqueue those that must wait, and what is left over.

    A stream waiting for a retry gets a task deferred until then; when the run's limit is
    reached, the streams not finished get a new task (due now, so it is taken first).
    """
    attempted = 0
    for index, (endpoint_id, user_id) in enumerate(streams):
        if attempted >= delivery.MAX_PER_RUN:
            rest = [list(stream) for stream in streams[index:]]
            deliver_streams.using(run_after=timezone.now()).enqueue(rest)
            break
        come_back, count = delivery.run_stream(
            endpoint_id, user_id, delivery.MAX_PER_RUN - attempted
        )
        attempted += count
        if come_back is not None:
            deliver_stream.using(run_after=max(come_back, timezone.now())).enqueue(
                endpoint_id, user_id
            )
    return attempted


def _absorb_ready_dispatches(context: TaskContext) -> set[int]:
    """Take the other ready `dispatch_users` rows: their users, and the rows marked done.

    Runs in the dispatch's transaction: the rows stay locked (other workers skip them) until
    the deliveries they stand for are committed, and return to the queue if it rolls back.
    """
    current = context.task_result
    ready = (
        DBTaskResult.objects.ready()
        .filter(
            backend_name=current.backend,
            queue_name=current.task.queue_name,
            task_path=dispatch_users.module_path,
        )
        .exclude(pk=current.id)
        .select_for_update(skip_locked=True)
        .order_by()
    )
    rows = list(ready.values_list("id", "args_kwargs")[:ABSORB_LIMIT])
    if not rows:
        return set()
    now = timezone.now()
    DBTaskResult.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        status=TaskResultStatus.SUCCEEDED,
        started_at=now,
        finished_at=now,
        worker_ids=list(current.worker_ids),
        return_value=0,
        metadata={"dispatched_by": str(current.id)},
    )
    users: set[int] = set()
    for _, args_kwargs in rows:
        args, kwargs = args_kwargs.get("args") or [], args_kwargs.get("kwargs") or {}
        users.update(int(user_id) for user_id in (args[0] if args else kwargs.get("user_ids", [])))
    return users


def _backlogged(now: datetime) -> bool:
    waited = now - timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    never_deferred = get_date_max()
    return (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .filter(Q(run_after__lt=waited) | Q(run_after=never_deferred, enqueued_at__lt=waited))
        .exists()
    )


def _chunks(streams: dict[Stream, int]) -> list[list[Stream]]:
    """The streams (with their new deliveries' count) in groups of about `CHUNK_DELIVERIES`."""
    chunks: list[list[Stream]] = []
    size = 0
    for stream, count in streams.items():
        if not chunks or size + count > CHUNK_DELIVERIES:
            chunks.append([])
            size = 0
        chunks[-1].append(stream)
        size += count
    return chunks


def sweep() -> tuple[int, int]:
    """Re-enqueue what a killed worker left behind: undispatched events, unclaimed streams.

    While the queue is backlogged (a task has been ready for longer than the grace), work
    that merely waits looks stalled too, and its task is in the queue already: then only the
    streams of an expired lease (a worker that died mid-batch) are re-enqueued, and the rest
    once the backlog is gone.
    """
    now = timezone.now()
    backlogged = _backlogged(now)
    users = [] if backlogged else delivery.undispatched_users(now)
    if users:
        dispatch_users.enqueue(users)
    streams = delivery.stalled_streams(now, leases_only=backlogged)
    for endpoint_id, user_id in streams:
        deliver_stream.enqueue(endpoint_id, user_id)
    return len(users), len(streams)
