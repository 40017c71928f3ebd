"""`GET/PUT /{program}/v1/users/addresses/{type}` (SPEC §11, `User_address.v1`).

The user is named by `X-Auth-User-ID`. The addresses are the v2 `addresses` records (one
store, two views): a `PUT` checks the v1 limits here, then goes through `user_update` like
any update — validated, screened and audited — with the whole address of that type.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.schema import error_responses
from core import error_codes
from core.exceptions import ApiError, FieldError
from enumerations.catalog import Catalog
from users import services
from users.api.common import header_user_id
from users.api.v1 import ID_404, USER_ID_HEADER_PARAM, V1View, body_items, present
from users.models import AccountHolder, Channel
from users.selectors import user_get
from users.validation import current_addresses

V1_ADDRESS_TYPES = ("residential", "billing")
TEXT_LIMITS: dict[str, tuple[int, str]] = {
    "address_1": (35, error_codes.USER_ADDRESS_1_INVALID),
    "address_2": (35, error_codes.USER_ADDRESS_2_INVALID),
    "address_3": (35, error_codes.USER_ADDRESS_3_INVALID),
    "address_4": (35, error_codes.USER_ADDRESS_4_INVALID),
    "city": (35, error_codes.USER_CITY_INVALID),
    "state": (20, error_codes.USER_STATE_INVALID_ADDRESS),
}
REQUIRED = ("address_1", "city")
FIELDS = (*TEXT_LIMITS, "country", "country_code", "zipcode")
_ZIPCODE = re.compile(r"^[A-Za-z0-9 \-]{1,16}$")
_CODES = {
    **{key: code for key, (_limit, code) in TEXT_LIMITS.items()},
    "country": error_codes.USER_COUNTRY_INVALID,
    "country_code": error_codes.USER_COUNTRY_CODE_INVALID,
    "zipcode": error_codes.USER_ZIPCODE_INVALID,
}


def render_address(catalog: Catalog, address: Any) -> dict[str, Any] | None:
    if address is None:
        return None
    entry = catalog.get_any("countries", address.country) if address.country else None
    return {
        "address_1": address.address_1,
        "address_2": address.address_2,
        "address_3": address.address_3,
        "address_4": address.address_4,
        "city": address.city,
        "state": address.state,
        "country": entry.description if entry is not None else None,
        "country_code": address.country,
        "zipcode": address.zipcode,
    }


def render_addresses(catalog: Catalog, user: AccountHolder) -> dict[str, Any]:
    addresses = current_addresses(user)
    return {kind: render_address(catalog, addresses.get(kind)) for kind in V1_ADDRESS_TYPES}


def _country_by_name(catalog: Catalog, name: str) -> str | None:
    lowered = name.lower()
    for entry in catalog.values("countries"):
        if entry.description.lower() == lowered:
            return entry.code
    return None


def parse_address(items: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    """A v1 address body → the canonical address item; every failing rule is listed."""
    errors = [
        FieldError(name, error_codes.USER_UNKNOWN_FIELD, f"Unknown field `{name}`.")
        for name in items
        if name not in FIELDS
    ]
    values = {
        name: items[name].strip()
        for name in FIELDS
        if name in items and present(items[name]) and isinstance(items[name], str)
    }
    for name in FIELDS:  # a list (repeated form field) or an object is never valid
        if name in items and present(items[name]) and not isinstance(items[name], str):
            errors.append(FieldError(name, _CODES[name]))
    for name, (limit, code) in TEXT_LIMITS.items():
        value = values.get(name)
        if (value is None and name in REQUIRED) or (value is not None and len(value) > limit):
            errors.append(FieldError(name, code))
    if "zipcode" in values and not _ZIPCODE.match(values["zipcode"]):
        errors.append(FieldError("zipcode", error_codes.USER_ZIPCODE_INVALID))
    by_name = by_code = None
    if "country" in values:
        by_name = _country_by_name(catalog, values["country"])
        if len(values["country"]) > 50 or by_name is None:
            errors.append(FieldError("country", error_codes.USER_COUNTRY_INVALID))
    if "country_code" in values:
        entry = catalog.lookup("countries", values["country_code"])
        by_code = entry.code if entry is not None else None
        if by_code is None or (by_name is not None and by_name != by_code):
            errors.append(FieldError("country_code", error_codes.USER_COUNTRY_CODE_INVALID))
    if "country" not in values and "country_code" not in values:
        errors.append(FieldError("country", error_codes.USER_COUNTRY_INVALID))
    if errors:
        raise ApiError.from_field_errors(errors)
    return {
        **{name: values.get(name) for name in TEXT_LIMITS},
        "country": by_code or by_name,
        "zipcode": values.get("zipcode"),
    }


def _address_type(kind: str) -> str:
    if kind not in V1_ADDRESS_TYPES:
        raise ApiError(
            error_codes.USER_ADDRESS_TYPE_INVALID,
            status=404,
            description=f"Address type must be `residential` or `billing`, not `{kind[:20]}`.",
        )
    return kind


class V1AddressSerializer(serializers.Serializer):
    address_1 = serializers.CharField(allow_null=True)
    address_2 = serializers.CharField(allow_null=True)
    address_3 = serializers.CharField(allow_null=True)
    address_4 = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    state = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True, help_text="English name.")
    country_code = serializers.CharField(allow_null=True, help_text="ISO 3166 alpha-3.")
    zipcode = serializers.CharField(allow_null=True)


class V1UserAddressesSerializer(serializers.Serializer):
    """`User_address.v1`: both types; `null` when the user has none of that type."""

    residential = V1AddressSerializer(allow_null=True)
    billing = V1AddressSerializer(allow_null=True)


class V1AddressRequest(serializers.Serializer):
    address_1 = serializers.CharField(max_length=35)
    address_2 = serializers.CharField(max_length=35, required=False)
    address_3 = serializers.CharField(max_length=35, required=False)
    address_4 = serializers.CharField(max_length=35, required=False)
    city = serializers.CharField(max_length=35)
    state = serializers.CharField(max_length=20, required=False)
    country = serializers.CharField(
        max_length=50, required=False, help_text="English country name (or `country_code`)."
    )
    country_code = serializers.CharField(
        max_length=3, required=False, help_text="ISO 3166 alpha-3 (or `country`)."
    )
    zipcode = serializers.RegexField(r"^[A-Za-z0-9 \-]{1,16}$", required=False)


TYPE_PARAM = OpenApiParameter(
    "type", str, OpenApiParameter.PATH, enum=list(V1_ADDRESS_TYPES), description="Address type."
)
_TAGS = ["v1 addresses"]
_404 = [*ID_404, error_codes.USER_ADDRESS_TYPE_INVALID]


class UserAddressV1View(V1View):
    @extend_schema(
        operation_id="v1_users_addresses_retrieve",
        tags=_TAGS,
        summary="Read the user's addresses",
        parameters=[USER_ID_HEADER_PARAM, TYPE_PARAM],
        responses={200: V1UserAddressesSerializer, **error_responses("v1", {404: _404})},
    )
    def get(self, request: Request, program: str, type: str) -> Response:
        _address_type(type)
        user = self.user(header_user_id(request))
        return Response(render_addresses(self.catalog, user))

    @extend_schema(
        operation_id="v1_users_addresses_update",
        tags=_TAGS,
        summary="Create or replace the user's address of this type",
        description=(
            "Required: `address_1`, `city`, and `country` (English name) or `country_code` "
            "(alpha-3; both must agree when sent together). Validated, screened and audited "
            "like any update; the same records as v2 `addresses`."
        ),
        parameters=[USER_ID_HEADER_PARAM, TYPE_PARAM],
        request={
            "application/json": V1AddressRequest,
            "application/x-www-form-urlencoded": V1AddressRequest,
        },
        responses={
            200: V1UserAddressesSerializer,
            **error_responses(
                "v1",
                {
                    400: [
                        *_CODES.values(),
                        error_codes.USER_UNKNOWN_FIELD,
                        error_codes.INVALID_REQUEST_BODY,
                        error_codes.RISK_BLACKLISTED_UPDATE,
                    ],
                    403: [error_codes.RISK_USER_THRESHOLD_EXCEEDED, error_codes.RISK_ENGINE_ERROR],
                    404: _404,
                    500: [error_codes.RISK_CONFIG_ERROR],
                },
            ),
        },
    )
    def put(self, request: Request, program: str, type: str) -> Response:
        kind = _address_type(type)
        user = self.user(header_user_id(request))
        item = parse_address(body_items(request.data), self.catalog)
        try:
            updated = services.user_update(
                user=user,
                changes={"addresses": {kind: item}},
                actor=self.actor(),
                channel=Channel.API_V1,
                catalog=self.catalog,
                sent={f"addresses.{kind}", *(f"addresses.{kind}.{k}" for k in item)},
            )
        except ApiError as error:
            prefix = f"addresses.{kind}."
            error.errors = [
                FieldError(e.field.removeprefix(prefix), e.code, e.description)
                for e in error.errors
            ]
            raise
        fresh = user_get(
            program=self.program, public_id=updated.user.public_id, prefetch=("addresses",)
        )
        return Response(render_addresses(self.catalog, fresh))
