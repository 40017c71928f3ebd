"""Structured JSON logs that carry the request context; values are ids and codes, never PII."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from core import request_context

_CONTEXT_KEYS = ("request_id", "error_id", "program", "client_id")
_EXTRA_KEYS = ("code", "status", "path", "method", "duration_ms", "error_id")


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in request_context.current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in (*_CONTEXT_KEYS, *_EXTRA_KEYS):
            value = getattr(record, key, None)
            if value is not None:
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
