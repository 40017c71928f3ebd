"""Pieces both API versions use: id look-up from the URL or header, id-number masking."""

from __future__ import annotations

from rest_framework.request import Request

from core import error_codes
from core.exceptions import ApiError
from core.masking import mask_number
from enumerations.catalog import Catalog
from users.models import Identification

USER_ID_HEADER = "X-Auth-User-ID"


def header_user_id(request: Request) -> str:
    """MatchMove's user-scope form: the user's id in `X-Auth-User-ID`; missing → 404."""
    value = request.headers.get(USER_ID_HEADER, "").strip()
    if not value:
        raise ApiError(
            error_codes.USER_IMPROPER_ID,
            description=f"Header `{USER_ID_HEADER}` is missing: send the user's id "
            "(32 lower-case hex characters) in it.",
        )
    return value


def id_type_masks(catalog: Catalog, id_type: str) -> bool:
    entry = catalog.get_any("id_types", id_type)
    # unknown types (deleted from the catalog by hand) are masked: the safe default
    return bool(entry.extra.get("masking", True)) if entry is not None else True


def shown_number(catalog: Catalog, document: Identification) -> str:
    """The id number as answered: all but the last 4 characters masked for `masking` types."""
    if id_type_masks(catalog, document.id_type):
        return mask_number(document.number)
    return document.number
