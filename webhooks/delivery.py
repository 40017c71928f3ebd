"""Attempting deliveries: one stream (an endpoint and a user) at a time, in sequence order.

`run_stream` attempts the stream's lowest pending delivery when it is due, and goes on with
the next one after a success or a final failure; after a retryable failure it stops and
returns when to come back (the task re-enqueues itself for then). A later event of the
same user therefore waits while an earlier one is retried (SPEC §13).

An attempt is claimed first with a conditional UPDATE of `claimed_until` (a lease longer
than the HTTP timeout), so two workers never attempt the same delivery at once; the HTTP
call runs outside any transaction. A worker killed mid-attempt leaves its lease to expire;
`sweep` then re-enqueues the stream (at-least-once: the receiver may get it once more).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from users.models import UserEvent
from webhooks import security, signing
from webhooks.models import (
    Attempt,
    Delivery,
    DeliveryStatus,
    DisabledReason,
    Endpoint,
)

logger = logging.getLogger(__name__)

RESPONSE_EXCERPT_BYTES = 4096
USER_AGENT = "Onboard-Webhooks/1"
MAX_PER_RUN = 200  # a stream's deliveries attempted by one task before it yields the worker

_session = requests.Session()
_session.trust_env = False  # no proxy or netrc from the environment
_session.max_redirects = 0


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int
    response_headers: dict[str, str]
    response_body: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def lease() -> timedelta:
    return timedelta(seconds=max(settings.WEBHOOK_LEASE_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS))


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
    """POST the delivery once: signed headers, 15 s timeout, no redirects followed."""
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
        response = _session.post(
            endpoint.url,
            data=delivery.body.encode(),
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
        try:
            excerpt = response.raw.read(RESPONSE_EXCERPT_BYTES, decode_content=True) or b""
        finally:
            response.close()
        outcome = Outcome(
            status_code=response.status_code,
            error="",
            duration_ms=_ms(started),
            response_headers=dict(list(response.headers.items())[:30]),
            response_body=excerpt.decode("utf-8", "replace"),
        )
    except (security.UrlInvalid, security.UrlNotAllowed) as exc:
        outcome = Outcome(None, f"refused: {exc}"[:200], _ms(started), {}, "")
    except requests.Timeout:
        outcome = Outcome(None, "timeout", _ms(started), {}, "")
    except (requests.RequestException, OSError) as exc:
        outcome = Outcome(None, f"connection: {type(exc).__name__}", _ms(started), {}, "")
    return headers, outcome


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def stream_head(endpoint_id: int, user_id: int | None) -> Delivery | None:
    pending = Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
    pending = pending.filter(user_id=user_id) if user_id else pending.filter(user__isnull=True)
    return pending.select_related("endpoint").order_by("sequence", "id").first()


def run_stream(endpoint_id: int, user_id: int | None) -> datetime | None:
    """Attempt the stream's due deliveries in order; when to come back, or None when done."""
    for _ in range(MAX_PER_RUN):
        head = stream_head(endpoint_id, user_id)
        if head is None or not head.endpoint.active:
            return None
        now = timezone.now()
        if head.next_attempt_at > now:
            return head.next_attempt_at
        if head.claimed_until is not None and head.claimed_until > now:
            return None  # another worker is attempting it; it carries the stream on
        claimed = Delivery.objects.filter(
            pk=head.pk, status=DeliveryStatus.PENDING, claimed_until=head.claimed_until
        ).update(claimed_until=now + lease())
        if not claimed:
            return None  # lost the race to another worker
        headers, outcome = send(head.endpoint, head)
        retry_at = record(head, headers, outcome)
        if retry_at is not None:
            return retry_at
    return timezone.now()


def record(delivery: Delivery, headers: dict[str, str], outcome: Outcome) -> datetime | None:
    """Store the attempt and its consequences; when to retry, or None if the delivery is done.

    No transaction around it (each write commits alone, a round trip less each): a worker
    dying in between leaves the attempt logged and the delivery pending under its lease,
    which is then attempted again — at-least-once, as always.
    """
    now = timezone.now()
    number = delivery.attempts + 1
    Attempt.objects.create(
        delivery=delivery,
        number=number,
        at=now,
        duration_ms=outcome.duration_ms,
        status_code=outcome.status_code,
        error=outcome.error,
        request_headers=headers,
        response_headers=outcome.response_headers,
        response_body=outcome.response_body,
    )
    endpoint = delivery.endpoint
    fields: dict[str, object] = {
        "attempts": number,
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    retry_at: datetime | None = None
    if outcome.ok:
        fields |= {"status": DeliveryStatus.SUCCEEDED, "finished_at": now}
        if endpoint.failing_since is not None:  # as read with the delivery: no query when healthy
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
    elif outcome.status_code == 410:
        fields |= {"status": DeliveryStatus.FAILED, "finished_at": now}
        disable(endpoint, DisabledReason.GONE, now)
    else:
        delay = retry_delay(number)
        if delay is None:
            fields |= {"status": DeliveryStatus.FAILED, "finished_at": now}
        else:
            retry_at = now + delay
            fields["next_attempt_at"] = retry_at
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
            failing_since=now
        )
        endpoint.refresh_from_db(fields=["failing_since", "active"])
        window = timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
        if endpoint.failing_since and now - endpoint.failing_since >= window:
            disable(endpoint, DisabledReason.FAILING, now)
            retry_at = None
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    if outcome.ok or outcome.status_code == 410:
        logger.info(
            "webhook delivery %s attempt %s: %s", delivery.public_id, number, outcome.status_code
        )
    else:
        logger.warning(
            "webhook delivery %s attempt %s failed: %s",
            delivery.public_id,
            number,
            outcome.status_code or outcome.error,
        )
    return retry_at


def disable(endpoint: Endpoint, reason: str, now: datetime) -> None:
    Endpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    endpoint.active = False
    endpoint.disabled_reason = reason
    logger.warning("webhook endpoint %s disabled: %s", endpoint.public_id, reason)


def stalled_streams(now: datetime) -> list[tuple[int, int | None]]:
    """Streams whose head is overdue and unclaimed: a worker died, or its task was lost."""
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    rows = (
        Delivery.objects.filter(
            status=DeliveryStatus.PENDING,
            endpoint__active=True,
            next_attempt_at__lte=now - grace,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by()
        .values_list("endpoint_id", "user_id")
        .distinct()
    )
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
