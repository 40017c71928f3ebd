"""What both API versions share: the streamed upload view base and the answers' pieces."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework.request import Request

from api.parsers import JSONParser, MultiPartParser
from api.views import ProgramAPIView
from core import error_codes
from core.exceptions import ApiError, FieldError
from documents import services
from documents.api.parsing import CHUNK, UploadInput, parse_upload, spool_body
from documents.links import signed_link
from documents.models import Document, KycSubmission, SubmissionState
from users.lifecycle import Actor
from users.models import AccountHolder

UPLOAD_FIELDS = ("document_type", "kyc_type")

SUBMISSION_KYC = {
    SubmissionState.OPEN: ("pending", "pending_document_submission"),
    SubmissionState.SUBMITTED: ("in_progress", "submitted"),
    SubmissionState.APPROVED: ("completed", "approved"),
    SubmissionState.REJECTED: ("completed", "rejected"),
}


def utc(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


class DocumentsAPIView(ProgramAPIView):
    """Upload-aware: a POST body is spooled to disk and parsed before the handler runs.

    The Idempotency-Key fingerprint of an upload is its content — the text fields and the
    decoded file's SHA-256 — not its raw bytes, so a retry whose multipart boundary differs
    still replays (api.idempotency uses `request.body_fingerprint` when a view sets it).
    """

    parser_classes = [JSONParser, MultiPartParser]
    channel = ""
    takes_upload = False
    upload_fields: tuple[str, ...] = ()
    upload: UploadInput | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and self.takes_upload:
            spooled = spool_body(request)
            try:
                self.upload = parse_upload(request, spooled, allowed=self.upload_fields)
            finally:
                spooled.file.close()
            request.body_fingerprint = upload_fingerprint(self.upload)  # type: ignore[attr-defined]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if self.upload is not None:
            self.upload.close()
            self.upload = None
        return super().finalize_response(request, response, *args, **kwargs)

    def actor(self) -> Actor:
        return Actor.api_client(self.client)

    def read_upload(self) -> UploadInput:
        """The parsed upload, or every error in it (types first, then the file, then unknowns)."""
        upload = self.upload
        assert upload is not None
        if upload.file is None and not any(e.field == upload.file_field for e in upload.errors):
            upload.errors.append(FieldError(upload.file_field, error_codes.DOCUMENT_DATA_INVALID))
        errors = [*self.type_errors(upload), *upload.errors]
        if errors:
            raise ApiError.from_field_errors(errors)
        return upload

    def type_errors(self, upload: UploadInput) -> list[FieldError]:
        """The enumeration checks, reported with the file's errors (types first)."""
        try:
            services.check_types(
                catalog=self.catalog,
                restrictions=self.program.restrictions or None,
                document_type=upload.fields.get("document_type"),
                kyc_type=upload.fields.get("kyc_type"),
            )
        except ApiError as refused:
            return refused.errors
        return []

    def store(self, request: Request, user: AccountHolder, upload: UploadInput) -> Document:
        assert upload.file is not None
        try:
            return services.document_upload(
                user=user,
                source=upload.file,
                document_type=upload.fields.get("document_type"),
                kyc_type=upload.fields.get("kyc_type"),
                actor=self.actor(),
                channel=self.channel,
                catalog=self.catalog,
                field=upload.file_field,
            )
        finally:
            upload.close()

    def link(self, document: Document) -> tuple[str, Any]:
        return signed_link(
            self.request, document, reader=self.client.client_id, channel=self.channel
        )


def upload_fingerprint(upload: UploadInput) -> bytes:
    """What identifies an upload request: its text fields (sorted) and the file's SHA-256."""
    digest = hashlib.sha256()
    fields = {k: v for k, v in upload.fields.items() if k != "data"}
    digest.update(json.dumps(fields, sort_keys=True, default=str).encode())
    digest.update(b"\0")
    if upload.file is not None:
        upload.file.seek(0)
        while chunk := upload.file.read(CHUNK):
            digest.update(chunk)
        upload.file.seek(0)
    for error in upload.errors:
        digest.update(f"\0{error.field}:{error.code}".encode())
    return digest.hexdigest().encode()


def submission_kyc(submission: KycSubmission | None) -> tuple[str, str]:
    if submission is None:
        return SUBMISSION_KYC[SubmissionState.OPEN]
    return SUBMISSION_KYC[SubmissionState(submission.state)]
