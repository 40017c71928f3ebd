"""Attempting deliveries: one stream (an endpoint and a user) at a time, in sequence order.

`run_stream` claims the stream's due pending deliveries in `sequence` order — up to `BATCH`
of them under one lease — and POSTs them one after the other on a kept-alive connection
(`webhooks.transport`). The first failure ends the batch: the deliveries before it are done,
the failed one is scheduled for its retry and the rest are released unsent, so a later event
waits while an earlier one is retried (SPEC §13). Then it claims the next batch, until the
stream is empty, must wait for a retry (it returns when to come back; the task re-enqueues
itself for then), or the run's limit is reached.

The claim is a conditional UPDATE of the stream head's `claimed_until` (the lease): of two
workers only one wins the head, and every other worker backs off while the head is claimed,
so a stream is attempted by one worker at a time and two workers never attempt the same
delivery at once. The rest of the batch is leased by the winner in a second UPDATE (so the
sweep leaves it alone). A batch is recorded in one short transaction of two statements (the
attempts' INSERT, then one UPDATE of its deliveries, which also releases the head); the
HTTP calls run outside any transaction. A worker killed mid-batch leaves its lease to
expire; `sweep` then re-enqueues the stream and the unrecorded deliveries are sent again,
in order (at-least-once: the receiver may get them once more). No attempt starts unless the
lease outlasts its worst case (connect + read timeouts).
"""

from __future__ import annotations

import functools
import http.client
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from users.models import UserEvent
from webhooks import security, signing, transport
from webhooks.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
)

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT_BYTES = transport.RESPONSE_EXCERPT_BYTES
USER_AGENT = "Onboard-Webhooks/1"
BATCH = 50  # a stream's deliveries claimed (and recorded) together
MAX_PER_RUN = 500  # deliveries attempted by one task before it hands the rest to a new task
RECORDED_FIELDS = [
    "status",
    "attempts",
    "claimed_until",
    "next_attempt_at",
    "finished_at",
    "last_status_code",
    "last_error",
]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int
    response_headers: dict[str, str]
    response_body: str
    at: datetime | None = None  # when the attempt ended

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def attempt_budget() -> timedelta:
    """The longest an attempt may take: the connect timeout plus the read timeout."""
    return timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS)


def lease() -> timedelta:
    """How long a claim holds: at least one attempt's worst case, and a second more."""
    budget = attempt_budget() + timedelta(seconds=1)
    return max(timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS), budget)


def retry_delay(failed_attempts: int) -> timedelta | None:
    """When to try again after `failed_attempts` failures, or None when the schedule is over.

    Exponential steps from the schedule, each lengthened by up to 20 % of random jitter (never
    shortened, so the schedule's total of more than 3 days is a minimum).
    """
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if failed_attempts > len(schedule):
        return None
    return timedelta(seconds=schedule[failed_attempts - 1] * random.uniform(1.0, 1.2))


def secrets_in_force(endpoint: Endpoint, now: datetime) -> list[str]:
    keys = [endpoint.secret]
    if endpoint.previous_secret and (
        endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now
    ):
        keys.append(endpoint.previous_secret)
    return keys


def send(endpoint: Endpoint, delivery: Delivery) -> tuple[dict[str, str], Outcome]:
    """POST the delivery once: signed headers, 15 s timeout, no redirects followed.

    The SSRF guard checks the URL first, every time, whether the connection is new or kept
    alive; a new connection is checked again when it connects (`webhooks.transport`).
    """
    now = timezone.now()
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signing.signature(
            secrets_in_force(endpoint, now), delivery.message_id, now, delivery.body
        ),
    }
    started = time.monotonic()
    try:
        security.check_url(endpoint.url)
        answer = transport.post(
            endpoint.url, delivery.body.encode(), headers, settings.WEBHOOK_TIMEOUT_SECONDS
        )
        outcome = Outcome(
            status_code=answer.status,
            error="",
            duration_ms=_ms(started),
            response_headers=answer.headers,
            response_body=answer.excerpt.decode("utf-8", "replace"),
            at=timezone.now(),
        )
    except (security.UrlInvalid, security.UrlNotAllowed) as exc:
        outcome = _failure(f"refused: {exc}", started)
    except urllib3.exceptions.TimeoutError:
        outcome = _failure("timeout", started)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        outcome = _failure(f"connection: {type(exc).__name__}", started)
    return headers, outcome


def _failure(error: str, started: float) -> Outcome:
    return Outcome(None, error[:200], _ms(started), {}, "", at=timezone.now())


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def stream_pending(endpoint_id: int, user_id: int | None) -> QuerySet[Delivery]:
    pending = Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
    return pending.filter(user_id=user_id) if user_id else pending.filter(user__isnull=True)


def stream_head(endpoint_id: int, user_id: int | None) -> Delivery | None:
    return (
        stream_pending(endpoint_id, user_id)
        .select_related("endpoint")
        .order_by("sequence", "id")
        .first()
    )


@functools.cache
def _stream_sql(with_user: bool) -> str:
    """The claim's read, as written SQL: it runs twice per stream run, and building the
    equivalent queryset (a join, an order, a limit) cost more CPU than the query itself."""
    delivery, endpoint = Delivery._meta.db_table, Endpoint._meta.db_table
    user = "d.user_id = %s" if with_user else "d.user_id IS NULL"
    # table names from the models; every value is a parameter
    return (
        f"SELECT d.*, e.active AS endpoint_active FROM {delivery} d "  # noqa: S608
        f"JOIN {endpoint} e ON e.id = d.endpoint_id "
        f"WHERE d.endpoint_id = %s AND {user} AND d.status = %s "
        "ORDER BY d.sequence, d.id LIMIT %s"
    )


def _stream_rows(endpoint: Endpoint, user_id: int | None, size: int) -> list[Delivery]:
    """The stream's first `size` pending deliveries, each with the endpoint's current `active`."""
    params: list[object] = [endpoint.pk]
    if user_id:
        params.append(user_id)
    params += [DeliveryStatus.PENDING.value, size]
    return list(Delivery.objects.raw(_stream_sql(bool(user_id)), params))


def run_stream(
    endpoint_id: int, user_id: int | None, limit: int = MAX_PER_RUN
) -> tuple[datetime | None, int]:
    """Attempt the stream's due deliveries in order, at most `limit` of them.

    Returns when to come back (None when the stream is done or another worker carries it)
    and how many deliveries were attempted. The endpoint is read once per run (its URL and
    secrets); whether it is still active is read again with every claim.
    """
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return None, 0
    attempted = 0
    while attempted < limit:
        batch, wait = claim(endpoint, user_id, min(BATCH, limit - attempted))
        if not batch:
            return wait, attempted
        sent, retry_at = attempt(batch)
        attempted += sent
        if retry_at is not None:
            return retry_at, attempted
    return timezone.now(), attempted


def claim(
    endpoint: Endpoint, user_id: int | None, size: int
) -> tuple[list[Delivery], datetime | None]:
    """Lease the stream's due deliveries (at most `size`, from its head, in order).

    Returns the batch, or an empty one and when the head is due (None if the stream is empty,
    its endpoint disabled, or its head claimed by another worker, which carries it on).
    """
    rows = _stream_rows(endpoint, user_id, size)
    if rows:
        endpoint.active = bool(rows[0].endpoint_active)  # type: ignore[attr-defined]
    if not rows or not endpoint.active:
        return [], None
    head = rows[0]
    now = timezone.now()
    if head.next_attempt_at > now:
        return [], head.next_attempt_at
    if head.claimed_until is not None and head.claimed_until > now:
        return [], None  # another worker is attempting it; it carries the stream on
    until = now + lease()
    won = Delivery.objects.filter(
        pk=head.pk, status=DeliveryStatus.PENDING, claimed_until=head.claimed_until
    ).update(claimed_until=until)
    if not won:
        return [], None  # lost the race to another worker
    batch = [head]
    for row in rows[1:]:
        if row.next_attempt_at > now:
            break
        batch.append(row)
    if len(batch) > 1:  # only the head's owner leases the rest: nobody else can hold them
        Delivery.objects.filter(pk__in=[row.pk for row in batch[1:]]).update(claimed_until=until)
    for row in batch:
        row.endpoint = endpoint  # one endpoint object: a disable is seen by the whole batch
        row.claimed_until = until
    return batch, None


def attempt(batch: list[Delivery]) -> tuple[int, datetime | None]:
    """Send a claimed batch in order until the first failure; how many were sent, when to retry.

    A delivery starts only if the lease outlasts its worst case; the rest is released.
    """
    endpoint = batch[0].endpoint
    lease_end = batch[0].claimed_until
    assert lease_end is not None
    budget = attempt_budget()
    results: list[tuple[Delivery, dict[str, str], Outcome]] = []
    for delivery in batch:
        if results and timezone.now() + budget > lease_end:
            break  # the lease could expire during this attempt: claim again first
        headers, outcome = send(endpoint, delivery)
        results.append((delivery, headers, outcome))
        if not outcome.ok:
            break
    retry_at = record(endpoint, results, released=batch[len(results) :])
    return len(results), retry_at


def record(
    endpoint: Endpoint,
    results: list[tuple[Delivery, dict[str, str], Outcome]],
    released: list[Delivery] | None = None,
) -> datetime | None:
    """Store a batch's attempts and their consequences; when to retry its last one, or None.

    Every result but the last is a success. One transaction, of two statements in the common
    case: the attempts' INSERT and one UPDATE of the batch's delivered deliveries (a batch's
    successes share its last one's `finished_at`; each attempt keeps its own time); a failure
    adds the UPDATE of the failed one, a batch cut short the release of its unsent ones. A
    worker dying before it commits leaves the deliveries pending under their lease: they are
    attempted again once it expires — at-least-once, as always.
    """
    released = released or []
    attempts: list[Attempt] = []
    retry_at: datetime | None = None
    now = timezone.now()
    succeeded: dict[int, list[Delivery]] = {}  # by status code: one UPDATE each (usually one)
    for delivery, headers, outcome in results:
        at = outcome.at or now
        delivery.attempts += 1
        delivery.claimed_until = None
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        attempts.append(
            Attempt(
                delivery=delivery,
                number=delivery.attempts,
                at=at,
                duration_ms=outcome.duration_ms,
                status_code=outcome.status_code,
                error=outcome.error,
                request_headers=headers,
                response_headers=outcome.response_headers,
                response_body=outcome.response_body,
            )
        )
        if outcome.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.finished_at = at
            succeeded.setdefault(outcome.status_code or 0, []).append(delivery)
    failed = results[-1][0] if results and not results[-1][2].ok else None
    with transaction.atomic():
        if succeeded and endpoint.failing_since is not None:
            # as read with the batch: no statement while the endpoint is healthy
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
        if failed is not None:
            retry_at = _failed(endpoint, failed, results[-1][2])
        Attempt.objects.bulk_create(attempts)
        for status_code, done in succeeded.items():
            # every one was attempted once in this batch (and its earlier attempts failed)
            Delivery.objects.filter(pk__in=[d.pk for d in done]).update(
                status=DeliveryStatus.SUCCEEDED,
                attempts=F("attempts") + 1,
                claimed_until=None,
                finished_at=done[-1].finished_at,
                last_status_code=status_code,
                last_error="",
            )
        if failed is not None:
            Delivery.objects.filter(pk=failed.pk).update(
                **{field: getattr(failed, field) for field in RECORDED_FIELDS}
            )
        if released:
            Delivery.objects.filter(pk__in=[d.pk for d in released]).update(claimed_until=None)
    for delivery, _, outcome in results:
        if outcome.ok or outcome.status_code == 410:
            logger.info(
                "webhook delivery %s attempt %s: %s",
                delivery.public_id,
                delivery.attempts,
                outcome.status_code,
            )
        else:
            logger.warning(
                "webhook delivery %s attempt %s failed: %s",
                delivery.public_id,
                delivery.attempts,
                outcome.status_code or outcome.error,
            )
    return retry_at


def _failed(endpoint: Endpoint, delivery: Delivery, outcome: Outcome) -> datetime | None:
    """A failed attempt: 410 disables, else the next retry or the final failure."""
    at = outcome.at or timezone.now()
    if outcome.status_code == 410:
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = at
        disable(endpoint, DisabledReason.GONE, at)
        return None
    retry_at: datetime | None = None
    delay = retry_delay(delivery.attempts)
    if delay is None:
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = at
    else:
        retry_at = at + delay
        delivery.next_attempt_at = retry_at
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
    endpoint.refresh_from_db(fields=["failing_since", "active"])
    window = timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if endpoint.failing_since and at - endpoint.failing_since >= window:
        disable(endpoint, DisabledReason.FAILING, at)
        retry_at = None
    return retry_at


def disable(endpoint: Endpoint, reason: str, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    endpoint.active = False
    endpoint.disabled_reason = reason
    logger.warning("webhook endpoint %s disabled: %s", endpoint.public_id, reason)


def stalled_streams(now: datetime, *, leases_only: bool = False) -> list[tuple[int, int | None]]:
    """Streams whose head is overdue and unclaimed: a worker died, or its task was lost.

    With `leases_only`, only the streams of an expired lease (a worker died mid-batch).
    """
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    pending = Delivery.objects.filter(status=DeliveryStatus.PENDING, endpoint__active=True)
    if leases_only:
        pending = pending.filter(claimed_until__lt=now)
    else:
        pending = pending.filter(next_attempt_at__lte=now - grace).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
    rows = pending.order_by().values_list("endpoint_id", "user_id").distinct()
    return list(rows[:1000])


def undispatched_users(now: datetime) -> list[int]:
    """Users with published events older than the grace that no dispatch has taken yet."""
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    rows = (
        UserEvent.objects.filter(
            sequence__isnull=False, at__lte=now - grace, at__gte=now - timedelta(hours=1)
        )
        .exclude(user__webhook_cursor__last_sequence__gte=F("sequence"))
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(rows[:1000])
