"""The v1 users API (seed 002, SPEC §4 to §6): create / re-activate, read, update, dry run,
de-activate.

Views are thin: they parse the v1 body into the canonical form (`parse_v1_body`), call the
services, and render the v1 user (`render_v1_user`). Bodies are form-encoded or JSON; text
is trimmed and an empty value is absent; a field v1 does not accept — response-only fields
included — answers `400 resource_user_unknown_field`, one error per field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.schema import error_responses
from api.views import ProgramAPIView
from core import error_codes
from core.exceptions import ApiError, FieldError
from enumerations.catalog import Catalog
from users import fields, services
from users.api.common import USER_ID_HEADER, header_user_id, shown_number
from users.lifecycle import Actor
from users.models import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    AccountHolder,
    Channel,
    Identification,
    Status,
)
from users.selectors import user_get
from users.validation import current_identifications, possible_codes

# --- the v1 body ----------------------------------------------------------------------------

# Every body parameter of seed 002, in its order (`id` / `user_id` re-activate, see below).
V1_FIELDS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "middle_name",
    "preferred_name",
    "email",
    "mobile_country_code",
    "password",
    "mobile",
    "title",
    "id_type",
    "id_number",
    "id_date_expiry",
    "id_date_issue",
    "country_of_issue",
    "alt_id_type",
    "alt_id_number",
    "alt_id_date_expiry",
    "alt_id_date_issue",
    "alt_id_country_of_issue",
    "birthday",
    "place_of_birth",
    "nationality",
    "gender",
    "marital_status",
    "mothers_maiden_name",
    "mothers_first_name",
    "mothers_last_name",
    "nature_of_business",
    "customer_id",
    "purpose_of_account",
    "partner_id",
    "client_reference_id",
    "agent_id",
    "employer_name",
    "employment_type",
    "source_of_funds",
    "occupation",
    "volume_of_assets",
)
REACTIVATION_FIELDS: tuple[str, ...] = ("id", "user_id")
CANONICAL: dict[str, str] = {v1: path for path, v1 in fields.V1_NAMES.items()}


def canonical_path(v1_name: str) -> str:
    return CANONICAL.get(v1_name, v1_name)


def _unknown(name: str, description: str = "") -> FieldError:
    return FieldError(
        name,
        error_codes.USER_UNKNOWN_FIELD,
        description or error_codes.describe(error_codes.USER_UNKNOWN_FIELD, field=name),
    )


def body_items(data: Any) -> dict[str, Any]:
    """The request body as {name: value}; a repeated form field keeps all its values (a list,
    which validation refuses as `_invalid`)."""
    if isinstance(data, QueryDict):
        return {k: (v[0] if len(v) == 1 else v) for k, v in data.lists()}
    if not isinstance(data, Mapping):
        raise ApiError(error_codes.INVALID_REQUEST_BODY)
    return dict(data)


def present(value: Any) -> bool:
    """v1 has no "clear": an empty string and `null` both mean absent."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def parse_v1_body(
    data: Any, *, user: AccountHolder | None = None
) -> tuple[fields.Changes, set[str]]:
    """A v1 body → (canonical `Changes`, canonical paths the body carried).

    On an update (`user` given) the id fields are merged onto the user's current document
    of that rank, so each identification item is the whole resulting document
    (`users/fields.py`).
    """
    items = body_items(data)
    unknown = [_unknown(name) for name in items if name not in V1_FIELDS]
    if unknown:
        raise ApiError.from_field_errors(unknown)
    changes: fields.Changes = {}
    sent: set[str] = set()
    id_items: dict[str, dict[str, Any]] = {}
    for name in V1_FIELDS:
        if name not in items or not present(items[name]):
            continue
        value = items[name]
        path = canonical_path(name)
        sent.add(path)
        if path.startswith("identification."):
            _, rank, key = path.split(".")
            id_items.setdefault(rank, {})[key] = value
        else:
            changes[path] = value
    if id_items:
        documents = current_identifications(user)
        changes["identification"] = {}
        for rank, given in id_items.items():
            current = documents.get(rank)
            item = {key: _as_input(getattr(current, key, None)) for key in fields.ID_ITEM_KEYS}
            item.update(given)
            changes["identification"][rank] = item
    return changes, sent


def _as_input(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# --- the v1 user ----------------------------------------------------------------------------

V1_STATUS_TEXT: dict[str, str] = {
    Status.ACTIVE: "active",
    Status.LOCKED: "locked",
    Status.SUSPENDED: "suspended",
    **{s: "pending" for s in PENDING_STATUSES},
    **{s: "blocked" for s in TERMINAL_STATUSES},
}
ACCOUNT_TYPES = {"customer": "individual", "corporate": "business"}


def _utc(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _midnight(value: date | None) -> str | None:
    """A date as MatchMove's `date-time` (`YYYY-MM-DDT00:00:00Z`)."""
    return f"{value.isoformat()}T00:00:00Z" if value else None


def _document(catalog: Catalog, document: Any) -> dict[str, Any]:
    if document is None:
        return {"type": None, "number": None, "issue": None, "expiry": None}
    return {
        "type": document.id_type,
        "number": shown_number(catalog, document),
        "issue": _midnight(document.issue_date),
        "expiry": _midnight(document.expiry_date),
    }


def _country_name(catalog: Catalog, code: str | None) -> str | None:
    """The `countries` enumeration's description of an alpha-3 code (seed `countryofissue`)."""
    if not code:
        return None
    entry = catalog.get_any("countries", code)
    return entry.description if entry is not None else None


def render_v1_user(
    user: AccountHolder,
    *,
    catalog: Catalog,
    program_code: str,
    identifications: Iterable[Identification] | None = None,
) -> dict[str, Any]:
    """The v1 user of SPEC §5: absent values `null`, the password never, masked id numbers.

    `identifications`: the user's documents by value (what a write returned); when not given,
    the user's related manager answers (prefetched by the selector, or one query).
    """
    rows = user.identifications.all() if identifications is None else identifications
    documents = {("primary" if i.is_primary else "secondary"): i for i in rows}
    primary, secondary = documents.get("primary"), documents.get("secondary")
    primary_country = primary.country_of_issue if primary else None
    secondary_country = secondary.country_of_issue if secondary else None
    self_href = f"/{program_code}/v1/users/{user.public_id}"
    return {
        "id": user.public_id,
        "email": user.email,
        "name": {
            "first": user.first_name,
            "middle": user.middle_name,
            "last": user.last_name,
            "preferred": user.preferred_name,
        },
        "mobile": {"country_code": user.mobile_country_code, "number": user.mobile},
        "identification": _document(catalog, primary),
        "alt_identification": _document(catalog, secondary),
        "country_of_issue": primary_country,
        "alt_id_country_of_issue": secondary_country,
        "countryofissue": _country_name(catalog, primary_country),
        "country_code_of_issue": primary_country,
        "alt_id_countryofissue": _country_name(catalog, secondary_country),
        "alt_id_country_code_of_issue": secondary_country,
        "birthday": user.birth_date.isoformat() if user.birth_date else None,
        "place_of_birth": user.birth_place,
        "gender": user.gender,
        "nationality": user.nationality,
        "title": user.title,
        "marital_status": user.marital_status,
        "mothers_maiden_name": user.mothers_maiden_name,
        "mothers_first_name": user.mothers_first_name,
        "mothers_last_name": user.mothers_last_name,
        "customer_id": user.customer_id,
        "partner_id": user.partner_id,
        "client_reference_id": user.client_ref_id,
        "agent_id": user.agent_id,
        "employer_name": user.employer_name,
        "employment_type": user.employment_type,
        "source_of_funds": user.main_income_source,
        "occupation": user.occupation,
        "volume_of_assets": user.volume_of_assets,
        "nature_of_business": user.employer_nature_of_business,
        "purpose_of_account": user.purpose_of_account,
        "risk_assessment_status": user.risk_status,
        "account_type": ACCOUNT_TYPES.get(user.type, "individual"),
        "status": {
            "is_active": user.status == Status.ACTIVE,
            "text": V1_STATUS_TEXT.get(user.status, "pending"),
        },
        "date": {"registration": _utc(user.created_at)},
        "links": [
            {"method": "GET", "rel": "self", "href": self_href},
            {"method": "PUT", "rel": "update", "href": f"/{program_code}/v1/users"},
            {"method": "DELETE", "rel": "deactivate", "href": self_href},
        ],
    }


# --- OpenAPI shapes (the parser and renderer above are what runs; these document them) ------


def _v1_request_serializer() -> type[serializers.Serializer]:
    help_texts = {
        "password": "8 to 32 characters with a lower-case letter, a number and a special one.",
        "mobile_country_code": "Calling code without `+` (GET /users/enumerations/"
        "mobile_country_codes).",
        "mobile": "National number, digits only, valid for the calling code.",
        "birthday": "ISO 8601 date (YYYY-MM-DD); the user must meet the program's minimum age.",
        "id_type": "GET /users/enumerations/id_types (primary).",
        "alt_id_type": "GET /users/enumerations/id_types (secondary).",
        "id_date_issue": "ISO 8601 date; with `id_date_expiry` or not at all.",
        "id_date_expiry": "ISO 8601 date, after the issue date, not in the past.",
        "country_of_issue": "ISO 3166 alpha-3.",
        "alt_id_country_of_issue": "ISO 3166 alpha-3.",
        "nationality": "ISO 3166 alpha-3 (GET /users/enumerations/nationalities).",
    }
    attrs: dict[str, Any] = {
        name: serializers.CharField(
            required=False,
            allow_blank=True,
            help_text=help_texts.get(name, ""),
            write_only=name == "password",
        )
        for name in V1_FIELDS
    }
    attrs["id"] = serializers.CharField(
        required=False, help_text="Alone (or `user_id` alone): re-activate this user (SPEC §4)."
    )
    attrs["user_id"] = serializers.CharField(required=False, help_text="Same as `id`.")
    return type("V1UserRequest", (serializers.Serializer,), attrs)


V1UserRequest = _v1_request_serializer()


class V1UserUpdateRequest(serializers.Serializer):
    """Same fields as create, all optional; the id is in `X-Auth-User-ID`."""


for _name in V1_FIELDS:
    V1UserUpdateRequest._declared_fields[_name] = V1UserRequest._declared_fields[_name]


class V1NameSerializer(serializers.Serializer):
    first = serializers.CharField(allow_null=True)
    middle = serializers.CharField(allow_null=True)
    last = serializers.CharField(allow_null=True)
    preferred = serializers.CharField(allow_null=True)


class V1MobileSerializer(serializers.Serializer):
    country_code = serializers.CharField(allow_null=True, help_text="Calling code without `+`.")
    number = serializers.CharField(allow_null=True, help_text="National number, digits only.")


class V1DocumentSerializer(serializers.Serializer):
    type = serializers.CharField(allow_null=True)
    number = serializers.CharField(
        allow_null=True, help_text="All but the last 4 characters masked for `masking` id types."
    )
    issue = serializers.DateTimeField(allow_null=True, help_text="UTC, YYYY-MM-DDT00:00:00Z.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="UTC, YYYY-MM-DDT00:00:00Z.")


class V1StatusSerializer(serializers.Serializer):
    is_active = serializers.BooleanField()
    text = serializers.ChoiceField(choices=["active", "locked", "suspended", "pending", "blocked"])


class V1DateSerializer(serializers.Serializer):
    registration = serializers.CharField(help_text="UTC, YYYY-MM-DDTHH:MM:SSZ.")


class V1LinkSerializer(serializers.Serializer):
    method = serializers.CharField()
    rel = serializers.CharField()
    href = serializers.CharField()


def _nullable(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_null=True, **kwargs)


class V1UserSerializer(serializers.Serializer):
    """The v1 user (SPEC §5). Absent values are `null`; the password is never returned."""

    id = serializers.RegexField(r"^[0-9a-f]{32}\Z")
    email = _nullable()
    name = V1NameSerializer()
    mobile = V1MobileSerializer()
    identification = V1DocumentSerializer()
    alt_identification = V1DocumentSerializer()
    country_of_issue = _nullable()
    alt_id_country_of_issue = _nullable()
    countryofissue = _nullable(
        help_text="English name of the primary id's country of issue (`countries` enumeration)."
    )
    country_code_of_issue = _nullable(help_text="ISO 3166 alpha-3, as `country_of_issue`.")
    alt_id_countryofissue = _nullable(
        help_text="English name of the secondary id's country of issue."
    )
    alt_id_country_code_of_issue = _nullable(help_text="ISO 3166 alpha-3.")
    birthday = serializers.DateField(allow_null=True)
    place_of_birth = _nullable()
    gender = _nullable()
    nationality = _nullable()
    title = _nullable()
    marital_status = _nullable()
    mothers_maiden_name = _nullable()
    mothers_first_name = _nullable()
    mothers_last_name = _nullable()
    customer_id = _nullable()
    partner_id = _nullable()
    client_reference_id = _nullable()
    agent_id = _nullable()
    employer_name = _nullable()
    employment_type = _nullable()
    source_of_funds = _nullable()
    occupation = _nullable()
    volume_of_assets = _nullable()
    nature_of_business = _nullable()
    purpose_of_account = _nullable()
    # a plain string: v2's `risk_status` already names this choice set in the schema
    risk_assessment_status = serializers.CharField(
        help_text="Risk evaluation: `PENDING`, `CLEARED`, `REJECTED` or `UNKNOWN`."
    )
    account_type = serializers.ChoiceField(choices=["individual", "business"])
    status = V1StatusSerializer()
    date = V1DateSerializer()
    links = V1LinkSerializer(many=True)


class V1DeactivateRequest(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["suspended", "blocked"], required=False, help_text="Default `suspended`."
    )


class V1DeactivateResponse(serializers.Serializer):
    id = serializers.CharField()
    state = serializers.ChoiceField(choices=["suspended", "blocked"])


# Every code a v1 field rule can answer (SPEC §6), for the schema.
FIELD_CODES = [*possible_codes(V1_FIELDS), error_codes.INVALID_REQUEST_BODY]
RISK_WRITE_403 = [error_codes.RISK_ENGINE_ERROR]
ID_404 = [error_codes.USER_IMPROPER_ID, error_codes.USER_RECORD_NOT_FOUND]
USER_ID_HEADER_PARAM = OpenApiParameter(
    USER_ID_HEADER,
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="The user's id (32 lower-case hex characters). Missing: 404 `user_improper_id`.",
)
USER_ID_PATH_PARAM = OpenApiParameter(
    "user_id",
    OpenApiTypes.STR,
    location=OpenApiParameter.PATH,
    description="The user's id: 32 lower-case hex characters.",
)
_BODY = {"application/json": V1UserRequest, "application/x-www-form-urlencoded": V1UserRequest}
_UPDATE_BODY = {
    "application/json": V1UserUpdateRequest,
    "application/x-www-form-urlencoded": V1UserUpdateRequest,
}
_DELETE_BODY = {
    "application/json": V1DeactivateRequest,
    "application/x-www-form-urlencoded": V1DeactivateRequest,
}
_TAGS = ["v1 users"]


# --- views ----------------------------------------------------------------------------------


def v1_field_names(error: ApiError) -> ApiError:
    """The services name fields by canonical path; v1 answers with its own names."""
    if not error.errors:
        return error
    error.errors = [
        FieldError(fields.v1_name(e.field), e.code, e.description) for e in error.errors
    ]
    return error


class V1View(ProgramAPIView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ApiError):
            exc = v1_field_names(exc)
        return super().handle_exception(exc)

    def actor(self) -> Actor:
        return Actor.api_client(self.client)

    def render(
        self, user: AccountHolder, identifications: list[Identification] | None = None
    ) -> Response:
        return Response(
            render_v1_user(
                user,
                catalog=self.catalog,
                program_code=self.program.code,
                identifications=identifications,
            )
        )

    def user(self, public_id: object) -> AccountHolder:
        return user_get(program=self.program, public_id=public_id)

    def update(self, request: Request, *, dry_run: bool) -> Response:
        user = self.user(header_user_id(request))
        changes, sent = parse_v1_body(request.data, user=user)
        write = services.user_update(
            user=user,
            changes=changes,
            actor=self.actor(),
            channel=Channel.API_V1,
            catalog=self.catalog,
            dry_run=dry_run,
            sent=sent,
        )
        return self.render(write.user, write.identifications)


class UsersV1View(V1View):
    """`/{program}/v1/users`: create or re-activate (POST), read and update by header."""

    @extend_schema(
        operation_id="v1_users_create",
        tags=_TAGS,
        summary="Create a user, or re-activate one",
        description=(
            "Creates a user with the seed's fields (form-encoded or JSON); every rule of "
            "SPEC §6 applies, with the program's required fields, minimum age and enumeration "
            "restrictions. The user starts `active`, unverified. With only `id` or `user_id` in "
            "the body, re-activates that user instead (SPEC §4): `locked`/`suspended` → "
            "`active`; an `active` user is answered unchanged. Screening (SPEC §6b) runs on "
            "the validated values. Accepts `Idempotency-Key`."
        ),
        request=_BODY,
        responses={
            200: V1UserSerializer,
            **error_responses(
                "v1",
                {
                    400: [
                        *FIELD_CODES,
                        error_codes.RISK_BLACKLISTED,
                        error_codes.UNSUSPEND_FLAGGED_USER_NOT_ALLOWED,
                        error_codes.USER_REACTIVATION_NOT_ALLOWED,
                        error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED,
                        error_codes.IDEMPOTENCY_KEY_INVALID,
                    ],
                    403: [error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED, *RISK_WRITE_403],
                    404: ID_404,
                    409: [error_codes.IDEMPOTENCY_KEY_IN_USE],
                    422: [error_codes.IDEMPOTENCY_KEY_REUSED],
                    500: [error_codes.RISK_CONFIG_ERROR],
                },
            ),
        },
    )
    @idempotent
    def post(self, request: Request, program: str) -> Response:
        items = body_items(request.data)
        given = {name for name, value in items.items() if present(value)}
        if given and given <= set(REACTIVATION_FIELDS):
            return self.reactivate(items)
        for name in REACTIVATION_FIELDS:
            if name in items:
                raise ApiError.from_field_errors(
                    [
                        _unknown(
                            name,
                            f"`{name}` is accepted only alone, to re-activate a user; "
                            "ids of new users are generated by the service.",
                        )
                    ]
                )
        changes, sent = parse_v1_body(items)
        write = services.user_create(
            program=self.program,
            changes=changes,
            actor=self.actor(),
            channel=Channel.API_V1,
            catalog=self.catalog,
            sent=sent,
        )
        return self.render(write.user, write.identifications)

    def reactivate(self, items: dict[str, Any]) -> Response:
        ids = {items[name] for name in REACTIVATION_FIELDS if present(items.get(name))}
        if len(ids) != 1:
            raise ApiError(error_codes.USER_IMPROPER_ID)
        user = self.user(ids.pop())
        return self.render(
            services.user_reactivate(user=user, actor=self.actor(), channel=Channel.API_V1)
        )

    @extend_schema(
        operation_id="v1_users_me_retrieve",
        tags=_TAGS,
        summary="Read the user named in X-Auth-User-ID",
        parameters=[USER_ID_HEADER_PARAM],
        responses={200: V1UserSerializer, **error_responses("v1", {404: ID_404})},
    )
    def get(self, request: Request, program: str) -> Response:
        return self.render(self.user(header_user_id(request)))

    @extend_schema(
        operation_id="v1_users_update",
        tags=_TAGS,
        summary="Update the user named in X-Auth-User-ID",
        description=(
            "Partial update with the v1 fields (absent fields are kept); the same rules as "
            "create. Names are frozen once the user has a wallet or card. On a verified e-mail "
            "or mobile, a change of it is held for an operator's approval (SPEC §5) and the "
            "answer shows the current value."
        ),
        parameters=[USER_ID_HEADER_PARAM],
        request=_UPDATE_BODY,
        responses={
            200: V1UserSerializer,
            **error_responses(
                "v1",
                {
                    400: [*FIELD_CODES, error_codes.RISK_BLACKLISTED_UPDATE],
                    403: [error_codes.RISK_USER_THRESHOLD_EXCEEDED, *RISK_WRITE_403],
                    404: ID_404,
                    500: [error_codes.RISK_CONFIG_ERROR],
                },
            ),
        },
    )
    def put(self, request: Request, program: str) -> Response:
        return self.update(request, dry_run=False)


class UsersTestV1View(V1View):
    """`/{program}/v1/users/test`: the update's dry run."""

    @extend_schema(
        operation_id="v1_users_test_update",
        tags=_TAGS,
        summary="Dry-run an update",
        description=(
            "Validates exactly like `PUT /users` (uniqueness included) and answers the would-be "
            "user; nothing is saved and no screening is recorded."
        ),
        parameters=[USER_ID_HEADER_PARAM],
        request=_UPDATE_BODY,
        responses={
            200: V1UserSerializer,
            **error_responses("v1", {400: FIELD_CODES, 404: ID_404}),
        },
    )
    def put(self, request: Request, program: str) -> Response:
        return self.update(request, dry_run=True)


def deactivation_state(body_value: object, query_values: list[str]) -> object:
    """`state` from the body or the query string (SPEC §5): a value the client sent is never
    ignored, so two different values (body vs query, or repeated) answer
    `400 resource_user_state_invalid`."""
    sent = [v for v in (body_value, *query_values) if present(v)]
    distinct = {v.strip().lower() if isinstance(v, str) else repr(v) for v in sent}
    if len(distinct) > 1:
        raise ApiError.field(
            "state",
            error_codes.USER_STATE_INVALID,
            "Parameter `state` was sent twice with different values (body and query string); "
            "send it once: `suspended` or `blocked`.",
        )
    return sent[0] if sent else None


STATE_QUERY_PARAM = OpenApiParameter(
    "state",
    OpenApiTypes.STR,
    location=OpenApiParameter.QUERY,
    required=False,
    enum=["suspended", "blocked"],
    description="Same as the body's `state` (default `suspended`); when both are sent they "
    "must agree, else 400 `resource_user_state_invalid`.",
)


class UserV1View(V1View):
    """`/{program}/v1/users/{user_id}`: read, de-activate."""

    @extend_schema(
        operation_id="v1_users_retrieve",
        tags=_TAGS,
        summary="Read a user",
        parameters=[USER_ID_PATH_PARAM],
        responses={200: V1UserSerializer, **error_responses("v1", {404: ID_404})},
    )
    def get(self, request: Request, program: str, user_id: str) -> Response:
        return self.render(self.user(user_id))

    @extend_schema(
        operation_id="v1_users_destroy",
        tags=_TAGS,
        summary="De-activate a user (suspend or block)",
        description=(
            "Body `state`: `suspended` (default) or `blocked`. `state` is judged first "
            "(`resource_user_state_invalid`), then the user's status "
            "(`user_record_already_suspended`; a blocked or otherwise terminal user, or "
            "suspending a pending one: `resource_user_status_transition_not_allowed`). "
            "Blocked users cannot be re-activated. `state` may come in the body or the "
            "query string; both with different values: `resource_user_state_invalid`."
        ),
        parameters=[USER_ID_PATH_PARAM, STATE_QUERY_PARAM],
        request=_DELETE_BODY,
        responses={
            200: V1DeactivateResponse,
            **error_responses(
                "v1",
                {
                    400: [
                        error_codes.USER_STATE_INVALID,
                        error_codes.USER_ALREADY_SUSPENDED,
                        error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED,
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.INVALID_REQUEST_BODY,
                    ],
                    404: ID_404,
                },
            ),
        },
    )
    def delete(self, request: Request, program: str, user_id: str) -> Response:
        user = self.user(user_id)
        items = body_items(request.data)
        unknown = [_unknown(name) for name in items if name != "state"]
        if unknown:
            raise ApiError.from_field_errors(unknown)
        state = deactivation_state(items.get("state"), request.query_params.getlist("state"))
        user = services.user_deactivate(
            user=user, state=state, actor=self.actor(), channel=Channel.API_V1
        )
        return Response({"id": user.public_id, "state": user.status})
