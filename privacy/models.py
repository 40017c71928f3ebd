"""Erasure of a user's personal data (SPEC §15): who asked, who approved, when it was done.

An `Erasure` row marks a user whose personal data is gone (one per user: erasing twice is
refused). An `ErasureRequest` is an operator's request to erase a user before the program's
retention ended (a legal override); another operator approves it, and only then is the user
erased. Neither model holds personal data: the reason is the operators' own words.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from users.models import AccountHolder, ActorKind, Channel


class Erasure(models.Model):
    user = models.OneToOneField(AccountHolder, on_delete=models.PROTECT, related_name="erasure")
    at = models.DateTimeField()
    reason = models.TextField()
    legal_override = models.BooleanField(
        default=False, help_text="Erased before the program's retention period ended."
    )
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    documents_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-at", "-id")
        permissions = [
            ("reveal_pii", "Can reveal one personal data field of a user, giving a reason"),
            ("request_erasure", "Can request a user's erasure before retention ends"),
            ("approve_erasure", "Can approve another operator's erasure request"),
        ]

    def __str__(self) -> str:
        return f"erased {self.at:%Y-%m-%d}"


class ErasureRequestState(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved", "approved (user erased)"
    REJECTED = "rejected"


class ErasureRequest(models.Model):
    """A legal-override erasure asked for by one operator, decided by a different one."""

    user = models.ForeignKey(
        AccountHolder, on_delete=models.PROTECT, related_name="erasure_requests"
    )
    reason = models.TextField(help_text="The legal ground (court order, regulator, …).")
    state = models.CharField(
        max_length=10, choices=ErasureRequestState.choices, default=ErasureRequestState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=ErasureRequestState.values), name="erasure_request_state"
            ),
            # the four-eyes rule, in the database too
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="erasure_request_other_approver",
            ),
            models.CheckConstraint(
                condition=(Q(state=ErasureRequestState.PENDING) & Q(decided_by__isnull=True))
                | (~Q(state=ErasureRequestState.PENDING) & Q(decided_by__isnull=False)),
                name="erasure_request_decided_consistent",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state=ErasureRequestState.PENDING),
                name="erasure_request_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure request ({self.state})"
