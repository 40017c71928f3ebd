"""Account holders (a program's customers) and everything recorded about them."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core import identifiers
from core.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedTextField,
    iso_date,
    iso_month,
    iso_year,
    with_indexes,
)
from programs.models import Program

_ID_SEPARATORS = re.compile(r"[\s\-]")


def canonical_id_number(number: str) -> str:
    """Upper-case, without spaces or dashes: what uniqueness, search and screening compare
    (through the number's blind index)."""
    return _ID_SEPARATORS.sub("", number).upper()


def id_number_index(canonical: str) -> str:
    """The blind index of an id number already in canonical form (`Identification.number_index`
    holds it): how a number is looked up, since the number itself is encrypted."""
    index = Identification._meta.get_field("number_index")
    assert isinstance(index, BlindIndexField)
    return index.index_of(canonical) or ""


def birth_date_indexes(value: str) -> dict[str, str]:
    """The blind-index equalities that find a birth date `YYYY-MM-DD`, month `YYYY-MM` or year
    `YYYY` (the leading columns of `user_program_birth_idx`)."""
    names = ("birth_year_index", "birth_month_index", "birth_date_index")
    wanted = {4: names[:1], 7: names[:2], 10: names}[len(value)]
    found: dict[str, str] = {}
    for name in wanted:
        field = AccountHolder._meta.get_field(name)
        assert isinstance(field, BlindIndexField)
        found[name] = field.index_of(value) or ""  # the transforms cut the ISO text
    return found


def new_public_id() -> str:
    """32 lower-case hex characters, random: the only id that leaves the service."""
    return secrets.token_hex(16)


class Status(models.TextChoices):
    PENDING = "pending"
    PENDING_VERIFICATION = "pending_verification"
    VERIFICATION_COMPLETED = "verification_completed"
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    LOCKED = "locked"
    SUSPENDED = "suspended"
    REJECTED = "rejected"
    BLACKLISTED = "blacklisted"
    BLOCKED = "blocked"
    TERMINATED = "terminated"


TERMINAL_STATUSES: frozenset[str] = frozenset(
    {Status.REJECTED, Status.BLACKLISTED, Status.BLOCKED, Status.TERMINATED}
)
PENDING_STATUSES: frozenset[str] = frozenset(
    {
        Status.PENDING,
        Status.PENDING_VERIFICATION,
        Status.VERIFICATION_COMPLETED,
        Status.PENDING_ACTIVATION,
    }
)


class SubStatus(models.TextChoices):
    ACTIVE = "active"
    USER_CREATED = "user_created"
    USER_CREATION_FAILED = "user_creation_failed"
    DOCUMENT_UPLOAD_FAILED_EXTERNAL = "document_upload_failed_external"
    DOCUMENT_UPLOAD_SUCCESS_EXTERNAL = "document_upload_success_external"
    WAITING_FOR_APPROVAL_BY_ISSUER = "waiting_for_approval_by_issuer"
    ACCOUNT_SUSPENDED_BY_ISSUER = "account_suspended_by_issuer"
    ACCOUNT_REJECTED_BY_ISSUER = "account_rejected_by_issuer"
    ACCOUNT_BLOCKED_BY_ISSUER = "account_blocked_by_issuer"
    ACCOUNT_DELETED_BY_ISSUER = "account_deleted_by_issuer"
    ACCOUNT_LOCKED = "account_locked"


class KycStatus(models.TextChoices):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class KycSubStatus(models.TextChoices):
    PENDING_DOCUMENT_SUBMISSION = "pending_document_submission"
    SUBMITTED = "submitted"
    PENDING_BANK_VERIFICATION = "pending_bank_verification"
    WAITING_FOR_APPROVAL = "waiting_for_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class RiskStatus(models.TextChoices):
    PENDING = "PENDING"
    CLEARED = "CLEARED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class AccountType(models.TextChoices):
    CUSTOMER = "customer", "customer (v1: individual)"
    CORPORATE = "corporate", "corporate (v1: business)"


class ActorKind(models.TextChoices):
    API_CLIENT = "api_client"
    OPERATOR = "operator"
    SYSTEM = "system"
    CLI = "cli"


class Channel(models.TextChoices):
    API_V1 = "api_v1"
    API_V2 = "api_v2"
    ADMIN = "admin"
    CLI = "cli"
    SYSTEM = "system"


_LIVE = ~Q(status__in=sorted(TERMINAL_STATUSES))


def canonical_contact(
    email: str | None, mobile_country_code: str | None, mobile: str | None
) -> tuple[str | None, str | None]:
    """(`email_canonical`, `mobile_e164`) of a user's contact columns. Values validation
    would refuse today (rows older than the rule) get the lenient key, so they still compare."""
    email_canonical = identifiers.email_key(email) if email else None
    mobile_e164: str | None = None
    if mobile_country_code and mobile:
        try:
            mobile_e164 = identifiers.canonical_mobile(mobile_country_code, mobile)
        except identifiers.IdentifierError:
            mobile_e164 = f"+{mobile_country_code}{mobile}"
    return email_canonical, mobile_e164


class AccountHolder(models.Model):
    """A program's customer, with every field of the v1 and v2 APIs.

    Status, KYC, risk and verification fields change only through the services (lifecycle,
    screening, reviews); clients cannot set them.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="users")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    type = models.CharField(
        max_length=10, choices=AccountType.choices, default=AccountType.CUSTOMER
    )

    # identity
    salutation = models.CharField(max_length=20, blank=True, null=True)
    title = models.CharField(max_length=20, blank=True, null=True)
    first_name = models.CharField(max_length=50, blank=True, null=True)
    middle_name = models.CharField(max_length=50, blank=True, null=True)
    last_name = models.CharField(max_length=50, blank=True, null=True)
    maiden_name = models.CharField(max_length=50, blank=True, null=True)
    preferred_name = models.CharField(max_length=25, blank=True, null=True)
    gender = models.CharField(max_length=20, blank=True, null=True)
    marital_status = models.CharField(max_length=20, blank=True, null=True)
    nationality = models.CharField(max_length=3, blank=True, null=True)
    # encrypted (SPEC §15); searched by the blind indexes of the date, its month and its year
    birth_date = EncryptedDateField(blank=True, null=True)
    birth_place = models.CharField(max_length=100, blank=True, null=True)
    birth_country = models.CharField(max_length=3, blank=True, null=True)

    # contact
    email = models.CharField(max_length=254, blank=True, null=True)
    mobile_country_code = models.CharField(max_length=3, blank=True, null=True)
    mobile = models.CharField(max_length=20, blank=True, null=True)
    # What uniqueness, filters, search and screening compare (core/identifiers.py), derived
    # from the columns above on every save; `email` / `mobile` keep what the client sent.
    email_canonical = models.CharField(max_length=254, blank=True, null=True, editable=False)
    mobile_e164 = models.CharField(max_length=20, blank=True, null=True, editable=False)
    password = models.CharField(max_length=255, blank=True, null=True, editable=False)

    # parents (v1 mothers_*; v2 mothers_details / fathers_details)
    mothers_first_name = models.CharField(max_length=50, blank=True, null=True)
    mothers_middle_name = models.CharField(max_length=50, blank=True, null=True)
    mothers_last_name = models.CharField(max_length=50, blank=True, null=True)
    mothers_maiden_name = models.CharField(max_length=50, blank=True, null=True)
    fathers_first_name = models.CharField(max_length=50, blank=True, null=True)
    fathers_middle_name = models.CharField(max_length=50, blank=True, null=True)
    fathers_last_name = models.CharField(max_length=50, blank=True, null=True)

    # partner references
    client_ref_id = models.CharField(max_length=50, blank=True, null=True)
    customer_id = models.CharField(max_length=50, blank=True, null=True)
    partner_id = models.CharField(max_length=50, blank=True, null=True)
    agent_id = models.CharField(max_length=50, blank=True, null=True)

    # employment and finances (v1 employer_name / nature_of_business = v2 employer.*)
    employment_type = models.CharField(max_length=100, blank=True, null=True)
    occupation = models.CharField(max_length=100, blank=True, null=True)
    job_title = models.CharField(max_length=100, blank=True, null=True)
    employer_name = models.CharField(max_length=50, blank=True, null=True)
    employer_nature_of_business = models.CharField(max_length=100, blank=True, null=True)
    volume_of_assets = models.CharField(max_length=100, blank=True, null=True)
    main_income_source = models.CharField(
        max_length=100, blank=True, null=True, help_text="v1 source_of_funds."
    )
    annual_income = models.CharField(max_length=100, blank=True, null=True)
    social_professional_category = models.CharField(max_length=100, blank=True, null=True)
    purpose_of_account = models.CharField(max_length=100, blank=True, null=True)
    country_of_residence = models.CharField(max_length=3, blank=True, null=True)
    fatca_crs_relevant = models.BooleanField(blank=True, null=True)
    fatca_crs_confirmation_date = models.DateTimeField(blank=True, null=True)
    pep = models.BooleanField(blank=True, null=True, help_text="Self-declared PEP.")

    # licensing provider
    provider_reference_id = models.CharField(max_length=100, blank=True, null=True)
    provider_account_number = models.CharField(max_length=100, blank=True, null=True)
    provider_posting_status = models.CharField(max_length=50, blank=True, null=True)

    data_terms_signed_date = models.DateField(blank=True, null=True)
    metadata = models.JSONField(blank=True, null=True)
    created_by = models.JSONField(blank=True, null=True)

    # lifecycle (written only by the lifecycle service)
    status = models.CharField(max_length=25, choices=Status.choices, default=Status.ACTIVE)
    sub_status = models.CharField(
        max_length=40, choices=SubStatus.choices, default=SubStatus.USER_CREATED
    )
    kyc_status = models.CharField(
        max_length=15, choices=KycStatus.choices, default=KycStatus.PENDING
    )
    kyc_sub_status = models.CharField(
        max_length=30,
        choices=KycSubStatus.choices,
        default=KycSubStatus.PENDING_DOCUMENT_SUBMISSION,
    )
    kyc_processed_at = models.DateTimeField(blank=True, null=True)
    risk_status = models.CharField(
        max_length=10, choices=RiskStatus.choices, default=RiskStatus.UNKNOWN
    )
    is_email_verified = models.BooleanField(default=False)
    is_mobile_verified = models.BooleanField(default=False)
    transaction_status = models.CharField(max_length=50, blank=True, null=True)
    transaction_sub_status = models.CharField(max_length=50, blank=True, null=True)
    wallet_created_at = models.DateTimeField(
        blank=True,
        null=True,
        help_text="Set when a wallet or card exists; names are frozen from then on.",
    )

    created_at = models.DateTimeField(db_index=False)
    updated_at = models.DateTimeField()

    # Blind indexes of the birth date (v1 search `birthday`: the day, and with fuzzy the month
    # or the year). The year and month ones tell whoever holds the database which users share
    # a birth year / month (not which year): the price of the fuzzy search (README).
    birth_date_index = BlindIndexField(
        source="birth_date", purpose="user.birth_date", transform=iso_date
    )
    birth_month_index = BlindIndexField(
        source="birth_date", purpose="user.birth_date.month", transform=iso_month
    )
    birth_year_index = BlindIndexField(
        source="birth_date", purpose="user.birth_date.year", transform=iso_year
    )
    # Bumped on every write; the v2 ETag.
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = "user"
        constraints = [
            models.UniqueConstraint(
                fields=["program", "email_canonical"],
                condition=_LIVE & Q(email_canonical__isnull=False),
                name="user_email_live_unique",
            ),
            models.UniqueConstraint(
                fields=["program", "mobile_e164"],
                condition=_LIVE & Q(mobile_e164__isnull=False),
                name="user_mobile_live_unique",
            ),
            models.UniqueConstraint(
                fields=["program", "customer_id"],
                condition=Q(customer_id__isnull=False),
                name="user_customer_id_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="user_status_valid"),
            models.CheckConstraint(
                condition=Q(sub_status__in=SubStatus.values), name="user_sub_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kyc_status__in=KycStatus.values), name="user_kyc_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kyc_sub_status__in=KycSubStatus.values),
                name="user_kyc_sub_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(risk_status__in=RiskStatus.values), name="user_risk_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(type__in=AccountType.values), name="user_type_valid"
            ),
            models.CheckConstraint(
                condition=(Q(mobile__isnull=True) & Q(mobile_country_code__isnull=True))
                | (Q(mobile__isnull=False) & Q(mobile_country_code__isnull=False)),
                name="user_mobile_both_or_neither",
            ),
        ]
        indexes = [
            # default list: newest first within a program (keyset cursor on created_at, id)
            models.Index(fields=["program", "-created_at", "-id"], name="user_program_created_idx"),
            models.Index(
                fields=["program", "status", "-created_at", "-id"], name="user_program_status_idx"
            ),
            models.Index(
                fields=["program", "kyc_status", "-created_at", "-id"], name="user_program_kyc_idx"
            ),
            models.Index(
                fields=["program", "risk_status", "-created_at", "-id"],
                name="user_program_risk_idx",
            ),
            models.Index("program", Lower("email"), name="user_program_email_idx"),
            models.Index(fields=["program", "mobile"], name="user_program_mobile_idx"),
            models.Index(
                fields=["program", "email_canonical"], name="user_program_email_canon_idx"
            ),
            models.Index(fields=["program", "mobile_e164"], name="user_program_mobile_e164_idx"),
            models.Index(fields=["program", "client_ref_id"], name="user_program_clientref_idx"),
            models.Index(fields=["program", "nationality"], name="user_program_nationality_idx"),
            models.Index(
                fields=["program", "sub_status", "-created_at", "-id"],
                name="user_program_substatus_idx",
            ),
            models.Index(
                fields=["program", "type", "-created_at", "-id"], name="user_program_type_idx"
            ),
            # v1 search by birthday (users.api.search): year, year + month, or the whole date
            models.Index(
                fields=["program", "birth_year_index", "birth_month_index", "birth_date_index"],
                name="user_program_birth_idx",
            ),
            # admin search across programs
            models.Index(Lower("email"), name="user_email_idx"),
            models.Index(fields=["mobile"], name="user_mobile_idx"),
            models.Index(fields=["email_canonical"], name="user_email_canonical_idx"),
            models.Index(fields=["mobile_e164"], name="user_mobile_e164_idx"),
            models.Index(fields=["customer_id"], name="user_customer_id_idx"),
            models.Index(fields=["client_ref_id"], name="user_client_ref_idx"),
            models.Index(fields=["status", "-created_at"], name="user_status_created_idx"),
            models.Index(fields=["-created_at", "-id"], name="user_created_idx"),
        ]

    def __str__(self) -> str:
        return self.public_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The canonical columns are derived from this row's own columns, so every writer
        # (services, pending-update approval, admin, fixtures) keeps them in step.
        self.email_canonical, self.mobile_e164 = canonical_contact(
            self.email, self.mobile_country_code, self.mobile
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            names = with_indexes(AccountHolder, update_fields)
            if "email" in names:
                names.add("email_canonical")
            if names & {"mobile_country_code", "mobile"}:
                names.add("mobile_e164")
            kwargs["update_fields"] = names
        super().save(*args, **kwargs)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def names_frozen(self) -> bool:
        return self.wallet_created_at is not None


class Identification(models.Model):
    """An identity document: at most one primary and one secondary (v1 alt_id_*) per user.

    `program` and `holder_live` copy the user's program and non-terminal state so that the
    database can enforce the id type's `max_duplicate`: each live holder of a number takes a
    distinct `dup_slot` below the limit, and (program, type, number, slot) is unique — the
    number compared by its blind index (`number_index`), the number itself stored encrypted.
    """

    user = models.ForeignKey(
        AccountHolder, on_delete=models.CASCADE, related_name="identifications"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    is_primary = models.BooleanField(default=True)
    id_type = models.CharField(max_length=30)
    number = EncryptedTextField(max_length=30)
    # HMAC of the canonical number (upper-case, no spaces or dashes); kept by erasure for the
    # blacklisted and blocked (privacy.services)
    number_index = BlindIndexField(
        source="number", purpose="identification.number", transform=canonical_id_number
    )
    issue_date = models.DateField(blank=True, null=True)
    expiry_date = models.DateField(blank=True, null=True)
    country_of_issue = models.CharField(max_length=3, blank=True, null=True)
    holder_live = models.BooleanField(default=True)
    dup_slot = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("user_id", "-is_primary")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "is_primary"], name="identification_one_per_rank"
            ),
            models.UniqueConstraint(
                fields=["program", "id_type", "number_index", "dup_slot"],
                condition=Q(holder_live=True),
                name="identification_number_slot_unique",
            ),
        ]
        indexes = [
            # search by number (v1 search, admin, blacklist preview), in a program or across
            models.Index(fields=["number_index"], name="identification_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.id_type} ({'primary' if self.is_primary else 'secondary'})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = with_indexes(Identification, kwargs["update_fields"])
        super().save(*args, **kwargs)

    @property
    def number_canonical(self) -> str:
        return canonical_id_number(self.number) if self.number else ""


class AddressType(models.TextChoices):
    RESIDENTIAL = "residential"
    BILLING = "billing"
    MAILING = "mailing"
    WORK = "work"
    EMPLOYER = "employer", "employer (v2 employer.address)"


class Address(models.Model):
    """A typed postal address; one per type per user. The lines, city, state and zipcode are
    encrypted (SPEC §15)."""

    user = models.ForeignKey(AccountHolder, on_delete=models.CASCADE, related_name="addresses")
    type = models.CharField(max_length=12, choices=AddressType.choices)
    address_1 = EncryptedTextField(max_length=255, blank=True, null=True)
    address_2 = EncryptedTextField(max_length=255, blank=True, null=True)
    address_3 = EncryptedTextField(max_length=255, blank=True, null=True)
    address_4 = EncryptedTextField(max_length=255, blank=True, null=True)
    city = EncryptedTextField(max_length=100, blank=True, null=True)
    state = EncryptedTextField(max_length=100, blank=True, null=True)
    # the country stays clear: a country code says little about the person, and screening
    # and reports group by it
    country = models.CharField(max_length=3, blank=True, null=True)
    zipcode = EncryptedTextField(max_length=20, blank=True, null=True)

    class Meta:
        ordering = ("user_id", "type")
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["user", "type"], name="address_one_per_type"),
            models.CheckConstraint(
                condition=Q(type__in=AddressType.values), name="address_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.type


class TaxResidency(models.Model):
    """A country where the user is tax resident, with the tax identification number."""

    user = models.ForeignKey(
        AccountHolder, on_delete=models.CASCADE, related_name="tax_residencies"
    )
    country = models.CharField(max_length=3)
    tin = EncryptedTextField(max_length=50, blank=True, null=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("user_id", "position")
        verbose_name_plural = "tax residencies"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "country"], name="tax_residency_one_per_country"
            ),
        ]

    def __str__(self) -> str:
        return self.country


class StatusChange(models.Model):
    """One row per real status transition: who, when, from, to, why."""

    user = models.ForeignKey(AccountHolder, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=25, blank=True, null=True)
    to_status = models.CharField(max_length=25)
    from_sub_status = models.CharField(max_length=40, blank=True, null=True)
    to_sub_status = models.CharField(max_length=40, blank=True, null=True)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reason = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["user", "-at", "-id"], name="statuschange_user_at_idx")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class EventType(models.TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    SCREENED = "screened"
    PENDING_UPDATE_REQUESTED = "pending_update_requested"
    PENDING_UPDATE_APPROVED = "pending_update_approved"
    PENDING_UPDATE_REJECTED = "pending_update_rejected"
    REVIEWED = "reviewed"
    # KYC documents (SPEC §12; written by the documents app)
    DOCUMENT_UPLOADED = "document_uploaded"
    DOCUMENT_DELETED = "document_deleted"
    KYC_SUBMITTED = "kyc_submitted"
    KYC_DECIDED = "kyc_decided"
    # personal data protection (SPEC §15; written by the privacy app)
    PII_REVEALED = "pii_revealed"
    ERASED = "erased"


def new_event_id() -> str:
    return secrets.token_hex(16)


class UserEvent(models.Model):
    """The audit trail: every write to a user, with field changes old → new (PII masked)."""

    public_id = models.CharField(max_length=32, unique=True, default=new_event_id, editable=False)
    user = models.ForeignKey(AccountHolder, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=30, choices=EventType.choices)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=150, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField()
    # the partner event (SPEC §13) this write publishes, "" when it is internal only; set by
    # users/audit.py, with `sequence` increasing per user over the published events
    topic = models.CharField(max_length=40, blank=True, default="")
    sequence = models.PositiveBigIntegerField(blank=True, null=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["user", "-at", "-id"], name="userevent_user_at_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "sequence"], name="userevent_user_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} at {self.at:%Y-%m-%d %H:%M:%S}"


class PendingUpdateStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PendingUpdate(models.Model):
    """A change to a verified email or mobile, held until an operator approves it."""

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    user = models.ForeignKey(
        AccountHolder, on_delete=models.CASCADE, related_name="pending_updates"
    )
    field = models.CharField(max_length=30)
    value = models.JSONField()
    reason = models.CharField(max_length=50, default="verification_required")
    status = models.CharField(
        max_length=10, choices=PendingUpdateStatus.choices, default=PendingUpdateStatus.PENDING
    )
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(blank=True, null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, blank=True, null=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ("-requested_at", "-id")
        constraints = [
            # one open request per field per user; a newer request replaces the older one
            models.UniqueConstraint(
                fields=["user", "field"],
                condition=Q(status="pending"),
                name="pending_update_one_open_per_field",
            ),
        ]
        indexes = [models.Index(fields=["status", "-requested_at"], name="pendingupdate_queue_idx")]

    def __str__(self) -> str:
        return f"{self.field} ({self.status})"


class UserNote(models.Model):
    """A note an operator left on a user."""

    user = models.ForeignKey(AccountHolder, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-at", "-id")

    def __str__(self) -> str:
        return self.text[:50]
