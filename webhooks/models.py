"""Webhook endpoints, deliveries and their attempts (SPEC §13).

The events themselves are the published rows of the users audit trail (`UserEvent` with a
`topic` and a per-user `sequence`): they are written in the change's own INSERT, so a
committed change always has its event and a rolled-back one has none. This app turns them
into one `Delivery` per subscribed endpoint, and every HTTP try into an `Attempt`.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from programs.models import ApiClient, Program
from users.models import AccountHolder, UserEvent


def new_webhook_id() -> str:
    return secrets.token_hex(16)


class DisabledReason(models.TextChoices):
    NONE = "", "enabled"
    MANUAL = "manual", "disabled by a client or an operator"
    GONE = "gone", "the receiver answered 410 Gone"
    FAILING = "failing", "every attempt failed for the disable window (5 days)"


class Endpoint(models.Model):
    """A program's subscription: where its events go and which ones."""

    public_id = models.CharField(max_length=32, unique=True, default=new_webhook_id, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="webhooks")
    client = models.ForeignKey(
        ApiClient, on_delete=models.SET_NULL, blank=True, null=True, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text='Event types, or ["*"] for all.')
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(
        max_length=10, choices=DisabledReason.choices, blank=True, default=""
    )
    disabled_at = models.DateTimeField(blank=True, null=True)
    failing_since = models.DateTimeField(
        blank=True, null=True, help_text="First failed attempt since the last success."
    )
    # signing keys (`whsec_…`); they must be usable to sign, so they cannot be hashed
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(blank=True, null=True, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("program_id", "id")
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return f"{self.url} ({'active' if self.active else 'disabled'})"

    def wants(self, topic: str) -> bool:
        return "*" in self.events or topic in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Delivery(models.Model):
    """One event to one endpoint: retried until a 2xx, a 410, or the end of the schedule.

    Deliveries of one user's events to one endpoint (a stream) go in `sequence` order: only
    the stream's lowest pending delivery is attempted. `claimed_until` is the lease of the
    worker attempting it; a worker killed mid-attempt leaves it to expire, then another
    worker re-attempts (at-least-once).
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_webhook_id, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        UserEvent, on_delete=models.CASCADE, blank=True, null=True, related_name="deliveries"
    )
    user = models.ForeignKey(
        AccountHolder, on_delete=models.CASCADE, blank=True, null=True, related_name="+"
    )
    sequence = models.PositiveBigIntegerField(blank=True, null=True)
    message_id = models.CharField(max_length=40)  # the `webhook-id`, the same on every retry
    event_type = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(blank=True, null=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(blank=True, null=True)
    last_status_code = models.PositiveIntegerField(blank=True, null=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["endpoint", "user", "sequence", "id"],
                condition=Q(status="pending"),
                name="delivery_pending_stream_idx",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_pending_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class Attempt(models.Model):
    """One HTTP try of a delivery, with excerpts for the operators' log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(blank=True, null=True)
    error = models.CharField(max_length=200, blank=True)
    request_headers = models.JSONField(default=dict)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True, help_text="The first 4 KB.")

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"


class DispatchCursor(models.Model):
    """The last of a user's published events turned into deliveries (`dispatch_user`)."""

    user = models.OneToOneField(
        AccountHolder, on_delete=models.CASCADE, primary_key=True, related_name="webhook_cursor"
    )
    last_sequence = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id} at {self.last_sequence}"
