"""Request id on every request and response, echoed when the client sent a sane one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from core import request_context
from core.errors import api_version, json_error

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_context.start(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_context.clear()
        response["X-Request-ID"] = request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Raised by Django before DRF sees the body (DATA_UPLOAD_MAX_MEMORY_SIZE).
        if isinstance(exception, RequestDataTooBig) and api_version(request.path):
            return json_error(request, exception)
        return None
