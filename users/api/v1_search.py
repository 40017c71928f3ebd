"""`GET /{program}/v1/oauth/consumer/search/users` (SPEC §11): MatchMove's program-level
search. The query itself is users/api/search.py; this renders it, paged, with string counts."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from api.pagination import invalid_param, single_valued
from api.schema import error_responses
from core import error_codes
from users.api.search import (
    COUNT_CAP,
    FILTERS,
    USER_STATUSES,
    capped_count,
    parse_search,
    search_page,
    search_users,
)
from users.api.v1 import V1_STATUS_TEXT, V1LinkSerializer, V1UserSerializer, V1View, render_v1_user
from users.models import AccountHolder, Identification, Status

OPTIONS = ("match_type", "filter_condition", "response_type", "page", "records_per_page")
RESPONSE_TYPES = ("expand", "condense")
MAX_PER_PAGE = 100
MAX_PAGE = COUNT_CAP  # deeper pages would walk past the counted matches


def render_condensed(user: AccountHolder, program_code: str) -> dict[str, Any]:
    """`response_type=condense`: who the user is and how to reach them, nothing else."""
    return {
        "id": user.public_id,
        "email": user.email,
        "name": {"first": user.first_name, "last": user.last_name},
        "mobile": {"country_code": user.mobile_country_code, "number": user.mobile},
        "status": {
            "is_active": user.status == Status.ACTIVE,
            "text": V1_STATUS_TEXT.get(user.status, "pending"),
        },
        "links": [
            {"method": "GET", "rel": "self", "href": f"/{program_code}/v1/users/{user.public_id}"}
        ],
    }


def _positive(params: dict[str, str], name: str, default: int, maximum: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise invalid_param(name, f"`{name}` must be a whole number from 1 to {maximum}.")
    return int(text)


class V1CondensedNameSerializer(serializers.Serializer):
    first = serializers.CharField(allow_null=True)
    last = serializers.CharField(allow_null=True)


class V1CondensedUserSerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    name = V1CondensedNameSerializer()
    mobile = serializers.DictField(child=serializers.CharField(allow_null=True))
    status = serializers.DictField()
    links = V1LinkSerializer(many=True)


class V1SearchLinksSerializer(serializers.Serializer):
    self = serializers.CharField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class V1SearchSerializer(serializers.Serializer):
    users = serializers.ListField(
        child=serializers.DictField(),
        help_text="v1 users (`response_type=expand`, default) or condensed users.",
    )
    total_records = serializers.CharField(
        help_text=f"Matches as a string; capped: `{COUNT_CAP}+` when there are more."
    )
    records_per_page = serializers.CharField()
    total_pages = serializers.CharField(help_text="A string; ends with `+` when capped.")
    links = V1SearchLinksSerializer(many=True)


_FILTER_HELP = {
    "email": "E-mail (case-insensitive; a prefix with `match_type=fuzzy`).",
    "mobile": "Calling code followed by the number, digits only (e.g. `6591234567`).",
    "user_hash_id": "The user id (a prefix with fuzzy).",
    "user_status": "One of " + ", ".join(f"`{s}`" for s in USER_STATUSES) + ".",
    "kyc_status": "`pending`, `in_progress` or `completed`.",
    "birthday": "YYYY-MM-DD (fuzzy: also YYYY or YYYY-MM; the whole year or month).",
    "id_number": (
        "The id number (spaces, dashes and case ignored). Always an exact match, also with "
        "`match_type=fuzzy`: id numbers are stored encrypted, so no prefix of them can be "
        "searched."
    ),
}
PARAMETERS = [
    *(
        OpenApiParameter(
            name,
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description=_FILTER_HELP.get(name, f"`{name}` (case-insensitive; prefix with fuzzy)."),
        )
        for name in FILTERS
    ),
    OpenApiParameter(
        "match_type", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["exact", "fuzzy"]
    ),
    OpenApiParameter(
        "filter_condition", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["AND", "OR"]
    ),
    OpenApiParameter(
        "response_type", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(RESPONSE_TYPES)
    ),
    OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="From 1."),
    OpenApiParameter(
        "records_per_page", OpenApiTypes.INT, OpenApiParameter.QUERY, description="1 to 100."
    ),
]


class UserSearchV1View(V1View):
    @extend_schema(
        operation_id="v1_users_search",
        tags=["v1 search"],
        summary="Search the program's users",
        description=(
            "At least one filter. `match_type`: `exact` (default) or `fuzzy` (a "
            "case-insensitive prefix; `id_number` stays exact, `birthday` takes a year or a "
            "month); `filter_condition`: `AND` (default) or `OR`; "
            "`response_type`: `expand` (v1 users, default) or `condense`. Newest first. "
            f"Counts are strings; `total_records` is capped at `{COUNT_CAP}+`."
        ),
        parameters=PARAMETERS,
        responses={
            200: V1SearchSerializer,
            **error_responses("v1", {400: [error_codes.INVALID_QUERY_PARAM]}),
        },
    )
    def get(self, request: Request, program: str) -> Response:
        params = single_valued(request.query_params, [*FILTERS, *OPTIONS])
        search = parse_search(params)
        response_type = (params.get("response_type") or "expand").strip().lower()
        if response_type not in RESPONSE_TYPES:
            raise invalid_param("response_type", "`response_type` is `expand` or `condense`.")
        page = _positive(params, "page", 1, MAX_PAGE)
        per_page = _positive(params, "records_per_page", 10, MAX_PER_PAGE)
        total, capped = capped_count(search_users(self.program, search))
        rows = search_page(self.program, search, (page - 1) * per_page, page * per_page)
        if response_type == "expand":
            rows = rows.prefetch_related(
                Prefetch(
                    "identifications",
                    queryset=Identification.objects.order_by("-is_primary", "id"),
                )
            )
        users = list(rows)
        pages = math.ceil(total / per_page)
        if response_type == "expand":
            rendered = [
                render_v1_user(u, catalog=self.catalog, program_code=program) for u in users
            ]
        else:
            rendered = [render_condensed(u, program) for u in users]
        more = page * per_page < total or capped
        return Response(
            {
                "users": rendered,
                "total_records": f"{total}+" if capped else str(total),
                "records_per_page": str(per_page),
                "total_pages": f"{pages}+" if capped else str(pages),
                "links": [
                    {
                        "self": self._link(request, params, page),
                        "next": self._link(request, params, page + 1) if more else None,
                        "previous": self._link(request, params, page - 1) if page > 1 else None,
                    }
                ],
            }
        )

    @staticmethod
    def _link(request: Request, params: dict[str, str], page: int) -> str:
        return f"{request.path}?{urlencode({**params, 'page': page})}"


__all__ = ["UserSearchV1View", "V1UserSerializer"]
