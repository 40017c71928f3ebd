"""The KYC documents flow (SPEC §12): upload, delete, confirm, decide, read.

Every write locks the user's row first, so the rules that count (at most 4 documents in the
open submission, nothing added to a submitted one) hold under concurrency: of two uploads
racing for the last slot exactly one wins, the other answers `resource_document_limit_exceeded`.
Files are written to storage before the lock (an 8 MiB upload to a bucket must not hold a
row lock) and removed again when the database refuses them; deleted documents lose their
file once the deletion commits. Each step is an event in the user's audit trail; KYC
decisions go through `users.kyc`, which moves the user on through the lifecycle service.
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core import error_codes
from core.exceptions import ApiError, FieldError
from documents.content import ContentRefused, check_content
from documents.models import (
    CURRENT_STATES,
    Document,
    DocumentRead,
    KycSubmission,
    SubmissionState,
)
from documents.storage import (
    document_storage,
    new_storage_name,
    open_decrypted,
    save_encrypted,
)
from enumerations.catalog import Catalog
from users import audit, kyc
from users.lifecycle import Actor
from users.models import AccountHolder, AddressType, EventType, KycStatus, KycSubStatus

# The details KYC needs (MatchMove's names), checked when a submission is confirmed.
PREREQUISITES = ("title", "id_type", "id_number", "country_of_issue", "gender", "address")


# --- reads ----------------------------------------------------------------------------------


def current_submission(user: AccountHolder) -> KycSubmission | None:
    """The user's open or submitted submission, if any."""
    return KycSubmission.objects.filter(user=user, state__in=CURRENT_STATES).first()


def latest_submission(user: AccountHolder) -> KycSubmission | None:
    """The newest submission (current or decided), with its documents."""
    return (
        KycSubmission.objects.filter(user=user)
        .prefetch_related("documents")
        .order_by("-created_at", "-id")
        .first()
    )


def submissions_of(user: AccountHolder) -> QuerySet[KycSubmission]:
    """The user's submissions, newest first, documents prefetched (2 queries)."""
    return (
        KycSubmission.objects.filter(user=user)
        .prefetch_related("documents")
        .order_by("-created_at", "-id")
    )


def document_get(user: AccountHolder, document_id: object) -> Document:
    """The user's document by public id (file name `<id>.<ext>` accepted), or the 404."""
    if not isinstance(document_id, str) or not document_id:
        raise ApiError(error_codes.DOCUMENT_NOT_FOUND)
    public_id = document_id.rsplit("/", 1)[-1].split(".", 1)[0]
    document = (
        Document.objects.filter(user=user, public_id=public_id).select_related("submission").first()
    )
    if document is None:
        raise ApiError(error_codes.DOCUMENT_NOT_FOUND)
    return document


# --- writes ---------------------------------------------------------------------------------


def check_types(
    *,
    catalog: Catalog,
    restrictions: dict[str, list[str]] | None,
    document_type: Any,
    kyc_type: Any,
) -> tuple[str, str]:
    """Both enumeration codes as the catalog spells them, or every failing one as an error."""
    errors: list[FieldError] = []
    found: dict[str, str] = {}
    for name, kind, code, value in (
        ("document_type", "document_types", error_codes.DOCUMENT_TYPE_NOT_ALLOWED, document_type),
        ("kyc_type", "kyc_types", error_codes.KYC_TYPE_NOT_ALLOWED, kyc_type),
    ):
        entry = (
            catalog.lookup(kind, value, restrictions=restrictions)
            if isinstance(value, str) and value.strip()
            else None
        )
        if entry is None:
            errors.append(FieldError(name, code))
        else:
            found[name] = entry.code
    if errors:
        raise ApiError.from_field_errors(errors)
    return found["document_type"], found["kyc_type"]


def _lock_user(user: AccountHolder) -> AccountHolder:
    return AccountHolder.objects.select_for_update().get(pk=user.pk)


def _refuse_if_closed(user: AccountHolder) -> None:
    """Documents go into an open submission; a submitted or approved KYC takes none."""
    latest = KycSubmission.objects.filter(user=user).order_by("-created_at", "-id").first()
    if latest is not None and latest.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED):
        raise ApiError(error_codes.KYC_ALREADY_SUBMITTED)


def document_upload(
    *,
    user: AccountHolder,
    source: IO[bytes],
    document_type: Any,
    kyc_type: Any,
    actor: Actor,
    channel: str,
    catalog: Catalog,
    field: str = "file",
) -> Document:
    """Check the file by its content, store it, and add it to the user's open submission.

    Refusals (types, format, size, a fifth document, a submitted KYC) store nothing: no row,
    no file, no event.
    """
    doc_type, kyc_code = check_types(
        catalog=catalog,
        restrictions=user.program.restrictions or None,
        document_type=document_type,
        kyc_type=kyc_type,
    )
    _refuse_if_closed(user)  # early, before the work of checking and storing the file
    try:
        checked = check_content(source)
    except ContentRefused as refused:
        raise ApiError.field(field, refused.code, refused.reason) from refused
    storage = document_storage()
    name = save_encrypted(storage, new_storage_name(checked.extension), checked.file)
    try:
        return _document_insert(
            user=user,
            name=name,
            checked=checked,
            document_type=doc_type,
            kyc_type=kyc_code,
            actor=actor,
            channel=channel,
        )
    except BaseException:
        storage.delete(name)
        raise
    finally:
        checked.file.close()


@transaction.atomic
def _document_insert(
    *,
    user: AccountHolder,
    name: str,
    checked: Any,
    document_type: str,
    kyc_type: str,
    actor: Actor,
    channel: str,
) -> Document:
    locked = _lock_user(user)
    _refuse_if_closed(locked)
    now = timezone.now()
    submission = current_submission(locked)
    if submission is None:
        submission = KycSubmission.objects.create(user=locked, created_at=now, kyc_type=kyc_type)
    held = Document.objects.filter(submission=submission).count()
    if held >= settings.DOCUMENT_MAX_PER_SUBMISSION:
        raise ApiError(error_codes.DOCUMENT_LIMIT_EXCEEDED)
    document = Document.objects.create(
        submission=submission,
        user=locked,
        document_type=document_type,
        kyc_type=kyc_type,
        storage_name=name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        width=checked.width,
        height=checked.height,
        pages=checked.pages,
        uploaded_by_kind=actor.kind,
        uploaded_by=actor.id,
        uploaded_at=now,
    )
    audit.record_event(
        user=locked,
        type=EventType.DOCUMENT_UPLOADED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        changes={"document_id": (None, document.public_id)},
        reason=f"{document_type} ({checked.content_type}, {checked.size} bytes)",
        at=now,
    )
    return document


@transaction.atomic
def document_delete(
    *, user: AccountHolder, document_id: object, actor: Actor, channel: str
) -> None:
    """Remove a document of the open submission; its file goes once the deletion commits."""
    locked = _lock_user(user)
    document = document_get(locked, document_id)
    if document.submission.state != SubmissionState.OPEN:
        raise ApiError(error_codes.KYC_ALREADY_SUBMITTED)
    name = document.storage_name
    public_id = document.public_id
    document.delete()
    audit.record_event(
        user=locked,
        type=EventType.DOCUMENT_DELETED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        changes={"document_id": (public_id, None)},
        reason=document.document_type,
    )
    transaction.on_commit(lambda: document_storage().delete(name))


def missing_prerequisites(user: AccountHolder) -> list[str]:
    """The PREREQUISITES the user lacks, in their order."""
    primary = user.identifications.filter(is_primary=True).first()
    has = {
        "title": bool(user.title),
        "id_type": bool(primary and primary.id_type),
        "id_number": bool(primary and primary.number),
        "country_of_issue": bool(primary and primary.country_of_issue),
        "gender": bool(user.gender),
        "address": user.addresses.filter(type=AddressType.RESIDENTIAL)
        .exclude(address_1__isnull=True)
        .exclude(address_1="")
        .exists(),
    }
    return [name for name in PREREQUISITES if not has[name]]


@transaction.atomic
def kyc_submit(*, user: AccountHolder, actor: Actor, channel: str) -> KycSubmission:
    """Confirm the open submission: `kyc_status` `in_progress` / `submitted`."""
    locked = _lock_user(user)
    submission = current_submission(locked)
    if submission is not None and submission.state == SubmissionState.SUBMITTED:
        raise ApiError(error_codes.KYC_ALREADY_SUBMITTED)
    if submission is None or not submission.documents.exists():
        latest = KycSubmission.objects.filter(user=locked).order_by("-created_at", "-id").first()
        if latest is not None and latest.state == SubmissionState.APPROVED:
            raise ApiError(error_codes.KYC_ALREADY_SUBMITTED)
        raise ApiError(error_codes.KYC_NO_DOCUMENTS)
    missing = missing_prerequisites(locked)
    if missing:
        raise ApiError(
            error_codes.KYC_PREREQUISITES_MISSING,
            errors=[FieldError(name, f"resource_user_{name}_required") for name in missing],
        )
    now = timezone.now()
    submission.state = SubmissionState.SUBMITTED
    submission.submitted_at = now
    submission.save(update_fields=["state", "submitted_at"])
    changes = {
        "kyc_status": (locked.kyc_status, KycStatus.IN_PROGRESS.value),
        "kyc_sub_status": (locked.kyc_sub_status, KycSubStatus.SUBMITTED.value),
    }
    AccountHolder.objects.filter(pk=locked.pk).update(
        kyc_status=KycStatus.IN_PROGRESS,
        kyc_sub_status=KycSubStatus.SUBMITTED,
        updated_at=now,
        row_version=F("row_version") + 1,
    )
    audit.record_event(
        user=locked,
        type=EventType.KYC_SUBMITTED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        changes=changes,
        reason=f"submission {submission.public_id}",
        at=now,
    )
    return submission


@transaction.atomic
def kyc_decide(
    *,
    user: AccountHolder,
    approve: bool,
    message: str,
    actor: Actor,
    channel: str,
    kyc_details: Any = None,
    kyc_type: str = "",
) -> KycSubmission:
    """Approve or reject the submitted KYC (operator, or a partner with `kyc_decisions`).

    The user's KYC fields, and on approval its status, move through `users.kyc` (the same
    decision operators make from the user page). A rejection needs a message for the partner.
    """
    message = (message or "").strip()
    if not approve and not message:
        raise ApiError.field("message", error_codes.KYC_MESSAGE_REQUIRED)
    locked = _lock_user(user)
    submission = (
        KycSubmission.objects.select_for_update()
        .filter(user=locked, state=SubmissionState.SUBMITTED)
        .first()
    )
    if submission is None:
        raise ApiError(error_codes.KYC_NOT_SUBMITTED)
    decide = kyc.kyc_approve if approve else kyc.kyc_reject
    target = KycSubStatus.APPROVED if approve else KycSubStatus.REJECTED
    # an operator may already have decided from the user page's KYC tool (users.kyc directly):
    # then only the submission is closed, the user already carries the decision
    if locked.kyc_sub_status != target:
        decider = actor.id if actor.kind == "operator" else f"{actor.kind}:{actor.id}"
        try:
            decide(user=locked, operator=decider, reason=message or "KYC approved")
        except ValidationError as exc:
            raise ApiError(
                error_codes.KYC_NOT_SUBMITTED, description=" ".join(exc.messages)
            ) from exc
    now = timezone.now()
    submission.state = SubmissionState.APPROVED if approve else SubmissionState.REJECTED
    submission.decided_at = now
    submission.decided_by_kind = actor.kind
    submission.decided_by = actor.id
    submission.message = message
    submission.kyc_details = kyc_details
    if kyc_type:
        submission.kyc_type = kyc_type
    submission.save(
        update_fields=[
            "state",
            "decided_at",
            "decided_by_kind",
            "decided_by",
            "message",
            "kyc_details",
            "kyc_type",
        ]
    )
    audit.record_event(
        user=locked,
        type=EventType.KYC_DECIDED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        changes={"kyc_submission": (SubmissionState.SUBMITTED.value, submission.state)},
        reason=message,
        at=now,
    )
    return submission


def document_read(
    *,
    document: Document,
    reader: Actor,
    channel: str,
    operator: Any = None,
    in_memory: bool = False,
) -> IO[bytes]:
    """Open the document's bytes for reading, recording who read which document and when.

    `in_memory`: the cleartext never touches the disk (see `storage.open_decrypted`)."""
    DocumentRead.objects.create(
        document=document,
        reader_kind=reader.kind,
        reader=reader.id,
        operator=operator,
        channel=channel,
        at=timezone.now(),
    )
    return open_decrypted(document_storage(), document.storage_name, in_memory=in_memory)


def reads_of(documents: list[Document]) -> QuerySet[DocumentRead]:
    """The recorded reads of these documents, newest first."""
    return DocumentRead.objects.filter(document__in=documents).select_related("document")
