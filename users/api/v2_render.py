"""The v2 user as it leaves the service: output serializers (also the OpenAPI response schema).

Fixed shape: every key is always present; absent values are `null`. The nested objects
`birth`, `mothers_details`, `fathers_details`, `employer` and `provider` are always objects
(their members `null` when unset), so a typed client never has to tell a missing object from
an empty one. Lists are `[]` when empty. Date-times are UTC `YYYY-MM-DDTHH:MM:SSZ`; dates
`YYYY-MM-DD`. Id numbers of id types marked `masking` show only their last 4 characters.

Rendering reads only what `V2_PREFETCH` loads: a page of users costs the same number of
queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.masking import mask_number
from enumerations.catalog import Catalog
from users.api.common import id_type_masks, shown_number
from users.api.v2_parsing import v2_field_name
from users.models import (
    AccountHolder,
    AccountType,
    Address,
    AddressType,
    Identification,
    KycStatus,
    KycSubStatus,
    PendingUpdate,
    PendingUpdateStatus,
    RiskStatus,
    Status,
    SubStatus,
    TaxResidency,
    UserEvent,
)
from users.selectors import is_public_id, open_pending_updates, required_actions

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Order of `addresses` in a response (employer's address is `employer.address`).
LISTED_ADDRESS_TYPES: tuple[str, ...] = (
    AddressType.RESIDENTIAL,
    AddressType.BILLING,
    AddressType.MAILING,
    AddressType.WORK,
)

# What rendering a v2 user reads beyond its own row; selectors and views apply it.
V2_PREFETCH: tuple[str | Prefetch[Any], ...] = (
    "identifications",
    "addresses",
    "tax_residencies",
    Prefetch(
        "pending_updates",
        queryset=PendingUpdate.objects.filter(status=PendingUpdateStatus.PENDING).order_by(
            "requested_at", "id"
        ),
        to_attr="open_pending_updates",
    ),
)


def with_v2_relations(queryset: QuerySet[AccountHolder]) -> QuerySet[AccountHolder]:
    return queryset.prefetch_related(*V2_PREFETCH)


def etag_for(user: AccountHolder) -> str:
    """Strong entity tag: `row_version` changes on every write to the user."""
    return f'"{user.row_version}"'


class UtcDateTimeField(serializers.DateTimeField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(format=DATETIME_FORMAT, default_timezone=UTC, **kwargs)


def _text(source: str | None = None, help_text: str = "", **kwargs: Any) -> serializers.CharField:
    extra: dict[str, Any] = {"allow_null": True, "help_text": help_text, **kwargs}
    if source:
        extra["source"] = source
    return serializers.CharField(**extra)


class BirthOut(serializers.Serializer):
    date = serializers.DateField(source="birth_date", allow_null=True)
    place = _text("birth_place")
    country = _text("birth_country", "ISO 3166 alpha-3.")


class MothersDetailsOut(serializers.Serializer):
    first_name = _text("mothers_first_name")
    middle_name = _text("mothers_middle_name")
    last_name = _text("mothers_last_name")
    maiden_name = _text("mothers_maiden_name")


class FathersDetailsOut(serializers.Serializer):
    first_name = _text("fathers_first_name")
    middle_name = _text("fathers_middle_name")
    last_name = _text("fathers_last_name")


class AddressFieldsOut(serializers.Serializer):
    address_1 = _text()
    address_2 = _text()
    address_3 = _text()
    address_4 = _text()
    city = _text()
    state = _text()
    country = _text(help_text="ISO 3166 alpha-3.")
    zipcode = _text()


class AddressOut(AddressFieldsOut):
    type = serializers.ChoiceField(choices=list(LISTED_ADDRESS_TYPES))


class EmployerOut(serializers.Serializer):
    name = _text("employer_name")
    nature_of_business = _text("employer_nature_of_business")
    address = serializers.SerializerMethodField()

    @extend_schema_field(AddressFieldsOut(allow_null=True))
    def get_address(self, user: AccountHolder) -> dict[str, Any] | None:
        address = _addresses_by_type(user).get(AddressType.EMPLOYER)
        return None if address is None else dict(AddressFieldsOut(address).data)


class ProviderOut(serializers.Serializer):
    reference_id = _text("provider_reference_id")
    account_number = _text("provider_account_number")
    posting_status = _text("provider_posting_status")


class IdentificationOut(serializers.Serializer):
    type = _text("id_type", "Id type code (enumeration `id_types`).")
    number = serializers.SerializerMethodField(
        help_text="Masked (all but the last 4 characters) for id types with `masking`."
    )
    issue_date = serializers.DateField(allow_null=True)
    expiry_date = serializers.DateField(allow_null=True)
    country_of_issue = _text(help_text="ISO 3166 alpha-3.")
    is_primary = serializers.BooleanField()

    def get_number(self, item: Identification) -> str:
        # the same masking as v1
        return shown_number(self.context["catalog"], item)


class TaxResidencyOut(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166 alpha-3.")
    tin = _text(help_text="Tax identification number.")


class PendingUpdateOut(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    field = serializers.CharField(help_text="`email` or `mobile`.")
    value = serializers.JSONField(help_text="The requested value, applied once approved.")
    reason = serializers.CharField(help_text="Why it waits, e.g. `verification_required`.")
    status = serializers.ChoiceField(choices=PendingUpdateStatus.choices)
    requested_at = UtcDateTimeField(allow_null=False)


class RequiredActionOut(serializers.Serializer):
    property = serializers.CharField(help_text="The user property concerned, e.g. `email`.")
    action = serializers.CharField(help_text="What the end-user must do, e.g. `verify`.")


class LinkOut(serializers.Serializer):
    method = serializers.CharField()
    rel = serializers.CharField()
    href = serializers.CharField()


class V2UserOut(serializers.Serializer):
    """The v2 user (SPEC §5)."""

    id = serializers.CharField(source="public_id", help_text="32 lower-case hex characters.")
    hash_id = serializers.CharField(source="public_id", help_text="Same as `id`.")
    type = serializers.ChoiceField(choices=AccountType.values)
    client_ref_id = _text()
    salutation = _text()
    title = _text()
    first_name = _text()
    middle_name = _text()
    last_name = _text()
    maiden_name = _text()
    preferred_name = _text()
    gender = _text()
    email = _text()
    mobile_country_code = _text(help_text="Calling code without `+`.")
    mobile = _text(help_text="National number, digits only.")
    marital_status = _text()
    identification = serializers.SerializerMethodField()
    birth = BirthOut(source="*")
    nationality = _text(help_text="ISO 3166 alpha-3.")
    mothers_details = MothersDetailsOut(source="*")
    fathers_details = FathersDetailsOut(source="*")
    addresses = serializers.SerializerMethodField()
    employment_type = _text()
    job_title = _text()
    employer = EmployerOut(source="*")
    annual_income = _text()
    main_income_source = _text()
    social_professional_category = _text()
    purpose_of_account = _text()
    country_of_residence = _text(help_text="ISO 3166 alpha-3.")
    tax_residencies = TaxResidencyOut(many=True)
    fatca_crs_relevant = serializers.BooleanField(allow_null=True)
    fatca_crs_confirmation_date = UtcDateTimeField()
    pep = serializers.BooleanField(allow_null=True, help_text="Self-declared PEP.")
    provider = ProviderOut(source="*")
    data_terms_signed_date = serializers.DateField(allow_null=True)
    metadata = serializers.JSONField(allow_null=True)
    created_by = serializers.JSONField(allow_null=True)
    customer_id = _text()
    partner_id = _text()
    agent_id = _text()
    status = serializers.ChoiceField(choices=Status.values)
    sub_status = serializers.ChoiceField(choices=SubStatus.values)
    kyc_status = serializers.ChoiceField(choices=KycStatus.values)
    kyc_sub_status = serializers.ChoiceField(choices=KycSubStatus.values)
    kyc_processed_date = UtcDateTimeField(source="kyc_processed_at")
    risk_status = serializers.ChoiceField(choices=RiskStatus.values)
    is_email_verified = serializers.SerializerMethodField(help_text="1 or 0.")
    is_mobile_verified = serializers.SerializerMethodField(help_text="1 or 0.")
    transaction_status = _text()
    transaction_sub_status = _text()
    pending_updates = serializers.SerializerMethodField(
        help_text="Changes waiting for an operator (e.g. of a verified email)."
    )
    required_actions = serializers.SerializerMethodField(
        help_text="What the end-user must do for the pending updates to be applied."
    )
    errors = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="Always empty on success."
    )
    date_created = UtcDateTimeField(source="created_at", allow_null=False)
    date_updated = UtcDateTimeField(source="updated_at", allow_null=False)
    links = serializers.SerializerMethodField()

    @extend_schema_field(IdentificationOut(many=True))
    def get_identification(self, user: AccountHolder) -> list[dict[str, Any]]:
        items = sorted(user.identifications.all(), key=lambda i: not i.is_primary)
        return list(IdentificationOut(items, many=True, context=self.context).data)

    @extend_schema_field(AddressOut(many=True))
    def get_addresses(self, user: AccountHolder) -> list[dict[str, Any]]:
        by_type = _addresses_by_type(user)
        listed = [by_type[t] for t in LISTED_ADDRESS_TYPES if t in by_type]
        return list(AddressOut(listed, many=True).data)

    @extend_schema_field(serializers.IntegerField(min_value=0, max_value=1))
    def get_is_email_verified(self, user: AccountHolder) -> int:
        return int(user.is_email_verified)

    @extend_schema_field(serializers.IntegerField(min_value=0, max_value=1))
    def get_is_mobile_verified(self, user: AccountHolder) -> int:
        return int(user.is_mobile_verified)

    @extend_schema_field(PendingUpdateOut(many=True))
    def get_pending_updates(self, user: AccountHolder) -> list[dict[str, Any]]:
        return list(PendingUpdateOut(_open_pending(user), many=True).data)

    @extend_schema_field(RequiredActionOut(many=True))
    def get_required_actions(self, user: AccountHolder) -> list[dict[str, str]]:
        return required_actions(_open_pending(user))

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_errors(self, user: AccountHolder) -> list[Any]:
        return []

    @extend_schema_field(LinkOut(many=True))
    def get_links(self, user: AccountHolder) -> list[dict[str, str]]:
        program = self.context["program_code"]
        href = reverse("v2-user-detail", kwargs={"program": program, "user_id": user.public_id})
        events = reverse("v2-user-events", kwargs={"program": program, "user_id": user.public_id})
        return [
            {"method": "GET", "rel": "self", "href": href},
            {"method": "PUT", "rel": "update", "href": href},
            {"method": "GET", "rel": "events", "href": events},
        ]


def _addresses_by_type(user: AccountHolder) -> dict[str, Address]:
    return {a.type: a for a in user.addresses.all()}


def _open_pending(user: AccountHolder) -> list[PendingUpdate]:
    cached = getattr(user, "open_pending_updates", None)
    return list(cached) if cached is not None else open_pending_updates(user)


def render_user(
    user: AccountHolder,
    *,
    catalog: Catalog,
    program_code: str,
    identifications: Iterable[Identification] | None = None,
    addresses: Iterable[Address] | None = None,
    tax_residencies: Iterable[TaxResidency] | None = None,
) -> dict[str, Any]:
    """One v2 user. The children are taken by value when given (what a write returned);
    those not given are read from the user's related managers (prefetched by the selector)."""
    return UserRenderer(catalog=catalog, program_code=program_code).render(
        user,
        identifications=identifications,
        addresses=addresses,
        tax_residencies=tax_residencies,
    )


def render_users(
    users: list[AccountHolder], *, catalog: Catalog, program_code: str
) -> list[dict[str, Any]]:
    renderer = UserRenderer(catalog=catalog, program_code=program_code)
    return [renderer.render(user) for user in users]


# --- the renderer
#
# `V2UserOut` above is the contract's schema; rendering a page through it instantiated and
# ran ~100 DRF fields per user (about 1 ms each). `UserRenderer` builds the same dicts —
# same keys, same order, same values, byte for byte (tests/users/test_v2_render.py renders
# one fully populated user both ways) — with what a page shares worked out once: whether an
# id type is masked (a catalog look-up) and the link paths (a `reverse()` each). Each helper
# below reproduces the DRF field the schema declares for the value.

_ID_SENTINEL = "0" * 32
_STATUS = {str(v): v for v in Status.values}
_SUB_STATUS = {str(v): v for v in SubStatus.values}
_KYC_STATUS = {str(v): v for v in KycStatus.values}
_KYC_SUB_STATUS = {str(v): v for v in KycSubStatus.values}
_RISK_STATUS = {str(v): v for v in RiskStatus.values}
_ACCOUNT_TYPE = {str(v): v for v in AccountType.values}
_ADDRESS_TYPE = {str(v): v for v in LISTED_ADDRESS_TYPES}
_PENDING_STATUS = {str(v): v for v, _label in PendingUpdateStatus.choices}


def _s(value: Any) -> str | None:
    """`CharField`: `str()` of the value, `None` kept."""
    return None if value is None else str(value)


def _choice(value: Any, choices: dict[str, Any]) -> Any:
    """`ChoiceField`: the declared choice the value stands for (an enum member → its value)."""
    if value is None or value == "":
        return value
    return choices.get(str(value), value)


def _date(value: Any) -> str | None:
    """`DateField` with the ISO 8601 default."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    return str(value.isoformat())


def _datetime(value: Any) -> str | None:
    """`UtcDateTimeField`: in UTC (naive values taken as UTC), `DATETIME_FORMAT`."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    value = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return str(value.strftime(DATETIME_FORMAT))


def _bool(value: Any) -> Any:
    """`BooleanField`: `None` kept; anything else as `True` / `False` when it reads as one."""
    if value is None:
        return None
    if value in serializers.BooleanField.TRUE_VALUES:
        return True
    if value in serializers.BooleanField.FALSE_VALUES:
        return False
    return value


def _address_fields(address: Address) -> dict[str, Any]:
    return {
        "address_1": _s(address.address_1),
        "address_2": _s(address.address_2),
        "address_3": _s(address.address_3),
        "address_4": _s(address.address_4),
        "city": _s(address.city),
        "state": _s(address.state),
        "country": _s(address.country),
        "zipcode": _s(address.zipcode),
    }


def _pending_update(item: PendingUpdate) -> dict[str, Any]:
    return {
        "id": _s(item.public_id),
        "field": _s(item.field),
        "value": item.value,
        "reason": _s(item.reason),
        "status": _choice(item.status, _PENDING_STATUS),
        "requested_at": _datetime(item.requested_at),
    }


class UserRenderer:
    """Renders v2 users as `V2UserOut` does, sharing per-request work across a page."""

    def __init__(self, *, catalog: Catalog, program_code: str) -> None:
        self.catalog = catalog
        self.program_code = program_code
        self._masks: dict[str, bool] = {}
        detail = reverse(
            "v2-user-detail", kwargs={"program": program_code, "user_id": _ID_SENTINEL}
        )
        events = reverse(
            "v2-user-events", kwargs={"program": program_code, "user_id": _ID_SENTINEL}
        )
        # the user id is the path's last parameter: what surrounds it is the same for every
        # user, and a 32-hex id needs no quoting, so prefix + id + suffix is what reverse()
        # would answer
        self._detail = detail.rpartition(_ID_SENTINEL)
        self._events = events.rpartition(_ID_SENTINEL)

    def masks(self, id_type: str) -> bool:
        masked = self._masks.get(id_type)
        if masked is None:
            masked = self._masks[id_type] = id_type_masks(self.catalog, id_type)
        return masked

    def links(self, public_id: str) -> list[dict[str, str]]:
        if is_public_id(public_id):
            href = f"{self._detail[0]}{public_id}{self._detail[2]}"
            events = f"{self._events[0]}{public_id}{self._events[2]}"
        else:  # not a generated id (hand-made data): let reverse() quote it
            kwargs = {"program": self.program_code, "user_id": public_id}
            href = reverse("v2-user-detail", kwargs=kwargs)
            events = reverse("v2-user-events", kwargs=kwargs)
        return [
            {"method": "GET", "rel": "self", "href": href},
            {"method": "PUT", "rel": "update", "href": href},
            {"method": "GET", "rel": "events", "href": events},
        ]

    def identification(self, item: Identification) -> dict[str, Any]:
        number = item.number
        return {
            "type": _s(item.id_type),
            "number": mask_number(number) if self.masks(item.id_type) else number,
            "issue_date": _date(item.issue_date),
            "expiry_date": _date(item.expiry_date),
            "country_of_issue": _s(item.country_of_issue),
            "is_primary": _bool(item.is_primary),
        }

    def render(
        self,
        user: AccountHolder,
        *,
        identifications: Iterable[Identification] | None = None,
        addresses: Iterable[Address] | None = None,
        tax_residencies: Iterable[TaxResidency] | None = None,
    ) -> dict[str, Any]:
        if identifications is None:
            identifications = user.identifications.all()
        if tax_residencies is None:
            tax_residencies = user.tax_residencies.all()
        by_type = {a.type: a for a in (user.addresses.all() if addresses is None else addresses)}
        employer_address = by_type.get(AddressType.EMPLOYER)
        pending = _open_pending(user)
        ids = sorted(identifications, key=lambda i: not i.is_primary)
        public_id = _s(user.public_id)
        return {
            "id": public_id,
            "hash_id": public_id,
            "type": _choice(user.type, _ACCOUNT_TYPE),
            "client_ref_id": _s(user.client_ref_id),
            "salutation": _s(user.salutation),
            "title": _s(user.title),
            "first_name": _s(user.first_name),
            "middle_name": _s(user.middle_name),
            "last_name": _s(user.last_name),
            "maiden_name": _s(user.maiden_name),
            "preferred_name": _s(user.preferred_name),
            "gender": _s(user.gender),
            "email": _s(user.email),
            "mobile_country_code": _s(user.mobile_country_code),
            "mobile": _s(user.mobile),
            "marital_status": _s(user.marital_status),
            "identification": [self.identification(item) for item in ids],
            "birth": {
                "date": _date(user.birth_date),
                "place": _s(user.birth_place),
                "country": _s(user.birth_country),
            },
            "nationality": _s(user.nationality),
            "mothers_details": {
                "first_name": _s(user.mothers_first_name),
                "middle_name": _s(user.mothers_middle_name),
                "last_name": _s(user.mothers_last_name),
                "maiden_name": _s(user.mothers_maiden_name),
            },
            "fathers_details": {
                "first_name": _s(user.fathers_first_name),
                "middle_name": _s(user.fathers_middle_name),
                "last_name": _s(user.fathers_last_name),
            },
            "addresses": [
                {**_address_fields(by_type[t]), "type": _choice(by_type[t].type, _ADDRESS_TYPE)}
                for t in LISTED_ADDRESS_TYPES
                if t in by_type
            ],
            "employment_type": _s(user.employment_type),
            "job_title": _s(user.job_title),
            "employer": {
                "name": _s(user.employer_name),
                "nature_of_business": _s(user.employer_nature_of_business),
                "address": None if employer_address is None else _address_fields(employer_address),
            },
            "annual_income": _s(user.annual_income),
            "main_income_source": _s(user.main_income_source),
            "social_professional_category": _s(user.social_professional_category),
            "purpose_of_account": _s(user.purpose_of_account),
            "country_of_residence": _s(user.country_of_residence),
            "tax_residencies": [
                {"country": _s(t.country), "tin": _s(t.tin)} for t in tax_residencies
            ],
            "fatca_crs_relevant": _bool(user.fatca_crs_relevant),
            "fatca_crs_confirmation_date": _datetime(user.fatca_crs_confirmation_date),
            "pep": _bool(user.pep),
            "provider": {
                "reference_id": _s(user.provider_reference_id),
                "account_number": _s(user.provider_account_number),
                "posting_status": _s(user.provider_posting_status),
            },
            "data_terms_signed_date": _date(user.data_terms_signed_date),
            "metadata": user.metadata,
            "created_by": user.created_by,
            "customer_id": _s(user.customer_id),
            "partner_id": _s(user.partner_id),
            "agent_id": _s(user.agent_id),
            "status": _choice(user.status, _STATUS),
            "sub_status": _choice(user.sub_status, _SUB_STATUS),
            "kyc_status": _choice(user.kyc_status, _KYC_STATUS),
            "kyc_sub_status": _choice(user.kyc_sub_status, _KYC_SUB_STATUS),
            "kyc_processed_date": _datetime(user.kyc_processed_at),
            "risk_status": _choice(user.risk_status, _RISK_STATUS),
            "is_email_verified": int(user.is_email_verified),
            "is_mobile_verified": int(user.is_mobile_verified),
            "transaction_status": _s(user.transaction_status),
            "transaction_sub_status": _s(user.transaction_sub_status),
            "pending_updates": [_pending_update(item) for item in pending],
            "required_actions": required_actions(pending),
            "errors": [],
            "date_created": _datetime(user.created_at),
            "date_updated": _datetime(user.updated_at),
            "links": self.links(user.public_id),
        }


# --- list and events envelopes (OpenAPI)


class PaginationOut(serializers.Serializer):
    page = serializers.IntegerField(
        allow_null=True, help_text="The page number in page mode; `null` in cursor mode."
    )
    records_per_page = serializers.IntegerField()
    next = serializers.CharField(
        allow_null=True, help_text="Link to the next page; `null` on the last page."
    )
    previous = serializers.CharField(
        allow_null=True, help_text="Link to the previous page; `null` on the first page."
    )
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Opaque keyset cursor for the next page (both modes); `null` on the last page.",
    )


class V2UserListOut(serializers.Serializer):
    pagination = PaginationOut()
    data = V2UserOut(many=True)  # type: ignore[assignment]


class ActorOut(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["api_client", "operator", "system", "cli"])
    id = serializers.CharField(help_text="API client id, operator username, or system name.")


class UserEventOut(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    type = serializers.CharField(
        help_text="`created`, `updated`, `status_changed`, `screened`, `pending_update_*`, …"
    )
    actor = serializers.SerializerMethodField()
    channel = serializers.CharField(help_text="`api_v1`, `api_v2`, `admin`, `cli` or `system`.")
    at = UtcDateTimeField(allow_null=False)
    reason = serializers.CharField(allow_blank=True)
    changes = serializers.SerializerMethodField(
        help_text="`{field: [old, new]}`; personal data is masked."
    )

    @extend_schema_field(ActorOut())
    def get_actor(self, event: UserEvent) -> dict[str, str]:
        return {"kind": event.actor_kind, "id": event.actor_id}

    @extend_schema_field(
        serializers.DictField(
            child=serializers.ListField(
                child=serializers.JSONField(allow_null=True), min_length=2, max_length=2
            )
        )
    )
    def get_changes(self, event: UserEvent) -> dict[str, Any]:
        # stored already masked by the services; stored with canonical names, shown in v2's
        return {v2_field_name(name): change for name, change in (event.changes or {}).items()}


class UserEventListOut(serializers.Serializer):
    pagination = PaginationOut()
    data = UserEventOut(many=True)  # type: ignore[assignment]
