"""The input boundary: values no part of the service can store or compute with never get in.

Every request passes `InputBoundaryMiddleware` (headers, path, query string, form bodies); JSON
bodies are decoded once, by `loads_json` (core/parsers.py), which applies the same rules while
decoding. Refused, with the version's 400:

- the NUL character (PostgreSQL text cannot hold it: the driver raises, which was a 500);
- unpaired UTF-16 surrogates (`"\\ud800"` in JSON decodes to a str that cannot be encoded as
  UTF-8, so the database, the logs and the JSON renderer all fail on it);
- non-finite numbers (`1e309` overflows to infinity; `NaN`, `Infinity`): JSON has no such
  values, so nothing could render them back;
- dates outside `DATE_MIN`..`DATE_MAX`: an ISO 8601 date or date-time at the very ends of the
  calendar overflows as soon as a time zone is applied or a whole day is added
  (`created_to=9999-12-31` is "before 10000-01-01").

Answers: a header or the path → `400 bad_request`; a query parameter → `400
invalid_query_param` naming it; a body value → the field error `invalid_value` at the value's
dotted path (v1: the envelope's code; v2: `400 validation_error` with one `source` item per
value). Requests with chunked bodies (no Content-Length) are read here, up to the body limit,
so every view sees the body a client sent.
"""

from __future__ import annotations

import io
import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError

from api.errors import api_version, json_error
from core import error_codes
from core.exceptions import ApiError, FieldError

# One day inside Python's (and therefore Django's) calendar at each end, so that any UTC
# offset (at most ±14 h) or a whole-day bound still lands on a representable instant.
DATE_MIN = date(1, 1, 2)
DATE_MAX = date(9999, 12, 30)

# Lone surrogates; NUL. (Other control characters are legal in JSON strings and in the
# database; the fields that must not hold them say so in their own validation.)
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
# A value that *is* an ISO 8601 date or date-time (not one that merely contains one).
_ISO_DATE = re.compile(
    r"[+-]?(\d{4,})-(\d{2})-(\d{2})"
    r"(?:[Tt ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_FORM_TYPES = ("application/x-www-form-urlencoded",)


class RefusedValue(ValueError):
    """A value the boundary refuses; `reason` says which rule, for the client's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def text_problem(value: str) -> str | None:
    """Why this string may not enter the service, or None when it may."""
    found = _FORBIDDEN.search(value)
    if found is not None:
        return "a NUL character" if found.group() == "\x00" else "an unpaired UTF-16 surrogate"
    match = _ISO_DATE.fullmatch(value)
    if match is not None:
        year, month, day = (int(part) for part in match.groups())
        try:
            in_range = DATE_MIN <= date(year, month, day) <= DATE_MAX
        except ValueError:
            # not a calendar date at all (month 13, year 0, five digits): the field's own
            # validation says so; only representable-but-unusable dates are ours
            in_range = 1 <= year <= 9999
        if not in_range:
            return f"a date outside {DATE_MIN.isoformat()}..{DATE_MAX.isoformat()}"
    return None


def value_error(field: str, reason: str) -> FieldError:
    return FieldError(
        field,
        error_codes.INVALID_VALUE,
        error_codes.describe(error_codes.INVALID_VALUE, field=field, reason=reason),
    )


# --- JSON bodies ---------------------------------------------------------------------------


def _refuse_constant(name: str) -> float:
    raise RefusedValue(f"a non-finite number ({name})")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise RefusedValue(f"a non-finite number ({text})")
    return number


def loads_json(text: str) -> Any:
    """`json.loads` that refuses what the boundary refuses; ApiError names each bad value.

    Non-finite numbers are refused by the decoder itself (the hooks see the literal, before a
    float exists); strings and keys are checked in one walk of the decoded value.
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RefusedValue as refused:
        # the decoder stops at the first one and knows no path: find it (and any others)
        lenient = json.loads(text)
        errors = list(_json_problems(lenient, "")) or [value_error("", refused.reason)]
        raise ApiError.from_field_errors(errors) from None
    errors = list(_json_problems(data, ""))
    if errors:
        raise ApiError.from_field_errors(errors)
    return data


def field_problems(fields: dict[str, Any]) -> list[FieldError]:
    """What the boundary refuses in an already-parsed body (multipart and streamed uploads,
    which do not pass `loads_json` or the middleware's form check): each bad value by name."""
    return list(_json_problems(fields, ""))


def _json_problems(value: Any, path: str) -> Iterator[FieldError]:
    if isinstance(value, str):
        reason = text_problem(value)
        if reason:
            yield value_error(path, reason)
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield value_error(path, f"a non-finite number ({value})")
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            reason = text_problem(key)
            if reason:
                # the key itself is the bad value: name it without the offending characters
                yield value_error(path or "(key)", f"a key holding {reason}")
                continue
            yield from _json_problems(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_problems(item, f"{path}[{index}]")


# --- the middleware ----------------------------------------------------------------------------


class InputBoundaryMiddleware:
    """Refuses bad headers, paths, query strings and form bodies before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            _read_chunked_body(request)
            error = _request_problem(request)
        except RequestDataTooBig as too_big:
            return _refusal(request, too_big)
        if error is not None:
            return _refusal(request, error)
        return self.get_response(request)


def _refusal(request: HttpRequest, error: Exception) -> HttpResponse:
    if api_version(request.path):
        return json_error(request, error)
    if isinstance(error, RequestDataTooBig):
        return HttpResponse("Request body too large.", status=413, content_type="text/plain")
    return HttpResponseBadRequest("Bad request.", content_type="text/plain")


def _request_problem(request: HttpRequest) -> ApiError | None:
    reason = text_problem(request.path)
    if reason:
        return ApiError(error_codes.BAD_REQUEST, errors=[value_error("path", reason)])
    for name, value in _headers(request):
        reason = text_problem(value)
        if reason:
            return ApiError(error_codes.BAD_REQUEST, errors=[value_error(name, reason)])
    errors = list(_pairs_problems(request.GET.lists()))
    if errors:
        return ApiError(
            error_codes.INVALID_QUERY_PARAM,
            description=errors[0].description,
            params={"param": errors[0].field},
            errors=[
                FieldError(e.field, error_codes.INVALID_QUERY_PARAM, e.description) for e in errors
            ],
        )
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and _is_form(request):
        try:
            fields = request.POST
        except (TooManyFieldsSent, MultiPartParserError):
            # the view's parser answers these as before (400, invalid_request_body)
            return None
        errors = list(_pairs_problems(fields.lists()))
        if errors:
            return ApiError.from_field_errors(errors)
    return None


def _headers(request: HttpRequest) -> Iterator[tuple[str, str]]:
    # A real server hands over latin-1 text, so only NUL can occur there; in-process callers
    # (tests, other WSGI servers) can pass anything, and the check costs microseconds.
    for key, value in request.META.items():
        is_header = key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
        if is_header and isinstance(value, str):
            yield key.removeprefix("HTTP_").replace("_", "-").title(), value


def _pairs_problems(pairs: Iterable[tuple[str, list[str]]]) -> Iterator[FieldError]:
    for name, values in pairs:
        reason = text_problem(name)
        if reason:
            yield value_error("(name)", f"a parameter name holding {reason}")
            continue
        for value in values:
            reason = text_problem(value)
            if reason:
                yield value_error(name, reason)
                break


def _is_form(request: HttpRequest) -> bool:
    """Form bodies this middleware may parse without changing how the view reads them.

    Multipart bodies outside the API are parsed by CSRF's middleware anyway; under the API
    they belong to DRF's parsers and to the upload routes' own streaming handlers, which must
    be installed before anything reads the body, so they are left alone here. Bodies over the
    general limit are the upload routes' (their views apply their own limit).
    """
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type not in _FORM_TYPES and (
        content_type != "multipart/form-data" or api_version(request.path)
    ):
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is None or declared_length(request) <= limit


def declared_length(request: HttpRequest) -> int:
    """The Content-Length the client declared (0 when absent or not a number)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def body_limit(request: HttpRequest) -> int:
    """UPLOAD_MAX_BODY_BYTES for the upload routes (`UPLOAD_PATHS`, POST), else the default."""
    if request.method == "POST" and any(re.match(p, request.path) for p in settings.UPLOAD_PATHS):
        return int(settings.UPLOAD_MAX_BODY_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


# A chunked body is held in memory up to this size, beyond it in a temporary file: an upload
# route's 12 MiB never sits in a worker's memory whole.
CHUNKED_IN_MEMORY = 256 * 1024
_CHUNK = 64 * 1024


def _read_chunked_body(request: HttpRequest) -> None:
    """A chunked body (no Content-Length) becomes an ordinary one, or 413 beyond the limit.

    gunicorn de-chunks the body but passes no Content-Length, and Django reads a body only
    up to CONTENT_LENGTH: the view saw an empty body (a valid create answered "required").
    The route's own limit applies (an upload route takes 12 MiB chunked as it does with a
    Content-Length), and the body is spooled to a temporary file past `CHUNKED_IN_MEMORY`.
    """
    if "chunked" not in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    if request.META.get("CONTENT_LENGTH"):
        return
    limit = body_limit(request)
    stream = request.META["wsgi.input"] if "wsgi.input" in request.META else io.BytesIO()
    # an unlinked temporary file past the threshold: freed when the request drops it
    body = tempfile.SpooledTemporaryFile(max_size=CHUNKED_IN_MEMORY)  # noqa: SIM115
    size = 0
    while chunk := stream.read(min(_CHUNK, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            body.close()
            raise RequestDataTooBig("Request body exceeded the route's body limit.")
        body.write(chunk)
    body.seek(0)
    request.META["CONTENT_LENGTH"] = str(size)
    request._stream = body  # type: ignore[attr-defined,assignment]
    request._read_started = False  # type: ignore[attr-defined]
