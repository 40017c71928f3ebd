"""The outermost middleware: request id, body-size limit and the access log of API requests."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from api.boundary import body_limit, declared_length
from api.errors import api_version, json_error
from core import request_context
from core.logging import loggable_path

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}\Z")

access_logger = logging.getLogger("onboard.access")


class RequestContextMiddleware:
    """Per request: an id (echoed if the client sent a sane one), then for API paths:

    - bodies larger than DATA_UPLOAD_MAX_MEMORY_SIZE answer `413 request_too_large` in the
      version's envelope before anything reads them (DRF parses lazily, and a view that never
      touches its body would otherwise accept any size);
    - one JSON access-log line: method, path (never the query string, which can carry e-mails
      and phone numbers as filters; odd path segments masked), status, duration, request id,
      program, client, error id.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_context.start(request_id)
        started = time.monotonic()
        is_api = bool(api_version(request.path))
        response: HttpResponse
        try:
            if is_api and declared_length(request) > body_limit(request):
                response = json_error(request, RequestDataTooBig())
            else:
                response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if is_api:
                _log_access(request, response, started)
        finally:
            request_context.clear()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Raised by Django outside DRF when a body exceeds the limit without a Content-Length.
        if isinstance(exception, RequestDataTooBig) and api_version(request.path):
            return json_error(request, exception)
        return None


def _log_access(request: HttpRequest, response: HttpResponse, started: float) -> None:
    status = response.status_code
    level = logging.ERROR if status >= 500 else logging.INFO
    access_logger.log(
        level,
        "request",
        extra={
            "method": request.method,
            "path": loggable_path(request.path),
            "status": status,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            "replayed": response.get("Idempotent-Replayed") == "true" or None,
        },
    )
