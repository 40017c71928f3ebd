"""Erasure and reveal of personal data (SPEC §15).

Erasure removes every personal value of a user and their document files, and keeps what the
platform must keep: the user row (public id, program, type, statuses, timestamps, partner
references), the status history, and the audit trail as a skeleton — which fields changed,
when, by whom — with the values replaced by `[erased]`. It is allowed only for a user in a
terminal status whose program's retention period (`Program.retention_days`) has passed since
the user was closed, unless a legal override was approved by a second operator
(`ErasureRequest`). Blacklist entries are the operators' list, not the user's record: they are
left as they are and keep blocking.

The encrypted columns (id numbers, tax ids, birth date, address lines; core/fields.py) go with
their rows or are blanked, and so do the birth date's blind indexes. What stays is the blind
index of the id numbers of a user closed as blacklisted or blocked (`KEEPS_ID_INDEX`): a keyed
hash, no number, that lets an operator's search by id number (admin `idno:`) still find the
blocked record when the number comes back — the block stays enforceable without the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from api.idempotency import stored_answer
from api.models import IdempotencyRecord
from documents.models import Document, KycSubmission
from documents.storage import document_storage
from users import audit
from users.lifecycle import Actor
from users.models import (
    TERMINAL_STATUSES,
    AccountHolder,
    EventType,
    PendingUpdate,
    Status,
    UserEvent,
    UserNote,
)

from .models import Erasure, ErasureRequest, ErasureRequestState

ERASED = "[erased]"

# Every column of AccountHolder that describes the person (SPEC §15: all of it goes).
PERSONAL_FIELDS: tuple[str, ...] = (
    "salutation",
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "maiden_name",
    "preferred_name",
    "gender",
    "marital_status",
    "nationality",
    "birth_date",
    "birth_place",
    "birth_country",
    "email",
    "mobile_country_code",
    "mobile",
    "password",
    "mothers_first_name",
    "mothers_middle_name",
    "mothers_last_name",
    "mothers_maiden_name",
    "fathers_first_name",
    "fathers_middle_name",
    "fathers_last_name",
    "employment_type",
    "occupation",
    "job_title",
    "employer_name",
    "employer_nature_of_business",
    "volume_of_assets",
    "main_income_source",
    "annual_income",
    "social_professional_category",
    "purpose_of_account",
    "country_of_residence",
    "fatca_crs_relevant",
    "fatca_crs_confirmation_date",
    "pep",
    "data_terms_signed_date",
    "metadata",
    "created_by",
)


# The closing statuses whose id-number blind indexes erasure keeps (module docstring).
KEEPS_ID_INDEX: frozenset[str] = frozenset({Status.BLACKLISTED, Status.BLOCKED})


class ErasureRefused(Exception):
    """Why a user cannot be erased (now): shown to the operator as is."""


def closed_at(user: AccountHolder) -> datetime:
    """When the user entered their terminal status (the last such change; else last write)."""
    last = user.status_changes.filter(to_status__in=sorted(TERMINAL_STATUSES)).aggregate(
        at=Max("at")
    )["at"]
    return last or user.updated_at


def retention_ends(user: AccountHolder) -> datetime:
    return closed_at(user) + timedelta(days=user.program.retention_days)


def check_erasable(user: AccountHolder, *, legal_override: bool, now: datetime) -> None:
    if Erasure.objects.filter(user=user).exists():
        raise ErasureRefused(f"user {user.public_id} is already erased.")
    if user.status not in TERMINAL_STATUSES:
        raise ErasureRefused(
            f"user {user.public_id} is {user.status}: only a user in a terminal status "
            f"({', '.join(sorted(TERMINAL_STATUSES))}) can be erased; close the account first."
        )
    if not legal_override:
        ends = retention_ends(user)
        if now < ends:
            raise ErasureRefused(
                f"the retention period of user {user.public_id} ends on {ends:%Y-%m-%d} "
                f"({user.program.retention_days} days after closure); erasing earlier needs a "
                "legal override approved by a second operator in the admin."
            )


@dataclass(frozen=True)
class ErasureResult:
    erasure: Erasure
    files: int


@transaction.atomic
def erase_user(
    *,
    user: AccountHolder,
    reason: str,
    actor: Actor,
    channel: str,
    legal_override: bool = False,
    now: datetime | None = None,
) -> ErasureResult:
    """Erase the user's personal data (SPEC §15); ErasureRefused says why it may not.

    A legal override needs an approved `ErasureRequest` of the user (two operators).
    """
    reason = reason.strip()
    if not reason:
        raise ErasureRefused("a reason is required (e.g. `retention period ended`).")
    now = now or timezone.now()
    locked = AccountHolder.objects.select_for_update().select_related("program").get(pk=user.pk)
    if (
        legal_override
        and not ErasureRequest.objects.filter(
            user=locked, state=ErasureRequestState.APPROVED
        ).exists()
    ):
        raise ErasureRefused(
            "a legal override needs a second operator's approval: request the erasure in the "
            "admin (Personal data > Erasure requests) and have another operator approve it."
        )
    check_erasable(locked, legal_override=legal_override, now=now)

    # documents: rows go now, files once the erasure commits (an orphan left by a failed
    # delete is removed by `sweep_document_files`)
    documents = Document.objects.filter(user=locked)
    names = list(documents.values_list("storage_name", flat=True))
    documents.delete()
    KycSubmission.objects.filter(user=locked).update(kyc_details=None, message="")

    if locked.status in KEEPS_ID_INDEX:
        # the number (encrypted) and the document's details go; type and blind index stay
        locked.identifications.update(
            number="",
            issue_date=None,
            expiry_date=None,
            country_of_issue=None,
            holder_live=False,
        )
    else:
        locked.identifications.all().delete()
    locked.addresses.all().delete()
    locked.tax_residencies.all().delete()
    PendingUpdate.objects.filter(user=locked).update(value=ERASED, decision_reason="")
    UserNote.objects.filter(user=locked).update(text=ERASED)
    _erase_audit_values(locked)
    _drop_idempotent_answers(locked)

    for field in PERSONAL_FIELDS:
        setattr(locked, field, None)
    locked.is_email_verified = False
    locked.is_mobile_verified = False
    locked.updated_at = now
    locked.row_version += 1
    locked.save(
        update_fields=[
            *PERSONAL_FIELDS,
            "is_email_verified",
            "is_mobile_verified",
            "updated_at",
            "row_version",
        ]
    )

    erasure = Erasure.objects.create(
        user=locked,
        at=now,
        reason=reason,
        legal_override=legal_override,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        documents_deleted=len(names),
    )
    audit.record_event(
        user=locked,
        type=EventType.ERASED,
        actor_kind=actor.kind,
        actor_id=actor.id,
        channel=channel,
        reason=reason,
        changes={"legal_override": (None, legal_override), "documents": (None, len(names))},
        at=now,
    )
    transaction.on_commit(lambda: _delete_files(names))
    return ErasureResult(erasure=erasure, files=len(names))


def _delete_files(names: list[str]) -> None:
    storage = document_storage()
    for name in names:
        storage.delete(name)


def _erase_audit_values(user: AccountHolder) -> None:
    """Keep each event's skeleton (type, who, when, which fields), drop the values."""
    events = list(UserEvent.objects.filter(user=user).only("id", "changes"))
    for event in events:
        event.changes = {
            path: [None if value is None else ERASED for value in values]
            if isinstance(values, list)
            else ERASED
            for path, values in (event.changes or {}).items()
        }
    UserEvent.objects.bulk_update(events, ["changes"], batch_size=500)


def _drop_idempotent_answers(user: AccountHolder) -> None:
    """Stored API answers (kept 24 hours for replays) that carry the user's record."""
    marker = user.public_id.encode()
    records = IdempotencyRecord.objects.filter(
        client__program_id=user.program_id, response_body__isnull=False
    ).only("id", "response_body")
    doomed = [r.pk for r in records.iterator() if marker in stored_answer(r)]
    IdempotencyRecord.objects.filter(pk__in=doomed).delete()


def flush_freed_pages() -> None:
    """SQLite keeps old page versions in its write-ahead log until a checkpoint: fold them into
    the file (where `secure_delete` zeroes freed content) and truncate the log."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def due_users(now: datetime | None = None) -> Iterator[AccountHolder]:
    """Terminal, not yet erased users whose program's retention has passed since closure."""
    now = now or timezone.now()
    candidates = (
        AccountHolder.objects.filter(status__in=sorted(TERMINAL_STATUSES), erasure__isnull=True)
        .select_related("program")
        .annotate(
            closed=Max(
                "status_changes__at",
                filter=Q(status_changes__to_status__in=sorted(TERMINAL_STATUSES)),
            )
        )
        .order_by("pk")
    )
    for user in candidates.iterator(chunk_size=500):
        closed: datetime = user.closed or user.updated_at  # type: ignore[attr-defined]
        if closed + timedelta(days=user.program.retention_days) <= now:
            yield user


# --- reveal -------------------------------------------------------------------------------

REVEALABLE: dict[str, str] = {
    "email": "e-mail",
    "mobile": "mobile",
    "birth_date": "date of birth",
    "addresses": "addresses",
    "identifications": "identification numbers",
    "tax_residencies": "tax identification numbers",
}


def revealed_value(user: AccountHolder, field: str) -> Any:
    """The clear value of one revealable field, as text lines."""
    if field == "email":
        return [user.email or "—"]
    if field == "mobile":
        return [f"+{user.mobile_country_code} {user.mobile}" if user.mobile else "—"]
    if field == "birth_date":
        return [user.birth_date.isoformat() if user.birth_date else "—"]
    if field == "addresses":
        return [
            f"{a.type}: "
            + ", ".join(
                part
                for part in (
                    a.address_1,
                    a.address_2,
                    a.address_3,
                    a.address_4,
                    a.city,
                    a.state,
                    a.zipcode,
                    a.country,
                )
                if part
            )
            for a in user.addresses.all()
        ] or ["—"]
    if field == "identifications":
        return [
            f"{'primary' if i.is_primary else 'secondary'} {i.id_type}: {i.number}"
            for i in user.identifications.all()
        ] or ["—"]
    if field == "tax_residencies":
        return [f"{t.country}: {t.tin or '—'}" for t in user.tax_residencies.all()] or ["—"]
    raise ValueError(f"{field!r} is not a revealable field")


@transaction.atomic
def reveal(*, user: AccountHolder, field: str, reason: str, operator: Any) -> list[str]:
    """One field of one user in clear, for an operator who gave a reason; recorded."""
    if field not in REVEALABLE:
        raise ErasureRefused(f"{field!r} cannot be revealed; choose one of {sorted(REVEALABLE)}.")
    reason = reason.strip()
    if not reason:
        raise ErasureRefused("a reason is required to reveal personal data.")
    if Erasure.objects.filter(user=user).exists():
        raise ErasureRefused(f"user {user.public_id} is erased: nothing to reveal.")
    audit.record_event(
        user=user,
        type=EventType.PII_REVEALED,
        actor_kind="operator",
        actor_id=operator.get_username(),
        channel="admin",
        reason=reason,
        changes={"field": (None, field)},
    )
    return [str(line) for line in revealed_value(user, field)]
