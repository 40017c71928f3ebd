"""OpenAPI pieces shared by every endpoint: the Basic auth scheme and both error envelopes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from core import error_codes


class ApiClientAuthScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.ApiClientAuthentication"
    name = "basicAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "`client_id:client_secret` of an API client of the program in the URL.",
        }


class V1FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    description = serializers.CharField()


class V1ErrorSerializer(serializers.Serializer):
    """v1 error envelope: the first failing rule, and every failing rule in `errors`."""

    code = serializers.CharField()
    description = serializers.CharField()
    link = serializers.CharField()
    errors = V1FieldErrorSerializer(many=True)  # type: ignore[assignment]


class V2SourceSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Dotted path of the failing value, e.g. `birth.date`.")
    code = serializers.CharField()
    detail = serializers.CharField()


class V2ErrorSerializer(serializers.Serializer):
    """v2 error envelope."""

    id = serializers.CharField(help_text="Unique hex id of this error; logged with the request.")
    status = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    detail = serializers.CharField()
    source = V2SourceSerializer(many=True)  # type: ignore[assignment]
    timestamp = serializers.CharField(help_text="UTC, YYYY-MM-DDTHH:MM:SSZ.")


# Errors every authenticated program endpoint can answer.
COMMON_CODES: dict[int, list[str]] = {
    401: [error_codes.INVALID_CREDENTIALS, error_codes.INVALID_TENANT],
    403: [error_codes.RESTRICTED_RESOURCE, error_codes.IP_NOT_ALLOWED],
    429: [error_codes.RATE_LIMITED],
}


def error_responses(version: str, codes: dict[int, list[str]] | None = None) -> dict[int, Any]:
    """extend_schema `responses` entries for the errors an operation answers, by status."""
    merged: dict[int, list[str]] = {k: list(v) for k, v in COMMON_CODES.items()}
    for status, status_codes in (codes or {}).items():
        merged.setdefault(status, [])
        merged[status].extend(c for c in status_codes if c not in merged[status])
    serializer = V2ErrorSerializer if version == "v2" else V1ErrorSerializer
    responses: dict[int, Any] = {}
    for status, status_codes in sorted(merged.items()):
        responses[status] = OpenApiResponse(
            response=serializer,
            description="Error codes: " + ", ".join(f"`{c}`" for c in status_codes),
            examples=[
                OpenApiExample(
                    code, value=_example(version, status, code), status_codes=[str(status)]
                )
                for code in status_codes[:3]
            ],
        )
    return responses


def _example(version: str, status: int, code: str) -> dict[str, Any]:
    if version == "v2":
        return {
            "id": "5f0c6b4e9a1d4c2b8e7f6a5d4c3b2a19",
            "status": status,
            "code": code,
            "title": error_codes.TITLES.get(status, "Error"),
            "detail": error_codes.describe(code),
            "source": [],
            "timestamp": "2026-01-01T00:00:00Z",
        }
    return {
        "code": code,
        "description": error_codes.describe(code),
        "link": f"https://onboard.example.com/api/docs/errors/#{code}",
        "errors": [],
    }


def enumeration_item_schema() -> serializers.Serializer:
    return inline_serializer(
        "EnumerationItem",
        {"code": serializers.CharField(), "description": serializers.CharField()},
    )


# What core adds to operations, documented here so no view has to repeat it.
BODY_METHODS = ("post", "put", "patch", "delete")
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_CODES: dict[int, list[str]] = {
    400: [error_codes.IDEMPOTENCY_KEY_INVALID],
    409: [error_codes.IDEMPOTENCY_KEY_IN_USE],
    422: [error_codes.IDEMPOTENCY_KEY_REUSED],
}
BODY_CODES: dict[int, list[str]] = {
    413: [error_codes.REQUEST_TOO_LARGE],
    415: [error_codes.UNSUPPORTED_MEDIA_TYPE],
}


class OnboardAutoSchema(AutoSchema):
    """The default schema class: documents the Idempotency-Key header of `@idempotent`
    handlers (the answers it adds are documented by `add_core_error_responses`)."""

    def _get_request_body(self, direction: str = "request") -> Any:
        """drf-spectacular documents bodies of PUT/PATCH/POST only; a DELETE whose view
        declares one (v1 `DELETE /users/{id}` takes `state`) is documented too."""
        if self.method != "DELETE" or self._declared_request() is None:
            return super()._get_request_body(direction)
        self.method = "PUT"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"

    def _declared_request(self) -> Any:
        """The request body `extend_schema(request=...)` declares, or None: without one
        drf-spectacular would guess a serializer from the view (and warn on a plain APIView)."""
        self._get_serializer = lambda: None  # type: ignore[method-assign]
        try:
            return self.get_request_serializer()
        finally:
            del self._get_serializer

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        handler = getattr(self.view, self.method.lower(), None)
        if getattr(handler, "idempotent", False):
            parameters.append(
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=(
                        "1 to 255 printable ASCII characters, unique per API client. Retrying "
                        "with the same key and body within 24 h replays the first answer (same "
                        "status and body) with header `Idempotent-Replayed: true`; a different "
                        "body answers 422 `idempotency_key_reused`; while the first request "
                        "runs, 409 `idempotency_key_in_use`. 5xx answers are not stored."
                    ),
                )
            )
        return parameters


def add_core_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: Any
) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the answers core gives around any view.

    `413 request_too_large` on every operation with a body (the middleware checks the size
    first), and `400 / 409 / 422` on every operation that takes an `Idempotency-Key`. A hook,
    because a view's own `extend_schema(responses=...)` replaces the schema class's responses.
    """
    for path, operations in result.get("paths", {}).items():
        version = _path_version(path)
        if not version:
            continue
        for method, operation in operations.items():
            codes: dict[int, list[str]] = {}
            if method in BODY_METHODS:
                codes.update(BODY_CODES)
            for status, status_codes in _boundary_codes(version, method, operation).items():
                _document(operation.setdefault("responses", {}), version, status, status_codes)
            if any(
                p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER
                for p in operation.get("parameters", [])
            ):
                codes.update(IDEMPOTENCY_CODES)
            for status, status_codes in codes.items():
                _document(operation.setdefault("responses", {}), version, status, status_codes)
    return result


def _boundary_codes(version: str, method: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    """The input boundary's answers (api/boundary.py) and the database-outage 503."""
    bad_request = [error_codes.BAD_REQUEST]
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        bad_request.append(error_codes.INVALID_QUERY_PARAM)
    if method in BODY_METHODS:
        body_code = error_codes.VALIDATION_ERROR if version == "v2" else error_codes.INVALID_VALUE
        bad_request.append(body_code)
    return {400: bad_request, 503: [error_codes.SERVICE_UNAVAILABLE]}


def _document(responses: dict[str, Any], version: str, status: int, codes: list[str]) -> None:
    existing = responses.get(str(status))
    if existing is None:
        component = "V2Error" if version == "v2" else "V1Error"
        responses[str(status)] = {
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{component}"},
                    "examples": {
                        code: {"value": _example(version, status, code), "summary": code}
                        for code in codes
                    },
                }
            },
            "description": "Error codes: " + ", ".join(f"`{c}`" for c in codes),
        }
        return
    listed = existing.get("description", "")
    added = [f"`{c}`" for c in codes if f"`{c}`" not in listed]
    if added:
        existing["description"] = ", ".join([listed, *added]) if listed else ", ".join(added)


def _path_version(path: str) -> str:
    parts = path.split("/", 3)
    return parts[2] if len(parts) > 2 and parts[2] in ("v1", "v2") else ""
