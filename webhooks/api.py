"""Webhook management APIs (SPEC §13): v2 `/webhooks` and MatchMove's v1 consumer webhooks.

A client sees and changes only its own program's endpoints (another program's id is
`404 resource_webhook_not_found`); read-only clients may list, not change (the method rule
of every endpoint). POSTs honour `Idempotency-Key`. A new or rotated signing secret is in
that answer only.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.idempotency import idempotent
from api.parsers import JSONParser
from api.schema import error_responses
from api.views import ProgramAPIView
from core import error_codes
from core.exceptions import ApiError, FieldError
from webhooks import events as catalogue
from webhooks import services
from webhooks.models import Delivery, Endpoint

V2_TAG = "v2 webhooks"
V1_TAG = "v1 webhooks"
MAX_DELIVERIES_LISTED = 100

# --- shapes


class WebhookOut(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField(help_text='"", manual, gone or failing.')
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class WebhookWithSecretOut(WebhookOut):
    secret = serializers.CharField(help_text="The `whsec_` signing secret: shown only here.")


class WebhookListOut(serializers.Serializer):
    data = WebhookOut(many=True)  # type: ignore[assignment]


class AttemptOut(serializers.Serializer):
    number = serializers.IntegerField()
    at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    error = serializers.CharField()


class DeliveryOut(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    event_id = serializers.CharField(source="message_id")
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    attempt_log = AttemptOut(many=True)


class DeliveryListOut(serializers.Serializer):
    data = DeliveryOut(many=True)  # type: ignore[assignment]


class SecretOut(serializers.Serializer):
    secret = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField()


class WebhookIn(serializers.Serializer):
    url = serializers.CharField(help_text="https URL of the receiver.")
    events = serializers.ListField(
        child=serializers.CharField(), help_text='Event types, or ["*"] for all.'
    )
    description = serializers.CharField(required=False)
    active = serializers.BooleanField(required=False)


class WebhookPatchIn(serializers.Serializer):
    url = serializers.CharField(required=False)
    events = serializers.ListField(child=serializers.CharField(), required=False)
    description = serializers.CharField(required=False)
    active = serializers.BooleanField(required=False)


class CategoryOut(serializers.Serializer):
    hash = serializers.CharField()
    name = serializers.CharField(source="type")
    category = serializers.CharField()
    description = serializers.CharField()


class V1WebhookOut(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField()
    status = serializers.CharField()
    events = CategoryOut(many=True)
    secret = serializers.CharField(required=False)


_WEBHOOK_ID = OpenApiParameter("webhook_id", str, OpenApiParameter.PATH)
_DELIVERY_ID = OpenApiParameter("delivery_id", str, OpenApiParameter.PATH)
_CLIENT_ID = OpenApiParameter("client_id", str, OpenApiParameter.PATH)
_NOT_FOUND = {404: [error_codes.WEBHOOK_NOT_FOUND]}
_BAD_BODY = {
    400: [
        error_codes.WEBHOOK_URL_INVALID,
        error_codes.WEBHOOK_URL_NOT_ALLOWED,
        error_codes.WEBHOOK_EVENTS_INVALID,
        error_codes.INVALID_MODEL,
        error_codes.USER_UNKNOWN_FIELD,
    ]
}

# --- body checks


def body_fields(data: Any, allowed: frozenset[str], *, required: frozenset[str]) -> dict[str, Any]:
    """The JSON object's fields; unknown ones and missing required ones answer 400 each."""
    if not isinstance(data, dict):
        raise ApiError(error_codes.INVALID_MODEL)
    errors = [
        FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
        for name in data
        if name not in allowed
    ]
    for name in sorted(required - data.keys()):
        code = (
            error_codes.WEBHOOK_URL_INVALID if name == "url" else error_codes.WEBHOOK_EVENTS_INVALID
        )
        errors.append(FieldError(name, code, f"`{name}` is required."))
    if "active" in data and not isinstance(data["active"], bool):
        errors.append(
            FieldError("active", error_codes.VALIDATION_ERROR, "`active` is true or false.")
        )
    if "description" in data and (
        not isinstance(data["description"], str) or len(data["description"]) > 200
    ):
        errors.append(
            FieldError(
                "description",
                error_codes.VALIDATION_ERROR,
                "`description` is text of at most 200 characters.",
            )
        )
    if errors:
        raise ApiError.from_field_errors(errors)
    return {name: data[name] for name in data}  # a form's QueryDict: the last value of each


_FIELDS = frozenset({"url", "events", "description", "active"})


# --- v2


class WebhooksV2Base(ProgramAPIView):
    parser_classes = [JSONParser]

    def endpoint(self, webhook_id: str) -> Endpoint:
        found = Endpoint.objects.filter(program=self.program, public_id=webhook_id).first()
        if found is None:
            raise ApiError(error_codes.WEBHOOK_NOT_FOUND, params={"webhook_id": webhook_id})
        return found


class WebhookListV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_list",
        tags=[V2_TAG],
        summary="The program's webhook endpoints",
        responses={200: WebhookListOut, **error_responses("v2")},
    )
    def get(self, request: Request, program: str) -> Response:
        endpoints = services.program_endpoints(self.program)
        return Response({"data": WebhookOut(endpoints, many=True).data})

    @extend_schema(
        operation_id="v2_webhooks_create",
        tags=[V2_TAG],
        summary="Subscribe an endpoint",
        description=(
            "Deliveries follow the Standard Webhooks specification, signed with the `whsec_` "
            "secret in this answer (shown once). `events` lists event types (see "
            '`/v1/oauth/consumer/{client_id}/event/categories`) or `["*"]`.'
        ),
        request=WebhookIn,
        responses={201: WebhookWithSecretOut, **error_responses("v2", _BAD_BODY)},
    )
    @idempotent
    def post(self, request: Request, program: str) -> Response:
        data = body_fields(request.data, _FIELDS, required=frozenset({"url", "events"}))
        endpoint, secret = services.endpoint_create(
            program=self.program,
            client=self.client,
            url=data["url"],
            events=data["events"],
            description=data.get("description", ""),
            active=data.get("active", True),
        )
        return Response({**WebhookOut(endpoint).data, "secret": secret}, status=201)


class WebhookDetailV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_read",
        tags=[V2_TAG],
        parameters=[_WEBHOOK_ID],
        responses={200: WebhookOut, **error_responses("v2", _NOT_FOUND)},
    )
    def get(self, request: Request, program: str, webhook_id: str) -> Response:
        return Response(WebhookOut(self.endpoint(webhook_id)).data)

    @extend_schema(
        operation_id="v2_webhooks_update",
        tags=[V2_TAG],
        summary="Change an endpoint (absent fields are kept); `active: true` re-enables it",
        parameters=[_WEBHOOK_ID],
        request=WebhookPatchIn,
        responses={200: WebhookOut, **error_responses("v2", {**_BAD_BODY, **_NOT_FOUND})},
    )
    def put(self, request: Request, program: str, webhook_id: str) -> Response:
        endpoint = self.endpoint(webhook_id)
        data = body_fields(request.data, _FIELDS, required=frozenset())
        return Response(WebhookOut(services.endpoint_update(endpoint, **data)).data)

    @extend_schema(
        operation_id="v2_webhooks_delete",
        tags=[V2_TAG],
        parameters=[_WEBHOOK_ID],
        responses={204: None, **error_responses("v2", _NOT_FOUND)},
    )
    def delete(self, request: Request, program: str, webhook_id: str) -> Response:
        self.endpoint(webhook_id).delete()
        return Response(status=204)


class WebhookTestV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_test",
        tags=[V2_TAG],
        summary="Send a `webhook.test` event to the endpoint",
        parameters=[_WEBHOOK_ID],
        request=None,
        responses={202: DeliveryOut, **error_responses("v2", _NOT_FOUND)},
    )
    @idempotent
    def post(self, request: Request, program: str, webhook_id: str) -> Response:
        delivery = services.send_test(self.endpoint(webhook_id))
        return Response(DeliveryOut(delivery).data, status=202)


class WebhookRotateV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_rotate_secret",
        tags=[V2_TAG],
        summary="A new signing secret; the previous one also signs for 24 hours",
        parameters=[_WEBHOOK_ID],
        request=None,
        responses={200: SecretOut, **error_responses("v2", _NOT_FOUND)},
    )
    @idempotent
    def post(self, request: Request, program: str, webhook_id: str) -> Response:
        endpoint = self.endpoint(webhook_id)
        secret = services.endpoint_rotate_secret(endpoint)
        return Response(
            SecretOut(
                {
                    "secret": secret,
                    "previous_secret_expires_at": endpoint.previous_secret_expires_at,
                }
            ).data
        )


class WebhookDeliveriesV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_deliveries",
        tags=[V2_TAG],
        summary="The endpoint's latest deliveries (100), with their attempts",
        parameters=[_WEBHOOK_ID],
        responses={200: DeliveryListOut, **error_responses("v2", _NOT_FOUND)},
    )
    def get(self, request: Request, program: str, webhook_id: str) -> Response:
        endpoint = self.endpoint(webhook_id)
        deliveries = (
            Delivery.objects.filter(endpoint=endpoint)
            .prefetch_related("attempt_log")
            .order_by("-id")[:MAX_DELIVERIES_LISTED]
        )
        return Response({"data": DeliveryOut(deliveries, many=True).data})


class WebhookRedeliverV2View(WebhooksV2Base):
    @extend_schema(
        operation_id="v2_webhooks_redeliver",
        tags=[V2_TAG],
        summary="Send a delivery's event again (same `webhook-id`)",
        parameters=[_WEBHOOK_ID, _DELIVERY_ID],
        request=None,
        responses={
            202: DeliveryOut,
            **error_responses(
                "v2", {404: [error_codes.WEBHOOK_NOT_FOUND, error_codes.DELIVERY_NOT_FOUND]}
            ),
        },
    )
    @idempotent
    def post(self, request: Request, program: str, webhook_id: str, delivery_id: str) -> Response:
        endpoint = self.endpoint(webhook_id)
        delivery = Delivery.objects.filter(endpoint=endpoint, public_id=delivery_id).first()
        if delivery is None:
            raise ApiError(error_codes.DELIVERY_NOT_FOUND, params={"delivery_id": delivery_id})
        return Response(DeliveryOut(services.redeliver(delivery)).data, status=202)


# --- v1 (MatchMove consumer webhooks)


def v1_webhook(endpoint: Endpoint, secret: str | None = None) -> dict[str, Any]:
    kinds = (
        list(catalogue.CATALOGUE)
        if "*" in endpoint.events
        else [catalogue.BY_TYPE[t] for t in endpoint.events if t in catalogue.BY_TYPE]
    )
    out: dict[str, Any] = {
        "id": endpoint.public_id,
        "url": endpoint.url,
        "status": "active" if endpoint.active else "disabled",
        "events": [
            {"hash": k.hash, "name": k.type, "category": k.category, "description": k.description}
            for k in kinds
        ],
    }
    if secret:
        out["secret"] = secret
    return out


def v1_events(data: dict[str, Any]) -> list[str]:
    """`event_hash` / `category_hash` (one hash, or several comma-separated) → event types."""
    raw = data.get("event_hash") or data.get("category_hash")
    field = "event_hash" if data.get("event_hash") else "category_hash"
    hashes = [h.strip() for h in str(raw or "").split(",") if h.strip()]
    unknown = [h for h in hashes if h not in catalogue.BY_HASH]
    if not hashes or unknown:
        raise ApiError.field(
            field,
            error_codes.WEBHOOK_EVENTS_INVALID,
            error_codes.describe(
                error_codes.WEBHOOK_EVENTS_INVALID,
                detail="Send `event_hash` with hashes from /event/categories.",
            ),
        )
    return [catalogue.BY_HASH[h].type for h in hashes]


_V1_FIELDS = frozenset({"url", "event_hash", "category_hash"})


class WebhooksV1Base(ProgramAPIView):
    def consumer(self, client_id: str) -> None:
        if client_id != self.client.client_id:
            raise ApiError(error_codes.RESOURCE_NOT_FOUND)

    def endpoint(self, webhook_id: str) -> Endpoint:
        found = Endpoint.objects.filter(program=self.program, public_id=webhook_id).first()
        if found is None:
            raise ApiError(error_codes.WEBHOOK_NOT_FOUND, params={"webhook_id": webhook_id})
        return found


_V1_ERRORS = {404: [error_codes.RESOURCE_NOT_FOUND]}


class WebhooksV1View(WebhooksV1Base):
    @extend_schema(
        operation_id="v1_consumer_webhooks_list",
        tags=[V1_TAG],
        parameters=[_CLIENT_ID],
        responses={200: V1WebhookOut(many=True), **error_responses("v1", _V1_ERRORS)},
    )
    def get(self, request: Request, program: str, client_id: str) -> Response:
        self.consumer(client_id)
        return Response([v1_webhook(e) for e in services.program_endpoints(self.program)])

    @extend_schema(
        operation_id="v1_consumer_webhooks_create",
        tags=[V1_TAG],
        parameters=[_CLIENT_ID],
        request=inline_serializer(
            "V1WebhookIn",
            {
                "url": serializers.CharField(),
                "event_hash": serializers.CharField(required=False),
                "category_hash": serializers.CharField(required=False),
            },
        ),
        responses={
            200: V1WebhookOut,
            **error_responses("v1", {**_BAD_BODY, **_V1_ERRORS}),
        },
    )
    @idempotent
    def post(self, request: Request, program: str, client_id: str) -> Response:
        self.consumer(client_id)
        data = body_fields(request.data, _V1_FIELDS, required=frozenset({"url"}))
        endpoint, secret = services.endpoint_create(
            program=self.program, client=self.client, url=data["url"], events=v1_events(data)
        )
        return Response(v1_webhook(endpoint, secret))


class WebhookV1View(WebhooksV1Base):
    @extend_schema(
        operation_id="v1_consumer_webhooks_update",
        tags=[V1_TAG],
        parameters=[_CLIENT_ID, _WEBHOOK_ID],
        request=inline_serializer(
            "V1WebhookUpdateIn",
            {
                "url": serializers.CharField(required=False),
                "event_hash": serializers.CharField(required=False),
                "category_hash": serializers.CharField(required=False),
            },
        ),
        responses={
            200: V1WebhookOut,
            **error_responses("v1", {**_BAD_BODY, 404: [error_codes.WEBHOOK_NOT_FOUND]}),
        },
    )
    def put(self, request: Request, program: str, client_id: str, webhook_id: str) -> Response:
        self.consumer(client_id)
        endpoint = self.endpoint(webhook_id)
        data = body_fields(request.data, _V1_FIELDS, required=frozenset())
        changes: dict[str, Any] = {}
        if "url" in data:
            changes["url"] = data["url"]
        if "event_hash" in data or "category_hash" in data:
            changes["events"] = v1_events(data)
        return Response(v1_webhook(services.endpoint_update(endpoint, **changes)))

    @extend_schema(
        operation_id="v1_consumer_webhooks_delete",
        tags=[V1_TAG],
        parameters=[_CLIENT_ID, _WEBHOOK_ID],
        responses={
            200: V1WebhookOut,
            **error_responses("v1", {404: [error_codes.WEBHOOK_NOT_FOUND]}),
        },
    )
    def delete(self, request: Request, program: str, client_id: str, webhook_id: str) -> Response:
        self.consumer(client_id)
        endpoint = self.endpoint(webhook_id)
        answer = v1_webhook(endpoint)
        endpoint.delete()
        return Response({**answer, "status": "deleted"})


class EventCategoriesV1View(WebhooksV1Base):
    @extend_schema(
        operation_id="v1_consumer_event_categories",
        tags=[V1_TAG],
        parameters=[_CLIENT_ID],
        responses={200: CategoryOut(many=True), **error_responses("v1", _V1_ERRORS)},
    )
    def get(self, request: Request, program: str, client_id: str) -> Response:
        self.consumer(client_id)
        return Response(CategoryOut(catalogue.CATALOGUE, many=True).data)
