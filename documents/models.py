"""KYC evidence (SPEC §12): a user's submissions and the files in them, and who read them.

A `KycSubmission` is one round of evidence: `open` while the partner uploads, `submitted` once
confirmed, then `approved` or `rejected`. At most one submission per user is current (open or
submitted) — a named partial unique constraint. After a rejection the partner uploads into a
new open submission; decided submissions are kept as history.

A `Document` is a file in the `documents` storage under a random name, with what the content
check found: its real type, size, SHA-256, pixel dimensions or page count.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from users.models import AccountHolder, ActorKind, Channel


def new_public_id() -> str:
    return secrets.token_hex(16)


class SubmissionState(models.TextChoices):
    OPEN = "open"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


CURRENT_STATES = (SubmissionState.OPEN, SubmissionState.SUBMITTED)
DECIDED_STATES = (SubmissionState.APPROVED, SubmissionState.REJECTED)


class ContentType(models.TextChoices):
    JPEG = "image/jpeg", "JPEG image"
    PNG = "image/png", "PNG image"
    PDF = "application/pdf", "PDF document"


class KycSubmission(models.Model):
    """One round of a user's KYC evidence: open, submitted, then decided."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(
        AccountHolder, on_delete=models.CASCADE, related_name="kyc_submissions"
    )
    state = models.CharField(
        max_length=10, choices=SubmissionState.choices, default=SubmissionState.OPEN
    )
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(blank=True, null=True)
    decided_at = models.DateTimeField(blank=True, null=True)
    decided_by_kind = models.CharField(max_length=12, choices=ActorKind.choices, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    message = models.TextField(
        blank=True, help_text="The decision's message for the partner (the KYC sub-status text)."
    )
    kyc_type = models.CharField(max_length=64, blank=True)
    kyc_details = models.JSONField(blank=True, null=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=["open", "submitted"]),
                name="kyc_submission_one_current_per_user",
            ),
            models.CheckConstraint(
                condition=Q(state__in=SubmissionState.values), name="kyc_submission_state_valid"
            ),
        ]
        indexes = [
            # the back-office queue: submitted, oldest first
            models.Index(fields=["state", "submitted_at"], name="kyc_submission_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"KYC submission {self.public_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state == SubmissionState.OPEN


class Document(models.Model):
    """A file of KYC evidence, stored under a random name in the `documents` storage."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    submission = models.ForeignKey(
        KycSubmission, on_delete=models.PROTECT, related_name="documents"
    )
    user = models.ForeignKey(AccountHolder, on_delete=models.CASCADE, related_name="kyc_documents")
    document_type = models.CharField(max_length=64)
    kyc_type = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=255, unique=True, editable=False)
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    size = models.PositiveIntegerField(help_text="Bytes, as stored.")
    sha256 = models.CharField(max_length=64, help_text="Of the stored bytes.")
    width = models.PositiveIntegerField(blank=True, null=True)
    height = models.PositiveIntegerField(blank=True, null=True)
    pages = models.PositiveIntegerField(blank=True, null=True)
    uploaded_by_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ("uploaded_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=ContentType.values), name="document_content_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type} ({self.public_id})"

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[
            self.content_type
        ]

    @property
    def file_name(self) -> str:
        """The name a download carries (never a client's file name)."""
        return f"{self.public_id}.{self.extension}"


class DocumentRead(models.Model):
    """A read of a document's bytes: by whom, when, through which channel."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="reads")
    reader_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    reader = models.CharField(max_length=150)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return f"{self.reader} read {self.document_id} at {self.at:%Y-%m-%d %H:%M}"


class KycQueueEntry(KycSubmission):
    """The back-office KYC queue: submitted submissions, oldest first (a proxy)."""

    class Meta:
        proxy = True
        verbose_name = "KYC queue entry"
        verbose_name_plural = "KYC queue"
