"""The v2 users API (SPEC §5, seed 000): create / re-activate, read, update, list, events.

Views are thin: the body is shape-checked and mapped to the canonical form by
`v2_parsing`, the services of `users.services` apply every rule (the same ones as v1), and
`v2_render` renders the user. Field errors come back from the services with canonical
paths and leave here with v2 dotted paths (`birth.date`, `identification[0].number`).

Every v2 user response carries an `ETag` (the user's `row_version`, bumped by every write);
`PUT` with `If-Match` applies only while the tag still matches — checked under a row lock in
the same transaction as the update — else `412 precondition_failed` and nothing is saved.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.pagination import PAGING_PARAMS, KeysetPaginator, single_valued
from api.parsers import JSONParser
from api.schema import error_responses
from api.views import ProgramAPIView
from core import error_codes
from core.exceptions import ApiError
from users import selectors, services
from users.api.results import Children, written_children
from users.api.v2_parsing import (
    V2ReactivateIn,
    V2UserCreateIn,
    V2UserWriteIn,
    parse_v2_body,
    reactivation_id,
)
from users.api.v2_render import (
    V2_PREFETCH,
    UserEventListOut,
    UserEventOut,
    V2UserListOut,
    V2UserOut,
    etag_for,
    render_user,
    render_users,
    with_v2_relations,
)
from users.filters import UserFilter, filter_users
from users.lifecycle import Actor
from users.models import AccountHolder, Channel, Status, UserEvent

TAG = "v2 users"

users_paginator = KeysetPaginator(time_field="created_at", salt="users.v2.list")
events_paginator = KeysetPaginator(time_field="at", salt="users.v2.events")

# --- OpenAPI pieces

_USER_ID_PARAM = OpenApiParameter(
    "user_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The user's id: 32 lower-case hex characters.",
)
_ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="Version of the user; send it back in `If-Match` to update safely.",
)
_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The `ETag` of the user as last read. When it no longer matches, the update is refused "
        "with `412 precondition_failed` and nothing is saved. Without it, the last write wins."
    ),
)
_FIELD_ERRORS = (
    "Field failures answer `400 validation_error` with one `source` item per failing rule: "
    "its `code` is the one v1 answers for the same rule (e.g. `resource_user_birthday_invalid`, "
    "`resource_id_type_unique`) and its `field` the dotted path of the value in the request "
    "(`birth.date`, `identification[0].number`, `addresses[1].zipcode`); a required item that "
    "was not sent is named at the index it would take. A body that is not a JSON object "
    "answers `400 invalid_model`."
)
_NOT_FOUND = {404: [error_codes.USER_IMPROPER_ID, error_codes.USER_RECORD_NOT_FOUND]}
_WRITE_400 = [
    error_codes.INVALID_MODEL,
    error_codes.VALIDATION_ERROR,
    error_codes.RISK_BLACKLISTED,
]
_PAGING_PARAMETERS = [
    OpenApiParameter(
        "page", OpenApiTypes.INT, description="Page number (from 1). Not with `cursor`."
    ),
    OpenApiParameter(
        "records_per_page", OpenApiTypes.INT, description="Page size: 1 to 100 (default 10)."
    ),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description=(
            "Opaque keyset cursor from `pagination.next_cursor` (or the `next` / `previous` "
            "links): as fast at any depth. Send the same filters with it."
        ),
    ),
    OpenApiParameter(
        "sort_order",
        OpenApiTypes.STR,
        enum=["ASC", "DESC"],
        description="By creation time (events: by time); default `DESC`, newest first.",
    ),
]
_FILTER_PARAMETERS = [
    OpenApiParameter(name, OpenApiTypes.STR, enum=enum, description=description)
    for name, enum, description in (
        ("status", list(Status.values), "Account status."),
        ("sub_status", None, "Account sub-status (SPEC §4 values)."),
        ("kyc_status", ["pending", "in_progress", "completed"], "KYC status."),
        ("risk_status", ["PENDING", "CLEARED", "REJECTED", "UNKNOWN"], "Risk status."),
        ("type", ["customer", "corporate"], "Account type."),
        (
            "email",
            None,
            "Exact e-mail address, compared in canonical form: any letter case, full-width "
            "forms, Unicode or punycode domain.",
        ),
        (
            "mobile",
            None,
            "Exact national mobile number as stored (digits), or the calling code + number "
            "(e.g. `447400123456`), which finds it however the national number was written.",
        ),
        ("client_ref_id", None, "Exact client reference id."),
        ("customer_id", None, "Exact customer id."),
        ("nationality", None, "ISO 3166 alpha-3."),
        (
            "created_from",
            None,
            "Created at or after: `YYYY-MM-DD` or an ISO 8601 date-time (UTC if no offset).",
        ),
        (
            "created_to",
            None,
            "Created at or before: a date includes that whole day (UTC).",
        ),
        (
            "q",
            None,
            "Prefix of the first name, last name or e-mail (any letter case), or of the id.",
        ),
    )
]


class V2UsersView(ProgramAPIView):
    """Shared by the v2 user endpoints: JSON bodies, id look-up, the user response."""

    parser_classes = [JSONParser]

    def actor(self) -> Actor:
        return Actor.api_client(self.client)

    def find_user(self, user_id: str) -> AccountHolder:
        """The program's user (404s of SPEC §3), with what the response shows. Not locked:
        a write's row lock is its service's."""
        if not selectors.is_public_id(user_id):
            raise ApiError(error_codes.USER_IMPROPER_ID)
        queryset = selectors.users_of(self.program).filter(public_id=user_id)
        user = with_v2_relations(queryset).first()
        if user is None:
            raise ApiError(error_codes.USER_RECORD_NOT_FOUND)
        user.program = self.program  # already loaded with the client: no second query
        return user

    def user_response(
        self, user: AccountHolder, status: int = 200, children: Children | None = None
    ) -> Response:
        """The user as v2 shows it; `children` given by value (after a write), else read from
        the user's related managers (prefetched by the selector)."""
        if children is None:
            data = render_user(user, catalog=self.catalog, program_code=self.program.code)
        else:
            data = render_user(
                user, catalog=self.catalog, program_code=self.program.code, **children
            )
        return Response(data, status=status, headers={"ETag": etag_for(user)})

    def fresh(self, user: AccountHolder) -> AccountHolder:
        """The user re-read with everything the response shows (after a write)."""
        fresh = with_v2_relations(AccountHolder.objects.filter(pk=user.pk)).get()
        fresh.program = self.program
        return fresh

    def updated(self, saved: services.UserWrite) -> tuple[AccountHolder, Children]:
        """The user as `user_update` returned it, re-read where the object may be stale.

        The row is re-read: the risk engine may have written to it, and PostgreSQL answers
        `metadata` / `created_by` with jsonb's key order, which a later GET shows. So are the
        open pending updates, which a change of a verified value adds. The identifications,
        addresses and tax residencies come from the write: those it changed it re-read, the
        others are what `find_user` loaded (2 queries instead of 5). They are returned beside
        the user, for the renderer's arguments.
        """
        children = written_children(saved, saved.user)  # prefetched by `find_user`: no query
        lookups = [lookup for lookup in V2_PREFETCH if not isinstance(lookup, str)]
        fresh = AccountHolder.objects.prefetch_related(*lookups).get(pk=saved.user.pk)
        fresh.program = self.program
        return fresh, children


class UserListCreateV2View(V2UsersView):
    @extend_schema(
        operation_id="v2_users_list",
        tags=[TAG],
        summary="List users",
        description=(
            "The program's users, newest first by default. Paging: `page` + `records_per_page` "
            "(OFFSET; fine for the first pages) or `cursor` (keyset; as fast at any depth). "
            "`next` is the link to the next page when there is one — the service reads one row "
            "more than the page instead of counting. Every page also returns `next_cursor`, "
            "so a client can switch from page to cursor paging at any point. Unknown "
            "parameters and invalid values answer `400 invalid_query_param`."
        ),
        parameters=[*_FILTER_PARAMETERS, *_PAGING_PARAMETERS],
        responses={
            200: V2UserListOut,
            **error_responses("v2", {400: [error_codes.INVALID_QUERY_PARAM]}),
        },
    )
    def get(self, request: Request, program: str) -> Response:
        params = single_valued(request.query_params, [*UserFilter.base_filters, *PAGING_PARAMS])
        page_request = users_paginator.parse(params)
        filters = {k: v for k, v in params.items() if k not in PAGING_PARAMS}
        users = filter_users(selectors.users_of(self.program), filters)
        page = users_paginator.paginate(with_v2_relations(users), page_request)
        return Response(
            {
                "pagination": users_paginator.envelope(page, path=request.path, params=params),
                "data": render_users(page.rows, catalog=self.catalog, program_code=program),
            }
        )

    @extend_schema(
        operation_id="v2_users_create",
        tags=[TAG],
        summary="Create a user, or re-activate one",
        description=(
            "Creates a user from the v2 body: `201` with the user. The status is "
            "`pending_verification` when the program requires KYC, `active` otherwise. "
            'A body of exactly `{"user_id": ...}` re-activates a locked or suspended user '
            "instead (`200` with the user; an active user is returned unchanged). "
            "Unknown fields, response-only fields included, answer `400` "
            "`resource_user_unknown_field` per field. Accepts `Idempotency-Key`. " + _FIELD_ERRORS
        ),
        request=PolymorphicProxySerializer(
            component_name="V2UserCreateOrReactivate",
            serializers=[V2UserCreateIn, V2ReactivateIn],
            resource_type_field_name=None,
        ),
        responses={
            201: OpenApiResponse(V2UserOut, description="Created."),
            200: OpenApiResponse(V2UserOut, description="Re-activated (or already active)."),
            **error_responses(
                "v2",
                {
                    400: [
                        *_WRITE_400,
                        error_codes.USER_REACTIVATION_NOT_ALLOWED,
                        error_codes.UNSUSPEND_FLAGGED_USER_NOT_ALLOWED,
                        error_codes.USER_STATUS_TRANSITION_NOT_ALLOWED,
                        error_codes.IDEMPOTENCY_KEY_INVALID,
                    ],
                    409: [error_codes.IDEMPOTENCY_KEY_IN_USE],
                    413: [error_codes.REQUEST_TOO_LARGE],
                    415: [error_codes.UNSUPPORTED_MEDIA_TYPE],
                    422: [error_codes.IDEMPOTENCY_KEY_REUSED],
                    403: [
                        error_codes.RISK_ENTITY_THRESHOLD_EXCEEDED,
                        error_codes.RISK_ENGINE_ERROR,
                    ],
                    500: [error_codes.RISK_CONFIG_ERROR],
                    **_NOT_FOUND,
                },
            ),
        },
    )
    @idempotent
    def post(self, request: Request, program: str) -> Response:
        user_id = reactivation_id(request.data)
        if user_id is not None:
            user = services.user_reactivate(
                user=self.find_user(user_id), actor=self.actor(), channel=Channel.API_V2
            )
            return self.user_response(self.fresh(user))
        write = parse_v2_body(request.data)
        initial = Status.PENDING_VERIFICATION if self.program.kyc_required else Status.ACTIVE
        try:
            created = services.user_create(
                program=self.program,
                changes=write.changes,
                actor=self.actor(),
                channel=Channel.API_V2,
                catalog=self.catalog,
                initial_status=initial,
            )
        except ApiError as error:
            raise write.rendered(error) from None
        return self.user_response(self.fresh(created.user), status=201)


class UserDetailV2View(V2UsersView):
    @extend_schema(
        operation_id="v2_users_retrieve",
        tags=[TAG],
        summary="Read a user",
        parameters=[_USER_ID_PARAM, _ETAG_HEADER],
        responses={200: V2UserOut, **error_responses("v2", _NOT_FOUND)},
    )
    def get(self, request: Request, program: str, user_id: str) -> Response:
        return self.user_response(self.find_user(user_id))

    @extend_schema(
        operation_id="v2_users_update",
        tags=[TAG],
        summary="Update a user",
        description=(
            "Partial update: keys present are changed, absent keys are kept, `null` clears an "
            "optional value, empty strings count as absent. `birth`, `mothers_details`, "
            "`fathers_details`, `employer` (with its `address`), `provider` and `metadata` are "
            "replaced whole. `identification` items are matched by `is_primary` (default "
            "`true`) and `addresses` items by `type`: each replaces the document or address "
            'of its rank or type, the others are kept, and `"remove": true` removes one. '
            "`tax_residencies` replaces the whole list. A change of a verified `email` or "
            "mobile is not applied: it becomes a pending update (see `pending_updates` and "
            "`required_actions`) until an operator approves it. Send the `ETag` you read in "
            "`If-Match` to refuse the update if the user changed meanwhile. " + _FIELD_ERRORS
        ),
        request=V2UserWriteIn,
        parameters=[_USER_ID_PARAM, _IF_MATCH, _ETAG_HEADER],
        responses={
            200: V2UserOut,
            **error_responses(
                "v2",
                {
                    400: [*_WRITE_400, error_codes.RISK_BLACKLISTED_UPDATE],
                    403: [error_codes.RISK_USER_THRESHOLD_EXCEEDED, error_codes.RISK_ENGINE_ERROR],
                    412: [error_codes.PRECONDITION_FAILED],
                    413: [error_codes.REQUEST_TOO_LARGE],
                    415: [error_codes.UNSUPPORTED_MEDIA_TYPE],
                    500: [error_codes.RISK_CONFIG_ERROR],
                    **_NOT_FOUND,
                },
            ),
        },
    )
    def put(self, request: Request, program: str, user_id: str) -> Response:
        if not selectors.is_public_id(user_id):
            raise ApiError(error_codes.USER_IMPROPER_ID)
        write = parse_v2_body(request.data)
        if_match = request.headers.get("If-Match")
        user = self.find_user(user_id)

        def if_match_holds(locked: AccountHolder) -> None:
            # called by the service under its row lock: the check and the write are one step
            if if_match is not None and not etag_matches(if_match, etag_for(locked)):
                raise ApiError(error_codes.PRECONDITION_FAILED, headers={"ETag": etag_for(locked)})

        try:
            saved = services.user_update(
                user=user,
                changes=write.changes,
                actor=self.actor(),
                channel=Channel.API_V2,
                catalog=self.catalog,
                precondition=if_match_holds,
            )
        except ApiError as error:
            raise write.rendered(error) from None
        if not saved.changed and saved.user is user:
            # nothing changed (every value already as sent): the user read above is current
            return self.user_response(user)
        fresh, children = self.updated(saved)
        return self.user_response(fresh, children=children)


class UserEventsV2View(V2UsersView):
    @extend_schema(
        operation_id="v2_users_events_list",
        tags=[TAG],
        summary="A user's audit trail",
        description=(
            "Every write to the user, newest first: creation, field changes (`changes` maps "
            "a field to `[old, new]`, personal data masked), status changes with their "
            "reason, screenings and pending-update decisions; who (`actor`), when and through "
            "which channel. Paged like the user list."
        ),
        parameters=[_USER_ID_PARAM, *_PAGING_PARAMETERS],
        responses={
            200: UserEventListOut,
            **error_responses("v2", {400: [error_codes.INVALID_QUERY_PARAM], **_NOT_FOUND}),
        },
    )
    def get(self, request: Request, program: str, user_id: str) -> Response:
        params = single_valued(request.query_params, PAGING_PARAMS)
        page_request = events_paginator.parse(params)
        if not selectors.is_public_id(user_id):
            raise ApiError(error_codes.USER_IMPROPER_ID)
        user_pk = (
            selectors.users_of(self.program)
            .filter(public_id=user_id)
            .values_list("pk", flat=True)
            .first()
        )
        if user_pk is None:
            raise ApiError(error_codes.USER_RECORD_NOT_FOUND)
        page = events_paginator.paginate(UserEvent.objects.filter(user_id=user_pk), page_request)
        return Response(
            {
                "pagination": events_paginator.envelope(page, path=request.path, params=params),
                "data": UserEventOut(page.rows, many=True).data,
            }
        )


def etag_matches(header: str, current: str) -> bool:
    """`If-Match`: `*` or a list of tags. `W/` prefixes are ignored: the tag is exact anyway."""
    tags = [t.strip() for t in header.split(",") if t.strip()]
    if "*" in tags:
        return True
    return any(t.removeprefix("W/") == current for t in tags)
