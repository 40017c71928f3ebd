"""The rows the HTTP plumbing keeps: idempotency keys and rate-limit counters.

Both tables were created by the `core` app and keep their names (`db_table`): the models
moved to `api` in the migration state only (api/migrations/0001), no data moved.
"""

from django.db import models


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` an API client sent with a POST, and the answer it got.

    The row is inserted (and committed) before the request runs, so the unique constraint on
    (client, key) is the lock: a concurrent request with the same key loses the insert and
    answers 409. The stored answer is replayed for 24 hours, then `cleanup_idempotency`
    deletes the row. Lives in the database so every app server sees every key.
    """

    client = models.ForeignKey(
        "programs.ApiClient", on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of method, path and canonical body."
    )
    state = models.CharField(
        max_length=12, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS
    )
    claimed_at = models.DateTimeField(help_text="When the request now running took the key.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "core_idempotencyrecord"
        ordering = ("client_id", "key")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=IdempotencyState.values),
                name="idempotency_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state=IdempotencyState.IN_PROGRESS)
                | models.Q(response_status__isnull=False),
                name="idempotency_completed_has_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key} ({self.state})"


class RateLimitCounter(models.Model):
    """Requests of one API client in the current fixed window, per operation class.

    One row per (client, scope), overwritten when the window moves on, so the table never
    grows past two rows per client. Written with one atomic UPSERT per request (see
    api/ratelimit.py), so every app server counts against the same number.
    """

    client = models.ForeignKey(
        "programs.ApiClient", on_delete=models.CASCADE, related_name="rate_limit_counters"
    )
    scope = models.CharField(max_length=8, help_text="`read` or `write`.")
    window_start = models.BigIntegerField(
        help_text="The window: minutes since the epoch (fixed one-minute windows)."
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "core_ratelimitcounter"
        ordering = ("client_id", "scope")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "scope"], name="ratelimit_client_scope_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.scope} {self.count} in window {self.window_start}"
