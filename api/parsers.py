"""DRF's JSON, form and multipart parsers, made to refuse hostile bodies with 400, not a 500.

A 256 KiB JSON body can nest arrays 100 000 deep (the decoder then raises RecursionError),
and a form body can carry more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS (Django raises
TooManyFieldsSent). Both are the client's fault: they become ParseError, which the error
handler renders as `invalid_request_body` (v1) / `invalid_model` (v2).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from api.boundary import field_problems, loads_json
from core.exceptions import ApiError, FieldError


class JSONParser(parsers.JSONParser):
    """Decodes through the input boundary (api/boundary.py): NUL, unpaired surrogates,
    non-finite numbers and out-of-range dates answer 400 naming each value's path."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return loads_json(stream.read().decode(encoding))
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except TooManyFieldsSent:
            raise ParseError("Too many form fields.") from None


class MultiPartParser(parsers.MultiPartParser):
    """Multipart bodies under the API: the text parts pass the input boundary's rules too
    (the middleware leaves multipart API bodies to the views' parsers, which must stream)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except TooManyFieldsSent:
            raise ParseError("Too many form fields.") from None
        errors: dict[str, FieldError] = {}
        for name, values in parsed.data.lists():
            for value in values:
                for error in field_problems({name: value}):
                    errors.setdefault(error.field, error)
        if errors:
            raise ApiError.from_field_errors(list(errors.values()))
        return parsed
