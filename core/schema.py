"""OpenAPI pieces shared by every endpoint: the Basic auth scheme and both error envelopes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from core import error_codes


class ApiClientAuthScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiClientAuthentication"
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
        "link": f"/api/docs/#errors-{code}",
        "errors": [],
    }


def enumeration_item_schema() -> serializers.Serializer:
    return inline_serializer(
        "EnumerationItem",
        {"code": serializers.CharField(), "description": serializers.CharField()},
    )
