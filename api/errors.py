"""Renders every error as the v1 or the v2 envelope, chosen by the URL's version segment."""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.defaults import bad_request, page_not_found, server_error
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from core import error_codes
from core.exceptions import ApiError
from core.logging import safe_traceback
from core.request_context import set_error_id

logger = logging.getLogger("onboard.errors")

# Retry-After of a 503 answered while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


def api_version(path: str) -> str:
    """'v1' or 'v2' for API paths (`/{program}/v1/...`), '' elsewhere."""
    parts = path.split("/", 3)
    if len(parts) > 2 and parts[2] in ("v1", "v2"):
        return parts[2]
    return ""


def new_error_id() -> str:
    return secrets.token_hex(16)


ERROR_CATALOGUE_PATH = "/api/docs/errors/"


def error_link(code: str, request: HttpRequest | None) -> str:
    """The code's entry in the error catalogue: `ONBOARD_ERROR_DOCS_URL` when set, else an
    absolute URL on the request's own scheme and host."""
    base = settings.ERROR_DOCS_BASE_URL
    if not base:
        base = ERROR_CATALOGUE_PATH
        # a refused Host (400 bad_request) is never echoed: the path alone then
        with contextlib.suppress(DisallowedHost):
            if request is not None:
                base = request.build_absolute_uri(ERROR_CATALOGUE_PATH)
    return f"{base}#{code}"


def render_envelope(
    error: ApiError, version: str, error_id: str, request: HttpRequest | None = None
) -> dict[str, Any]:
    if version == "v2":
        code = error_codes.VALIDATION_ERROR if error.is_validation else error.code
        detail = (
            error_codes.describe(error_codes.VALIDATION_ERROR)
            if error.is_validation
            else error.description
        )
        return {
            "id": error_id,
            "status": error.status,
            "code": code,
            "title": error_codes.TITLES.get(error.status, "Error"),
            "detail": detail,
            "source": [
                {"field": e.field, "code": e.code, "detail": e.description} for e in error.errors
            ],
            "timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    return {
        "code": error.code,
        "description": error.description,
        "link": error_link(error.code, request),
        "errors": [
            {"field": e.field, "code": e.code, "description": e.description} for e in error.errors
        ],
    }


def to_api_error(exc: BaseException, version: str) -> ApiError | None:
    """Translate DRF/Django exceptions into ApiError; None for unexpected ones."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf_exceptions.MethodNotAllowed):
        return ApiError(error_codes.METHOD_NOT_ALLOWED, params={"method": _method_of(exc)})
    if isinstance(exc, drf_exceptions.UnsupportedMediaType):
        return ApiError(
            error_codes.UNSUPPORTED_MEDIA_TYPE,
            params={"media_type": _quoted(str(exc.detail))},
        )
    if isinstance(exc, drf_exceptions.NotAcceptable):
        return ApiError(error_codes.NOT_ACCEPTABLE)
    if isinstance(exc, drf_exceptions.ParseError):
        code = error_codes.INVALID_MODEL if version == "v2" else error_codes.INVALID_REQUEST_BODY
        return ApiError(code)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(error_codes.REQUEST_TOO_LARGE)
    if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
        return ApiError(error_codes.INVALID_CREDENTIALS)
    if isinstance(exc, drf_exceptions.PermissionDenied | PermissionDenied):
        return ApiError(error_codes.RESTRICTED_RESOURCE, params={"method": ""})
    if isinstance(exc, drf_exceptions.NotFound | Http404):
        return ApiError(error_codes.RESOURCE_NOT_FOUND)
    if isinstance(exc, drf_exceptions.Throttled):
        wait = int(getattr(exc, "wait", None) or 1)
        return ApiError(error_codes.RATE_LIMITED, headers={"Retry-After": str(max(wait, 1))})
    if isinstance(exc, drf_exceptions.ValidationError):
        return ApiError(error_codes.INVALID_REQUEST_BODY)
    if isinstance(exc, drf_exceptions.APIException):
        return ApiError(error_codes.INTERNAL_ERROR, status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or refusing connections: nothing the client did,
        # and worth retrying (writes safely so with an Idempotency-Key).
        return ApiError(
            error_codes.SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    return None


def _method_of(exc: drf_exceptions.MethodNotAllowed) -> str:
    return _quoted(str(exc.detail))


def _quoted(detail: str) -> str:
    """The value DRF quotes in its messages (`Method "PATCH" not allowed.`)."""
    return detail.split('"')[1] if detail.count('"') >= 2 else ""


def error_response_data(
    exc: BaseException, path: str, request: HttpRequest | None = None
) -> tuple[dict[str, Any], int, dict[str, str]]:
    version = api_version(path)
    error_id = new_error_id()
    set_error_id(error_id)
    error = to_api_error(exc, version)
    if error is None:
        # Not logger.exception: the raw message of a database error quotes row values (PII);
        # every handler gets the traceback with messages withheld or masked instead.
        logger.error(
            "unhandled exception",
            extra={
                "error_id": error_id,
                "path": path,
                "exception_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                "traceback": safe_traceback(exc),
            },
        )
        error = ApiError(error_codes.INTERNAL_ERROR)
    else:
        level = logging.WARNING if error.status >= 500 else logging.INFO
        logger.log(
            level,
            "api error",
            extra={"error_id": error_id, "code": error.code, "status": error.status},
        )
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="onboard"')
    return render_envelope(error, version, error_id, request), error.status, headers


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every API error becomes an envelope."""
    request = context.get("request")
    path = request.path if request is not None else ""
    data, status, headers = error_response_data(exc, path, request)
    return Response(data, status=status, headers=headers)


def json_error(request: HttpRequest, exc: BaseException) -> JsonResponse:
    data, status, headers = error_response_data(exc, request.path, request)
    response = JsonResponse(data, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def handler404(request: HttpRequest, exception: Exception | None = None) -> Any:
    """URLs that match no route: the envelope under the API, Django's page elsewhere."""
    if api_version(request.path):
        return json_error(request, Http404())
    return page_not_found(request, exception or Http404())


def handler400(request: HttpRequest, exception: Exception | None = None) -> Any:
    """Requests Django refuses before routing (e.g. a Host not in ALLOWED_HOSTS)."""
    if api_version(request.path):
        return json_error(request, ApiError(error_codes.BAD_REQUEST))
    return bad_request(request, exception or Exception())


def handler500(request: HttpRequest) -> Any:
    if api_version(request.path):
        error_id = new_error_id()
        data = render_envelope(
            ApiError(error_codes.INTERNAL_ERROR), api_version(request.path), error_id, request
        )
        return JsonResponse(data, status=500)
    return server_error(request)
