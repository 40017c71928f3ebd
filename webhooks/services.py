"""Managing webhook endpoints: create, change, rotate, test, redeliver (SPEC §13).

Both APIs and the back-office call these; every rule is checked here, and bad input raises
`ApiError` with the §13 codes before anything is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import error_codes
from core.exceptions import ApiError
from programs.models import ApiClient, Program
from webhooks import events as catalogue
from webhooks import security, signing, tasks
from webhooks.models import Delivery, DeliveryStatus, DisabledReason, Endpoint

MAX_URL_LENGTH = 2000


def clean_url(value: Any, field: str = "url") -> str:
    """A trimmed webhook URL that passes the SSRF guard, else `ApiError` naming the field."""
    url = value.strip() if isinstance(value, str) else ""
    if not url:
        raise ApiError.field(
            field,
            error_codes.WEBHOOK_URL_INVALID,
            "`url` is required: an absolute https URL, e.g. https://example.com/hooks.",
        )
    if len(url) > MAX_URL_LENGTH:
        raise ApiError.field(
            field,
            error_codes.WEBHOOK_URL_INVALID,
            f"`url` must not exceed {MAX_URL_LENGTH} characters.",
        )
    try:
        security.check_url(url)
    except security.UrlNotAllowed as exc:
        raise ApiError.field(field, error_codes.WEBHOOK_URL_NOT_ALLOWED, str(exc)) from exc
    except security.UrlInvalid as exc:
        raise ApiError.field(field, error_codes.WEBHOOK_URL_INVALID, str(exc)) from exc
    return url


def clean_events(value: Any, field: str = "events") -> list[str]:
    """A list of known event types without repeats, or `["*"]`."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ApiError.field(
            field,
            error_codes.WEBHOOK_EVENTS_INVALID,
            error_codes.describe(error_codes.WEBHOOK_EVENTS_INVALID, detail=""),
        )
    names = list(dict.fromkeys(v.strip() for v in value))
    if "*" in names:
        if len(names) > 1:
            raise ApiError.field(
                field,
                error_codes.WEBHOOK_EVENTS_INVALID,
                error_codes.describe(
                    error_codes.WEBHOOK_EVENTS_INVALID,
                    detail='"*" already means every type; send it alone.',
                ),
            )
        return names
    unknown = sorted(set(names) - catalogue.EVENT_TYPES)
    if unknown:
        raise ApiError.field(
            field,
            error_codes.WEBHOOK_EVENTS_INVALID,
            error_codes.describe(
                error_codes.WEBHOOK_EVENTS_INVALID, detail=f"Unknown: {', '.join(unknown)}."
            ),
        )
    return names


def endpoint_create(
    *,
    program: Program,
    url: str,
    events: list[str],
    client: ApiClient | None = None,
    description: str = "",
    active: bool = True,
) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret (shown to the caller once, here)."""
    secret = signing.new_secret()
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        program=program,
        client=client,
        url=clean_url(url),
        events=clean_events(events),
        description=description,
        active=active,
        disabled_reason="" if active else DisabledReason.MANUAL,
        disabled_at=None if active else now,
        secret=secret,
        created_at=now,
        updated_at=now,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(endpoint: Endpoint, **changes: Any) -> Endpoint:
    """Change `url`, `events`, `description` and/or `active`; re-enabling resumes deliveries."""
    now = timezone.now()
    if "url" in changes:
        endpoint.url = clean_url(changes["url"])
    if "events" in changes:
        endpoint.events = clean_events(changes["events"])
    if "description" in changes:
        endpoint.description = str(changes["description"] or "")[:200]
    if "active" in changes:
        endpoint_set_active(endpoint, bool(changes["active"]), save=False)
    endpoint.updated_at = now
    endpoint.save()
    return endpoint


def endpoint_set_active(endpoint: Endpoint, active: bool, *, save: bool = True) -> None:
    now = timezone.now()
    if active and not endpoint.active:
        endpoint.active = True
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
        endpoint.failing_since = None
        transaction.on_commit(lambda: _resume(endpoint.pk))
    elif not active and endpoint.active:
        endpoint.active = False
        endpoint.disabled_reason = DisabledReason.MANUAL
        endpoint.disabled_at = now
    if save:
        endpoint.updated_at = now
        endpoint.save()


def _resume(endpoint_id: int) -> None:
    streams = (
        Delivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .order_by()
        .values_list("user_id", flat=True)
        .distinct()
    )
    for user_id in streams:
        tasks.deliver_stream.enqueue(endpoint_id, user_id)


def endpoint_rotate_secret(endpoint: Endpoint) -> str:
    """A new secret; the previous one keeps signing too for the overlap (24 h)."""
    secret = signing.new_secret()
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(
        seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS
    )
    endpoint.secret = secret
    endpoint.updated_at = now
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return secret


@transaction.atomic
def send_test(endpoint: Endpoint) -> Delivery:
    """Queue a `webhook.test` event to the endpoint (delivered like any other, retried too)."""
    now = timezone.now()
    message_id = f"evt_{signing.new_message_suffix()}"
    body = catalogue.dumps(
        {
            "id": message_id,
            "type": catalogue.TEST_EVENT,
            "created_at": catalogue.utc(now),
            "program": endpoint.program.code,
            "sequence": None,
            "data": {"webhook_id": endpoint.public_id},
        }
    )
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        message_id=message_id,
        event_type=catalogue.TEST_EVENT,
        body=body,
        next_attempt_at=now,
        created_at=now,
    )
    tasks.deliver_stream.enqueue(endpoint.pk, None)
    return delivery


@transaction.atomic
def redeliver(delivery: Delivery) -> Delivery:
    """Send a delivery's event again: a new delivery with the same `webhook-id` and body."""
    now = timezone.now()
    again = Delivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        user_id=delivery.user_id,
        sequence=delivery.sequence,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        body=delivery.body,
        next_attempt_at=now,
        created_at=now,
    )
    tasks.deliver_stream.enqueue(delivery.endpoint_id, delivery.user_id)
    return again


def program_endpoints(program: Program) -> Iterable[Endpoint]:
    return Endpoint.objects.filter(program=program).order_by("id")
