"""Paging for the v2 lists: `page` + `records_per_page`, or an opaque keyset `cursor`.

Both modes order by (timestamp, internal id) — the columns of the composite indexes — and
fetch one row more than asked to learn whether a next page exists, so no request ever
counts the table.

Page mode uses OFFSET: simple, but each page costs as much as every page before it. The
keyset cursor costs the same at any depth: it names the boundary row and the query starts
from there in the index (`ts <= c AND (ts < c OR id < i)` is an index range plus a filter
on the rows of that one timestamp). A cursor is a signed token (django.core.signing):
clients cannot forge or alter one, and it carries the boundary row's timestamp and PUBLIC
id — internal ids never leave the service; the query looks the internal id up in a
subquery. Cursors also carry the direction (rows after or before the boundary) and the
sort order they were made for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core import signing
from django.db import models
from django.db.models import Q, Subquery
from django.utils.dateparse import parse_datetime

from core import error_codes
from core.exceptions import ApiError, FieldError

DEFAULT_RECORDS_PER_PAGE = 10
MAX_RECORDS_PER_PAGE = 100
# Keeps OFFSET inside a 64-bit integer on every database (and deep offsets are slow anyway).
MAX_PAGE = 1_000_000
SORT_ORDERS = ("ASC", "DESC")
PAGING_PARAMS = ("page", "records_per_page", "cursor", "sort_order")

M = TypeVar("M", bound=models.Model)


def invalid_param(param: str, detail: str) -> ApiError:
    """400 invalid_query_param naming the parameter (v2 lists it in `source`)."""
    return ApiError(
        error_codes.INVALID_QUERY_PARAM,
        description=detail,
        params={"param": param},
        errors=[FieldError(param, error_codes.INVALID_QUERY_PARAM, detail)],
    )


@dataclass(frozen=True)
class Cursor:
    """A boundary row (its timestamp and public id) and which side of it a page lies."""

    at: datetime
    public_id: str
    descending: bool
    before: bool = False


@dataclass(frozen=True)
class PageRequest:
    records_per_page: int
    descending: bool
    page: int | None = None
    cursor: Cursor | None = None


@dataclass(frozen=True)
class Page(Generic[M]):
    rows: list[M]
    request: PageRequest
    next_cursor: str | None
    previous_cursor: str | None
    has_next: bool
    has_previous: bool


class KeysetPaginator:
    """Pages a queryset ordered by (`time_field`, id); rows must have a `public_id`.

    `salt` separates the cursors of different lists: a users cursor is refused by the
    events list and vice versa.
    """

    def __init__(self, *, time_field: str, salt: str) -> None:
        self.time_field = time_field
        self.salt = salt

    # --- request parsing

    def parse(self, params: Mapping[str, str]) -> PageRequest:
        """Read the paging parameters; any invalid value is 400 `invalid_query_param`."""
        size = _bounded_int(
            params.get("records_per_page", ""),
            "records_per_page",
            DEFAULT_RECORDS_PER_PAGE,
            1,
            MAX_RECORDS_PER_PAGE,
        )
        sort_raw = params.get("sort_order", "").strip()
        if sort_raw and sort_raw.upper() not in SORT_ORDERS:
            raise invalid_param("sort_order", "`sort_order` must be `ASC` or `DESC`.")
        descending = sort_raw.upper() != "ASC"
        cursor_raw = params.get("cursor", "").strip()
        if cursor_raw:
            if params.get("page", "").strip():
                raise invalid_param("page", "Send either `page` or `cursor`, not both.")
            cursor = self.decode(cursor_raw)
            if sort_raw and cursor.descending != descending:
                raise invalid_param(
                    "sort_order", "`sort_order` differs from the order the cursor was made for."
                )
            return PageRequest(records_per_page=size, descending=cursor.descending, cursor=cursor)
        page = _bounded_int(params.get("page", ""), "page", 1, 1, MAX_PAGE)
        return PageRequest(records_per_page=size, descending=descending, page=page)

    def encode(self, cursor: Cursor) -> str:
        payload = {
            "t": cursor.at.isoformat(),
            "p": cursor.public_id,
            "o": "d" if cursor.descending else "a",
            "b": int(cursor.before),
        }
        return signing.dumps(payload, salt=self.salt, compress=False)

    def decode(self, token: str) -> Cursor:
        detail = "`cursor` is not a cursor this list issued."
        try:
            payload = signing.loads(token, salt=self.salt)
        except signing.BadSignature as exc:
            raise invalid_param("cursor", detail) from exc
        if not isinstance(payload, dict):
            raise invalid_param("cursor", detail)
        at = parse_datetime(str(payload.get("t", "")))
        public_id = payload.get("p")
        order = payload.get("o")
        before = payload.get("b")
        if (
            at is None
            or at.tzinfo is None
            or not isinstance(public_id, str)
            or order not in ("a", "d")
            or before not in (0, 1)
        ):
            raise invalid_param("cursor", detail)
        return Cursor(at=at, public_id=public_id, descending=order == "d", before=bool(before))

    # --- querying

    def paginate(self, queryset: models.QuerySet[M], request: PageRequest) -> Page[M]:
        """One query for the page (records_per_page + 1 rows; no COUNT)."""
        size = request.records_per_page
        cursor = request.cursor
        # A "before" cursor walks the index backwards from the boundary, then flips the rows.
        walk_descending = request.descending != bool(cursor and cursor.before)
        t = self.time_field
        ordering = (f"-{t}", "-id") if walk_descending else (t, "id")
        qs = queryset.order_by(*ordering)
        if cursor is not None:
            qs = qs.filter(self._after(queryset.model, cursor, walk_descending))
            rows = list(qs[: size + 1])
        else:
            assert request.page is not None
            offset = (request.page - 1) * size
            rows = list(qs[offset : offset + size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if cursor is not None and cursor.before:
            rows.reverse()
            has_previous, has_next = more, True
        elif cursor is not None:
            has_previous, has_next = True, more
        else:
            has_previous, has_next = bool(request.page and request.page > 1), more
        next_cursor = previous_cursor = None
        if rows and has_next:
            next_cursor = self.encode(self._boundary(rows[-1], request.descending, before=False))
        if rows and has_previous:
            previous_cursor = self.encode(self._boundary(rows[0], request.descending, before=True))
        return Page(
            rows=rows,
            request=request,
            next_cursor=next_cursor,
            previous_cursor=previous_cursor,
            has_next=has_next,
            has_previous=has_previous,
        )

    def _after(self, model: type[models.Model], cursor: Cursor, walk_descending: bool) -> Q:
        t = self.time_field
        # The boundary's internal id, looked up by the public id inside the same query.
        boundary_id = Subquery(
            model._default_manager.filter(public_id=cursor.public_id).order_by().values("id")[:1]
        )
        if walk_descending:
            return Q(**{f"{t}__lte": cursor.at}) & (
                Q(**{f"{t}__lt": cursor.at}) | Q(id__lt=boundary_id)
            )
        return Q(**{f"{t}__gte": cursor.at}) & (
            Q(**{f"{t}__gt": cursor.at}) | Q(id__gt=boundary_id)
        )

    def _boundary(self, row: models.Model, descending: bool, *, before: bool) -> Cursor:
        return Cursor(
            at=getattr(row, self.time_field),
            public_id=row.public_id,  # type: ignore[attr-defined]
            descending=descending,
            before=before,
        )

    # --- response

    def envelope(self, page: Page[Any], *, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """The `pagination` object: links keep the request's filters and page size."""
        request = page.request
        kept = {k: v for k, v in params.items() if k not in ("page", "cursor")}
        next_link = previous_link = None
        if request.cursor is None:
            assert request.page is not None
            if page.has_next:
                next_link = _link(path, kept, page=str(request.page + 1))
            if page.has_previous:
                previous_link = _link(path, kept, page=str(request.page - 1))
        else:
            if page.next_cursor:
                next_link = _link(path, kept, cursor=page.next_cursor)
            if page.previous_cursor:
                previous_link = _link(path, kept, cursor=page.previous_cursor)
        return {
            "page": request.page,
            "records_per_page": request.records_per_page,
            "next": next_link,
            "previous": previous_link,
            "next_cursor": page.next_cursor,
        }


def _bounded_int(raw: str, name: str, default: int, low: int, high: int) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise invalid_param(name, f"`{name}` must be a whole number from {low} to {high}.")
    value = int(raw)
    if not low <= value <= high:
        raise invalid_param(name, f"`{name}` must be a whole number from {low} to {high}.")
    return value


def _link(path: str, params: Mapping[str, str], **extra: str) -> str:
    query: Sequence[tuple[str, str]] = [*params.items(), *extra.items()]
    return f"{path}?{urlencode(query)}"


def single_valued(params: Any, allowed: Sequence[str]) -> dict[str, str]:
    """The query string as one value per name; unknown or repeated names are 400."""
    unknown = sorted(set(params.keys()) - set(allowed))
    if unknown:
        raise ApiError(
            error_codes.INVALID_QUERY_PARAM,
            description=f"Unknown query parameter `{unknown[0]}`.",
            params={"param": unknown[0]},
            errors=[
                FieldError(
                    name, error_codes.INVALID_QUERY_PARAM, f"Unknown query parameter `{name}`."
                )
                for name in unknown
            ],
        )
    values: dict[str, str] = {}
    for name in params:
        given = params.getlist(name)
        if len(given) > 1:
            raise invalid_param(name, f"`{name}` may be given only once.")
        values[name] = given[0]
    return values
