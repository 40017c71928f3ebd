"""GET /{program}/v1|v2/users/enumerations/{kind}: the program's effective values."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import error_responses
from api.views import ProgramAPIView
from core import error_codes
from core.exceptions import ApiError
from enumerations.catalog import Catalog
from enumerations.registry import KINDS

COUNTRY_CODE_TYPES = ("iso", "numeric")


def render_kind(
    catalog: Catalog, kind: str, restrictions: dict[str, list[str]], code_type: str = "iso"
) -> dict[str, Any]:
    values = catalog.values(kind, restrictions=restrictions)
    key = KINDS[kind].response_key
    if kind == "id_types":

        def item(e: Any) -> dict[str, Any]:
            return {
                "code": e.code,
                "description": {
                    "display_name": e.extra["display_name"],
                    "regex_validation": e.extra["regex_validation"],
                    "max_duplicate": e.extra["max_duplicate"],
                    "masking": e.extra["masking"],
                },
            }

        return {
            key: {
                "primary": [item(e) for e in values if e.extra["is_primary"]],
                "secondary": [item(e) for e in values if e.extra["is_secondary"]],
            }
        }
    if kind == "countries" and code_type == "numeric":
        return {key: [{"code": e.extra["numeric"], "description": e.description} for e in values]}
    return {key: [{"code": e.code, "description": e.description} for e in values]}


def _schema(version: str) -> Any:
    return extend_schema(
        operation_id=f"{version}_enumerations_retrieve",
        tags=[f"{version} enumerations"],
        summary="Enumeration values",
        description=(
            "The program's effective values of one kind (its restrictions applied). Kinds: "
            + ", ".join(f"`{k}`" for k in KINDS)
            + ". The wrapper key is the kind, except `genders` → `gender` and "
            "`mobile_country_codes` → `mobile_country_code`; `id_types` is grouped into "
            "`primary` and `secondary`, each item's description an object."
        ),
        parameters=[
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                enum=list(COUNTRY_CODE_TYPES),
                description="`countries` only: `iso` (alpha-3, default) or `numeric`.",
            )
        ],
        responses={
            200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="Values of the kind."),
            **error_responses(
                version,
                {
                    400: [error_codes.INVALID_QUERY_PARAM],
                    404: [error_codes.RESOURCE_NOT_FOUND],
                },
            ),
        },
    )


class EnumerationView(ProgramAPIView):
    version = "v1"

    def get(self, request: Request, program: str, kind: str) -> Response:
        if kind not in KINDS:
            raise ApiError(error_codes.RESOURCE_NOT_FOUND)
        code_type = request.query_params.get("type", "iso").strip().lower() or "iso"
        if kind == "countries" and code_type not in COUNTRY_CODE_TYPES:
            raise ApiError(
                error_codes.INVALID_QUERY_PARAM,
                params={"param": "type"},
                description="Invalid query parameter `type`: use `iso` or `numeric`.",
            )
        return Response(render_kind(self.catalog, kind, self.program.restrictions or {}, code_type))


class EnumerationV1View(EnumerationView):
    @_schema("v1")
    def get(self, request: Request, program: str, kind: str) -> Response:
        return super().get(request, program, kind)


class EnumerationV2View(EnumerationView):
    version = "v2"

    @_schema("v2")
    def get(self, request: Request, program: str, kind: str) -> Response:
        return super().get(request, program, kind)
