"""`GET/POST /{program}/v1/users/risk/exceptions` (SPEC §11): the program's active risk
exemptions, and granting one over the API (clients with the `risk_exceptions` permission).

A grant goes through the same exemption service as an operator's, with the API client as
actor, so the admin, the audit trail and re-activation see it alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.pagination import invalid_param
from api.schema import error_responses
from core import error_codes
from core.exceptions import ApiError, FieldError
from risk.models import RiskExemption
from users.api.common import header_user_id
from users.api.v1 import ID_404, USER_ID_HEADER_PARAM, V1View, body_items, present
from users.exemptions import exemption_grant  # the one import of the exemption service here

PERMISSION = "risk_exceptions"
REASON_MAX = 500
MAX_YEARS = 5
MAX_PER_PAGE = 100
FIELDS = ("date_expiry", "reason")


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_exception(exemption: RiskExemption, program_code: str) -> dict[str, Any]:
    user = exemption.user
    return {
        "id": user.public_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "type": "user",
        "date_added": _moment(exemption.granted_at),
        "date_expiry": _moment(exemption.expires_at),
        "links": {
            "rel": "users.self",
            "href": f"/{program_code}/v1/users/{user.public_id}",
            "method": "GET",
        },
    }


def parse_expiry(value: Any, now: datetime) -> datetime:
    """`YYYY-MM-DD HH:MM:SS` (UTC, MatchMove's form), an ISO 8601 date-time or a date."""
    text = value.strip() if isinstance(value, str) else ""
    moment = None
    try:
        moment = parse_datetime(text.replace(" ", "T", 1)) if text else None
        if moment is None and text:
            day = parse_date(text)
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise ApiError.field("date_expiry", error_codes.RISK_EXCEPTION_DATE_EXPIRY_INVALID)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment <= now or moment > now + timedelta(days=365 * MAX_YEARS + 1):
        raise ApiError.field("date_expiry", error_codes.RISK_EXCEPTION_DATE_EXPIRY_INVALID)
    return moment


def parse_grant(data: Any, now: datetime) -> tuple[datetime, str]:
    items = body_items(data)
    errors = [
        FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
        for name in items
        if name not in FIELDS
    ]
    expiry: datetime | None = None
    if not present(items.get("date_expiry")):
        errors.append(FieldError("date_expiry", error_codes.RISK_EXCEPTION_DATE_EXPIRY_REQUIRED))
    else:
        try:
            expiry = parse_expiry(items["date_expiry"], now)
        except ApiError as error:
            errors.extend(error.errors)
    reason = items.get("reason")
    if not present(reason):
        errors.append(FieldError("reason", error_codes.RISK_EXCEPTION_REASON_REQUIRED))
    elif not isinstance(reason, str) or len(reason.strip()) > REASON_MAX:
        errors.append(FieldError("reason", error_codes.RISK_EXCEPTION_REASON_LENGTHMAX))
    if errors:
        raise ApiError.from_field_errors(errors)
    assert expiry is not None and isinstance(reason, str)
    return expiry, reason.strip()


def _positive(request: Request, name: str, default: int, maximum: int) -> int:
    values = request.query_params.getlist(name)
    if not values or not values[-1].strip():
        return default
    text = values[-1].strip()
    if len(values) > 1 or not text.isdigit() or not 1 <= int(text) <= maximum:
        raise invalid_param(name, f"`{name}` must be a whole number from 1 to {maximum}.")
    return int(text)


class V1ExceptionLinkSerializer(serializers.Serializer):
    rel = serializers.CharField()
    href = serializers.CharField()
    method = serializers.CharField()


class V1RiskExceptionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The user's id.")
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    type = serializers.ChoiceField(choices=["user"])
    date_added = serializers.CharField(help_text="UTC, YYYY-MM-DD HH:MM:SS.")
    date_expiry = serializers.CharField(help_text="UTC, YYYY-MM-DD HH:MM:SS.")
    links = V1ExceptionLinkSerializer()


class V1RiskExceptionCountSerializer(serializers.Serializer):
    total = serializers.IntegerField()


class V1RiskExceptionListSerializer(serializers.Serializer):
    exceptions = V1RiskExceptionSerializer(many=True)
    count = V1RiskExceptionCountSerializer()


class V1RiskExceptionRequest(serializers.Serializer):
    date_expiry = serializers.CharField(
        help_text="Future, at most 5 years ahead: `YYYY-MM-DD HH:MM:SS` (UTC) or ISO 8601."
    )
    reason = serializers.CharField(max_length=REASON_MAX)


_TAGS = ["v1 risk"]
_GRANT_400 = [
    error_codes.RISK_EXCEPTION_DATE_EXPIRY_REQUIRED,
    error_codes.RISK_EXCEPTION_DATE_EXPIRY_INVALID,
    error_codes.RISK_EXCEPTION_REASON_REQUIRED,
    error_codes.RISK_EXCEPTION_REASON_LENGTHMAX,
    error_codes.USER_UNKNOWN_FIELD,
    error_codes.INVALID_REQUEST_BODY,
]


class RiskExceptionsV1View(V1View):
    @extend_schema(
        operation_id="v1_risk_exceptions_list",
        tags=_TAGS,
        summary="The program's active risk exemptions",
        description="Newest first, paged by `page` and `records_per_page` (≤ 100).",
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter("records_per_page", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
        responses={
            200: V1RiskExceptionListSerializer,
            **error_responses("v1", {400: [error_codes.INVALID_QUERY_PARAM]}),
        },
    )
    def get(self, request: Request, program: str) -> Response:
        page = _positive(request, "page", 1, 100_000)
        per_page = _positive(request, "records_per_page", 10, MAX_PER_PAGE)
        active = RiskExemption.objects.filter(
            user__program=self.program, ended_at__isnull=True, expires_at__gt=timezone.now()
        )
        rows = active.select_related("user").order_by("-granted_at", "-id")[
            (page - 1) * per_page : page * per_page
        ]
        return Response(
            {
                "exceptions": [render_exception(e, program) for e in rows],
                "count": {"total": active.count()},
            }
        )

    @extend_schema(
        operation_id="v1_risk_exceptions_create",
        tags=_TAGS,
        summary="Grant the user in X-Auth-User-ID a risk exemption",
        description=(
            "While it holds, the user may be re-activated although risk-flagged. Only API "
            "clients an operator gave the `risk_exceptions` permission may call it "
            "(otherwise 403 `restricted_resource`). Replaces the user's open exemption."
        ),
        parameters=[USER_ID_HEADER_PARAM],
        request={
            "application/json": V1RiskExceptionRequest,
            "application/x-www-form-urlencoded": V1RiskExceptionRequest,
        },
        responses={
            200: V1RiskExceptionSerializer,
            **error_responses("v1", {400: _GRANT_400, 404: ID_404}),
        },
    )
    @idempotent
    def post(self, request: Request, program: str) -> Response:
        if not self.client.has_permission(PERMISSION):
            raise ApiError(
                error_codes.RESTRICTED_RESOURCE,
                description="Access with method `POST` denied: this API client lacks the "
                "`risk_exceptions` permission (an operator grants it on the API client).",
            )
        user = self.user(header_user_id(request))
        expiry, reason = parse_grant(request.data, timezone.now())
        exemption = exemption_grant(
            user=user,
            reason=reason,
            expires_at=expiry,
            granted_by=None,
            api_client_id=self.client.client_id,
        )
        exemption.user = user
        return Response(render_exception(exemption, program))
